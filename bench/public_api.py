"""Benchmark: the public GraphQL API on the district demo against PostGraphile 5 on the same
database and a hand-written floor (asyncpg + orjson returning the same JSON).

    .venv/bin/python -m bench.public_api [--database postgres|sqlite] [--scale district|town]
                                         [--seconds 3] [--rounds 3] [--concurrency 8] [--rebuild]

(a) a page of 100 projects with their department, target and indicators; (b) a single record by
`node(id:)` (PostGraphile: by key). gongkai cold (the HTTP answer cache off: every request runs
its one SQL statement, schema/public/sqlpath.py), warm (an answer-cache hit: 200 from the cache,
and 304 for a client that sends the ETag back), with the SQL path off (the fast path projects in
Python) and with the fast path off too (stock graphql-core). Targets (issue 14): cold page ≥ 1.5×
PostGraphile and ≥ 1.5× the floor, cold lookup ≥ 1.5× PostGraphile, server CPU per page ≤ 0.5×
PostGraphile's.

The database is prepared as bench/publish.py does (the demo template built once, copied per run)
and published into a local-folder store in a temporary directory (the published database is kept
as a template too). PostGraphile (installed from npm into var/bench/postgraphile/ on first use,
skipped with a message without Node) reads views of its own over the same snapshot rows
(bench/postgraphile.py). Every server is one process pinned to CPU 0 with `taskset`; the load
driver (`wrk` when installed, else an httpx client in a separate process) runs on CPU 1. The
answers are checked equal before anything is timed. The rows are measured in interleaved rounds
(the median is reported), so that other work on the machine does not skew one row only; each
measurement is bounded (`--seconds`), so the run ends on a busy machine too. CPU per request is
read from /proc/<pid>/stat: the server process, and the PostgreSQL backends of the run's database.
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

from bench import postgraphile
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
    server_ms: float = 0.0  # server CPU per request
    database_ms: float = 0.0  # PostgreSQL backends' CPU per request


# -- servers -----------------------------------------------------------------------------------

SERVER_CPU, DRIVER_CPU = "0", "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pinned(command: list[str], cpu: str) -> list[str]:
    """`command` on one CPU (`taskset`), when the machine has it and more than one CPU."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", cpu, *command]
    return command


@dataclass
class Server:
    base: str
    pid: int


@contextmanager
def server(
    env: dict[str, str], command: list[str], ready: str, cwd: Path = ROOT
) -> Iterator[Server]:
    """One server process pinned to SERVER_CPU; yields its base URL and pid. `command` gets
    `--port P` appended, or the port in `PORT` (PostGraphile)."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our own commands, fixed arguments)
        _pinned([*command, "--port", str(port)] if cwd == ROOT else command, SERVER_CPU),
        cwd=cwd,
        env={**os.environ, **env, "PORT": str(port)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + ready, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server {' '.join(command)} did not start")
            time.sleep(0.2)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gongkai(*options: str) -> list[str]:
    return [sys.executable, "-m", "bench.serve_public", *options]


def graphql_url(base: str, query: str, variables: dict[str, Any] | None = None) -> str:
    params = {"query": query}
    if variables:
        params["variables"] = orjson.dumps(variables).decode()
    return f"{base}/graphql?{urllib.parse.urlencode(params)}"


# -- CPU ---------------------------------------------------------------------------------------

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pids: list[int]) -> float:
    """User + system CPU of these processes so far (/proc/<pid>/stat), in ms."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * TICK_MS


def backends(database_url: str) -> list[int]:
    """The PostgreSQL backends connected to the run's database (one per pooled connection)."""
    if not database_url.startswith("postgres"):
        return []
    name = database_url.rsplit("/", 1)[-1]
    found = asyncio.run(
        _pg_rows(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    )
    return [int(r["pid"]) for r in found]


# -- load --------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Measure:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(  # noqa: S603
        _pinned([*command, url], DRIVER_CPU),
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
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


def _driver(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Measure:
    """Without wrk: bench/load_driver.py, an httpx client in a process of its own on the other
    CPU, so that it does not share the server's."""
    out = subprocess.run(  # noqa: S603
        _pinned(
            [
                *(sys.executable, "-m", "bench.load_driver", url, orjson.dumps(headers).decode()),
                *(str(seconds), str(concurrency)),
            ],
            DRIVER_CPU,
        ),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    found = orjson.loads(out)
    return Measure(found["rps"], found["p50"], found["p99"], found["requests"])


def load(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Measure:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, concurrency)
    return _driver(url, headers, seconds, concurrency)


def measured(
    url: str, headers: dict[str, str], args: argparse.Namespace, pid: int, database_url: str
) -> Measure:
    """One bounded load run, with the CPU that the server and PostgreSQL spent per request."""
    before_server = cpu_ms([pid])
    before_pg = {p: cpu_ms([p]) for p in backends(database_url)}
    m = load(url, headers, args.seconds, args.concurrency)
    m.server_ms = (cpu_ms([pid]) - before_server) / max(m.requests, 1)
    # Backends opened during the run started from zero.
    spent = sum(cpu_ms([p]) - before_pg.get(p, 0.0) for p in backends(database_url))
    m.database_ms = spent / max(m.requests, 1)
    return m


# -- the run -----------------------------------------------------------------------------------


async def prepare(backend: str, scale: str, store_dir: Path, rebuild: bool) -> tuple[str, str, str]:
    """A copy of the published demo data set: (database URL, a project's node ID and key).

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
    key = row[0]["record_key"]
    return url, node_id(RecordType.SUBJECT, key), key


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


async def _pg_rows(sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _run_sql(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _fields(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_fields(v) for v in value.values()) + len(value)
    if isinstance(value, list):
        return sum(_fields(v) for v in value)
    return 0


def _get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(url, headers=headers or {"accept": ACCEPT}, timeout=60)


def check_answers(bases: dict[str, str], id_: str, key: str) -> dict[str, Any]:
    """The same data from every server before anything is timed."""
    api = bases["cold"]
    page = _get(graphql_url(api, PAGE))
    answer = page.json()
    if page.status_code != 200 or "errors" in answer:
        raise SystemExit(f"query (a) failed: {page.text[:500]}")
    nodes = answer["data"]["subjects"]["nodes"]
    if len(nodes) != 100:
        raise SystemExit(f"query (a) answered {len(nodes)} projects, not 100")
    lookup = _get(graphql_url(api, LOOKUP, {"id": id_}))
    if lookup.status_code != 200 or lookup.json()["data"]["node"] is None:
        raise SystemExit(f"query (b) failed: {lookup.text[:500]}")
    for _ in range(2):  # the first answers taught the plans; these come from the SQL path
        if _get(graphql_url(api, PAGE)).content != page.content:
            raise SystemExit("the SQL path answers (a) differently from graphql-core")
        if _get(graphql_url(api, LOOKUP, {"id": id_})).content != lookup.content:
            raise SystemExit("the SQL path answers (b) differently from graphql-core")
    for name in ("warm", "fast", "stock"):
        for query, variables, want in ((PAGE, None, page), (LOOKUP, {"id": id_}, lookup)):
            for _ in range(2):
                other = _get(graphql_url(bases[name], query, variables))
                if other.content != want.content:
                    raise SystemExit(f"the {name} server answers differently from the SQL path")
    if "floor" in bases:
        hand = _get(bases["floor"] + "/page", {}).json()
        if orjson.dumps(hand["data"]) != orjson.dumps(answer["data"]):
            raise SystemExit("the floor does not answer what query (a) answers")
    if "postgraphile" in bases:
        theirs = _get(graphql_url(bases["postgraphile"], postgraphile.PAGE)).json()
        if "errors" in theirs or not postgraphile.same_page(answer["data"], theirs["data"]):
            raise SystemExit(f"PostGraphile does not answer what (a) answers: {str(theirs)[:500]}")
        theirs = _get(graphql_url(bases["postgraphile"], postgraphile.LOOKUP, {"key": key})).json()
        if "errors" in theirs or not postgraphile.same_lookup(
            lookup.json()["data"], theirs["data"]
        ):
            raise SystemExit(f"PostGraphile does not answer what (b) answers: {str(theirs)[:500]}")
    return {
        "fields_a": _fields(answer["data"]),
        "bytes_a": len(page.content),
        "bytes_b": len(lookup.content),
    }


SERVERS = {
    "cold": ("--answer-cache", "off"),
    "warm": (),
    "fast": ("--answer-cache", "off", "--sql-path", "off"),
    "stock": ("--answer-cache", "off", "--fast-path", "off"),
    "floor": ("--floor",),
}


def scenarios(
    bases: dict[str, str], id_: str, key: str
) -> dict[str, tuple[str, str, dict[str, str]]]:
    """What each row of the table loads: (server, URL, request headers)."""
    headers = {"accept": ACCEPT}
    found: dict[str, tuple[str, str, dict[str, str]]] = {}
    for name, (query, variables) in {"a": (PAGE, None), "b": (LOOKUP, {"id": id_})}.items():
        found[f"{name} cold"] = ("cold", graphql_url(bases["cold"], query, variables), headers)
        warm = graphql_url(bases["warm"], query, variables)
        tag = _get(warm).headers["etag"]
        found[f"{name} warm 200"] = ("warm", warm, headers)
        found[f"{name} warm 304"] = ("warm", warm, {**headers, "if-none-match": tag})
        found[f"{name} fast"] = ("fast", graphql_url(bases["fast"], query, variables), headers)
        found[f"{name} stock"] = ("stock", graphql_url(bases["stock"], query, variables), headers)
        if "postgraphile" in bases:
            theirs = postgraphile.PAGE if name == "a" else postgraphile.LOOKUP
            url = graphql_url(bases["postgraphile"], theirs, None if name == "a" else {"key": key})
            found[f"{name} postgraphile"] = ("postgraphile", url, {"accept": "application/json"})
        if name == "a" and "floor" in bases:
            found["a floor"] = ("floor", bases["floor"] + "/page", {})
    return found


def measure_all(
    env: dict[str, str], id_: str, key: str, args: argparse.Namespace, with_floor: bool
) -> tuple[dict[str, Measure], dict[str, Any]]:
    """Every row, in `args.rounds` interleaved rounds (the median is reported), so that a burst
    of other work on the machine does not land on one row only. Every server is one process;
    they all stay up, and only one is loaded at a time."""
    url = env["GONGKAI_DATABASE_URL"]
    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(
                server(env, gongkai(*options), ready="/page" if name == "floor" else "/healthz")
            )
            for name, options in SERVERS.items()
            if with_floor or name != "floor"
        }
        folder = postgraphile.install() if url.startswith("postgres") else None
        if folder is not None:
            asyncio.run(_run_sql(url, postgraphile.VIEWS))
            node_env = {"DATABASE_URL": url, "NODE_ENV": "production"}
            ready = "/graphql?query=%7B__typename%7D"
            servers["postgraphile"] = stack.enter_context(
                server(node_env, ["node", "server.mjs"], ready, cwd=folder)
            )
        bases = {name: s.base for name, s in servers.items()}
        facts = check_answers(bases, id_, key)
        rows = scenarios(bases, id_, key)
        for _, target, headers in rows.values():  # warm-up: plans learned, answers cached
            load(target, headers, 1, args.concurrency)
        runs: dict[str, list[Measure]] = {name: [] for name in rows}
        facts["load"] = [os.getloadavg()[0]]
        for number in range(args.rounds):
            print(f"  round {number + 1} of {args.rounds} …", flush=True)
            for name, (which, target, headers) in rows.items():
                runs[name].append(measured(target, headers, args, servers[which].pid, url))
            facts["load"].append(os.getloadavg()[0])
    results = {
        name: Measure(
            statistics.median(m.rps for m in measures),
            statistics.median(m.p50_ms for m in measures),
            statistics.median(m.p99_ms for m in measures),
            sum(m.requests for m in measures),
            statistics.median(m.server_ms for m in measures),
            statistics.median(m.database_ms for m in measures),
        )
        for name, measures in runs.items()
    }
    return results, facts


ROWS = [
    ("a cold", "(a) page of 100, cold (SQL path)"),
    ("a warm 200", "(a) page of 100, warm: 200 from the cache"),
    ("a warm 304", "(a) page of 100, warm: 304 (If-None-Match)"),
    ("a fast", "(a) page of 100, cold, SQL path off"),
    ("a stock", "(a) page of 100, cold, graphql-core"),
    ("a floor", "(a) floor: asyncpg + orjson by hand"),
    ("a postgraphile", "(a) PostGraphile 5"),
    ("b cold", "(b) lookup by ID, cold (SQL path)"),
    ("b warm 200", "(b) lookup by ID, warm: 200 from the cache"),
    ("b warm 304", "(b) lookup by ID, warm: 304 (If-None-Match)"),
    ("b fast", "(b) lookup by ID, cold, SQL path off"),
    ("b stock", "(b) lookup by ID, cold, graphql-core"),
    ("b postgraphile", "(b) PostGraphile 5 (by key)"),
]


def report(results: dict[str, Measure], facts: dict[str, Any], args: argparse.Namespace) -> None:
    client = "wrk" if shutil.which("wrk") else "bench/load_driver.py (httpx)"
    loads = ", ".join(f"{x:.1f}" for x in facts["load"])
    print(
        f"\npublic API benchmark: {args.scale} demo on {args.database}, one process per server "
        f"on CPU {SERVER_CPU}, {client} with {args.concurrency} connections on CPU {DRIVER_CPU};"
        f" median of {args.rounds} interleaved rounds of {args.seconds:g} s per row;"
        f" load average (1 min) before and after each round: {loads}"
    )
    print(
        f"  (a) {facts['fields_a']} fields, {facts['bytes_a'] / 1024:.0f} KiB per answer;"
        f" (b) {facts['bytes_b']} bytes"
    )
    head = f"  {'':46} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server':>8} {'PG':>7}"
    print(head + "  (CPU ms per request)")
    for key, label in ROWS:
        if key in results:
            m = results[key]
            print(
                f"  {label:46} {m.rps:9.1f} {m.p50_ms:8.2f} {m.p99_ms:8.2f}"
                f" {m.server_ms:8.2f} {m.database_ms:7.2f}"
            )

    def ratio(label: str, a: str, b: str, target: str = "", cpu: bool = False) -> None:
        if a in results and b in results:
            x, y = results[a], results[b]
            value = x.server_ms / y.server_ms if cpu else x.rps / y.rps
            print(f"  {label:44} {value:6.2f}   {target}")

    ratio("(a) cold / PostGraphile, req/s", "a cold", "a postgraphile", "(target ≥ 1.5)")
    ratio("(a) cold / floor, req/s", "a cold", "a floor", "(target ≥ 1.5)")
    ratio("(b) cold / PostGraphile, req/s", "b cold", "b postgraphile", "(target ≥ 1.5)")
    ratio(
        "(a) server CPU per request, cold / PostGraphile",
        "a cold",
        "a postgraphile",
        "(target ≤ 0.5)",
        cpu=True,
    )
    ratio("(a) cold / SQL path off, req/s", "a cold", "a fast")
    ratio("(a) cold / graphql-core, req/s", "a cold", "a stock")
    ratio("(a) warm 200 / cold, req/s", "a warm 200", "a cold")
    ratio("(b) warm 200 / cold, req/s", "b warm 200", "b cold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument("--seconds", type=float, default=3.0, help="per row and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rebuild", action="store_true", help="publish the demo again into a new template"
    )
    args = parser.parse_args()

    store_dir = Path(tempfile.mkdtemp(prefix="gongkai-bench-"))
    url = ""
    try:
        url, id_, key = asyncio.run(prepare(args.database, args.scale, store_dir, args.rebuild))
        env = {
            "GONGKAI_ENV": "production",
            "GONGKAI_DATABASE_URL": url,
            "GONGKAI_STORE_URL": f"file://{store_dir}",
        }
        # The floor is asyncpg: PostgreSQL only.
        with_floor = args.database == "postgres"
        results, facts = measure_all(env, id_, key, args, with_floor)
    finally:
        if url:
            asyncio.run(drop_database(url))
        shutil.rmtree(store_dir, ignore_errors=True)
    report(results, facts, args)


if __name__ == "__main__":
    main()
