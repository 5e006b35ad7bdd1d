"""One bulk file set's builder over a published database (issue 18):

    python -m bench.builder DATABASE_URL STORE_URL JURISDICTION [--year YEAR]

Builds the jurisdiction's all-years set (or one year's) as a publish does — its rows spooled,
its files read from the store, its tables and files made in a builder process of its own — and
prints one JSON line: seconds, the files' bytes by kind, a digest of every file's sha256 (two
builds of the same bytes print the same), and the builder's peak resident memory beside its
floor (the same process before it built anything). Nothing is written to the store; the files
are deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson

from publishers import bulk
from storage import database
from storage.objects import open_store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(url: str, store_url: str, code: str, year: int | None) -> dict[str, Any]:
    store = open_store(store_url)
    # One builder, spawned as the publisher's are: its peak is this set's alone.
    builders = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    spool = bulk.Spool()
    try:
        floor = builders.submit(_peak_mib).result()
        async with database.connected(url):
            sets = bulk.plan(await bulk.current_releases())
            label = bulk.ALL_YEARS if year is None else str(year)
            _, _, releases = sets[f"{code}/{label}"]
            started = time.perf_counter()
            objects = bulk._ObjectCache(store, spool)
            _, files = await bulk._build_set(
                objects, builders, code, year, releases, None, "CC-BY-4.0"
            )
            seconds = time.perf_counter() - started
        peak = builders.submit(_peak_mib).result()
        sizes: dict[str, int] = {}
        for item in files:
            kind = item.name.rsplit(".", 1)[-1]
            sizes[kind] = sizes.get(kind, 0) + item.size
        # One digest of every file's name and sha256: two builds made the same bytes iff equal.
        listed = sorted((item.name, item.sha256) for item in files)
        digest = hashlib.sha256(orjson.dumps(listed)).hexdigest()[:16]
        bulk._remove_files(files)
    finally:
        builders.shutdown()
        spool.close()
    return {
        "set": f"{code}/{label}",
        "releases": len(releases),
        "seconds": round(seconds, 1),
        "bytes": sizes,
        "files_sha256": digest,
        "builder_peak_mib": round(peak, 1),
        "builder_floor_mib": round(floor, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.builder")
    parser.add_argument("database_url")
    parser.add_argument("store_url")
    parser.add_argument("jurisdiction")
    parser.add_argument("--year", type=int, default=None)
    args = parser.parse_args()
    found = asyncio.run(measure(args.database_url, args.store_url, args.jurisdiction, args.year))
    print(orjson.dumps(found).decode(), flush=True)


if __name__ == "__main__":
    main()
