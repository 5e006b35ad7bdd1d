"""Measures the storage-shape question of docs/public-queries.md on a published database: what
PostgreSQL spends building query (a)'s JSON from `jsonb` snapshot rows (as stored) against the
same rows copied into typed columns, and the whole statement of the SQL path.

    .venv/bin/python -m bench.storage_shape postgres://…/DBNAME [--repeat 200]

(bench/public_api.py leaves no database behind; publish one with `gongkai publish --all` or
keep the one of a run.) Prints the median server-side execution time of each statement
(`EXPLAIN (ANALYZE, TIMING OFF)`), so the client and the network are not in it.
"""

# Fixed SQL text; nothing comes from input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import asyncio
import statistics
from typing import Any

import asyncpg
import orjson

from schema.rows import CURRENT

PAGE_ROWS = (
    "SELECT d.data FROM disclosure d WHERE d.record_type = 'SUBJECT' AND d.subject_kind ="
    f" 'PROJECT' AND {CURRENT} ORDER BY d.record_key LIMIT 100"
)
FIELDS = ("key", "code", "name", "fiscalYear", "budgetBook", "departmentCode", "departmentName")
FROM_JSONB = (
    "SELECT string_agg('{' || "
    + " || ',' || ".join(f"'\"{f}\":' || COALESCE((p.data->'{f}')::text, 'null')" for f in FIELDS)
    + " || ',\"total\":' || COALESCE((p.data->'amounts'->'initial'->'total')::text, 'null')"
    + f" || '}}', ',') FROM ({PAGE_ROWS}) p"
)
TYPED = (
    "CREATE TEMP TABLE typed AS SELECT "
    + ", ".join(f"p.data->>'{f}' AS \"{f}\"" for f in FIELDS)
    + f", p.data->'amounts'->'initial'->>'total' AS total FROM ({PAGE_ROWS}) p"
)
FROM_TYPED = (
    "SELECT string_agg('{' || "
    + " || ',' || ".join(
        f"'\"{f}\":' || COALESCE(to_json(t.\"{f}\")::text, 'null')" for f in FIELDS
    )
    + " || ',\"total\":' || COALESCE(to_json(t.total)::text, 'null') || '}', ',') FROM typed t"
)


async def timed(connection: asyncpg.Connection, sql: str, repeat: int, *args: Any) -> float:
    """Median execution time in ms, as PostgreSQL reports it."""
    times = []
    for _ in range(repeat):
        plan = await connection.fetchval(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", *args)
        times.append(orjson.loads(plan)[0]["Execution Time"])
    return statistics.median(times)


async def main(url: str, repeat: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        rows_only = await timed(connection, PAGE_ROWS, repeat)
        from_jsonb = await timed(connection, FROM_JSONB, repeat)
        await connection.execute(TYPED)
        typed_only = await timed(connection, "SELECT * FROM typed", repeat)
        from_typed = await timed(connection, FROM_TYPED, repeat)
    finally:
        await connection.close()
    print(f"median of {repeat} executions, ms (PostgreSQL's own timing):")
    print(f"  the page's 100 rows (current-row rule, keyset order)   {rows_only:7.3f}")
    print(f"  … and 8 fields of each as JSON text, from jsonb      {from_jsonb:7.3f}")
    print(f"  the same 100 rows in typed columns (a temp table)      {typed_only:7.3f}")
    print(f"  … and the same JSON text from the typed columns      {from_typed:7.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.repeat))
