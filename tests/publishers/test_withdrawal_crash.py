"""Withdrawal survives kill -9 at every step (D12): a real publisher process is killed, a rerun
finishes the job, and then nothing anywhere in the store — no object, no object version, no key,
no folder name, no manifest entry — holds or names the withdrawn record, and the public API
answers as if it had never been published.

The killed process is `tests/publishers/crash.py`; it dies by SIGKILL at a named step of
publishers/withdrawal.py or at the N-th store write after it. The local folder and S3 (moto's
server over HTTP, versioning on) are both scanned in full.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

from publishers.records import subject_key
from publishers.releases import Publisher
from publishers.verify import verify
from schema.context import Context
from schema.public.schema import build
from storage import models, records
from storage.enums import FilingReason, FilingScope, ReleaseStatus
from storage.objects import ObjectStore, open_store
from storage.objects.s3 import S3ObjectStore
from tests.conftest import FOLDER_KILL_MATRIX, S3_KILL_MATRIX
from tests.publishers import dataset
from tests.publishers.test_releases import NOW, decoded, snapshot_leaks

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = ("test", "test-secret")
#: The filed project's amounts: unique in the data set, so that a scan for them means something.
FILED_AMOUNTS = {"initial": "7654321.09", "full_year": "7654321.09", "executed": "7123456.78"}
PUBLIC_SCHEMA = build()
MANIFEST = re.compile(r"/manifest\.v\d+\.json$")


@dataclass
class Store:
    url: str
    store: ObjectStore
    folder: Path | None  # the local store's root


@pytest.fixture
def local(tmp_path: Path) -> Store:
    url = f"file://{tmp_path / 'store'}"
    return Store(url, open_store(url), tmp_path / "store")


async def versioned_bucket(endpoint: str) -> Store:
    url = f"s3+http://{endpoint}/gk-crash-{uuid.uuid4().hex[:12]}"
    store = open_store(url, *CREDENTIALS)
    assert isinstance(store, S3ObjectStore)
    await store.ensure_bucket()
    store.client.set_bucket_versioning(store.bucket, VersioningConfig(ENABLED))
    return Store(url, store, None)


async def published_then_filed(target: Store, *, whole: bool) -> set[str]:
    """Two departments of two projects, published, then corrected once (a second version, and
    on S3 a second version of every rewritten page); then project PUBP0-0Q (or, with `whole`,
    department PUBD0X) is filed. Returns the markers of what the filing withdraws: codes,
    names, texts, the subject's key, its amounts, the sha256 of every object that held any of
    them and the key of every data object and report file among them."""
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    amounts = {
        f"{column}_{part}": Decimal(value)
        for column, value in FILED_AMOUNTS.items()
        for part in ("total", "appropriation")
    }
    await models.Subject.filter(code="PUBP0-0Q").update(**amounts)
    ids = [r.id for r in built.releases]
    await Publisher(
        target.store, worker="first", clock=lambda: NOW, signer=dataset.SIGNER
    ).publish_many(ids)
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（更正）")
    later = NOW + timedelta(days=1)
    await Publisher(
        target.store, worker="first", clock=lambda: later, signer=dataset.SIGNER
    ).publish_many(ids)

    department = await models.Department.get(code="PUBD0X")
    project = await models.Subject.get(code="PUBP0-0Q")
    await records.file_filing(
        department,
        fiscal_year=dataset.YEAR,
        scope=FilingScope.WHOLE_DEPARTMENT if whole else FilingScope.PROJECTS,
        reason=FilingReason.SENSITIVE,
        reference="补备1",
        filed_with="测试区财政局",
        filed_at=NOW.date(),
        projects=[] if whole else [project],
    )
    code = built.jurisdiction.code
    markers = {
        "PUBP0-0Q",
        "PUBP0-0项目",
        "PUBP0-0目标",
        "PUBP0-0评价报告",
        subject_key(code, "PUBD0X", "PROJECT", "PUBP0-0Q", dataset.YEAR),
        *FILED_AMOUNTS.values(),
        "765.43",  # the amounts in 万元, as pages show them
        "712.35",
    }
    if whole:
        markers |= {"PUBD0X", "PUBD0U", "PUBD0部门", "PUBD0单位"}
    for key, data in (await current_objects(target)).items():
        # By content only: the same bytes (a jurisdiction's record) may sit in public folders.
        if any(m in decoded(data) for m in markers):
            # Its bytes must be gone; so must its name where the name is its content's
            # (a data object or a report file: pages and manifests are rewritten in place).
            # So must its sha256 — except a manifest's: the chain links to manifests by
            # digest, and a rewritten one's stays in its successors' links and in the
            # redaction that says what replaced it (issue 16, docs/verification.md). A one-way
            # digest of bytes that are nowhere public any more.
            if not MANIFEST.search(key):
                markers.add(hashlib.sha256(data).hexdigest())
            if "/data/" in key or "/files/" in key:
                markers.add(key)
    return markers


async def current_objects(target: Store) -> dict[str, bytes]:
    return {key: await target.store.get(key) for key in await target.store.keys()}


def kill_during_withdraw(target: Store, database: str, kill_at: str, *, apart: bool = False) -> str:
    """Run `withdraw` in a process of its own and let it SIGKILL itself at `kill_at`; its
    stderr. With `apart`, each jurisdiction's releases in a part (tests/publishers/crash.py)."""
    now = (NOW + timedelta(days=2)).isoformat()
    command = [sys.executable, "-m", "tests.publishers.crash", "withdraw"]
    command += ["--database", database, "--store", target.url, "--now", now, "--kill-at", kill_at]
    command += ["--apart"] if apart else []
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert done.returncode == -signal.SIGKILL, (kill_at, done.returncode, done.stderr[-2000:])
    return done.stderr


def running(pid: int) -> bool:
    """Whether the process runs: not gone, and not a zombie no one has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def rerun(target: Store, days: int = 3) -> Publisher:
    later = NOW + timedelta(days=days)
    publisher = Publisher(target.store, worker="rerun", clock=lambda: later, signer=dataset.SIGNER)
    report = await publisher.withdraw()
    assert not report.blocked  # the killed process's lease is taken over at once
    return publisher


# --- the scans ---------------------------------------------------------------------------------


def unfolded(text: str) -> str:
    """iCalendar folds long lines with CRLF and a space."""
    return text.replace("\r\n ", "").replace("\n ", "")


def found_in(name: str, data: bytes, markers: set[str]) -> list[str]:
    haystack = name + urllib.parse.unquote(name) + unfolded(decoded(data))
    return [f"{m!r} in {name}" for m in sorted(markers) if m in haystack]


def scan_folder(root: Path, markers: set[str]) -> list[str]:
    """Every folder and file name under the root — the store's own metadata and temporary
    files included — and every file's bytes."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            relative = str((Path(dirpath) / name).relative_to(root))
            found += found_in(relative + "/", b"", markers)
        for name in filenames:
            path = Path(dirpath) / name
            found += found_in(str(path.relative_to(root)), path.read_bytes(), markers)
    return found


def scan_bucket(store: S3ObjectStore, markers: set[str]) -> list[str]:
    """Every version and delete marker of every key in the bucket, by name and by bytes."""
    found = []
    listed = store.client.list_objects(store.bucket, recursive=True, include_version=True)
    for obj in listed:
        name = str(obj.object_name)
        data = b""
        if not obj.is_delete_marker:
            response = store.client.get_object(store.bucket, name, version_id=obj.version_id)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        found += found_in(f"{name}@{obj.version_id}", data, markers)
    return found


def bucket_versions(store: S3ObjectStore) -> Iterator[tuple[str, bool]]:
    listed = store.client.list_objects(store.bucket, recursive=True, include_version=True)
    for obj in listed:
        yield str(obj.object_name), bool(obj.is_delete_marker)


async def public_answers(query: str) -> dict[str, object]:
    result = await PUBLIC_SCHEMA.execute(query, context_value=Context())
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def assert_nothing_left(
    target: Store, markers: set[str], still_public: str = "PUBP0-1Q"
) -> None:
    if isinstance(target.store, S3ObjectStore):
        found = await asyncio.to_thread(scan_bucket, target.store, markers)
        # Only current versions are left: one version a key, no delete markers.
        names = [(name, marker) for name, marker in bucket_versions(target.store)]
        assert not [n for n, marker in names if marker], "delete markers left"
        assert len(names) == len({n for n, _ in names}), "old versions left"
    else:
        assert target.folder is not None
        found = scan_folder(target.folder, markers)
    assert not found, found[:20]
    # Every manifest entry left names an object that is there.
    objects = await current_objects(target)
    for version in await models.ReleaseVersion.all():
        assert version.manifest_key in objects
    assert not await snapshot_leaks(markers)
    # And the bucket still verifies (issue 16): every signature, every object, the chain
    # through the redactions of the rewritten or removed manifests.
    report = await verify(target.store)
    assert report.ok and report.redactions, report.failures
    # The intents are closed and keep no list of what they withdrew.
    for intent in await models.Withdrawal.all():
        assert intent.finished_at is not None
        assert intent.record_keys == [] and intent.object_keys == []
    # The public API: no search, no listing, no lookup finds it.
    searched = await public_answers(
        '{ subjects(first: 100, filter: {search: "PUBP0-0项目"}) { nodes { key } } }'
    )
    assert searched == {"subjects": {"nodes": []}}
    listed = await public_answers("{ subjects(first: 100) { nodes { code name } } }")
    codes = {node["code"] for node in listed["subjects"]["nodes"]}  # type: ignore[index]
    assert "PUBP0-0Q" not in codes and still_public in codes


# --- the tests ---------------------------------------------------------------------------------

#: Each named step, and the middle of the steps that write many objects.
S3_KILLS = [
    "intent",
    "intent+1",
    "objects-deleted",
    "manifests-rewritten",
    "manifests-rewritten+2",
    "republished",
    "pointers-written",
    "history-purged",
]
LOCAL_KILLS = ["intent+1", "objects-deleted+1", "orphans-removed", "orphans-removed+3"]


@S3_KILL_MATRIX
@pytest.mark.parametrize("kill_at", S3_KILLS)
async def test_a_withdrawal_killed_at_any_step_on_s3_is_finished_by_a_rerun(
    db: str, moto_endpoint: str, kill_at: str
) -> None:
    target = await versioned_bucket(moto_endpoint)
    markers = await published_then_filed(target, whole=False)
    assert any(found_in(k, v, markers) for k, v in (await current_objects(target)).items())

    kill_during_withdraw(target, db, kill_at)
    publisher = await rerun(target)
    await assert_nothing_left(target, markers)

    # Done is done: a further run writes and deletes nothing.
    again = await publisher.withdraw()
    assert (again.stats.written, again.stats.deleted, again.results) == (0, 0, [])


@FOLDER_KILL_MATRIX
@pytest.mark.parametrize("kill_at", LOCAL_KILLS)
async def test_a_withdrawal_killed_at_any_step_in_a_folder_is_finished_by_a_rerun(
    db: str, local: Store, kill_at: str
) -> None:
    markers = await published_then_filed(local, whole=False)
    kill_during_withdraw(local, db, kill_at)
    await rerun(local)
    await assert_nothing_left(local, markers)


#: Where a withdrawal in parts dies: in the part that withdraws a jurisdiction's releases (its
#: kill point kills the publisher), and in the publisher once the parts are done.
APART_KILLS = ["intent", "republished", "pointers-written"]


@FOLDER_KILL_MATRIX
@pytest.mark.parametrize("kill_at", APART_KILLS)
async def test_a_withdrawal_in_parts_killed_is_finished_by_a_rerun(
    db: str, local: Store, kill_at: str
) -> None:
    """`gongkai withdraw` withdraws each jurisdiction's releases in a process of its own
    (decisions.md D33). Killed while a part withdraws, the part dies with the publisher and
    leaves nothing writing beside the rerun; killed after the parts, the rerun finishes the
    pointers. Either way nothing of the filed project is left."""
    markers = await published_then_filed(local, whole=False)
    stderr = kill_during_withdraw(local, db, kill_at, apart=True)
    await rerun(local)
    parts = [int(line.split()[1]) for line in stderr.splitlines() if line.startswith("part ")]
    assert len(parts) == (kill_at != "pointers-written"), stderr[-2000:]
    assert not [pid for pid in parts if running(pid)]
    await assert_nothing_left(local, markers)


@pytest.mark.parametrize(
    ("backend", "kill_at"), [("s3", "intent+1"), ("s3", "republished"), ("local", "intent+2")]
)
async def test_a_whole_department_withdrawal_killed_is_finished_by_a_rerun(
    db: str, request: pytest.FixtureRequest, backend: str, kill_at: str
) -> None:
    """The department's release folders and pages go whole: no folder in the local store is
    left named after it."""
    if backend == "s3":
        target = await versioned_bucket(request.getfixturevalue("moto_endpoint"))
    else:
        target = request.getfixturevalue("local")
    markers = await published_then_filed(target, whole=True)
    kill_during_withdraw(target, db, kill_at)
    await rerun(target)
    await assert_nothing_left(target, markers, still_public="PUBP1-0Q")
    department = await models.Department.get(code="PUBD0X")
    assert not await models.Release.filter(
        department=department, status=ReleaseStatus.PUBLISHED
    ).exists()


async def test_the_scan_sees_what_a_plain_delete_leaves_in_old_versions(
    db: str, moto_endpoint: str
) -> None:
    """The scan can fail: a page rewritten without the record, and a data object removed with
    a plain S3 delete, keep the record in their earlier versions."""
    target = await versioned_bucket(moto_endpoint)
    markers = await published_then_filed(target, whole=False)
    assert isinstance(target.store, S3ObjectStore)
    holding = [k for k in await target.store.keys() if "/data/" in k and k in markers]
    target.store.client.remove_object(target.store.bucket, holding[0])  # a marker hides it
    found = await asyncio.to_thread(scan_bucket, target.store, markers)
    assert any(holding[0] in f for f in found)


def test_the_scan_reads_folder_names_and_hidden_metadata(tmp_path: Path) -> None:
    (tmp_path / ".gongkai-meta" / "site" / "PUBP0-0Q").mkdir(parents=True)
    assert scan_folder(tmp_path, {"PUBP0-0Q"}) == ["'PUBP0-0Q' in .gongkai-meta/site/PUBP0-0Q/"]
    assert scan_folder(tmp_path, {"PUBP0-1Q"}) == []


def kill_during_publish(
    target: Store,
    database: str,
    release_id: int,
    kill_at: str,
    note: str | None = None,
    *,
    apart: bool = False,
) -> str:
    """Run the publisher (`tests/publishers/crash.py`) until it is killed; its stderr. With
    `apart`, returns only once every process it started has let go of its output, exited."""
    now = (NOW + timedelta(days=2)).isoformat()
    command = [sys.executable, "-m", "tests.publishers.crash", "publish"]
    command += ["--release", str(release_id), "--database", database, "--store", target.url]
    command += ["--now", now, "--kill-at", kill_at] + (["--note", note] if note else [])
    command += ["--apart"] if apart else []
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert done.returncode == -signal.SIGKILL, (kill_at, done.returncode, done.stderr[-2000:])
    return done.stderr


async def test_a_publisher_killed_mid_release_does_not_block_withdraw(
    db: str, local: Store
) -> None:
    """kill -9 in the middle of a publish (which was withdrawing the filed project on the
    way): `withdraw` run at once takes the dead worker's lease over and finishes everything."""
    markers = await published_then_filed(local, whole=False)
    budget = await models.Release.get(department__code="PUBD0X", kind="BUDGET")
    kill_during_publish(local, db, budget.id, "+2")
    assert (await models.Release.get(id=budget.id)).claimed_by  # the dead worker's lease

    later = NOW + timedelta(days=3)
    report = await Publisher(
        local.store, worker="rerun", clock=lambda: later, signer=dataset.SIGNER
    ).withdraw()
    assert report.blocked == []
    assert budget.id in {r.release_id for r in report.results}
    await assert_nothing_left(local, markers)


async def test_a_publish_killed_mid_upload_leaves_no_orphan_once_rerun(
    db: str, local: Store
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    budget = built.releases[0]
    await Publisher(local.store, worker="first", clock=lambda: NOW, signer=dataset.SIGNER).publish(
        budget.id
    )
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（更正）")
    kill_during_publish(local, db, budget.id, "key:manifest.", note="更正项目名称")
    folder = f"releases/{built.jurisdiction.code}/{dataset.YEAR}/budget/PUBD0X/"
    assert set(await local.store.keys(folder)) - await named_by_manifests(local, budget.id)

    later = NOW + timedelta(days=3)
    result = await Publisher(
        local.store, worker="next", clock=lambda: later, signer=dataset.SIGNER
    ).publish(budget.id, note="更正项目名称")
    assert (result.outcome, result.version) == ("published", 2)
    assert set(await local.store.keys(folder)) == await named_by_manifests(local, budget.id)


async def named_by_manifests(target: Store, release_id: int) -> set[str]:
    named: set[str] = set()
    for version in await models.ReleaseVersion.filter(release_id=release_id):
        named |= {version.manifest_key, f"{version.manifest_key}.sig"}
        manifest = orjson.loads(await target.store.get(version.manifest_key))
        named |= {entry["key"] for entry in manifest["objects"]}
    return named


async def test_withdraw_names_a_release_a_live_worker_holds_and_does_the_rest(
    db: str, local: Store
) -> None:
    markers = await published_then_filed(local, whole=False)
    budget = await models.Release.get(department__code="PUBD0X", kind="BUDGET")
    until = NOW + timedelta(days=30)
    await models.Release.filter(id=budget.id).update(
        claimed_by="elsewhere:1:1", claimed_until=until
    )

    later = NOW + timedelta(days=2)
    report = await Publisher(
        local.store, worker="w", clock=lambda: later, signer=dataset.SIGNER
    ).withdraw()
    assert report.blocked == [(budget.id, "elsewhere:1:1")]
    assert report.results  # the final accounts and the finance authority's release

    # Once the other worker is gone (its lease ran out), the next run finishes the job.
    await models.Release.filter(id=budget.id).update(claimed_until=NOW)
    report = await Publisher(
        local.store, worker="w", clock=lambda: later, signer=dataset.SIGNER
    ).withdraw()
    assert report.blocked == [] and [r.release_id for r in report.results] == [budget.id]
    assert local.folder is not None
    assert not scan_folder(local.folder, markers)


def withdraw_command(database: str, store: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GONGKAI_DATABASE_URL": database, "GONGKAI_STORE_URL": store}
    command = [str(Path(sys.executable).parent / "gongkai"), "withdraw"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603


async def test_gongkai_withdraw_exits_1_only_for_blocked_releases(db: str, local: Store) -> None:
    await published_then_filed(local, whole=False)
    budget = await models.Release.get(department__code="PUBD0X", kind="BUDGET")
    far = datetime(2999, 1, 1, tzinfo=NOW.tzinfo)  # the CLI runs on the real clock
    await models.Release.filter(id=budget.id).update(claimed_by="elsewhere:1:1", claimed_until=far)
    blocked = withdraw_command(db, local.url)
    assert blocked.returncode == 1, blocked.stderr
    assert f"release {budget.id}" in blocked.stderr and "elsewhere:1:1" in blocked.stderr

    await models.Release.filter(id=budget.id).update(claimed_by=None, claimed_until=None)
    done = withdraw_command(db, local.url)
    assert done.returncode == 0, done.stderr
    assert "1 releases republished" in done.stderr
