"""The load driver of bench/public_api.py where `wrk` is missing: an httpx client with N
connections in a process of its own (pinned to the other CPU than the server), for a bounded
time; prints requests per second and latency percentiles as JSON.

    python -m bench.load_driver URL HEADERS_JSON SECONDS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import httpx
import orjson


async def drive(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> None:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=10) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.get(url)
                if response.status_code not in (200, 304):
                    raise SystemExit(f"{response.status_code}: {response.text[:300]}")
                latencies.append((time.perf_counter() - started) * 1e3)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    found = {"rps": len(latencies) / elapsed, "p50": cuts[49], "p99": cuts[98]}
    print(orjson.dumps({**found, "requests": len(latencies)}).decode())


def main() -> None:
    url, headers, seconds, concurrency = sys.argv[1:5]
    asyncio.run(drive(url, orjson.loads(headers), float(seconds), int(concurrency)))


if __name__ == "__main__":
    main()
