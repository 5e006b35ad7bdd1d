"""Where a publish's memory is between its steps (issue 18):

    python -m bench.step_memory publish --all --as-of history

Runs the `gongkai` command given (the settings come from the environment, as for `gongkai`)
in this process, and prints one JSON line at each step boundary of the publish: when the
release step has ended (the bulk step begins), when the bulk step ends, when the site step
begins and ends, each time also after a full garbage collection and `malloc_trim`. A first
line is the process before the command, with the publisher imported.

Each line holds the resident memory and its peak so far, Python's small-object allocator
(pymalloc: its arenas, and the bytes in live objects), and glibc's malloc (`mallinfo2`: its
heap, the bytes in use, and the mmapped chunks). The gap between arenas and live bytes, and
between the heap and its bytes in use, is memory a step freed that the process still holds:
what the next step starts on top of (docs/scaling.md, "The whole city publish with all of
this"). Where the C library is not glibc, the malloc fields are null.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import orjson

from publishers import allocator, bulk, site

MIB = 2**20


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _status() -> dict[str, float]:
    """VmRSS and VmHWM of this process, in MiB."""
    fields: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return {"rss_mib": fields["VmRSS"], "peak_mib": fields["VmHWM"]}


@contextlib.contextmanager
def _stderr_to(file: Any) -> Iterator[None]:
    """`sys._debugmallocstats` writes to the C stderr, file descriptor 2, not `sys.stderr`."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def pymalloc() -> dict[str, float]:
    """pymalloc's arenas (each is `arenas_mib` / count; they go back to the system only when
    empty) and the bytes in its live blocks, from `sys._debugmallocstats()`."""
    with tempfile.TemporaryFile("w+") as report:
        with _stderr_to(report):
            sys._debugmallocstats()
        report.seek(0)
        text = report.read()
    arenas = re.search(r"# arenas allocated current\s*=\s*([\d,]+)", text)
    live = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
    size = re.search(r"(\d+) arenas \* (\d+) bytes/arena", text)
    if arenas is None or live is None or size is None:
        raise ValueError("sys._debugmallocstats() printed no pymalloc figures")
    count = int(arenas.group(1).replace(",", ""))
    return {
        "pymalloc_arenas": count,
        "pymalloc_arenas_mib": count * int(size.group(2)) / MIB,
        "pymalloc_live_mib": int(live.group(1).replace(",", "")) / MIB,
    }


def malloc() -> dict[str, float | None]:
    """glibc's heap (its arenas' memory from the system), the bytes of it in use, and the
    bytes in chunks malloc mmapped on their own. Null where there is no `mallinfo2` (glibc
    before 2.33, or not glibc)."""
    mallinfo2 = allocator._glibc("mallinfo2")
    if mallinfo2 is None:
        return {"malloc_heap_mib": None, "malloc_in_use_mib": None, "malloc_mmapped_mib": None}
    mallinfo2.restype = _Mallinfo2
    info = mallinfo2()
    return {
        "malloc_heap_mib": info.arena / MIB,
        "malloc_in_use_mib": info.uordblks / MIB,
        "malloc_mmapped_mib": info.hblkhd / MIB,
    }


def snapshot(at: str) -> dict[str, Any]:
    return {"at": at, **_status(), **pymalloc(), **malloc()}


def _print(line: dict[str, Any]) -> None:
    rounded = {k: round(v, 1) if isinstance(v, float) else v for k, v in line.items()}
    print(orjson.dumps(rounded).decode(), flush=True)


def _report(at: str) -> None:
    _print(snapshot(at))
    gc.collect()
    allocator.trim()
    _print(snapshot(f"{at}, after gc and trim"))


def _around(module: ModuleType, name: str, before: str, after: str) -> None:
    """Report before and after the module's step. The publisher calls its steps through their
    modules (`bulk.update_bulk`, `site.update_site`), so replacing the attribute is enough."""
    step: Callable[..., Awaitable[Any]] = getattr(module, name)

    async def reported(*args: Any, **kwargs: Any) -> Any:
        _report(before)
        try:
            return await step(*args, **kwargs)
        finally:
            _report(after)

    setattr(module, name, reported)


def main(argv: Sequence[str]) -> int:
    from api import cli

    _print(snapshot("before the command, the publisher imported"))
    _around(bulk, "update_bulk", "release step ended", "bulk step ended")
    _around(site, "update_site", "site step begins", "site step ended")
    return cli.main(argv)


if __name__ == "__main__":  # a bulk builder imports this module too: it must not publish
    sys.exit(main(sys.argv[1:]))
