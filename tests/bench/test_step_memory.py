"""bench/step_memory.py reports a publish's memory at each step boundary, and its figures
follow what a process allocates and frees (issue 18)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.publishers import dataset
from tests.publishers.test_obligations import gongkai

#: In a process of its own, so that no other test's garbage is in the figures: ~48 MiB of
#: small objects (pymalloc's), then one in 64 of them kept, then one 64 MiB buffer (malloc
#: mmaps a chunk that large on its own).
ALLOCATES = """
import orjson
from bench.step_memory import snapshot
before = snapshot("before")
small = [bytes(200) + i.to_bytes(4, "little") for i in range(200_000)]
filled = snapshot("filled")
kept = small[::64]
del small
sparse = snapshot("sparse")
big = bytearray(64 * 2**20)
print(orjson.dumps([before, filled, sparse, snapshot("big")]).decode())
"""


def test_the_figures_follow_what_the_process_allocates_and_frees() -> None:
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-c", ALLOCATES], capture_output=True, check=True, text=True
    )
    before, filled, sparse, big = orjson.loads(run.stdout)
    grown = filled["pymalloc_live_mib"] - before["pymalloc_live_mib"]
    assert 40 < grown < 60, grown  # 200,000 objects of 237 bytes (a 240-byte block each)
    assert filled["pymalloc_arenas"] - before["pymalloc_arenas"] >= 40
    # Freed, but one object in 64 keeps each 16 KiB pool and so every arena: the gap the
    # bench shows between a step's arenas and its live objects.
    assert sparse["pymalloc_live_mib"] - before["pymalloc_live_mib"] < 5
    assert sparse["pymalloc_arenas"] >= filled["pymalloc_arenas"] - 2
    assert filled["rss_mib"] - before["rss_mib"] > 40
    assert big["peak_mib"] >= big["rss_mib"] >= sparse["rss_mib"]
    if platform.libc_ver()[0] == "glibc":
        assert 63 < big["malloc_mmapped_mib"] - sparse["malloc_mmapped_mib"] < 66
    else:
        assert big["malloc_mmapped_mib"] is None


async def test_a_publish_reports_each_step_boundary_and_exits_as_gongkai_does(
    db: str, tmp_path: Path
) -> None:
    await dataset.build(dataset.Plan(departments=2, projects=1, policy=True))
    run = await gongkai(db, tmp_path / "store", "publish", "--all", module="bench.step_memory")
    assert run.code == 0, run.output
    lines = [orjson.loads(line) for line in run.output.splitlines() if line.startswith("{")]
    steps = ["release step ended", "bulk step ended", "site step begins", "site step ended"]
    assert [line["at"] for line in lines] == [
        "before the command, the publisher imported",
        *(at for step in steps for at in (step, f"{step}, after gc and trim")),
    ]
    assert all(line["rss_mib"] <= line["peak_mib"] for line in lines)
    assert all(line["pymalloc_live_mib"] <= line["pymalloc_arenas_mib"] for line in lines)
    assert (tmp_path / "store" / "site-manifest.json").exists()  # it did publish


@pytest.mark.parametrize("argv", [["publish"], ["publish", "--release", "x/y"]])
def test_a_bad_command_fails_as_gongkai_fails_it(argv: list[str], tmp_path: Path) -> None:
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.step_memory", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "GONGKAI_STORE_URL": f"file://{tmp_path}"},
    )
    assert run.returncode == 2, run.stderr
    assert [line for line in run.stdout.splitlines() if '"at"' in line][1:] == []
