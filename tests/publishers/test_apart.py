"""A publish in parts (publishers/apart.py): each jurisdiction's releases and each
jurisdiction's site pages in a process of its own, which answers what the work returned or
raised, and dies with the publisher. The kill -9 tests of a publish in parts are in
test_publish_crash.py."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from api.publishing import make_publisher
from api.settings import load
from bench.scale import largest_part, own_peak
from publishers import apart, signing
from publishers.apart import Apart, ChildDied
from publishers.releases import (
    Claimed,
    DateRefused,
    Publisher,
    PublishRun,
    ReleaseError,
    ReleaseRefused,
)
from publishers.rules import Problem
from storage import database, models
from storage.objects import open_store
from tests.conftest import Databases
from tests.publishers import apart_probe, dataset
from tests.publishers.test_obligations import gongkai
from tests.publishers.test_publish_crash import folder_entries
from tests.publishers.test_releases import NOW
from tests.publishers.test_withdrawal_crash import (
    ROOT,
    Store,
    assert_nothing_left,
    published_then_filed,
)

NOW_TEXT = NOW.isoformat()


def parts_of(db: str, store_url: str, now: str = NOW_TEXT) -> Apart:
    """Parts whose publisher is `apart_probe.twin`, with the parent's clock."""
    return Apart(db, partial(apart_probe.twin, store_url, now))


async def test_a_part_runs_in_a_process_of_its_own_on_the_same_database_and_worker(
    db: str, tmp_path: Path
) -> None:
    await dataset.build(dataset.Plan(departments=1, projects=1))
    pid, worker, jurisdictions = await apart.run(
        parts_of(db, f"file://{tmp_path}"), "worker-7", apart_probe.where
    )
    assert pid != os.getpid()
    assert (worker, jurisdictions) == ("worker-7", 1)


async def test_a_part_does_not_import_the_parents_main_module(db: str, tmp_path: Path) -> None:
    """Started from pytest, a part would run pytest's script again as its main module; started
    from `gongkai`, the whole command line and API (`apart._main_unnamed`)."""
    ours = sys.modules["__main__"].__file__
    assert ours is not None
    parts = parts_of(db, f"file://{tmp_path}")
    assert await apart.run(parts, "w", apart_probe.main_file) is None
    assert sys.modules["__main__"].__file__ == ours  # this process's is as it was


async def test_a_refusal_in_a_part_is_raised_whole_saying_where(db: str, tmp_path: Path) -> None:
    with pytest.raises(ReleaseRefused) as refused:
        await apart.run(parts_of(db, f"file://{tmp_path}"), "w", apart_probe.refuse, 41)
    assert refused.value.problems == [Problem("DR-1", "P-1", "目标缺失")]
    assert "release 41 fails its check" in str(refused.value)
    notes = "".join(refused.value.__notes__)
    assert "in gongkai-refuse" in notes and "apart_probe.py" in notes


async def test_a_part_that_is_killed_is_an_error_not_a_wait(db: str, tmp_path: Path) -> None:
    with pytest.raises(ChildDied, match=r"gongkai-die .* exit code -9 before it answered"):
        await apart.run(parts_of(db, f"file://{tmp_path}"), "w", apart_probe.die)


@pytest.mark.parametrize(
    "error",
    [
        ReleaseError("no release with id 9"),
        ReleaseRefused(3, [Problem("DR-2", "subject#1", "缺少指标")]),
        Claimed(5, "host-b:77"),
        DateRefused("release 6: 2020-01-01 is before its approval"),
    ],
)
def test_a_release_error_crosses_processes_whole(error: ReleaseError) -> None:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert (copy.args, copy.__dict__) == (error.args, error.__dict__)


def watcher(publisher_pid: int) -> subprocess.Popen[bytes]:
    """A process that asks to die with `publisher_pid`, then sleeps."""
    code = f"from publishers.apart import die_with; import time; die_with({publisher_pid}); "
    code += "print('watching', flush=True); time.sleep(600)"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE)  # noqa: S603


def test_a_part_dies_when_its_publisher_dies() -> None:
    with subprocess.Popen(["sleep", "600"]) as publisher, watcher(publisher.pid) as part:  # noqa: S607
        try:
            assert part.stdout is not None and part.stdout.readline() == b"watching\n"
            publisher.kill()
            publisher.wait()
            assert part.wait(timeout=120) == -9
        finally:
            publisher.kill()
            part.kill()


def test_a_part_whose_publisher_is_gone_already_dies_at_once() -> None:
    with subprocess.Popen(["true"]) as gone:  # noqa: S607
        gone.wait()
    with watcher(gone.pid) as part:
        try:
            assert part.wait(timeout=120) == -9
            assert part.stdout is not None and part.stdout.read() == b""  # never got to watch
        finally:
            part.kill()


@pytest.mark.parametrize(
    ("database_url", "store_url", "possible"),
    [
        ("sqlite://var/x.sqlite3", "file://var/store", True),
        ("postgres://u@h:5432/g", "s3://minio:9000/gongkai", True),
        ("sqlite://:memory:", "file://var/store", False),
        ("sqlite://var/x.sqlite3", "memory://", False),
    ],
)
def test_parts_need_what_another_process_can_reach(
    database_url: str, store_url: str, possible: bool
) -> None:
    assert Apart.possible(database_url, store_url) is possible
    settings = load({"GONGKAI_DATABASE_URL": database_url, "GONGKAI_STORE_URL": store_url})
    assert (make_publisher(settings, apart=True).apart is not None) is possible
    assert make_publisher(settings).apart is None  # the API's publisher works in its process


@pytest.mark.parametrize("wait", [timedelta(0), timedelta(minutes=5)])
def test_a_part_waits_for_another_workers_release_as_its_publisher_would(
    wait: timedelta, tmp_path: Path
) -> None:
    """`gongkai publish --wait 0` leaves a release another live worker holds at once, in its
    parts too: a part that waited the default two minutes made a cron line on a second host
    take minutes for nothing."""
    settings = load(
        {
            "GONGKAI_DATABASE_URL": f"sqlite://{tmp_path / 'x.sqlite3'}",
            "GONGKAI_STORE_URL": f"file://{tmp_path / 'store'}",
            "GONGKAI_SIGNING_KEY_FILE": os.environ["GONGKAI_SIGNING_KEY_FILE"],
        }
    )
    parts = make_publisher(settings, wait=wait, apart=True, worker="cron-b").apart
    assert parts is not None
    twin = parts.twin("cron-b")
    assert (twin.wait, twin.worker) == (wait, "cron-b")


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


async def publish_two_jurisdictions(
    databases: Databases, template: str, db: str, store: Path, *, parts: bool
) -> tuple[dict[str, bytes], list[tuple[int, int, str, int]], list[PublishRun], set[str]]:
    """Two jurisdictions of two departments each, built in a new database and published in one
    batch: the store's files, the versions and snapshot count of each release, what the
    observer was told, and the store's file and folder names."""
    await database.close()
    url = await databases.copy(template)
    store_url = f"file://{store}"
    runs: list[PublishRun] = []
    try:
        async with database.connected(url):
            ids = []
            for code in ("990101", "990102"):
                plan = dataset.Plan(departments=2, projects=1, jurisdiction_code=code)
                ids += [r.id for r in (await dataset.build(plan)).releases]
            publisher = apart_probe.twin(store_url, NOW_TEXT, "batch")
            publisher.observer = runs.append
            publisher.apart = parts_of(url, store_url) if parts else None
            batch = await publisher.publish_many(ids)
            assert batch.failures == [] and len(batch.results) == len(ids)
            versions = await models.ReleaseVersion.all().order_by("release_id", "number")
            rows = [
                (
                    v.release_id,
                    v.number,
                    v.manifest_sha256,
                    await models.DisclosureVersion.filter(
                        release_id=v.release_id, release_version=v.number
                    ).count(),
                )
                for v in versions
            ]
        return files_under(store), rows, runs, folder_entries(store)
    finally:
        await databases.drop(url)
        await database.init(db, global_fallback=True)


async def test_a_batch_in_parts_publishes_what_one_process_publishes_byte_for_byte(
    databases: Databases,
    migrated_template: str,
    db: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    whole = await publish_two_jurisdictions(
        databases, migrated_template, db, tmp_path / "whole", parts=False
    )
    with caplog.at_level(logging.INFO, logger="publishers.apart"):
        in_parts = await publish_two_jurisdictions(
            databases, migrated_template, db, tmp_path / "parts", parts=True
        )
    files, rows, runs, entries = in_parts
    assert files == whole[0] and rows == whole[1] and entries == whole[3]
    assert {name for name in files if "site/projects/" in name}  # the site parts wrote pages
    assert all(count for *_, count in rows)  # and every version has its snapshot rows
    # The observer was told of each publish, as it is in one process.
    assert sorted((r.release_id, r.outcome) for r in runs) == sorted(
        (r.release_id, r.outcome) for r in whole[2]
    )
    # Each jurisdiction's releases, then each jurisdiction's pages, then the portal's, in a
    # process of its own.
    parts = [r.getMessage().split(":")[0] for r in caplog.records if "peak resident" in r.msg]
    assert parts == [
        *["gongkai-_place_apart"] * 2,
        *["gongkai-_part_apart"] * 2,
        "gongkai-_portal_apart",
    ]


async def test_a_command_line_publish_runs_in_parts(db: str, tmp_path: Path) -> None:
    """`gongkai publish` asks for parts; it says how large the largest was."""
    await dataset.build(dataset.Plan(departments=1, projects=1))
    await database.close()
    try:
        done = await gongkai(db, tmp_path / "store", "publish", "--all", "--wait", "0")
    finally:
        await database.init(db, global_fallback=True)
    assert "releases done" in done.output, done.output
    assert "MiB in its largest part (of 3:" in done.output, done.output  # releases, pages, portal
    assert (largest_part(done.output) or 0) > 0  # as `make bench-scale` reads it
    assert own_peak(done.output, -1.0) > 0
    assert not await models.Release.filter(current_version=0).exists()


async def test_a_withdrawal_done_in_a_part_is_closed_by_the_publisher(
    db: str, tmp_path: Path
) -> None:
    """A filing added after publication, enforced by a publish in parts: the part republishes
    the release without the filed project; the publisher writes the pointers, purges the
    store's history and only then closes the withdrawal. Nothing of the project is left."""
    url = f"file://{tmp_path / 'store'}"
    local = Store(url, open_store(url), tmp_path / "store")
    markers = await published_then_filed(local, whole=False)
    ids = [r.id for r in await models.Release.all()]
    later = (NOW + timedelta(days=2)).isoformat()
    publisher = apart_probe.twin(local.url, later, "parts")
    publisher.apart = parts_of(db, local.url, later)
    batch = await publisher.publish_many(ids, note="依据备案撤回")
    assert batch.failures == []
    assert {r.outcome for r in batch.results} == {"published", "unchanged"}
    assert await models.Withdrawal.filter(finished_at__isnull=True).count() == 0
    # One for each release that held the project: its department's two and the finance
    # bureau's annual statement.
    assert await models.Withdrawal.all().count() == 3
    await assert_nothing_left(local, markers)


async def test_a_withdrawal_in_one_process_lets_go_of_each_jurisdictions_facts(
    db: str, tmp_path: Path
) -> None:
    """Without parts (the API's publisher), `withdraw` selects every published release again a
    jurisdiction at a time and lets go of each one's facts after it, as `publish_many` does:
    holding them all was a city's every district at once."""
    url = f"file://{tmp_path / 'store'}"
    local = Store(url, open_store(url), tmp_path / "store")
    markers = await published_then_filed(local, whole=False)
    later = NOW + timedelta(days=2)
    publisher = Publisher(local.store, worker="one", clock=lambda: later, signer=dataset.SIGNER)
    report = await publisher.withdraw()
    assert (len(report.results), report.blocked) == (3, [])
    assert publisher.selector.held() == set()
    assert await models.Withdrawal.filter(finished_at__isnull=True).count() == 0
    await assert_nothing_left(local, markers)


async def test_a_command_line_withdrawal_rewrites_the_site_in_parts(
    db: str, tmp_path: Path
) -> None:
    """`gongkai withdraw` republishes each jurisdiction's releases and renders its pages in a
    process of its own, as `gongkai publish` does: the filed project is gone from the store
    and the withdrawals are closed."""
    url = f"file://{tmp_path / 'store'}"
    local = Store(url, open_store(url), tmp_path / "store")
    markers = await published_then_filed(local, whole=False)
    key = tmp_path / "key.pem"
    signing.write_key_file(dataset.SIGNER, key)  # the key the bucket was signed with
    await database.close()
    try:
        signed = {"GONGKAI_SIGNING_KEY_FILE": str(key)}
        done = await gongkai(db, tmp_path / "store", "withdraw", env=signed)
    finally:
        await database.init(db, global_fallback=True)
    assert done.code == 0, done.output
    # the jurisdiction's releases, its pages, the portal's
    assert "MiB in its largest part (of 3:" in done.output, done.output
    assert await models.Withdrawal.filter(finished_at__isnull=True).count() == 0
    await assert_nothing_left(local, markers)
