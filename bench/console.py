"""Benchmark: the web console's pages on the district demo, one signed-in user (issue 17: p95
under 200 ms).

    .venv/bin/python -m bench.console [--database postgres|sqlite] [--scale district|town]
                                      [--requests 60]

The database is a fresh copy of the demo template (bench/publish.py builds it once). An officer
account (finance officer, publisher and auditor: every page is open to it) signs in once; then
each page is requested `--requests` times in interleaved rounds (page A, B, …, A, B, …) after two
warm-up rounds, through the app in this process (httpx's ASGI transport: no network, the same
middleware as `gongkai serve`). The floor is `/livez`, a trivial route of the same app measured in
the same rounds: each page's p95 is also given as a multiple of the floor's p95. Pages that act
(approve, publish …) are not timed: they are the API's mutations, timed by its own benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.console import accounts
from api.settings import Settings
from bench.publish import drop_database, prepare_database
from schema.internal.ids import global_id
from storage import database, models

TARGET_P95_MS = 200.0
PASSWORD = "bench password of the console"  # noqa: S105 - a throwaway database


async def pages() -> dict[str, str]:
    """Each page's path, with real ids of the demo (the busiest department of the latest year)."""
    year = max(await models.Release.all().values_list("fiscal_year", flat=True))
    release = await models.Release.filter(fiscal_year=year, department_id__not_isnull=True).first()
    target = await models.PerformanceTarget.filter(fiscal_year=year).first()
    assert release is not None and target is not None
    department = release.department_id
    return {
        "desk": f"/console/?year={year}",
        "coverage": f"/console/coverage?year={year}",
        "review queue": "/console/review",
        "filings": f"/console/filings?year={year}",
        "filing form": f"/console/filings?year={year}&department="
        + str(global_id("Department", department)),
        "releases": f"/console/releases?year={year}",
        "release": f"/console/releases/{global_id('Release', release.pk)}",
        "departments": "/console/departments",
        "department": f"/console/departments/{global_id('Department', department)}?year={year}",
        "target": f"/console/targets/{global_id('PerformanceTarget', target.pk)}",
        "subject": f"/console/subjects/{global_id('Subject', target.subject_id)}",
        "audit log": "/console/audit",
        "import": "/console/import",
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


async def measure(url: str, requests: int) -> dict[str, dict[str, float]]:
    async with database.connected(url):
        await accounts.add_user(
            "bench-officer", PASSWORD, ["finance_officer", "publisher", "auditor"]
        )
        paths = await pages()
    paths["floor (/livez)"] = "/livez"
    with tempfile.TemporaryDirectory() as store:
        settings = Settings(
            database_url=url,
            store_url=f"file://{store}",
            console_secret="bench-console-secret-of-32-bytes-or-more",
        )
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="https://bench") as client:
                form = (await client.get("/console/sign-in")).text
                marker = 'name="csrf" value="'
                start = form.index(marker) + len(marker)
                csrf = form[start : form.index('"', start)]
                signed = await client.post(
                    "/console/sign-in",
                    data={"csrf": csrf, "username": "bench-officer", "password": PASSWORD},
                )
                assert signed.status_code == 303, signed.text
                times: dict[str, list[float]] = {name: [] for name in paths}
                for round_ in range(requests + 2):
                    for name, path in paths.items():
                        started = time.perf_counter()
                        response = await client.get(path)
                        elapsed = (time.perf_counter() - started) * 1000
                        assert response.status_code == 200, (name, response.text[-500:])
                        if round_ >= 2:
                            times[name].append(elapsed)
    floor = p95(times["floor (/livez)"])
    return {
        name: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(p95(values), 1),
            "max_ms": round(max(values), 1),
            "p95_over_floor": round(p95(values) / floor, 1),
        }
        for name, values in times.items()
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    url = await prepare_database(args.database, args.scale)
    try:
        result = await measure(url, args.requests)
    finally:
        await drop_database(url)
    width = max(len(name) for name in result)
    print(f"console pages, {args.scale} demo on {args.database}, {args.requests} requests each")
    print(f"{'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}  {'p95/floor':>9}")
    for name, row in result.items():
        print(
            f"{name:<{width}}  {row['p50_ms']:>8}  {row['p95_ms']:>8}  {row['max_ms']:>8}"
            f"  {row['p95_over_floor']:>9}"
        )
    worst = max(row["p95_ms"] for name, row in result.items() if not name.startswith("floor"))
    verdict = "meets" if worst < TARGET_P95_MS else "MISSES"
    print(f"slowest page p95 {worst} ms: {verdict} the {TARGET_P95_MS:.0f} ms target")
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    Path("var/bench/console.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    asyncio.run(main())
