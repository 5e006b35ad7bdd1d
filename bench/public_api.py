"""Benchmark: the public GraphQL API on the district demo, one server process, against the floor
of a hand-written asyncpg + orjson endpoint returning the same JSON.

    .venv/bin/python -m bench.public_api [--database postgres|sqlite] [--scale district|town]
                                         [--seconds 5] [--rounds 3] [--concurrency 8] [--rebuild]

(a) a page of 100 projects with their department, target and indicators; (b) a single record by
`node(id:)`. Each cold (the HTTP answer cache off: every request executes, with the parse,
validation and plan caches on, decisions.md D15) and warm (an answer-cache hit: 200 from the
cache, and 304 for a client that sends the ETag back). Also (a) and (b) cold with the compiled
fast path off: stock per-field resolution by graphql-core. Targets (the issue): (a) cold at least
1/3 of the floor's throughput, warm at least 5× cold.

The database is prepared as bench/publish.py does (the demo template built once, copied per run)
and published into a local-folder store in a temporary directory (the published database is kept
as a template too). Every server is one uvicorn process (bench/serve_public.py); they all stay
up, and only one is loaded at a time, over loopback, by `wrk` when it is installed (`apt-get
install wrk`), else by an httpx client in this process (which then shares the CPU). The rows are
measured in interleaved rounds and the median is reported, so that other work on the machine
does not skew one row only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from tortoise import connections

from bench.publish import PG, drop_database, prepare_database, publish_everything
from publishers.releases import Publisher
from schema.rows import fetch, node_id
from storage import database
from storage.enums import RecordType
from storage.objects import open_store

ROOT = Path(__file__).resolve().parents[1]
ACCEPT = "application/graphql-response+json"

PAGE = """query Page {
  subjects(first: 100, filter: {kind: PROJECT}) {
    pageInfo { hasNextPage endCursor }
    nodes {
      key code name fiscalYear budgetBook
      amounts { initial { total } fullYear { total } executed { total } }
      department { code name }
      target {
        overallGoal
        indicators { position level1 level2 name nature comparator targetValue unit weight core }
      }
    }
  }
}"""

LOOKUP = """query Lookup($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Subject {
      key code name fiscalYear departmentName
      amounts { initial { total } executed { total } }
      department { name }
      target { overallGoal }
    }
  }
}"""


@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int


# -- servers -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(env: dict[str, str], *options: str, ready: str) -> Iterator[str]:
    """One server process (bench/serve_public.py); yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        [sys.executable, "-m", "bench.serve_public", "--port", str(port), *options],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + ready, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server {' '.join(options)} did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def graphql_url(base: str, query: str, variables: dict[str, Any] | None = None) -> str:
    params = {"query": query}
    if variables:
        params["variables"] = orjson.dumps(variables).decode()
    return f"{base}/graphql?{urllib.parse.urlencode(params)}"


# -- load --------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Measure:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["--timeout", "60s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(  # noqa: S603
        [*command, url], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failures:\n{out}")

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert found, out
        return float(found[1]) * _UNITS[found[2]]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    assert rps and count, out
    return Measure(float(rps[1]), latency("50"), latency("99"), int(count[1]))


async def _httpx(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Measure:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.get(url)
                if response.status_code not in (200, 304):
                    raise SystemExit(f"{response.status_code}: {response.text[:300]}")
                latencies.append((time.perf_counter() - started) * 1e3)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Measure(len(latencies) / elapsed, cuts[49], cuts[98], len(latencies))


def load(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Measure:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, concurrency)
    return asyncio.run(_httpx(url, headers, seconds, concurrency))


# -- the run -----------------------------------------------------------------------------------


async def prepare(backend: str, scale: str, store_dir: Path, rebuild: bool) -> tuple[str, str]:
    """A copy of the published demo data set: (database URL, a project's node ID).

    Publishing the district takes minutes, so the published database is kept as a template
    (`gongkai_bench_<scale>_public`, or var/bench/<scale>-public.sqlite3), built once from
    bench/publish.py's demo template; `--rebuild` builds it again (after publisher changes)."""
    template = f"gongkai_bench_{scale}_public"
    if backend == "postgres":
        exists = await _pg_value("SELECT 1 FROM pg_database WHERE datname = $1", template)
        if rebuild and exists:
            await _admin(f'DROP DATABASE "{template}" WITH (FORCE)')
        if rebuild or not exists:
            url = await _publish(backend, scale, store_dir)
            await _admin(f'ALTER DATABASE "{url.rsplit("/", 1)[-1]}" RENAME TO "{template}"')
        run = f"gk_bench_run_{uuid.uuid4().hex[:6]}"
        await _admin(f'CREATE DATABASE "{run}" TEMPLATE "{template}"')
        url = f"{PG}/{run}"
    else:
        folder = ROOT / "var" / "bench"
        published = folder / f"{scale}-public.sqlite3"
        if rebuild or not published.exists():
            url = await _publish(backend, scale, store_dir)
            shutil.move(url.removeprefix("sqlite://"), published)
        url = f"sqlite://{folder / f'gk_bench_run_{uuid.uuid4().hex[:6]}.sqlite3'}"
        shutil.copyfile(published, url.removeprefix("sqlite://"))
    await database.migrate(url)  # a template built by older code gets the newer migrations
    async with database.connected(url):
        # Planner statistics, as autovacuum would have gathered them after a publish: without
        # them PostgreSQL sorts every subject for a page (~130 ms instead of ~1.5 ms).
        await connections.get("default").execute_script("ANALYZE")
        row = await fetch(
            "SELECT record_key FROM disclosure WHERE record_type = 'SUBJECT'"
            " AND subject_kind = 'PROJECT' ORDER BY record_key LIMIT 1",
            [],
        )
    return url, node_id(RecordType.SUBJECT, row[0]["record_key"])


async def _publish(backend: str, scale: str, store_dir: Path) -> str:
    print(f"publishing the {scale} demo (once) …", flush=True)
    url = await prepare_database(backend, scale)
    await database.migrate(url)
    async with database.connected(url):
        seconds, _, published = await publish_everything(
            Publisher(open_store(f"file://{store_dir}"))
        )
    print(f"  {published} releases published in {seconds:.1f} s", flush=True)
    return url


async def _pg_value(sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def _admin(sql: str) -> None:
    await _pg_value(sql)


def _fields(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_fields(v) for v in value.values()) + len(value)
    if isinstance(value, list):
        return sum(_fields(v) for v in value)
    return 0


def check_answers(api: str, stock: str | None, floor: str | None, id_: str) -> dict[str, Any]:
    """The same data from every server before anything is timed."""
    page = httpx.get(graphql_url(api, PAGE), headers={"accept": ACCEPT}, timeout=60)
    answer = page.json()
    if page.status_code != 200 or "errors" in answer:
        raise SystemExit(f"query (a) failed: {page.text[:500]}")
    nodes = answer["data"]["subjects"]["nodes"]
    if len(nodes) != 100:
        raise SystemExit(f"query (a) answered {len(nodes)} projects, not 100")
    for _ in range(2):  # the first answer taught the fast path; these come from the plan
        again = httpx.get(graphql_url(api, PAGE), headers={"accept": ACCEPT}, timeout=60)
        if again.content != page.content:
            raise SystemExit("the compiled plan answers (a) differently from graphql-core")
    if stock is not None:
        other = httpx.get(graphql_url(stock, PAGE), headers={"accept": ACCEPT}, timeout=60)
        if other.content != page.content:
            raise SystemExit("stock strawberry answers (a) differently from the fast path")
    if floor is not None:
        hand = httpx.get(floor + "/page", timeout=60).json()
        if orjson.dumps(hand["data"]) != orjson.dumps(answer["data"]):
            raise SystemExit("the floor does not answer what query (a) answers")
    lookup = httpx.get(graphql_url(api, LOOKUP, {"id": id_}), headers={"accept": ACCEPT})
    if lookup.status_code != 200 or lookup.json()["data"]["node"] is None:
        raise SystemExit(f"query (b) failed: {lookup.text[:500]}")
    return {
        "fields_a": _fields(answer["data"]),
        "bytes_a": len(page.content),
        "bytes_b": len(lookup.content),
    }


SERVERS = {
    "cold": ("--answer-cache", "off"),
    "warm": (),
    "stock": ("--answer-cache", "off", "--fast-path", "off"),
    "floor": ("--floor",),
}


def scenarios(bases: dict[str, str], id_: str) -> dict[str, tuple[str, dict[str, str]]]:
    """What each row of the table loads: (URL, request headers)."""
    headers = {"accept": ACCEPT}
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for name, (query, variables) in {"a": (PAGE, None), "b": (LOOKUP, {"id": id_})}.items():
        found[f"{name} cold"] = (graphql_url(bases["cold"], query, variables), headers)
        warm = graphql_url(bases["warm"], query, variables)
        tag = httpx.get(warm, headers=headers, timeout=60).headers["etag"]
        found[f"{name} warm 200"] = (warm, headers)
        found[f"{name} warm 304"] = (warm, {**headers, "if-none-match": tag})
        found[f"{name} stock"] = (graphql_url(bases["stock"], query, variables), headers)
        if name == "a" and "floor" in bases:
            found["a floor"] = (bases["floor"] + "/page", {})
    return found


def measure_all(
    env: dict[str, str], id_: str, args: argparse.Namespace, with_floor: bool
) -> tuple[dict[str, Measure], dict[str, Any]]:
    """Every row, in `args.rounds` interleaved rounds (the median is reported), so that a burst
    of other work on the machine does not land on one row only. Every server is one uvicorn
    process; they all stay up, and only one is loaded at a time."""
    with ExitStack() as stack:
        bases = {
            name: stack.enter_context(
                server(env, *options, ready="/page" if name == "floor" else "/healthz")
            )
            for name, options in SERVERS.items()
            if with_floor or name != "floor"
        }
        facts = check_answers(bases["cold"], bases["stock"], bases.get("floor"), id_)
        rows = scenarios(bases, id_)
        for url, headers in rows.values():  # warm-up: plans learned, answers cached
            load(url, headers, 1, args.concurrency)
        runs: dict[str, list[Measure]] = {name: [] for name in rows}
        for number in range(args.rounds):
            print(f"  round {number + 1} of {args.rounds} …", flush=True)
            for name, (url, headers) in rows.items():
                runs[name].append(load(url, headers, args.seconds, args.concurrency))
    results = {
        name: Measure(
            statistics.median(m.rps for m in measures),
            statistics.median(m.p50_ms for m in measures),
            statistics.median(m.p99_ms for m in measures),
            sum(m.requests for m in measures),
        )
        for name, measures in runs.items()
    }
    return results, facts


def report(results: dict[str, Measure], facts: dict[str, Any], args: argparse.Namespace) -> None:
    client = "wrk" if shutil.which("wrk") else "httpx (in-process)"
    print(
        f"\npublic API benchmark: {args.scale} demo on {args.database}, one uvicorn process per "
        f"server, {client} with {args.concurrency} connections; median of {args.rounds} rounds "
        f"of {args.seconds:g} s per row"
    )
    print(
        f"  (a) {facts['fields_a']} fields, {facts['bytes_a'] / 1024:.0f} KiB per answer;"
        f" (b) {facts['bytes_b']} bytes"
    )
    rows = [
        ("a cold", "(a) page of 100, cold"),
        ("a warm 200", "(a) page of 100, warm: 200 from the cache"),
        ("a warm 304", "(a) page of 100, warm: 304 (If-None-Match)"),
        ("a stock", "(a) page of 100, cold, fast path off"),
        ("a floor", "(a) floor: asyncpg + orjson by hand"),
        ("b cold", "(b) lookup by ID, cold"),
        ("b warm 200", "(b) lookup by ID, warm: 200 from the cache"),
        ("b warm 304", "(b) lookup by ID, warm: 304 (If-None-Match)"),
        ("b stock", "(b) lookup by ID, cold, fast path off"),
    ]
    print(f"  {'':46} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for key, label in rows:
        if key in results:
            m = results[key]
            print(f"  {label:46} {m.rps:9.1f} {m.p50_ms:9.2f} {m.p99_ms:9.2f}")
    cold = results["a cold"].rps
    warm = results["a warm 200"].rps
    print(f"  (a) warm 200 / cold            {warm / cold:6.1f}×   (target ≥ 5×)")
    print(f"  (a) warm 304 / cold            {results['a warm 304'].rps / cold:6.1f}×")
    lookup = results["b warm 200"].rps / results["b cold"].rps
    print(f"  (b) warm 200 / cold            {lookup:6.1f}×")
    if "a floor" in results:
        floor = results["a floor"].rps
        print(f"  (a) cold / floor               {cold / floor:6.2f}    (target ≥ 0.33)")
        print(f"  (a) stock / floor              {results['a stock'].rps / floor:6.2f}")
    print(f"  (a) cold / stock               {cold / results['a stock'].rps:6.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument("--seconds", type=float, default=5.0, help="per row and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rebuild", action="store_true", help="publish the demo again into a new template"
    )
    args = parser.parse_args()

    store_dir = Path(tempfile.mkdtemp(prefix="gongkai-bench-"))
    url = ""
    try:
        url, id_ = asyncio.run(prepare(args.database, args.scale, store_dir, args.rebuild))
        env = {
            "GONGKAI_ENV": "production",
            "GONGKAI_DATABASE_URL": url,
            "GONGKAI_STORE_URL": f"file://{store_dir}",
        }
        # The floor is asyncpg: PostgreSQL only.
        with_floor = args.database == "postgres"
        results, facts = measure_all(env, id_, args, with_floor)
    finally:
        if url:
            asyncio.run(drop_database(url))
        shutil.rmtree(store_dir, ignore_errors=True)
    report(results, facts, args)


if __name__ == "__main__":
    main()
