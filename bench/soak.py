"""`make soak DURATION=300`: a bounded mixed load on one `gongkai serve` process.

    python -m bench.soak [--seconds 300] [--connections 16] [--database postgres|sqlite]

Sets up the town demo, published, in a new database (dropped afterwards), starts `gongkai
serve` with its metrics listener, and keeps `--connections` clients busy for `--seconds`:
public queries (GET, so the answer cache and ETags are in play, and POST with varying
variables, so it is not only cache hits), internal reads and audited internal writes (an
update of a department's disclosure contact, with the version it read: a `Conflict` between two
clients is an expected answer, not an error), and a scrape of /metrics every five seconds.

Reports the requests, errors (transport failures, 5xx, and GraphQL errors other than the
expected typed results), p50/p99 latency per kind, the server's resident memory (VmRSS) at the
start, middle and end of the load, and the load average. Exit 1 on any error or when the end's
memory is more than 10% above the middle's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from api.auth import Role, mint
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"
SECRET = secrets.token_urlsafe(32)
GROWTH_LIMIT = 0.10

PUBLIC_GET = [
    "{ releases(first: 20) { totalCount nodes { kind departmentCode fiscalYear } } }",
    "{ statistics(groupBy: BUDGET_BOOK, filter: {fiscalYear: 2024}) { label subjects budget"
    " executed executionRate } }",
    "{ correctionNotices(first: 10) { totalCount } }",
]
PUBLIC_POST = (
    "query($y: Int!, $n: Int!) { subjects(first: $n, filter: {fiscalYear: $y}) { totalCount"
    " nodes { code name kindLabel amounts { initial { total } } target { overallGoal"
    " indicators { name targetValue weight } } } } }"
)
INTERNAL_READS = [
    "{ me { roles } dashboard(fiscalYear: 2024) { targetsAwaitingReview coverage {"
    " inScopeSubjects withSelfAssessments } } }",
    "{ subjects(first: 20) { totalCount nodes { id code name } } }",
    "{ releases(first: 20) { nodes { id status currentVersion } } }",
]
DEPARTMENTS = "{ departments(first: 100) { nodes { id version } } }"
UPDATE = (
    "mutation($id: ID!, $v: Int!, $c: String!) { updateDepartment(id: $id, version: $v,"
    " patch: {disclosureContact: $c}) { __typename ... on InvalidInput { field rule message } } }"
)
#: typed results that are answers, not errors (a stale version between two clients)
EXPECTED = {"DepartmentSuccess", "Conflict"}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def error(self, kind: str, message: str) -> None:
        if len(self.errors) < 1000:
            self.errors.append(f"{kind}: {message[:200]}")
        else:
            self.errors.append("")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def prepare(backend: str, workdir: Path) -> str:
    """A new database with the town demo, published to workdir/store: its URL."""
    from api import demo
    from api.cli import history_time
    from publishers.releases import Publisher
    from storage import database, models
    from storage.objects import open_store

    if backend == "postgres":
        name = f"gk_soak_{uuid.uuid4().hex[:8]}"
        await _admin(f'CREATE DATABASE "{name}"')
        url = f"{PG}/{name}"
    else:
        url = f"sqlite://{workdir / 'soak.sqlite3'}"
    await database.migrate(url)
    async with database.connected(url):
        await demo.generate("town", seed=1)
        releases = {r.id: r for r in await models.Release.all()}
        await Publisher(open_store(f"file://{workdir / 'store'}")).publish_many(
            sorted(releases), as_of=lambda r: history_time(releases[r.id])
        )
    return url


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(f"{PG}/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def serve(url: str, workdir: Path) -> Iterator[tuple[str, str, int]]:
    """`gongkai serve` with its metrics listener: (base URL, metrics URL, process id)."""
    port, metrics_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "GONGKAI_DATABASE_URL": url,
        "GONGKAI_STORE_URL": f"file://{workdir / 'store'}",
        "GONGKAI_JWT_KEY": SECRET,
        "GONGKAI_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
    }
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")
            time.sleep(0.2)
        yield base, f"http://127.0.0.1:{metrics_port}/metrics", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def _timed(stats: Stats, kind: str, request: Any) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response: httpx.Response = await request
    except httpx.HTTPError as error:
        stats.error(kind, f"{type(error).__name__} {error}")
        return None
    stats.latencies[kind].append(time.perf_counter() - started)
    if response.status_code >= 500 or response.status_code not in (200, 304):
        stats.error(kind, f"{response.status_code} {response.text}")
        return None
    return response


async def client(
    base: str, token: str, departments: list[str], until: float, stats: Stats, seed: int
) -> None:
    rng = random.Random(seed)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            roll = rng.random()
            if roll < 0.35:
                query = rng.choice(PUBLIC_GET)
                await _timed(stats, "public GET", http.get("/graphql", params={"query": query}))
            elif roll < 0.70:
                variables = {"y": rng.choice([2022, 2023, 2024]), "n": rng.randint(1, 100)}
                response = await _timed(
                    stats,
                    "public POST",
                    http.post("/graphql", json={"query": PUBLIC_POST, "variables": variables}),
                )
                _graphql_errors(stats, "public POST", response)
            elif roll < 0.92:
                query = rng.choice(INTERNAL_READS)
                response = await _timed(
                    stats,
                    "internal read",
                    http.post("/internal/graphql", json={"query": query}, headers=auth),
                )
                _graphql_errors(stats, "internal read", response)
            else:
                await _write(http, auth, rng.choice(departments), rng, stats)


async def _write(
    http: httpx.AsyncClient, auth: dict[str, str], department: str, rng: random.Random, stats: Stats
) -> None:
    read = await _timed(
        stats,
        "internal write",
        http.post(
            "/internal/graphql",
            json={
                "query": "query($id: ID!) { department(id: $id) { version } }",
                "variables": {"id": department},
            },
            headers=auth,
        ),
    )
    if read is None or _graphql_errors(stats, "internal write", read):
        return
    version = read.json()["data"]["department"]["version"]
    contact = f"绩效科 {rng.randint(1000, 9999)}"
    response = await _timed(
        stats,
        "internal write",
        http.post(
            "/internal/graphql",
            json={"query": UPDATE, "variables": {"id": department, "v": version, "c": contact}},
            headers=auth,
        ),
    )
    if response is None or _graphql_errors(stats, "internal write", response):
        return
    kind = response.json()["data"]["updateDepartment"]["__typename"]
    if kind not in EXPECTED:
        stats.error("internal write", response.text)


def _graphql_errors(stats: Stats, kind: str, response: httpx.Response | None) -> bool:
    if response is None:
        return True
    body = response.json()
    if body.get("errors"):
        stats.error(kind, str(body["errors"])[:200])
        return True
    return False


async def scraper(metrics: str, until: float, stats: Stats) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        while time.monotonic() < until:
            await _timed(stats, "metrics scrape", http.get(metrics))
            await asyncio.sleep(5)


async def load(
    base: str, metrics: str, pid: int, seconds: float, connections: int
) -> tuple[Stats, list[int]]:
    token = mint(Settings(jwt_key=SECRET), subject="soak", roles=[Role.ADMIN])
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        answer = await http.post(
            "/internal/graphql",
            json={"query": DEPARTMENTS},
            headers={"Authorization": f"Bearer {token}"},
        )
        departments = [d["id"] for d in answer.json()["data"]["departments"]["nodes"]]
    stats = Stats()
    memory = [rss_kib(pid)]
    started = time.monotonic()
    until = started + seconds
    tasks = [
        asyncio.create_task(client(base, token, departments, until, stats, seed))
        for seed in range(connections)
    ]
    tasks.append(asyncio.create_task(scraper(metrics, until, stats)))
    await asyncio.sleep(seconds / 2)
    memory.append(rss_kib(pid))
    await asyncio.gather(*tasks)
    memory.append(rss_kib(pid))
    return stats, memory


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def report(stats: Stats, memory: list[int], seconds: float, load_before: float) -> bool:
    total = sum(len(v) for v in stats.latencies.values())
    everything = [x for v in stats.latencies.values() for x in v]
    print(
        f"{total} requests in {seconds:.0f} s ({total / seconds:.0f}/s), {len(stats.errors)} errors"
    )
    for kind, values in sorted(stats.latencies.items()):
        print(
            f"  {kind:<15} {len(values):>7}  p50 {percentile(values, 0.5):7.1f} ms"
            f"  p99 {percentile(values, 0.99):7.1f} ms"
        )
    p50, p99 = percentile(everything, 0.5), percentile(everything, 0.99)
    print(f"  {'all':<15} {total:>7}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    start, middle, end = (kib / 1024 for kib in memory)
    growth = (end - middle) / middle
    print(
        f"server RSS: start {start:.0f} MiB, middle {middle:.0f} MiB, end {end:.0f} MiB "
        f"({growth:+.1%} end vs middle)"
    )
    print(f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} at the end (1 min)")
    for error in [e for e in stats.errors if e][:10]:
        print("  ERROR", error)
    return not stats.errors and growth <= GROWTH_LIMIT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        print(f"preparing the published town demo ({args.database}) …", flush=True)
        url = asyncio.run(prepare(args.database, workdir))
        try:
            with serve(url, workdir) as (base, metrics, pid):
                load_before = os.getloadavg()[0]
                print(
                    f"soaking {base} for {args.seconds:.0f} s, {args.connections} connections …",
                    flush=True,
                )
                stats, memory = asyncio.run(
                    load(base, metrics, pid, args.seconds, args.connections)
                )
            ok = report(stats, memory, args.seconds, load_before)
        finally:
            if args.database == "postgres":
                asyncio.run(
                    _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')
                )
    print("passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
