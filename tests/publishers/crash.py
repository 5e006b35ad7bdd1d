"""A publisher process that kills itself with SIGKILL at a chosen point: the crash tests run it
as a real process (`python -m tests.publishers.crash …`) and then rerun the work in another.

Where it dies is given by ``--kill-at``:

- ``STEP`` — right after the withdrawal step of that name is logged the first time
  (publishers/withdrawal.py logs each step as it completes);
- ``STEP+N`` — at the N-th write (put or delete) to the store after that step, before it
  reaches the store: in the middle of the next step;
- ``+N`` — at the N-th write from the start;
- ``key:TEXT`` — at the first write of a key that contains TEXT (``key:manifest.`` dies after
  a publish's uploads, which run in parallel, have all completed).

SIGKILL is what ``kill -9`` sends: no `finally`, no lease given back, no buffer flushed.

With ``--apart`` the publish runs each jurisdiction's part in a process of its own
(publishers/apart.py), and a part has a trigger of its own (``STEP`` and ``key:`` only: writes
are counted per process). When a part's point comes, it prints ``part PID`` on stderr and
kills the publisher, not itself: the part must then die with it, as it would when an operator
kills the publisher.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial

from publishers.apart import Apart
from publishers.releases import Publisher
from storage import database
from storage.objects import ObjectInfo, ObjectStore, open_store
from tests.publishers import dataset
from tests.stores import PassThroughStore


class Trigger:
    """Counts steps and writes, and kills this process when the chosen point comes."""

    def __init__(self, spec: str, publisher: int | None = None) -> None:
        """`publisher`: in a part of the publish, the publisher's pid, which it kills."""
        self.publisher = publisher
        self.key = spec.removeprefix("key:") if spec.startswith("key:") else None
        if self.key is not None:
            spec = "+0"
        step, _, writes = spec.partition("+")
        self.step = step or None
        self.writes = int(writes) if writes else 0
        self.armed = self.step is None  # writes count once the step has passed
        self.count = 0

    def on_step(self, name: str) -> None:
        if self.armed or name != self.step:
            return
        if not self.writes:
            self.die()
        self.armed = True

    def on_write(self, key: str) -> None:
        if self.key is not None and self.key in key:
            self.die()
        if not self.armed:
            return
        self.count += 1
        if self.count == self.writes:
            self.die()

    def die(self) -> None:
        if self.publisher is None:
            os.kill(os.getpid(), signal.SIGKILL)
            return
        print(f"part {os.getpid()}", file=sys.stderr, flush=True)
        os.kill(self.publisher, signal.SIGKILL)
        while True:  # until the kernel kills this part (PR_SET_PDEATHSIG); a test waits for it
            time.sleep(1)


class StepHandler(logging.Handler):
    def __init__(self, trigger: Trigger) -> None:
        super().__init__()
        self.trigger = trigger

    def emit(self, record: logging.LogRecord) -> None:
        step = getattr(record, "step", None)
        if step is not None:
            self.trigger.on_step(str(step))


class KillingStore(PassThroughStore):
    """A real store whose writes pass the trigger first."""

    def __init__(self, store: ObjectStore, trigger: Trigger) -> None:
        super().__init__(store)
        self.trigger = trigger

    async def put(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        self.trigger.on_write(key)
        return await super().put(key, data, content_type, metadata)

    async def delete(self, key: str) -> None:
        self.trigger.on_write(key)
        await super().delete(key)

    async def purge_history(self) -> int:
        self.trigger.on_write("")
        return await super().purge_history()


def killing_publisher(
    store_url: str, kill_at: str, now: str, publisher: int | None, worker: str | None
) -> Publisher:
    """A publisher whose store writes and logged steps pass a trigger; `publisher`: the pid
    to kill, in a part of the publish (see the module docstring)."""
    trigger = Trigger(kill_at, publisher)
    logger = logging.getLogger("publishers")
    logger.setLevel(logging.INFO)
    logger.addHandler(StepHandler(trigger))
    store = KillingStore(open_store(store_url, "test", "test-secret"), trigger)
    clock = datetime.fromisoformat(now)
    return Publisher(store, clock=lambda: clock, worker=worker, signer=dataset.SIGNER)


async def run(args: argparse.Namespace) -> None:
    async with database.connected(args.database):
        # Its worker name is this process's unless `--worker` names one (a worker of another
        # host, which no one may presume dead before its lease runs out).
        publisher = killing_publisher(args.store, args.kill_at, args.now, None, args.worker)
        if args.apart:
            # By its module's name, not this main module's: a part does not import the main
            # module (publishers/apart.py), so it could not unpickle what is defined there.
            from tests.publishers.crash import killing_publisher as named

            twin = partial(named, args.store, args.kill_at, args.now, os.getpid())
            publisher.apart = Apart(args.database, twin)
        if args.command == "withdraw":
            await publisher.withdraw()
        else:
            await publisher.publish_many(args.release, note=args.note)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crash")
    parser.add_argument("command", choices=["withdraw", "publish"])
    parser.add_argument("--database", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--now", required=True, help="the publisher's clock, ISO 8601")
    parser.add_argument("--kill-at", required=True)
    parser.add_argument("--release", type=int, action="append", default=[])
    parser.add_argument("--note", help="the reason of a correction (DR-12)")
    parser.add_argument("--worker", help="the worker name of its leases (default: its own)")
    parser.add_argument("--apart", action="store_true", help="each part in a process of its own")
    asyncio.run(run(parser.parse_args(argv)))
    return 0  # the kill point never came


if __name__ == "__main__":
    raise SystemExit(main())
