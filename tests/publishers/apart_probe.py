"""What the tests of publishers/apart.py run in a part's process: module-level, so that the
part's process imports them by name (a test module would bring pytest along)."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime

from publishers.releases import Publisher, ReleaseRefused
from publishers.rules import Problem
from storage import models
from storage.objects import open_store
from tests.publishers import dataset


def twin(store_url: str, now: str, worker: str) -> Publisher:
    """A publisher like the tests' own, with their signing key and a fixed clock, publishing
    one release at a time: releases in flight together flip in whichever order they finish,
    and each manifest's chain names the one flipped before it."""
    clock = datetime.fromisoformat(now)
    store = open_store(store_url)
    return Publisher(store, worker=worker, clock=lambda: clock, signer=dataset.SIGNER, parallel=1)


async def where(publisher: Publisher) -> tuple[int, str, int]:
    """The part's pid, its publisher's worker name, and a count from its own connection."""
    return os.getpid(), publisher.worker, await models.Jurisdiction.all().count()


async def main_file(publisher: Publisher) -> str | None:
    """The file of the part's main module: the parent's, had the part imported it again."""
    return getattr(sys.modules["__main__"], "__file__", None)


async def refuse(publisher: Publisher, release_id: int) -> None:
    raise ReleaseRefused(release_id, [Problem("DR-1", "P-1", "目标缺失")])


async def die(publisher: Publisher) -> None:
    os.kill(os.getpid(), signal.SIGKILL)
