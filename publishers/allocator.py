"""The C allocator of a `gongkai` process: few malloc arenas, and free memory handed back
(issue 18).

glibc's malloc gives each thread that allocates while another holds an arena an arena of its
own, up to eight per core, and memory freed in one arena is never reused by another. The
publisher renders and uploads in worker threads (`asyncio.to_thread`), so the memory one step
(the releases, in the event loop's thread) had freed stayed with that step while the next (the
site, in the workers) took more; a process then keeps the sum of the steps' peaks. Measured on
three city jurisdictions (their releases selected, then their site rendered, in one process):
514 MiB at the peak with glibc's default, 416 with two arenas, 398 with one. Python's own
allocator takes only objects of up to 512 bytes; every larger string, list and page goes
through malloc. Two arenas, as MALLOC_ARENA_MAX=2 would set: threads rarely allocate at once
under the GIL, so a second one is enough.

Memory freed inside a heap, below memory still in use, stays with the process until
`malloc_trim` gives its free pages back to the system. The site step frees a group of
departments' rows and pages between groups: with a trim after each (`site.collect`), a site
step over three city jurisdictions peaked at 288–300 MiB instead of 307–340.
"""

from __future__ import annotations

import ctypes
import os
import resource
from typing import Any

#: `mallopt`'s parameter for the arena limit, from glibc's <malloc.h>.
M_ARENA_MAX = -8
ARENAS = 2
ENVIRONMENT = "MALLOC_ARENA_MAX"


def _glibc(name: str, *argtypes: Any) -> Any | None:
    """A function of the C library the interpreter is linked with, or None where it has none
    of that name (musl, macOS: not glibc)."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None
    function.argtypes = argtypes
    return function


def limit_arenas(count: int = ARENAS) -> bool:
    """Limit this process's malloc arenas to `count`, and those of the processes it starts
    (the environment variable, which glibc reads at their start). An explicit MALLOC_ARENA_MAX
    is left as it is. Returns whether the limit was set here: not where the C library is not
    glibc (musl, macOS), which has no `mallopt`. Call it first, before threads are started:
    arenas made before stay."""
    if ENVIRONMENT in os.environ:
        return False
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    if mallopt is None or not mallopt(M_ARENA_MAX, count):
        return False
    os.environ[ENVIRONMENT] = str(count)
    return True


def trim() -> bool:
    """Give the free pages of every malloc arena back to the system (`malloc_trim(0)`); the
    site step over three city jurisdictions took no longer with a trim after each group (78.8 s
    against 79.6 s). Returns whether any memory was given back; False where the C library is
    not glibc."""
    malloc_trim = _glibc("malloc_trim", ctypes.c_size_t)
    return malloc_trim is not None and bool(malloc_trim(0))


def peak_resident_kib() -> int:
    """The peak resident memory of this process since it started its program, KiB: the kernel's
    high-water mark of its memory (`VmHWM`). Not `getrusage`'s `ru_maxrss`, which a program
    inherits across exec: a `gongkai publish` started by a process of 200 MiB (a test run,
    a benchmark) reported 200 MiB of its own whatever it used. Where there is no /proc (not
    Linux), `ru_maxrss` it is."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
