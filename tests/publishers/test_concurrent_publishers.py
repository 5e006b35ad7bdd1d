"""Several publisher processes at once against one PostgreSQL and one bucket (issue 18): a cron
line on each of several hosts. Real `gongkai publish` processes and a real kill -9.

- Three `gongkai publish --all` processes over thirteen releases, after a fourth was killed with
  SIGKILL holding the leases of the releases it had in flight: all three exit 0, each release
  has exactly one version, the store equals what one process publishing alone writes in the
  same order, byte for byte, and a rerun writes no object. (The same order, because each
  manifest links to the one made public before it, issue 16: the order is in the bytes, and
  three processes decide it among themselves.)
- A worker of another host killed mid-publish is never presumed dead: a run before its lease
  runs out (by the injected clock) leaves the release to it and exits 0, saying so; a run after
  the expiry takes it over and publishes exactly what an uninterrupted publish does.

Thirteen releases of six departments (tests/publishers/dataset.py) keep this within the suite's
budget. The same test over a demo — `town` (~1 min) or `district` (minutes) — by hand:

    GONGKAI_CONCURRENT_SCALE=district GONGKAI_TEST_DB=postgres .venv/bin/pytest \
        tests/publishers/test_concurrent_publishers.py -k three
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tortoise.functions import Count

from api.cli import history_time
from publishers.releases import Publisher, PublishRun
from publishers.sync import SyncStats
from publishers.verify import verify
from storage import database, models
from storage.objects import open_store
from tests.conftest import BACKEND, Databases
from tests.publishers import dataset
from tests.publishers.test_releases import NOW

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://open.example.gov.cn/open"
#: A worker on another host: alive for all this host can tell, until its lease runs out.
ELSEWHERE = "publisher-2.example:4242:1"

postgres_only = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="SKIPPED: several publisher processes share one PostgreSQL (SQLite is one process's)",
)


@pytest.fixture(scope="module")
async def town(databases: Databases, migrated_template: str) -> AsyncIterator[str]:
    """A database of six departments of two projects (tests/publishers/dataset.py: thirteen
    releases, more than three processes keep in flight) as a template for this module's copies;
    GONGKAI_CONCURRENT_SCALE=town or district loads that demo instead."""
    from api.demo import generate

    url = await databases.copy(migrated_template)
    async with database.connected(url):
        scale = os.environ.get("GONGKAI_CONCURRENT_SCALE")
        if scale:
            await generate(scale, seed=1)
        else:
            await dataset.build(dataset.Plan(departments=6, projects=2, policy=True))
    yield url.rsplit("/", 1)[-1]
    await databases.drop(url)


#: Every run publishes with this date (DR-6: after every approval, before now), so that the
#: stores compare byte for byte; the demo's own back-filled history when a demo is loaded.
AS_OF = ["--as-of", "history" if os.environ.get("GONGKAI_CONCURRENT_SCALE") else NOW.isoformat()]


def gongkai(database_url: str, store: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")},
        "PYTHONPATH": str(ROOT),
        "GONGKAI_DATABASE_URL": database_url,
        "GONGKAI_STORE_URL": f"file://{store}",
        "GONGKAI_PUBLIC_BASE_URL": BASE_URL,
        "COLUMNS": "200",  # rich wraps its lines at the terminal's width
        # the tests' one key (tests/conftest.py), which tests/publishers/crash.py signs with too
        "GONGKAI_SIGNING_KEY_FILE": os.environ["GONGKAI_SIGNING_KEY_FILE"],
    }
    command = [sys.executable, "-m", "api.cli", *args]
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finished(processes: Sequence[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    outputs = [p.communicate(timeout=900)[0] for p in processes]
    return [(p.returncode, output) for p, output in zip(processes, outputs, strict=True)]


def killed(command: list[str]) -> None:
    """Run tests/publishers/crash.py, which SIGKILLs itself at its kill point."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def written(output: str) -> int:
    found = re.search(r"; (\d+) objects \(", output)
    assert found, output
    return int(found.group(1))


def files(root: Path) -> dict[str, bytes]:
    """Every object of a folder store, by key (its metadata folder and nothing else aside)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not str(path.relative_to(root)).startswith(".")
    }


async def publish_alone(database_url: str, folder: Path, order: Sequence[int]) -> int:
    """What one process publishes, as `gongkai publish --all` with AS_OF would, releasing in
    `order` (the order in which the concurrent processes made the releases public: the manifest
    chain records it, issue 16). Returns the objects written."""
    async with database.connected(database_url):
        releases = {r.id: r for r in await models.Release.all().order_by("id")}

        def when(release: models.Release) -> datetime:
            return history_time(release) if AS_OF[1] == "history" else NOW

        alone = Publisher(
            open_store(f"file://{folder}"), worker="alone", base_url=BASE_URL, signer=dataset.SIGNER
        )
        stats = SyncStats()
        for release_id in order:
            result = await alone.publish(
                release_id, as_of=when(releases[release_id]), pointers=False
            )
            stats.add(result.stats)
        rest = [i for i in releases if i not in set(order)]  # exempt, or refused alike
        stats.add((await alone.publish_many(rest, as_of=when)).stats)
        await alone.write_pointers(stats)  # (rewrites nothing if the batch wrote them)
    return stats.written


@postgres_only
async def test_three_publishers_at_once_after_a_fourth_was_killed(
    databases: Databases, town: str, tmp_path: Path
) -> None:
    await database.close()
    reference_url, url = await databases.copy(town), await databases.copy(town)
    try:
        # kill -9 in the middle of its first releases' uploads, before any flip: it leaves the
        # leases of the releases it had in flight, and objects no manifest names.
        async with database.connected(url):
            ids = [r.id for r in await models.Release.all().order_by("id")]
        crash = [sys.executable, "-m", "tests.publishers.crash", "publish", "--database", url]
        crash += ["--store", f"file://{tmp_path / 'shared'}", "--now", NOW.isoformat()]
        crash += ["--kill-at", "+3", *[f"--release={i}" for i in ids]]
        killed(crash)
        async with database.connected(url):
            assert await models.Release.filter(claimed_by__isnull=False).count() >= 1

        runs = [gongkai(url, tmp_path / "shared", "publish", "--all", *AS_OF) for _ in range(3)]
        outcomes = finished(runs)
        assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
        # The killed worker's first writes were the bucket's key index and key, which stay (a
        # publish that finds them writes them not again); everything else is written again.
        key_objects = len(list((tmp_path / "shared" / "keys").iterdir()))
        assert key_objects == 2

        async with database.connected(url):
            versions = (
                await models.ReleaseVersion.annotate(n=Count("id"))
                .group_by("release_id")
                .values_list("release_id", "n")
            )
            published = await models.Release.filter(current_version__gt=0).count()
            assert published == len(versions) > 0
            assert {n for _, n in versions} == {1}  # exactly one version each
            assert not await models.Release.filter(claimed_by__isnull=False).exists()
            flipped = (
                await models.ReleaseVersion.all()
                .order_by("id")
                .values_list("release_id", flat=True)
            )
        alone = await publish_alone(reference_url, tmp_path / "alone", [int(i) for i in flipped])
        assert sum(written(output) for _, output in outcomes) + key_objects >= alone
        assert files(tmp_path / "shared") == files(tmp_path / "alone")
        # Three processes made one chain per jurisdiction, each link to one predecessor
        # (the chain lock, issue 16).
        report = await verify(open_store(f"file://{tmp_path / 'shared'}"))
        assert report.ok, report.failures[:5]

        [(code, again)] = finished([gongkai(url, tmp_path / "shared", "publish", "--all", *AS_OF)])
        assert code == 0 and written(again) == 0, again
    finally:
        for made in (reference_url, url):
            databases.drop_later(made)


async def test_a_release_held_by_a_live_worker_elsewhere_is_left_to_it(
    databases: Databases, migrated_template: str, db: str, tmp_path: Path
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    budget = built.releases[0]
    store_url = f"file://{tmp_path / 'store'}"
    crash = [sys.executable, "-m", "tests.publishers.crash", "publish", "--database", db]
    crash += ["--store", store_url, "--now", NOW.isoformat(), "--kill-at", "key:manifest."]
    crash += ["--release", str(budget.id), "--worker", ELSEWHERE]
    killed(crash)
    store = open_store(store_url)
    orphans = set(await store.keys())
    assert orphans  # its uploads, which no manifest names

    # Within its lease (two minutes from NOW by its clock), it is alive for all we know.
    within = NOW + timedelta(minutes=2) - timedelta(seconds=1)
    runs: list[PublishRun] = []
    waiting = Publisher(
        store,
        worker="here",
        clock=lambda: within,
        wait=timedelta(0),
        observer=runs.append,
        signer=dataset.SIGNER,
    )
    batch = await waiting.publish_many([budget.id])
    assert (batch.left, batch.failures, batch.results) == ([(budget.id, ELSEWHERE)], [], [])
    assert runs == []  # not a refused run of this worker in its metrics either
    assert set(await store.keys()) == orphans  # nothing written, nothing swept

    # The command line (on the real clock) says so and exits 0: not this run's failure.
    await models.Release.filter(id=budget.id).update(claimed_until=NOW.replace(year=2999))
    [(code, output)] = finished(
        [gongkai(db, tmp_path / "store", "publish", "--release", str(budget.id), "--wait", "0")]
    )
    assert code == 0, output
    assert f"release {budget.id} left to {ELSEWHERE}" in output
    assert "1 left to another live worker" in output
    await models.Release.filter(id=budget.id).update(
        claimed_until=NOW + timedelta(minutes=2)  # as the dead worker left it
    )

    # Once the lease has run out, the next worker takes the release over and sweeps.
    expired = NOW + timedelta(minutes=2, seconds=1)
    later = Publisher(
        store, worker="here", clock=lambda: expired, wait=timedelta(0), signer=dataset.SIGNER
    )
    batch = await later.publish_many([budget.id])
    assert [(r.outcome, r.version) for r in batch.results] == [("published", 1)]
    assert batch.left == [] and batch.failures == []

    await database.close()
    reference = open_store("memory://")
    reference_url = await databases.copy(migrated_template)
    try:
        async with database.connected(reference_url):
            rebuilt = await dataset.build(dataset.Plan(departments=1, projects=2))
            alone = Publisher(
                reference, worker="reference", clock=lambda: expired, signer=dataset.SIGNER
            )
            await alone.publish(rebuilt.releases[0].id)
        assert {k: await store.get(k) for k in await store.keys()} == {
            k: await reference.get(k) for k in await reference.keys()
        }
    finally:
        databases.drop_later(reference_url)
        await database.init(db, global_fallback=True)
