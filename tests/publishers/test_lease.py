"""The publish lease (publishers/lease.py): who may take a release over, and when."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import orjson
import pytest

from publishers.lease import Claim, Lease, is_dead_here, worker_name
from publishers.releases import LeaseLost, Publisher
from storage import models
from storage.objects import ObjectInfo, StoreError
from storage.objects.memory import MemoryObjectStore
from tests.publishers import dataset
from tests.publishers.test_releases import NOW

HOST = socket.gethostname()


def test_this_process_is_alive_and_a_killed_one_is_dead() -> None:
    assert not is_dead_here(worker_name())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        name = worker_name(child.pid)
        assert not is_dead_here(name)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert is_dead_here(name)


def test_a_reused_pid_is_a_dead_holder() -> None:
    host, pid, started = worker_name().rsplit(":", 2)
    assert is_dead_here(f"{host}:{pid}:{int(started) + 1}")  # same pid, another start


@pytest.mark.parametrize(
    "name",
    [f"another-{HOST}:1:1", "test", f"{HOST}:x:1", f"{HOST}:999999999:?", "elsewhere:1:1", ""],
)
def test_no_other_worker_is_presumed_dead(name: str) -> None:
    assert not is_dead_here(name)


async def release_id() -> int:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    return built.releases[0].id


async def test_a_live_lease_is_refused_until_it_runs_out(db: str) -> None:
    rid = await release_id()
    first = Lease("elsewhere:1:1", lambda: NOW, timedelta(minutes=2))
    assert await first.claim(rid) == Claim(taken=True)
    at_expiry = Lease("w2", lambda: NOW + timedelta(minutes=2), timedelta(minutes=2))
    # claimed_until is not yet past
    assert await at_expiry.claim(rid) == Claim(taken=False, holder="elsewhere:1:1")
    after = Lease("w2", lambda: NOW + timedelta(minutes=2, seconds=1), timedelta(minutes=2))
    # The holder never gave it back: whatever it uploaded may need sweeping.
    assert await after.claim(rid) == Claim(taken=True, after_failure=True)


async def test_a_dead_holder_on_this_host_is_taken_over_at_once(db: str) -> None:
    rid = await release_id()
    dead = worker_name().rsplit(":", 1)[0] + ":1"  # our pid, but a start time that is not ours
    await models.Release.filter(id=rid).update(
        claimed_by=dead, claimed_until=NOW + timedelta(hours=1)
    )
    claim = await Lease("w2", lambda: NOW, timedelta(minutes=2)).claim(rid)
    assert claim == Claim(taken=True, after_failure=True)
    assert (await models.Release.get(id=rid)).claimed_by == "w2"


async def test_the_heartbeat_renews_the_lease_while_the_work_runs(db: str) -> None:
    rid = await release_id()
    ticks = iter(NOW + timedelta(seconds=n) for n in range(10_000))
    lease = Lease("w", lambda: next(ticks), timedelta(seconds=0.04))
    assert (await lease.claim(rid)).taken
    first = (await models.Release.get(id=rid)).claimed_until
    async with lease.heartbeat(rid):
        for _ in range(3000):  # waits for an event, not for a time: at most 30 s on any machine
            await asyncio.sleep(0.01)
            if (await models.Release.get(id=rid)).claimed_until != first:
                break
    renewed = (await models.Release.get(id=rid)).claimed_until
    assert renewed is not None and first is not None and renewed > first
    await lease.release(rid)
    assert (await models.Release.get(id=rid)).claimed_by is None


class ThievingStore(MemoryObjectStore):
    """Another worker takes the release over while this one writes its manifest."""

    def __init__(self, release_id: int) -> None:
        super().__init__()
        self.release_id = release_id

    async def put(self, key: str, data: bytes, content_type: str, metadata=None) -> ObjectInfo:  # type: ignore[no-untyped-def]
        if "manifest." in key:
            await models.Release.filter(id=self.release_id).update(claimed_by="thief")
        return await super().put(key, data, content_type, metadata)


async def test_a_worker_that_lost_its_lease_flips_nothing(db: str) -> None:
    rid = await release_id()
    store = ThievingStore(rid)
    with pytest.raises(LeaseLost):
        await Publisher(store, worker="slow", clock=lambda: NOW).publish(rid)
    release = await models.Release.get(id=rid)
    assert (release.current_version, release.claimed_by) == (0, "thief")
    assert not await models.Disclosure.filter(release_id=rid).exists()


async def test_a_lease_given_back_after_a_failure_is_free_and_says_so(db: str) -> None:
    rid = await release_id()
    lease = Lease("w", lambda: NOW, timedelta(minutes=2))
    assert (await lease.claim(rid)).taken
    await lease.release(rid, clean=False)
    assert await lease.claim(rid) == Claim(taken=True, after_failure=True)
    await lease.release(rid)
    assert await lease.claim(rid) == Claim(taken=True, after_failure=False)


class FailingUploads(MemoryObjectStore):
    """The store goes away after the first upload of a publish."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    async def put(self, key: str, data: bytes, content_type: str, metadata=None) -> ObjectInfo:  # type: ignore[no-untyped-def]
        info = await super().put(key, data, content_type, metadata)
        if self.failing and "/data/" in key:
            raise StoreError("the store went away")
        return info


async def test_a_failed_publish_leaves_no_orphan_once_rerun(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    rid = built.releases[0].id
    store = FailingUploads()
    await Publisher(store, worker="w", clock=lambda: NOW).publish(rid)
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（更正）")
    store.failing = True
    with pytest.raises(StoreError):
        await Publisher(store, worker="w", clock=lambda: NOW).publish(rid, note="更正项目名称")
    folder = f"releases/{built.jurisdiction.code}/{dataset.YEAR}/budget/PUBD0X/"
    before = set(await store.keys(folder))
    # Corrected again before the rerun: what the failed attempt uploaded is named by nothing.
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（再更正）")
    store.failing = False
    result = await Publisher(store, worker="w2", clock=lambda: NOW).publish(
        rid, note="更正项目名称"
    )
    assert (result.outcome, result.version) == ("published", 2)
    named: set[str] = set()
    for version in await models.ReleaseVersion.filter(release_id=rid):
        named.add(version.manifest_key)
        named |= {e["key"] for e in orjson.loads(await store.get(version.manifest_key))["objects"]}
    assert before - named  # the failed attempt had left an orphan …
    assert set(await store.keys(folder)) == named  # … which the rerun swept
