"""Parts of a publish run in a fresh process each (issue 18): a jurisdiction's releases, a
jurisdiction's site pages.

Why: a process keeps the memory it has freed. Python's allocator gives an arena of 1 MiB back
only once every object in it is freed, and what one step freed serves the next only for objects
of up to 512 bytes. Measured on the demo district: after the release step the live objects were
13 MiB above a fresh process's, but the arenas 72 MiB; the site step then grew beside them. Over
a city each jurisdiction's releases and pages left more behind, and the publish peaked at 1.8
times the district's. A part in a process of its own gives everything back when it exits, and
the publish peaks at its largest jurisdiction, whatever the number of jurisdictions.

A child is forked from the fork server the bulk builders use (`context`), which has the
publisher's code loaded: forking the publisher itself would copy whatever lock one of its
threads held. The child opens its own database connection and makes the parent's twin
(`Apart.twin`: the same store, licence, signing key and worker name, so the parent's leases
are its leases), runs the part, sends back what it returns or raises, and exits.

A child dies with the publisher (`die_with`): a thread of its own waits on a pidfd of the
publisher, which becomes readable when the publisher exits, and then kills the child. A
publisher killed with `kill -9` leaves no child writing beside the rerun. (Not the parent-death
signal: the child's parent is the fork server, which outlives the publisher while any child it
forked lives, since each holds the pipe whose end tells the server its client is gone.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import traceback
import types
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, TypeVar

from publishers import allocator
from storage import database

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext

    from publishers.releases import Publisher

T = TypeVar("T")
log = logging.getLogger(__name__)

#: What the fork server imports once, so that a child (or a bulk builder) starts with it loaded.
PRELOAD = ["publishers.releases"]


class ChildDied(RuntimeError):
    """A part's process ended without an answer: killed, or out of memory."""


@dataclass(frozen=True)
class Apart:
    """How a child process does a part of the publisher's work: the database it connects to,
    and `twin`, a picklable callable (a module-level function, or a `functools.partial` of one)
    that makes a publisher like the parent's for a worker name."""

    database_url: str
    twin: Callable[[str], Publisher]
    #: the peak resident memory of each part run so far, MiB (what a publish needs is the
    #: largest of these and the publisher's own)
    peaks: list[float] = field(default_factory=list, compare=False)

    @staticmethod
    def possible(database_url: str, store_url: str) -> bool:
        """Whether a child can reach what the parent does: not an in-memory database or store,
        which are the parent process's own."""
        return ":memory:" not in database_url and not store_url.startswith("memory:")


def context() -> ForkServerContext:
    """The fork server's context, with the publisher's code preloaded (each use sets the same
    list: the server reads it when it starts, on its first fork)."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(PRELOAD)
    return forkserver


async def run(apart: Apart, worker: str, work: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`await work(twin, *args)` in a new process (see the module docstring); what it returns,
    or what it raised, raised here with the child's traceback as a note. `work` and `args` are
    pickled: a coroutine function at the top of a module (not the main module's, which the
    child does not import: `_main_unnamed`) and plain data."""
    forkserver = context()
    receiving, sending = forkserver.Pipe(duplex=False)
    process = forkserver.Process(
        target=_child,
        args=(sending, os.getpid(), apart, worker, work, args),
        name=f"gongkai-{getattr(work, '__name__', 'part')}",
    )
    with _main_unnamed():
        process.start()
    sending.close()  # the child holds the only writing end: its death is an EOF here
    try:
        ok, value, peak = await asyncio.to_thread(_receive, receiving, process)
    finally:
        if process.is_alive():  # cancelled, or failed here: the part is not wanted any more
            process.kill()
        await asyncio.to_thread(process.join)
        receiving.close()
    # Operators (and the benchmarks) see what each part took: the publish peaks at the largest.
    apart.peaks.append(peak / 1024)
    log.info("%s: peak resident memory %.1f MiB", process.name, peak / 1024)
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


@contextlib.contextmanager
def _main_unnamed() -> Iterator[None]:
    """Start a process without naming this program's main module to it. Multiprocessing has a
    forked child import the parent's main module again, for what a pickle might name in it;
    a part needs nothing of it (`work` lives in a module of its own), and `gongkai`'s main
    module is the command line, which imports the whole API: 18 MiB and 0.4 s in every part
    (`import api.cli` after the `PRELOAD` the fork server has). While `start` builds what the
    child is told, the main module is a module with no file or name; the event loop's thread
    does nothing else then."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _receive(receiving: Connection, process: multiprocessing.process.BaseProcess) -> Any:
    try:
        return receiving.recv()
    except EOFError:
        process.join()
        raise ChildDied(
            f"{process.name} (pid {process.pid}) ended with exit code {process.exitcode} "
            "before it answered"
        ) from None


def _child(
    sending: Connection,
    publisher_pid: int,
    apart: Apart,
    worker: str,
    work: Callable[..., Awaitable[Any]],
    args: tuple[Any, ...],
) -> None:
    die_with(publisher_pid)
    allocator.limit_arenas()
    try:
        answer: tuple[bool, Any] = (True, asyncio.run(_connected(apart, worker, work, args)))
    except Exception as error:  # sent to the parent, which raises it
        error.add_note(f"in {multiprocessing.current_process().name}:\n{traceback.format_exc()}")
        answer = (False, error)
    peak = allocator.peak_resident_kib()
    try:
        sending.send((*answer, peak))
    except Exception as unpicklable:  # an error the pickle cannot carry: carry its text
        text = f"{answer[1]!r} (not sent whole: {unpicklable})"
        sending.send((False, RuntimeError(text), peak))
    sending.close()


async def _connected(
    apart: Apart, worker: str, work: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
) -> Any:
    async with database.connected(apart.database_url):
        return await work(apart.twin(worker), *args)


def die_with(publisher_pid: int) -> None:
    """Kill this process (SIGKILL, as the publisher may have had) once the publisher exits; at
    once if it is gone already. A pidfd, not polling: no delay, and no other process that
    reuses the publisher's pid is taken for it. Where there are no pidfds (not Linux, or
    before 5.3) nothing is watched."""
    try:
        publisher = os.pidfd_open(publisher_pid)
    except ProcessLookupError:
        os.kill(os.getpid(), signal.SIGKILL)
    except (AttributeError, OSError):
        return
    threading.Thread(target=_die_when_gone, args=(publisher,), name="die-with", daemon=True).start()


def _die_when_gone(publisher: int) -> None:
    select.select([publisher], [], [])  # readable once the process has exited
    os.kill(os.getpid(), signal.SIGKILL)
