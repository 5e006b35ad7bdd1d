"""The publish lease: at most one worker writes a release at a time (D10).

A worker claims a release with a compare-and-set UPDATE of `claimed_by` / `claimed_until` (no
transaction held across I/O), renews it while it works (a heartbeat), and gives it back at the
end. A worker that dies keeps its lease until one of two things frees it:

- the lease runs out: a heartbeat renews it every `lease / 4`, so a dead worker on any host
  blocks its releases for one lease at most (`DEFAULT_LEASE`);
- a worker on the same host proves the holder dead at once: a worker's name carries its host,
  its process id and that process's start time, so a pid that is gone, or that now belongs to a
  process started at another time, is a dead holder (`kill -9`, an OOM kill, a power cut on a
  cron host). Workers on other hosts are never presumed dead; they must wait for the expiry.

The flip of a publish re-checks the lease in its transaction (`holds`), so a worker that lost its
lease while stalled cannot overwrite the work of the one that took it over.

A worker that fails gives its lease back expired but keeps its name in it (`release(...,
clean=False)`), as a dead one leaves it: the next claim sees that the last attempt did not finish
(`Claim.after_failure`) and the publisher then sweeps the release's folder for the objects that
attempt uploaded and no manifest names. A clean run needs no sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from storage import models

log = logging.getLogger(__name__)

#: Long enough for a heartbeat to be missed three times on a busy machine, short enough that a
#: release of a crashed worker on another host is free again within minutes.
DEFAULT_LEASE = timedelta(minutes=2)
#: How often a worker that waits for another's release looks again whether it is free.
WAIT_POLL = timedelta(seconds=0.5)
#: The advisory lock (pg_advisory_lock) that serialises the pointer objects' writers: any
#: 64-bit number no other user of the database takes; this is b"gongkai1" read as an integer.
POINTER_LOCK = 0x676F6E676B616931
#: the first half of a jurisdiction chain lock's two-part key (the jurisdiction id the second)
CHAIN_LOCK = 0x676B6331
#: `claimed_by` is 100 characters: the host part is cut to leave room for pid and start time.
_HOST_CHARS = 60


def worker_name(pid: int | None = None) -> str:
    """``host:pid:start`` for this process (or `pid`): unique per process on a host, even when
    the operating system reuses the pid later."""
    pid = os.getpid() if pid is None else pid
    host = socket.gethostname()[:_HOST_CHARS].replace(":", "-")
    return f"{host}:{pid}:{_start_ticks(pid) or '?'}"


def _start_ticks(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (field 22 of /proc/PID/stat), or
    None where there is no /proc or no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def is_dead_here(worker: str) -> bool:
    """Whether `worker` ran on this host and its process is gone. Any name this module did not
    make, or one from another host, is never presumed dead."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or parts[2] == "?":
        return False
    host, pid, started = parts
    if host != socket.gethostname()[:_HOST_CHARS].replace(":", "-"):
        return False
    return _start_ticks(int(pid)) != started


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim: taken or not (and then who holds it), and whether the last
    attempt on the release ended without giving the lease back cleanly (a crash, a failure)."""

    taken: bool
    holder: str = ""
    after_failure: bool = False


class Lease:
    """One worker's claims on releases, with `clock` injectable (decisions.md D3)."""

    def __init__(self, worker: str, clock: Callable[[], datetime], length: timedelta) -> None:
        self.worker = worker
        self.clock = clock
        self.length = length

    async def claim(self, release_id: int) -> Claim:
        """Take the lease of a release, from nobody, from an expired holder, or from a holder
        proven dead on this host."""
        now = self.clock()
        row = await models.Release.filter(id=release_id).first().values("claimed_by")
        before = str(row["claimed_by"] or "") if row else ""
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        if await self._take(Q(id=release_id) & free, now):
            return Claim(taken=True, after_failure=bool(before))
        row = await models.Release.filter(id=release_id).first().values("claimed_by")
        holder = str(row["claimed_by"] or "") if row else ""
        # Only the dead holder's name is compared: it can no longer renew, and a second worker
        # taking over at the same moment finds our name there instead.
        if (
            holder
            and is_dead_here(holder)
            and await self._take(Q(id=release_id, claimed_by=holder), now)
        ):
            log.warning("took over release %s from dead worker %s", release_id, holder)
            return Claim(taken=True, after_failure=True)
        return Claim(taken=False, holder=holder or "another worker")

    async def release(self, release_id: int, *, clean: bool = True) -> None:
        """Give the lease back: cleared after a clean run; after a failure expired at once but
        with our name left in it, so that the next claim knows to sweep up after us."""
        mine = models.Release.filter(id=release_id, claimed_by=self.worker)
        if clean:
            await mine.update(claimed_by=None, claimed_until=None)
        else:
            await mine.update(claimed_until=self.clock() - timedelta(seconds=1))

    async def holds(self, release_id: int, connection: BaseDBAsyncClient) -> bool:
        """Whether this worker still holds the release (read inside the caller's transaction)."""
        return await (
            models.Release.filter(id=release_id, claimed_by=self.worker)
            .using_db(connection)
            .exists()
        )

    @contextlib.asynccontextmanager
    async def heartbeat(self, release_id: int) -> AsyncIterator[None]:
        """Renew the lease every quarter of its length while the body runs."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.length.total_seconds() / 4)
                await models.Release.filter(id=release_id, claimed_by=self.worker).update(
                    claimed_until=self.clock() + self.length
                )

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _take(self, where: Q, now: datetime) -> bool:
        taken = await models.Release.filter(where).update(
            claimed_by=self.worker, claimed_until=now + self.length
        )
        return taken == 1


@contextlib.asynccontextmanager
async def pointer_lock() -> AsyncIterator[None]:
    """Hold the pointer objects' lock while the body runs: on PostgreSQL a session advisory lock
    on a connection of the pool, so workers in several processes (a cron line on each of
    several hosts) rewrite `catalog.json` and the site one after another, each from what the
    database says once it holds the lock. The last writer then read the database after every
    flip whose worker has written pointers, and no worker's older reading overwrites a newer
    one's. Elsewhere (SQLite, one process) nothing to take."""
    async with _advisory_lock(POINTER_LOCK):
        yield


@contextlib.asynccontextmanager
async def chain_lock(jurisdiction_id: int) -> AsyncIterator[None]:
    """Hold a jurisdiction's chain lock (issue 16): from reading the head of its manifest chain
    to the flip that makes the new manifest the head, so that two publishers (tasks of one
    process or processes on several hosts) never link two manifests to the same predecessor.
    The caller serialises its own tasks first (one connection per process waits here)."""
    async with _advisory_lock(CHAIN_LOCK, jurisdiction_id):
        yield


@contextlib.asynccontextmanager
async def _advisory_lock(*key: int) -> AsyncIterator[None]:
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        yield
        return
    arguments = ", ".join(f"${n}" for n in range(1, len(key) + 1))
    async with client.acquire_connection() as connection:
        await connection.execute(f"SELECT pg_advisory_lock({arguments})", *key)
        try:
            yield
        finally:
            # The pool's reset query unlocks everything too, should this statement not run.
            await connection.execute(f"SELECT pg_advisory_unlock({arguments})", *key)
