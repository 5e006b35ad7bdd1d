"""The servers that bench/public_api.py measures, each one uvicorn process with one worker:

    python -m bench.serve_public --port P [--answer-cache off] [--fast-path off] [--sql-path off]
    python -m bench.serve_public --port P --floor

The first is the gongkai app exactly as `gongkai serve` builds it (settings from the environment),
with the HTTP answer cache off for "cold" runs (decisions.md D15: parse, validation and plan caches
stay on), the SQL path off (the fast path projects rows in Python) and the compiled fast path off
for the stock-strawberry comparison. The second is the
floor: a hand-written asyncpg + orjson endpoint that answers query (a) of the benchmark — the
same SQL over the same snapshot rows, projected by hand.
"""

# The SQL below is built from fixed fragments (the current-row rule of schema/rows.py); every
# value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from publishers.records import department_key
from schema.rows import CURRENT

PAGE_SIZE = 100
SUBJECTS = (
    "SELECT d.data, d.record_key FROM disclosure d WHERE d.subject_kind = $1"
    f" AND d.record_type = 'SUBJECT' AND {CURRENT} ORDER BY d.record_key LIMIT {PAGE_SIZE + 1}"
)
DEPARTMENTS = (
    "SELECT d.record_key, d.data FROM disclosure d WHERE d.record_type = 'DEPARTMENT'"
    f" AND d.record_key = ANY($1::text[]) AND {CURRENT}"
)
TARGETS = (
    "SELECT d.subject_key, d.data FROM disclosure d WHERE d.record_type = 'TARGET'"
    f" AND d.subject_key = ANY($1::text[]) AND {CURRENT} ORDER BY d.record_key"
)
AMOUNT_ROWS = ("initial", "fullYear", "executed")
INDICATOR_FIELDS = (
    "position",
    "level1",
    "level2",
    "name",
    "nature",
    "comparator",
    "targetValue",
    "unit",
    "weight",
    "core",
)


def _cursor(key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([key, key])).decode().rstrip("=")


def _department(subject: dict[str, Any]) -> str:
    return department_key(subject["jurisdictionCode"], subject["departmentCode"])


def _project(
    subject: dict[str, Any], department: dict[str, Any] | None, target: dict[str, Any] | None
) -> dict[str, Any]:
    """One node of query (a), written out by hand."""
    amounts = subject["amounts"]
    return {
        "key": subject["key"],
        "code": subject["code"],
        "name": subject["name"],
        "fiscalYear": subject["fiscalYear"],
        "budgetBook": subject["budgetBook"],
        "amounts": {
            row: None if amounts.get(row) is None else {"total": amounts[row]["total"]}
            for row in AMOUNT_ROWS
        },
        "department": None
        if department is None
        else {"code": department["code"], "name": department["name"]},
        "target": None
        if target is None
        else {
            "overallGoal": target["overallGoal"],
            "indicators": [
                {name: indicator[name] for name in INDICATOR_FIELDS}
                for indicator in target["indicators"]
            ],
        },
    }


def floor_app(database_url: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5)
        try:
            yield
        finally:
            await pool.close()

    async def page(request: Request) -> Response:
        assert pool is not None
        async with pool.acquire() as connection:
            rows = await connection.fetch(SUBJECTS, "PROJECT")
            more = len(rows) > PAGE_SIZE
            subjects = [orjson.loads(r["data"]) for r in rows[:PAGE_SIZE]]
            departments = {
                r["record_key"]: orjson.loads(r["data"])
                for r in await connection.fetch(
                    DEPARTMENTS,
                    sorted({_department(s) for s in subjects}),
                )
            }
            targets: dict[str, dict[str, Any]] = {}
            for r in await connection.fetch(TARGETS, [s["key"] for s in subjects]):
                targets.setdefault(r["subject_key"], orjson.loads(r["data"]))
        nodes = [
            _project(
                s,
                departments.get(_department(s)),
                targets.get(s["key"]),
            )
            for s in subjects
        ]
        end = _cursor(subjects[-1]["key"]) if subjects else None
        data = {"subjects": {"pageInfo": {"hasNextPage": more, "endCursor": end}, "nodes": nodes}}
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    return Starlette(routes=[Route("/page", page)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answer-cache", choices=("on", "off"), default="on")
    parser.add_argument("--fast-path", choices=("on", "off"), default="on")
    parser.add_argument("--sql-path", choices=("on", "off"), default="on")
    parser.add_argument("--floor", action="store_true")
    args = parser.parse_args()
    if args.floor:
        app = floor_app(os.environ["GONGKAI_DATABASE_URL"])
    else:
        from api import settings
        from api.app import create_app

        app = create_app(
            settings.load(),
            answer_cache=args.answer_cache == "on",
            fast_path=args.fast_path == "on",
            sql_path=args.sql_path == "on",
        )
    # As `gongkai serve` runs it, minus the access log (it would be measured too).
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
