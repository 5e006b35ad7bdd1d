"""`make fuzz`: schemathesis against both GraphQL endpoints for a bounded time.

    python -m fuzz.run [--seconds 240] [--examples 200] [--plain]
    python -m fuzz.run --public URL --internal URL --token JWT   (a server already running)

Without URLs it sets up its own: a SQLite database in a temporary folder with the town demo,
published, served by `gongkai`'s app under uvicorn (tests/live.py) with a development key, and
an admin token for the internal endpoint. Every operation of each schema (`schema/public.graphql`,
`schema/internal.graphql`: queries and mutations) gets an equal share of the time, at most
`--examples` generated requests, its arguments steered to valid ones (fuzz/arguments.py) but
for a share.

It fails (exit 1) on any 5xx and on any error masked as "Unexpected error." — an exception the
code did not expect, which checkable input must never cause — and prints each failing query.
It reports how many generated requests got past validation (the answer has `data`) and how
many ran without any error; `--plain` runs with schemathesis's own strategies for the built-in
scalars instead of fuzz/strategies.py, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import graphql
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition

from fuzz.arguments import steer
from fuzz.strategies import Pool, register, register_plain

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {"public": ROOT / "schema/public.graphql", "internal": ROOT / "schema/internal.graphql"}
MASKED = "Unexpected error."
SEEDS = {
    "public": [
        "{ jurisdictions(first: 20) { nodes { id } } }",
        "{ departments(first: 100) { edges { cursor } nodes { id code } } }",
        "{ subjects(first: 100) { edges { cursor } nodes { id code departmentCode fiscalYear } } }",
        "{ releases(first: 100) { nodes { id } } }",
        "{ targets(first: 50) { nodes { id } } evaluations(first: 50) { nodes { id } } }",
    ],
    "internal": [
        "{ departments(first: 100) { edges { cursor } nodes { id code } } }",
        "{ subjects(first: 100) { nodes { id code fiscalYear } } }",
        "{ targets(first: 100) { nodes { id } } releases(first: 100) { nodes { id } } }",
        "{ evaluations(first: 50) { nodes { id } } rectifications(first: 50) { nodes { id } } }",
        "{ filings(first: 50) { nodes { id } } selfAssessments(first: 50) { nodes { id } } }",
        "{ monitoringRecords(first: 50) { nodes { id } } exAnteAssessments(first: 50) {"
        " nodes { id } } documents(first: 50) { nodes { id } } }",
    ],
}


class OutOfTime(Exception):
    """The operation's share of the time is spent."""


@dataclass
class Tally:
    requests: int = 0
    validated: int = 0  # the answer has `data`: past parsing, validation and variables
    clean: int = 0  # and no error at all
    statuses: Counter[int] = field(default_factory=Counter)
    #: the most frequent error messages, cut short (what stops the generated queries)
    messages: Counter[str] = field(default_factory=Counter)
    #: operations whose generation hypothesis stopped early (FlakyStrategyDefinition)
    restarts: int = 0
    failures: list[str] = field(default_factory=list)

    def share(self, part: int) -> str:
        return f"{100 * part / self.requests:.1f}%" if self.requests else "-"


def seed_pool(session: requests.Session, url: str, queries: list[str]) -> Pool:
    pool = Pool()
    for query in queries:
        answer = session.post(url, json={"query": query}, timeout=60)
        with contextlib.suppress(ValueError):
            pool.add(answer.json().get("data"))
    return pool


def fuzz_endpoint(
    name: str,
    url: str,
    headers: dict[str, str],
    seconds: float,
    max_examples: int,
    *,
    plain: bool = False,
    derandomize: bool = False,
) -> Tally:
    session = requests.Session()
    session.headers.update(headers)
    pool = seed_pool(session, url, SEEDS[name])
    register(pool)
    if plain:
        register_plain()
    schema = schemathesis.graphql.from_path(SCHEMAS[name])
    sdl = graphql.build_schema(SCHEMAS[name].read_text(encoding="utf-8"))
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    tally = Tally()
    share = seconds / len(operations)
    for operation in operations:
        _fuzz_operation(
            operation, url, session, sdl, pool, tally, share, max_examples, plain, derandomize
        )
    return tally


def _fuzz_operation(
    operation: Any,
    url: str,
    session: requests.Session,
    sdl: graphql.GraphQLSchema,
    pool: Pool,
    tally: Tally,
    seconds: float,
    max_examples: int,
    plain: bool,
    derandomize: bool,
) -> None:
    """Up to `max_examples` generated requests of one operation, for at most `seconds`; with
    `derandomize`, the same requests every run (the test suite's short run)."""
    deadline = time.monotonic() + seconds

    @settings(
        max_examples=max_examples,
        derandomize=derandomize,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    # A seed drawn up front, not a lazily drawing `st.randoms()`: a body that returns early
    # (the deadline) would then draw less than its replay, which hypothesis calls flaky.
    @given(case=operation.as_strategy(), seed=st.integers(min_value=0, max_value=2**32 - 1))
    def run(case: Any, seed: int) -> None:
        if time.monotonic() > deadline:
            raise OutOfTime  # stops hypothesis: without a shrink phase it just re-raises
        if not plain:
            case.body = steer(case.body, sdl, pool.cursors, Random(seed))
        response = case.call(base_url=url, session=session, timeout=60)
        _record(tally, response.status_code, response.content, case.body)

    try:
        run()
    except OutOfTime:
        pass
    except FlakyStrategyDefinition:
        # A safety net: should generation ever depend on state that changed during the run,
        # the requests made so far are recorded and the next operation starts afresh.
        tally.restarts += 1


def _record(tally: Tally, status: int, content: bytes, body: Any) -> None:
    tally.requests += 1
    tally.statuses[status] += 1
    query = body.get("query") if isinstance(body, dict) else body
    try:
        answer = json.loads(content)
    except ValueError:
        tally.failures.append(f"{status}, not JSON: {query}")
        return
    errors = answer.get("errors") or [] if isinstance(answer, dict) else []
    if isinstance(answer, dict) and "data" in answer:
        tally.validated += 1
        tally.clean += not errors
    for error in errors:
        if isinstance(error, dict):
            tally.messages[str(error.get("message"))[:70]] += 1
    if status >= 500:
        tally.failures.append(f"{status}: {query}\n  {content[:300]!r}")
    elif any(isinstance(e, dict) and e.get("message") == MASKED for e in errors):
        tally.failures.append(f"masked error: {query}\n  {content[:300]!r}")


def report(name: str, tally: Tally) -> str:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
    return (
        f"{name}: {tally.requests} requests ({statuses}); past validation "
        f"{tally.validated} ({tally.share(tally.validated)}), without any error {tally.clean} "
        f"({tally.share(tally.clean)}); failures {len(tally.failures)}; operations cut short by "
        f"hypothesis {tally.restarts}"
    )


@contextlib.contextmanager
def own_server(workdir: Path) -> Iterator[tuple[str, str]]:
    """The town demo, published, served on a free port: (base URL, an admin token)."""
    from api.auth import Role, mint
    from api.settings import Settings
    from tests.live import serve

    secret = secrets.token_urlsafe(32)
    database_url = f"sqlite://{workdir / 'fuzz.sqlite3'}"
    asyncio.run(_publish_demo(database_url, workdir / "store"))
    with serve(database_url, workdir, JWT_KEY=secret) as server:
        token = mint(Settings(jwt_key=secret), subject="fuzz", roles=[Role.ADMIN], classified=True)
        yield server.url, token


async def _publish_demo(database_url: str, store: Path) -> None:
    from api import demo
    from api.cli import history_time
    from publishers.releases import Publisher
    from storage import database, models
    from storage.objects import open_store

    await database.migrate(database_url)
    async with database.connected(database_url):
        await demo.generate("town", seed=1)
        releases = {r.id: r for r in await models.Release.all()}
        await Publisher(open_store(f"file://{store}")).publish_many(
            sorted(releases), as_of=lambda r: history_time(releases[r.id])
        )


def run(
    public: str,
    internal: str,
    token: str,
    seconds: float,
    examples: int,
    plain: bool,
    *,
    derandomize: bool = False,
) -> dict[str, Tally]:
    return {
        "public": fuzz_endpoint(
            "public", public, {}, seconds / 3, examples, plain=plain, derandomize=derandomize
        ),
        "internal": fuzz_endpoint(
            "internal",
            internal,
            {"Authorization": f"Bearer {token}"},
            2 * seconds / 3,  # five times the operations, and they reach further
            examples,
            plain=plain,
            derandomize=derandomize,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=240, help="the whole run's budget")
    parser.add_argument("--examples", type=int, default=200, help="at most, per operation")
    parser.add_argument("--messages", type=int, default=8, help="top error messages shown")
    parser.add_argument("--plain", action="store_true", help="schemathesis's own strategies")
    parser.add_argument("--public", help="the public endpoint of a running server")
    parser.add_argument("--internal", help="its internal endpoint")
    parser.add_argument("--token", help="a bearer token for the internal endpoint")
    args = parser.parse_args()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.public and args.internal and args.token:
            public, internal, token = args.public, args.internal, args.token
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            print("publishing the town demo for the fuzz server …", flush=True)
            base, token = stack.enter_context(own_server(workdir))
            public, internal = f"{base}/graphql", f"{base}/internal/graphql"
        tallies = run(public, internal, token, args.seconds, args.examples, args.plain)
    failed = False
    for name, tally in tallies.items():
        print(report(name, tally))
        for message, count in tally.messages.most_common(args.messages):
            print(f"  {count:>6}  {message}")
        for failure in tally.failures[:20]:
            print("  FAIL", failure)
        failed = failed or bool(tally.failures)
    print(f"fuzzing took {time.monotonic() - started:.0f} s; {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
