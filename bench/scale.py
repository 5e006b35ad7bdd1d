"""How cost grows with the data (issue 18), for `make bench-scale`:

    python -m bench.scale [--scales town,district[,city]] [--requests 200]

For each demo scale, in a new PostgreSQL database and a new folder store: the demo built
(`gongkai demo`), every release published by `gongkai publish --all --as-of history` in a
process of its own (wall time, objects and bytes written, peak resident memory of that process
and of its largest part: each jurisdiction's releases and pages are published in a process of
their own, publishers/apart.py), the unchanged rerun (objects written: 0), the rows and bytes of
the tables that grow with the data, and the public API's latency in this process with the
answer cache off, so each request runs its SQL: a page (`subjects(first: 100)` from the middle
of the list, by cursor), a lookup (`node(id:)` of one subject), two searches (a common word;
one subject's whole name) and the count of every subject (`totalCount`, which stops at
1,000), median and p95 of `--requests` each, the answer checked.
Prints one JSON line per scale, with the load average; the databases are dropped afterwards
unless `--keep`. A request the API refuses (a search that took too long) is counted as refused
at the time it took, not raised. `--existing DATABASE_URL STORE_FOLDER` measures only the
latency, of a database published before (a kept one, or the whole city published by hand).

The city (`--scales …,city`: 示例市 and its sixteen districts, ~100,000 subjects a year) is
left out by default: on two cores its demo takes ~6 min, its releases ~35 min, and its bulk
files and site most of an hour more. See docs/scaling.md for what was measured and what is
extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import structlog
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from schema import rows
from storage.enums import RecordType

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("GONGKAI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PAGE = (
    "query ($after: String) { subjects(first: 100, after: $after) {"
    " pageInfo { endCursor hasNextPage } nodes { key name fiscalYear department { name } } } }"
)
LOOKUP = "query ($id: ID!) { node(id: $id) { ... on Subject { key name fiscalYear } } }"
SEARCH = (
    "query ($q: String!) { subjects(first: 20, filter: {search: $q}) {"
    " totalCount nodes { key name } } }"
)
#: The whole portal's subjects, counted (up to pagination.COUNT_LIMIT).
COUNT = "{ subjects(first: 1) { totalCount totalCountIsExact } }"
#: Searches: a word in thousands of names, and one subject's name (a few matches).
COMMON_WORD = "教育"
#: The tables that grow with the data, whose size decides partitioning and the search index.
TABLES = ("subject", "indicator", "disclosure", "disclosure_version", "search_gram")


async def admin(sql: str) -> None:
    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def run(env: dict[str, str], *args: str) -> tuple[float, str, float]:
    """Seconds, output, and the peak resident MiB of that child (and of any process it started
    and waited for; not the fork server's children: the bulk builders and the publish's parts,
    whose largest `gongkai publish` prints); not of earlier children, such as the demo build."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env={**env, "COLUMNS": "200"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"gongkai {' '.join(args)}: {output[-6000:]}")
    return seconds, output, usage.ru_maxrss / 1024


def own_peak(output: str, rusage_mib: float) -> float:
    """The publisher's own peak, MiB, as `gongkai publish` prints it (the kernel's high-water
    mark of its memory); else `rusage_mib`, which carries this benchmark's own peak across the
    exec of the command."""
    found = re.search(r"peak memory: (\d+) MiB in this process", output)
    return float(found.group(1)) if found else rusage_mib


def largest_part(output: str) -> float | None:
    """The peak of the largest process of the publish's parts (publishers/apart.py), MiB, as
    `gongkai publish` prints it: they are the fork server's children, not the publisher's,
    so the publisher's own figures do not count them. None where no part ran."""
    found = re.search(r"MiB in this process, (\d+) MiB in its largest part", output)
    return float(found.group(1)) if found else None


def written(output: str) -> tuple[int, int]:
    found = re.search(r"; (\d+) objects \(([\d,]+) bytes\)", output)
    assert found, output
    return int(found.group(1)), int(found.group(2).replace(",", ""))


async def latencies(url: str, store: Path, requests: int) -> dict[str, Any]:
    settings = Settings(database_url=url, store_url=f"file://{store}", env="production")
    app = create_app(settings, answer_cache=False)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://bench"
        ) as client,
    ):

        async def ask(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            answer = await client.post("/graphql", json={"query": query, "variables": variables})
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
            return dict(answer.json()["data"])

        # The middle of the list: walk half of it by cursor once (also teaches the fast path).
        # Counted in SQL: `totalCount` stops at pagination.COUNT_LIMIT.
        counted = await rows.fetch(
            f"SELECT COUNT(*) AS n FROM disclosure d WHERE d.record_type = ? AND {rows.CURRENT}",  # noqa: S608
            [RecordType.SUBJECT.value],
        )
        total = int(counted[0]["n"])
        cursor = None
        middle = None
        for _ in range(max(total // 200, 1)):
            page = await ask(PAGE, {"after": cursor})
            cursor = page["subjects"]["pageInfo"]["endCursor"]
            middle = middle or page
        node = await ask("{ subjects(first: 1, after: null) { nodes { id } } }", {})
        subject_id = node["subjects"]["nodes"][0]["id"]
        assert middle is not None
        rare = middle["subjects"]["nodes"][0]["name"]
        timings: dict[str, list[float]] = {
            "page": [],
            "lookup": [],
            "search": [],
            "search_rare": [],
            "count": [],
        }
        refused: dict[str, int] = dict.fromkeys(timings, 0)
        for _ in range(requests):
            for name, query, variables in (
                ("page", PAGE, {"after": cursor}),
                ("lookup", LOOKUP, {"id": subject_id}),
                ("search", SEARCH, {"q": COMMON_WORD}),
                ("search_rare", SEARCH, {"q": rare}),
                ("count", COUNT, {}),
            ):
                started = time.perf_counter()
                answer = await client.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
                timings[name].append((time.perf_counter() - started) * 1e3)
                # A refusal ("the query took too long") is counted, at the time it took, not
                # raised: at a large scale it is the finding.
                if answer.status_code != 200 or "errors" in answer.json():
                    refused[name] += 1
    found: dict[str, Any] = {"subjects_published": total, "rare_name": rare}
    for name, values in timings.items():
        cuts = statistics.quantiles(values, n=20)
        middle_ms, p95 = round(statistics.median(values), 2), round(cuts[18], 2)
        found[f"{name}_ms"] = {"p50": middle_ms, "p95": p95, "refused": refused[name]}
    return found


async def measure(scale: str, requests: int, keep: bool = False) -> dict[str, Any]:
    name = f"gk_bench_scale_{scale}_{uuid.uuid4().hex[:6]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"gongkai-bench-{scale}-"))
    url = f"{PG_SERVER}/{name}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")},
        "PYTHONPATH": str(ROOT),
        "GONGKAI_DATABASE_URL": url,
        "GONGKAI_STORE_URL": f"file://{workdir / 'store'}",
        "GONGKAI_PUBLIC_BASE_URL": "https://open.example.gov.cn/open",
    }
    await admin(f'CREATE DATABASE "{name}"')
    try:
        run(env, "migrate")
        demo_seconds, _, _ = run(
            env, "demo", "--scale", scale, "--forms-dir", str(workdir / "forms")
        )
        seconds, output, rusage = run(env, "publish", "--all", "--as-of", "history")
        peak = own_peak(output, rusage)
        objects, size = written(output)
        again_seconds, again, _ = run(env, "publish", "--all", "--as-of", "history")
        found = {
            "scale": scale,
            "demo_seconds": round(demo_seconds, 1),
            "publish_seconds": round(seconds, 1),
            "objects": objects,
            "bytes": size,
            # The publish needs the larger of the publisher and its largest part.
            "peak_rss_mib": round(max(peak, largest_part(output) or 0), 1),
            "publisher_rss_mib": round(peak, 1),
            "largest_part_mib": largest_part(output),
            "rerun_seconds": round(again_seconds, 1),
            "rerun_objects": written(again)[0],
        }
        found["tables"] = await table_sizes(url)
        found.update(await latencies(url, workdir / "store", requests))
        found["load_average_1min"] = round(os.getloadavg()[0], 2)
        return found
    finally:
        if keep:
            print(f"kept: {url} and {workdir}", file=sys.stderr)
        else:
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(workdir, ignore_errors=True)


async def table_sizes(url: str) -> dict[str, dict[str, int]]:
    """Rows and bytes (indexes included) of the tables that grow with the data."""
    connection = await asyncpg.connect(url)
    try:
        sizes = {}
        for table in TABLES:
            rows = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            size = await connection.fetchval("SELECT pg_total_relation_size($1)", table)
            sizes[table] = {"rows": int(rows), "bytes": int(size)}
        return sizes
    finally:
        await connection.close()


async def main() -> None:
    # one log line per request would measure the terminal
    logging.disable(logging.INFO)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(prog="bench.scale")
    parser.add_argument("--scales", default="town,district")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="keep each scale's database and store (named on stderr)"
    )
    parser.add_argument(
        "--existing",
        nargs=2,
        metavar=("DATABASE_URL", "STORE_FOLDER"),
        help="only the latency, of a database already published (e.g. one kept by --keep)",
    )
    args = parser.parse_args()
    if args.existing:
        url, store = args.existing
        found = await latencies(url, Path(store), args.requests)
        found["load_average_1min"] = round(os.getloadavg()[0], 2)
        print(orjson.dumps(found).decode(), flush=True)
        return
    for scale in args.scales.split(","):
        print(orjson.dumps(await measure(scale, args.requests, args.keep)).decode(), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
