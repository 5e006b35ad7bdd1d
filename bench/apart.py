"""What publishing a jurisdiction at a time, each in a process of its own, costs and saves
(decisions.md D33, publishers/apart.py):

    python -m bench.apart [--scale district] [--rounds 2]

Builds the demo of `--scale` once in a new PostgreSQL database, then publishes every release
(`--as-of history`, as `gongkai publish --all` does) from a fresh copy of it, `--rounds` times
each way, the two ways interleaved and their order alternated: in parts (`gongkai publish`'s
way) and in one process (the API's way). Each publish runs in a process of its own. Prints a
JSON line a publish (wall seconds, the publisher's peak resident memory, its largest part's,
objects written) and a last line with the medians and the ratios parts / one process. The peak
of a publish is the larger of the publisher's and its largest part's; the bulk builders, the
same in both ways, are counted in neither. The databases and stores are dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from api.cli import history_time
from api.publishing import make_publisher
from api.settings import load
from bench.scale import PG_SERVER, ROOT, admin, run
from publishers import allocator
from storage import database, models

WAYS = ("parts", "one process")


async def publish_once(parts: bool) -> dict[str, Any]:
    """Every release, with or without parts, in this process (the settings from the
    environment)."""
    settings = load()
    async with database.connected(settings.database_url):
        publisher = make_publisher(settings, apart=parts)
        ids = [
            int(str(i))
            for i in await models.Release.all().order_by("id").values_list("id", flat=True)
        ]
        started = time.perf_counter()
        batch = await publisher.publish_many(ids, as_of=history_time)
        seconds = time.perf_counter() - started
    largest = max(publisher.apart.peaks) if publisher.apart and publisher.apart.peaks else None
    own = allocator.peak_resident_kib() / 1024  # its own, not the benchmark's that started it
    return {
        "way": WAYS[0] if parts else WAYS[1],
        "seconds": round(seconds, 1),
        "publisher_mib": round(own, 1),
        "largest_part_mib": None if largest is None else round(largest, 1),
        "peak_mib": round(max(own, largest or 0), 1),
        "objects": batch.stats.written,
        "failures": len(batch.failures),
    }


def one(env: dict[str, str], parts: bool) -> dict[str, Any]:
    """`publish_once` in a process of its own."""
    command = [sys.executable, "-m", "bench.apart", "--one", "parts" if parts else "whole"]
    done = subprocess.run(  # noqa: S603 - our own command line
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"publish ({command[-1]}) failed: {done.stderr[-4000:]}")
    found: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.apart")
    parser.add_argument("--scale", default="district")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--one", choices=["parts", "whole"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(orjson.dumps(await publish_once(args.one == "parts")).decode(), flush=True)
        return
    base = f"gk_apart_{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-apart-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env |= {"PYTHONPATH": str(ROOT), "GONGKAI_DATABASE_URL": f"{PG_SERVER}/{base}"}
    env["GONGKAI_STORE_URL"] = f"file://{workdir / 'demo-store'}"
    made = [base]
    results: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
    try:
        await admin(f'CREATE DATABASE "{base}"')
        run(env, "migrate")
        run(env, "demo", "--scale", args.scale, "--forms-dir", str(workdir / "forms"))
        for round_ in range(args.rounds):
            order = (True, False) if round_ % 2 == 0 else (False, True)
            for parts in order:
                name = f"{base}_{len(made)}"
                await admin(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
                made.append(name)
                store = workdir / name
                run_env = env | {
                    "GONGKAI_DATABASE_URL": f"{PG_SERVER}/{name}",
                    "GONGKAI_STORE_URL": f"file://{store}",
                }
                found = one(run_env, parts) | {
                    "round": round_,
                    "load_1min": round(os.getloadavg()[0], 2),
                }
                print(orjson.dumps(found).decode(), flush=True)
                results[found["way"]].append(found)
                shutil.rmtree(store, ignore_errors=True)
        median = {
            way: {
                key: statistics.median(r[key] for r in found)
                for key in ("seconds", "peak_mib", "objects")
            }
            for way, found in results.items()
        }
        apart, whole = median[WAYS[0]], median[WAYS[1]]
        summary = {
            "scale": args.scale,
            "rounds": args.rounds,
            "median": median,
            "time_ratio_parts_to_one": round(apart["seconds"] / whole["seconds"], 3),
            "peak_ratio_parts_to_one": round(apart["peak_mib"] / whole["peak_mib"], 3),
        }
        print(orjson.dumps(summary).decode(), flush=True)
    finally:
        for name in made:
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
