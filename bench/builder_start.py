"""What starting the bulk-file builders costs a publish (publishers/bulk.py, `_builders`):

    python -m bench.builder_start [--rounds 10]

Each round starts the publisher's builders, has each run one empty task, as a publish whose
bulk sets changed does before its first set, and shuts them down: once forked from the fork
server that has imported the builders' code (`bulk._builders`, what a publish does now) and
once spawned afresh (what it did before), interleaved. The fork server starts in the first
round, as a publisher's starts on its first build, and that round is not counted. Prints one
JSON line a way: the median wall seconds of a round and the median CPU seconds the builders
used from their start; then the ratio of the wall times.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson

from publishers import bulk

TICKS = os.sysconf("SC_CLK_TCK")


def spawned() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(bulk._processes(), mp_context=multiprocessing.get_context("spawn"))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def one_round(start: Callable[[], ProcessPoolExecutor]) -> tuple[float, float]:
    """Wall seconds to start the builders and run an empty task on each; their CPU seconds."""
    began = time.perf_counter()
    builders = start()
    # As many tasks as builders, each waiting for the others: every builder starts and runs one.
    tasks = [builders.submit(time.sleep, 0.2) for _ in range(bulk._processes())]
    for task in tasks:
        task.result()
    wall = time.perf_counter() - began - 0.2
    pids = list(builders._processes)  # type: ignore[attr-defined]
    cpu = sum(_cpu_seconds(pid) for pid in pids)
    builders.shutdown()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    ways: dict[str, Callable[[], ProcessPoolExecutor]] = {
        "fork server": bulk._builders,
        "spawn": spawned,
    }
    one_round(bulk._builders)  # the fork server starts, once a publisher
    found: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    for _ in range(args.rounds):
        for way, start in ways.items():
            found[way].append(one_round(start))
    medians: dict[str, tuple[float, float]] = {}
    for way, rounds in found.items():
        wall = statistics.median(r[0] for r in rounds)
        cpu = statistics.median(r[1] for r in rounds)
        medians[way] = (wall, cpu)
        line = {"way": way, "rounds": len(rounds), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        print(orjson.dumps(line).decode(), flush=True)
    # CPU is counted in clock ticks (10 ms): a forked builder's is mostly zero, so only the
    # wall time is a ratio.
    ratio = medians["spawn"][0] / max(medians["fork server"][0], 1e-3)
    print(
        orjson.dumps(
            {"spawn_over_fork_server_wall": round(ratio, 1), "load": os.getloadavg()[0]}
        ).decode()
    )


if __name__ == "__main__":
    main()
