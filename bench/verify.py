"""Benchmark (issue 16): what signing adds to a publish, and how fast `verify` checks a bucket.

    .venv/bin/python -m bench.verify [--database postgres|sqlite] [--scale district|town]
                                     [--pairs 1] [--rounds 3]

1. Signing: `--pairs` pairs of first publishes of every release of the demo into a fresh
   database copy and a fresh folder store, one unsigned and one signed, the order alternating
   from pair to pair; wall and CPU time of each, and the ratio.
2. Verify: over the last signed folder, interleaved `--rounds` times, `verify` against its floor —
   a bare listing of the store plus reading and hashing (sha256) every object under the prefixes
   verify reads (`releases/`, `bulk/`, `keys/`, `chain/`, the catalog): the same bytes, with no
   parsing, signature or chain. Objects per second of each, and the ratio.

Prints the load average before and after; each figure is a median of its runs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.publish import drop_database, prepare_database, publish_everything
from publishers import signing
from publishers.releases import Publisher
from publishers.verify import verify
from storage import database
from storage.objects import ObjectStore, open_store

PREFIXES = ("releases/", "bulk/", "keys/", "chain/", "catalog.json")


async def publish(
    backend: str, scale: str, folder: Path, signer: signing.Signer | None
) -> tuple[float, float]:
    url = await prepare_database(backend, scale)
    try:
        async with database.connected(url):
            store = open_store(f"file://{folder}")
            cpu = time.process_time()
            seconds, _, _ = await publish_everything(Publisher(store, signer=signer))
            return seconds, time.process_time() - cpu
    finally:
        await drop_database(url)


async def floor(store: ObjectStore) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for key in await store.keys():
        if key.startswith(PREFIXES):
            hashlib.sha256(await store.get(key)).hexdigest()
            count += 1
    return time.perf_counter() - started, count


async def checked(store: ObjectStore) -> tuple[float, int]:
    started = time.perf_counter()
    report = await verify(store)
    if not report.ok:
        raise SystemExit(f"verify failed: {report.failures[:3]}")
    # every object it read: the listed objects, the manifests with their signatures, the
    # catalog and its signature, the key index and keys, the redaction lists
    count = report.objects + 2 * report.manifests + 2 + 1 + len(report.keys)
    return time.perf_counter() - started, count


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    signer = signing.generate()
    with tempfile.TemporaryDirectory() as tmp:
        times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        last = Path(tmp)
        for pair in range(args.pairs):
            for signed in (False, True) if pair % 2 == 0 else (True, False):
                folder = Path(tmp) / f"store-{pair}-{int(signed)}"
                wall, cpu = await publish(
                    args.database, args.scale, folder, signer if signed else None
                )
                times[signed].append((wall, cpu))
                print(
                    f"publish {'signed' if signed else 'unsigned'}: {wall:.1f} s (CPU {cpu:.1f} s)",
                    flush=True,
                )
                if signed:
                    last = folder
        unsigned = statistics.median(w for w, _ in times[False])
        signed_ = statistics.median(w for w, _ in times[True])
        print(
            f"signing: {signed_:.1f} s against {unsigned:.1f} s unsigned = "
            f"{signed_ / unsigned:.3f}× (CPU {statistics.median(c for _, c in times[True]):.1f} s "
            f"against {statistics.median(c for _, c in times[False]):.1f} s)",
            flush=True,
        )

        store = open_store(f"file://{last}")
        floors, verifies = [], []
        for _ in range(args.rounds):
            floors.append(await floor(store))
            verifies.append(await checked(store))
        floor_rate = statistics.median(n / s for s, n in floors)
        verify_rate = statistics.median(n / s for s, n in verifies)
        seconds = statistics.median(s for s, _ in verifies)
        print(
            f"verify: {verifies[-1][1]} objects, {seconds:.2f} s, "
            f"{verify_rate:.0f} objects/s; floor (listing + sha256): {floors[-1][1]} objects, "
            f"{statistics.median(s for s, _ in floors):.2f} s, {floor_rate:.0f} objects/s; "
            f"verify takes {floor_rate / verify_rate:.2f}× the floor's time per object",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
