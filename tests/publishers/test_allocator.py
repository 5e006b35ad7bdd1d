"""`publishers.allocator`: a gongkai process keeps to two malloc arenas however many threads
allocate, and gives back what it has freed.

Each case runs in a fresh interpreter (the limit holds for arenas made after it is set), whose
threads each allocate while the others are held, then asks glibc how many arenas it has
(`malloc_stats`, which prints one "Arena N:" block per arena to standard error).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the arena limit is glibc's (mallopt)"
)

THREADS = 8
PROGRAM = f"""
import ctypes, sys, threading
from publishers import allocator
print(allocator.limit_arenas() if sys.argv[1] == "limit" else None, flush=True)
all_in = threading.Barrier({THREADS})
kept = []
def allocate():
    kept.append(bytes(1 << 20))  # through malloc, in this thread
    all_in.wait()  # every thread holds its own arena until all have allocated
    kept.append(bytearray(4096))
threads = [threading.Thread(target=allocate) for _ in range({THREADS})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()
"""


def arenas(mode: str, environment: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(  # noqa: S603 - this interpreter, our own program
        [sys.executable, "-c", PROGRAM, mode],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=120,
    )
    return done.stdout.strip(), len(re.findall(r"^Arena \d+:", done.stderr, re.MULTILINE))


def without_limit() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}


def test_threads_share_two_arenas_once_limited() -> None:
    applied, count = arenas("limit", without_limit())
    assert applied == "True"
    assert 1 <= count <= 2


def test_without_the_limit_each_thread_may_take_an_arena_of_its_own() -> None:
    """The other side: the same threads in a process that set no limit take more arenas (the
    reason for the limit; if glibc stopped doing this, the limit would be moot)."""
    applied, count = arenas("none", without_limit())
    assert applied == "None"
    assert count > 2


def test_an_explicit_malloc_arena_max_is_left_as_it_is() -> None:
    applied, count = arenas("limit", without_limit() | {"MALLOC_ARENA_MAX": "4"})
    assert applied == "False"
    assert 2 < count <= 4


FREED = """
import sys
from publishers import allocator
def resident_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
blocks = [bytes(2048) for _ in range(100_000)]  # ~200 MiB through malloc, one heap
kept = blocks[::64]  # in use to the heap's end: glibc cannot shrink it on free
del blocks
before = resident_mib()
print(allocator.trim() if sys.argv[1] == "trim" else None, before - resident_mib())
"""


def given_back(mode: str) -> tuple[str, int]:
    """What a process that freed most of 200 MiB, its last block kept, returns to the system:
    (`trim`'s answer, MiB)."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own program
        [sys.executable, "-c", FREED, mode], capture_output=True, text=True, check=True, timeout=120
    )
    answer, mib = done.stdout.split()
    return answer, int(mib)


def test_a_trim_gives_back_the_free_memory_inside_the_heap() -> None:
    answer, mib = given_back("trim")
    assert answer == "True"
    assert mib > 150


def test_without_a_trim_the_free_memory_inside_the_heap_stays() -> None:
    """The other side: freeing alone keeps the memory resident (the reason for the trim)."""
    answer, mib = given_back("none")
    assert answer == "None"
    assert mib < 20


#: A process of ~300 MiB that starts a program; the program prints its peak as `gongkai
#: publish` reports it, and as `getrusage` would have.
BALLAST = """
import subprocess, sys
ballast = bytearray(300 << 20)
ballast[::4096] = b"\\1" * len(range(0, len(ballast), 4096))  # every page touched: resident
child = "from publishers import allocator; import resource; "
child += "print(allocator.peak_resident_kib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout)
"""


def test_the_peak_reported_is_the_programs_own_not_its_starters() -> None:
    """`gongkai publish` started by a large process (a test run, a benchmark) reports its own
    peak: `ru_maxrss` carries the starter's across exec, the kernel's high-water mark does not."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own program
        [sys.executable, "-c", BALLAST], capture_output=True, text=True, check=True, timeout=120
    )
    own, inherited = (int(kib) >> 10 for kib in done.stdout.split())
    assert own < 150 <= 300 <= inherited, done.stdout
