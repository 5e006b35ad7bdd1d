"""Public throughput of `gongkai serve --workers N` against one worker, on the warm path (the
answer cache: no database work at all), for `make bench-scale` (issue 18).

    python -m bench.workers [--database URL] [--workers 2] [--seconds 10] [--rounds 3]

Publishes the town demo into a new PostgreSQL database (unless --database names a published
one), starts `gongkai serve` with 1 and with N workers in turn, interleaved, and drives each
with `wrk` (or bench/load_driver.py without it) for a bounded time. Prints JSON: requests per
second per round, the medians and their ratio, and the load average while measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
import orjson

from publishers import signing

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("GONGKAI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
QUERY = "{ subjects(first: 20) { totalCount nodes { key name fiscalYear } } }"


def gongkai(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, check=True, timeout=3600
    )


def environment(database_url: str, store: Path) -> dict[str, str]:
    # production publishes only signed: a key of the bench's own, beside its store
    key = store.parent / "signing-key.pem"
    if not key.exists():
        signing.write_key_file(signing.generate(), key)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")},
        "PYTHONPATH": str(ROOT),
        "GONGKAI_DATABASE_URL": database_url,
        "GONGKAI_STORE_URL": f"file://{store}",
        "GONGKAI_ENV": "production",
        "GONGKAI_JWT_KEY": "bench-" + "k" * 40,
        "GONGKAI_SIGNING_KEY_FILE": str(key),
    }


async def create_database(name: str) -> str:
    admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{PG_SERVER}/{name}"


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.contextmanager
def served(env: dict[str, str], workers: int, workdir: Path) -> Iterator[str]:
    with socket_port() as port:
        log = (workdir / f"serve-{workers}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / f"serve-{workers}.log").read_text()[-3000:])
            time.sleep(0.2)
        url = f"{base}/graphql?query={quote(QUERY)}"
        # Warm every worker's cache: many requests, spread over the workers by the kernel.
        with httpx.Client() as client:
            for _ in range(200 * workers):
                assert client.get(url).status_code == 200
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


@contextlib.contextmanager
def socket_port() -> Iterator[int]:
    from tests.live import free_port

    yield free_port()


def drive(url: str, seconds: int) -> float:
    if shutil.which("wrk"):
        done = subprocess.run(  # noqa: S603 - wrk as found on PATH
            [str(shutil.which("wrk")), "-t1", "-c32", f"-d{seconds}s", url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
        found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
        assert found and "Non-2xx" not in done.stdout, done.stdout
        return float(found.group(1))
    done = subprocess.run(  # noqa: S603 - our own load driver
        [sys.executable, "-m", "bench.load_driver", url, "{}", str(seconds), "32"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    return float(orjson.loads(done.stdout.splitlines()[-1])["rps"])


def main() -> None:
    import asyncio

    parser = argparse.ArgumentParser(prog="bench.workers")
    parser.add_argument("--database", help="a published database (default: publish the town)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-workers-"))
    name = None
    url = args.database
    if url is None:
        name = f"gk_bench_workers_{uuid.uuid4().hex[:8]}"
        url = asyncio.run(create_database(name))
    env = environment(url, workdir / "store")
    try:
        if name is not None:
            gongkai(env, "migrate")
            gongkai(env, "demo", "--scale", "town", "--forms-dir", str(workdir / "forms"))
            # Back-filled dates are a development tool: refused in production (DR-6).
            development = {k: v for k, v in env.items() if k != "GONGKAI_ENV"}
            gongkai(development, "publish", "--all", "--as-of", "history")
        rounds: dict[int, list[float]] = {1: [], args.workers: []}
        loads = []
        for _ in range(args.rounds):
            for workers in (1, args.workers):
                with served(env, workers, workdir) as target:
                    rounds[workers].append(drive(target, args.seconds))
                    loads.append(os.getloadavg()[0])
        medians = {n: statistics.median(v) for n, v in rounds.items()}
        print(
            orjson.dumps(
                {
                    "path": "warm (answer cache), GET " + QUERY,
                    "driver": "wrk -t1 -c32" if shutil.which("wrk") else "bench.load_driver",
                    "cpus": os.cpu_count(),
                    "rps": rounds,
                    "median_rps": medians,
                    "ratio": round(medians[args.workers] / medians[1], 2),
                    "load_average_1min": loads,
                },
                option=orjson.OPT_NON_STR_KEYS,
            ).decode()
        )
    finally:
        if name is not None:
            asyncio.run(drop_database(name))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
