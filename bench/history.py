"""Benchmark (issue 16): what keeping every published version costs, to write and to read.

    .venv/bin/python -m bench.history [--database postgres|sqlite] [--scale district|town]
                                      [--rounds 3] [--reps 20]

1. Write: every release of the demo published once into a fresh database copy and folder store
   (the flip copies each version's rows into `disclosure_version`); then, `--rounds` times in a
   transaction that is rolled back, the history statements of the flip alone — for every
   release, ending the previous version's rows and copying the current ones — against the
   publish's wall time: the share of a first publish that the history costs.
2. Read: the same queries current and `asOf` today (which answers the same records, from the
   history), interleaved `--reps` times through `schema.execute` (graphql-core for both: `asOf`
   has no compiled path, so the comparison is of the SQL): the median of each and their ratio.

Prints the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from bench.publish import drop_database, prepare_database, publish_everything
from publishers import history
from publishers.releases import Publisher
from publishers.rules import SHANGHAI
from schema.context import Context
from schema.public.schema import build
from storage import database, models
from storage.enums import RecordType
from storage.objects import open_store


class _RolledBack(Exception):
    pass


async def history_writes() -> float:
    """The flip's history statements for every published release, timed, then undone."""
    rows = await models.Disclosure.filter(record_type=RecordType.RELEASE).values(
        "release_id", "record_key"
    )
    now = datetime.now(UTC)
    try:
        async with in_transaction() as connection:
            # As the flip of a next version finds them: its rows written, numbered one up.
            await connection.execute_script(
                "UPDATE disclosure SET release_version = release_version + 1"
            )
            started = time.perf_counter()
            for row in rows:
                await history.record_version(
                    connection,
                    int(row["release_id"]),
                    str(row["record_key"]),
                    history.version_kind(2, withdrawing=False),
                    now,
                )
            elapsed = time.perf_counter() - started
            raise _RolledBack
    except _RolledBack:
        return elapsed


QUERIES = {
    "subjects page": """
      query($day: Date!) { ROOT { subjects(first: 20, filter: {fiscalYear: 2024})
        { totalCount nodes { key name amounts { initial { total } } } } } }""",
    "subjects with target and assessment": """
      query($day: Date!) { ROOT { subjects(first: 20, filter: {fiscalYear: 2024})
        { nodes { key target { overallGoal } selfAssessment { totalScore grade } } } } }""",
    "statistics by department": """
      query($day: Date!) { ROOT { statistics(groupBy: DEPARTMENT) { key subjects budget } } }""",
}


async def timed(schema: Any, query: str, day: str) -> tuple[float, Any]:
    variables = {"day": day} if "$day" in query else None
    started = time.perf_counter()
    result = await schema.execute(query, variable_values=variables, context_value=Context())
    elapsed = time.perf_counter() - started
    if result.errors:
        raise SystemExit(f"{query}: {result.errors}")
    return elapsed, result.data


async def reads(reps: int) -> None:
    schema = build()
    today = datetime.now(SHANGHAI).date().isoformat()
    for name, text in QUERIES.items():
        # The same selection, at the root or under `asOf`.
        current = text.replace("query($day: Date!)", "query").replace("ROOT {", "")
        current = current.rsplit("}", 1)[0]
        past = text.replace("ROOT", "asOf(date: $day)")
        times: dict[str, list[float]] = {"current": [], "asOf": []}
        answers = {}
        for rep in range(reps):
            order = (("current", current), ("asOf", past))
            for label, document in order if rep % 2 == 0 else order[::-1]:
                elapsed, data = await timed(schema, document, today)
                times[label].append(elapsed)
                answers[label] = data
        same = answers["current"] == answers["asOf"]["asOf"]
        now_ms = statistics.median(times["current"]) * 1000
        past_ms = statistics.median(times["asOf"]) * 1000
        print(
            f"read {name}: current {now_ms:.1f} ms, asOf today {past_ms:.1f} ms = "
            f"{past_ms / now_ms:.2f}× (same answer: {same})",
            flush=True,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    url = await prepare_database(args.database, args.scale)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with database.connected(url):
                store = open_store(f"file://{tmp}")
                seconds, _, published = await publish_everything(Publisher(store))
                kept = await models.DisclosureVersion.all().count()
                print(
                    f"publish: {published} releases in {seconds:.1f} s; {kept} history rows kept",
                    flush=True,
                )
                writes = [await history_writes() for _ in range(args.rounds)]
                write = statistics.median(writes)
                print(
                    f"history writes of the whole publish: {write:.2f} s "
                    f"= {100 * write / seconds:.1f} % of it",
                    flush=True,
                )
                await reads(args.reps)
    finally:
        await drop_database(url)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
