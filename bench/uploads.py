"""The memory of uploading large files at once (issue 18), as the bulk step uploads a set:

    python -m bench.uploads [--files 8] [--mib 100] [--store s3+http://HOST:PORT/BUCKET]

Writes `--files` files of `--mib` MiB of random bytes, then uploads them all at once, in a
process of its own for each way, twice, interleaved: `put` of each file's bytes read whole (as
the bulk step did), and `put_file`, which reads each a piece at a time. Prints one JSON line
a run: the way, the process's peak resident memory, its floor (before the uploads) and the
seconds. The files and the uploaded objects are deleted. An S3 store's keys are read from
`GONGKAI_S3_ACCESS_KEY` and `GONGKAI_S3_SECRET_KEY`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from storage.objects import open_store

WAYS = ("put", "put_file")


async def upload(way: str, folder: Path, store_url: str) -> dict[str, object]:
    keys = os.environ.get("GONGKAI_S3_ACCESS_KEY"), os.environ.get("GONGKAI_S3_SECRET_KEY")
    store = open_store(store_url, *keys)
    files = sorted(folder.glob("*.bin"))
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()

    async def one(path: Path) -> None:
        key = f"bench-uploads/{path.name}"
        if way == "put":
            data = await asyncio.to_thread(path.read_bytes)
            await store.put(key, data, "application/octet-stream")
        else:
            await store.put_file(key, path, "application/octet-stream")

    await asyncio.gather(*(one(path) for path in files))
    seconds = time.perf_counter() - started
    for path in files:
        await store.delete(f"bench-uploads/{path.name}")
    return {
        "way": way,
        "files": len(files),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "floor_mib": round(floor, 1),
        "seconds": round(seconds, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.uploads")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--store", default=None, help="a store URL (default: a scratch folder)")
    parser.add_argument("--run", choices=WAYS, help=argparse.SUPPRESS)  # one run, in a child
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        found = asyncio.run(upload(args.run, Path(args.folder), args.store))
        print(orjson.dumps(found).decode(), flush=True)
        return
    folder = Path(tempfile.mkdtemp(prefix="gongkai-bench-uploads-"))
    try:
        for number in range(args.files):
            with (folder / f"{number}.bin").open("wb") as out:
                for _ in range(args.mib):
                    out.write(os.urandom(1 << 20))
        store = args.store or f"file://{folder / 'store'}"
        for way in (*WAYS, *WAYS):
            command = [sys.executable, "-m", "bench.uploads", "--run", way]
            command += ["--folder", str(folder), "--store", store]
            subprocess.run(command, check=True)  # noqa: S603 (this interpreter, our arguments)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
