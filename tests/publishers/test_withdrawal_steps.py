"""The withdrawal's steps one by one (publishers/withdrawal.py), at the edges the whole-workflow
tests do not reach: legacy manifest entries, objects already gone, CSV keys with a fragment,
the counts and the log line."""

from __future__ import annotations

import logging
from datetime import timedelta

import orjson
import pytest

from publishers import withdrawal
from publishers.releases import Publisher, manifest_key
from publishers.render import sha256_hex
from publishers.sync import SyncStats
from storage import models
from storage.objects.memory import MemoryObjectStore
from tests.publishers import dataset
from tests.publishers.test_releases import NOW

KEY = "subject/990101/PUBD0X/PROJECT/PUBP0-0Q/2024"


def entry(path: str, key: str | None = None, **extra: object) -> dict[str, object]:
    return {"path": path, "key": key or f"releases/r/{path}", "sha256": "0" * 64, **extra}


async def test_an_entry_an_earlier_gongkai_marked_withdrawn_goes() -> None:
    store = MemoryObjectStore()
    legacy = entry("data/subjects.json", withdrawn=True)
    assert await withdrawal._holds_any(store, legacy, {KEY})
    assert not await withdrawal._holds_any(store, entry("data/subjects.json"), {KEY})  # absent


async def test_only_data_objects_and_report_files_are_read_for_record_keys() -> None:
    store = MemoryObjectStore()
    # A data package names no record; nor does anything else outside data/ and files/.
    await store.put("releases/r/datapackage.v1.json", KEY.encode(), "application/json")
    assert not await withdrawal._holds_any(store, entry("datapackage.v1.json"), {KEY})
    report = entry("files/abc123.pdf")
    assert await withdrawal._holds_any(store, report, {"file/abc123"})
    assert not await withdrawal._holds_any(store, report, {"file/abc124"})


async def test_a_data_object_already_gone_holds_nothing() -> None:
    """A rerun after the objects were deleted reads manifests that still list them."""
    store = MemoryObjectStore()
    assert not await withdrawal._holds_any(store, entry("data/subjects.a1.json"), {KEY})
    data = orjson.dumps({"records": [{"key": KEY}]})
    await store.put("releases/r/data/subjects.a1.json", data, "application/json")
    assert await withdrawal._holds_any(store, entry("data/subjects.a1.json"), {KEY})


def test_csv_keys_are_read_without_their_fragment() -> None:
    text = f"key,subjectKey,name\n{KEY}#indicator-1,,完成率\nother/1,{KEY},x\n"
    assert withdrawal.record_keys("data/targets-indicators.csv", text.encode("utf-8-sig")) == {
        KEY,
        "other/1",
    }


async def test_deleting_counts_every_object_gone_or_not() -> None:
    store = MemoryObjectStore()
    await store.put("a", b"1", "text/plain")
    stats = SyncStats()
    await withdrawal.delete_objects(store, ["a", "b"], stats)
    assert stats.deleted == 2 and list(await store.keys()) == []


async def test_orphans_removed_are_counted_and_logged(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryObjectStore()
    await store.put("releases/r/data/left-behind.json", b"{}", "application/json")
    stats = SyncStats()
    with caplog.at_level(logging.INFO, logger="publishers"):
        await withdrawal.remove_orphans(store, 4711, "releases/r", stats)  # no version names it
    assert [r.getMessage() for r in caplog.records if "orphaned" in r.getMessage()] == [
        "removed 1 orphaned objects of release 4711"
    ]
    assert stats.deleted == 1 and list(await store.keys()) == []


async def published(store: MemoryObjectStore) -> list[models.Release]:
    """A small data set's releases, published: the budget's, the final accounts' and the
    evaluations' (whose manifest lists report files after the data package's key)."""
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    first = Publisher(store, worker="test", clock=lambda: NOW)
    assert not (await first.publish_many([r.id for r in built.releases])).failures
    for release in built.releases:
        await release.fetch_related("jurisdiction", "department")
    return built.releases


def folder_of(release: models.Release) -> str:
    return manifest_key(release, 1).rsplit("/", 1)[0]


async def test_rewritten_manifests_are_true_to_the_objects_they_keep(db: str) -> None:
    store = MemoryObjectStore()
    evaluations = (await published(store))[-1]
    folder = folder_of(evaluations)
    before = orjson.loads(await store.get(manifest_key(evaluations, 1)))
    package = f"{folder}/{before['datapackage']}"
    keys = [e["key"] for e in before["objects"]]
    assert any(k < package for k in keys) and any(k > package for k in keys), keys
    doomed = next(k for k in keys if "/data/" in k)
    await store.delete(doomed)
    old = (await models.ReleaseVersion.get(release_id=evaluations.id, number=1)).manifest_sha256
    redacted: list[dict[str, object]] = []

    async def redact(entries: list[dict[str, object]]) -> None:
        redacted.extend(entries)

    await withdrawal.rewrite_manifests(
        store, evaluations.id, folder, {doomed}, SyncStats(), signer=dataset.SIGNER, redact=redact
    )

    data = await store.get(manifest_key(evaluations, 1))
    # recorded as superseded by its new bytes (issue 16), and signed again
    assert [(e["supersedes"], e["by"]) for e in redacted] == [(old, sha256_hex(data))]
    signature = await store.get(manifest_key(evaluations, 1) + ".sig")
    assert signature == dataset.SIGNER.signature(data)
    manifest = orjson.loads(data)
    assert [e["key"] for e in manifest["objects"]] == [k for k in keys if k != doomed]
    for entry in manifest["objects"]:
        stored = await store.get(entry["key"])
        assert (entry["bytes"], entry["sha256"]) == (len(stored), sha256_hex(stored)), entry
    listing = sorted(
        f"{e['path']} {e['sha256']}" for e in manifest["objects"] if e["key"] != package
    )
    assert manifest["contentSha256"] == sha256_hex("\n".join(listing).encode())
    version = await models.ReleaseVersion.get(release_id=evaluations.id, number=1)
    assert version.manifest_sha256 == sha256_hex(data)


async def test_a_version_whose_manifest_is_gone_is_skipped_and_the_next_rewritten(
    db: str,
) -> None:
    store = MemoryObjectStore()
    budget = (await published(store))[0]
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（更正）")
    later = Publisher(store, worker="test", clock=lambda: NOW + timedelta(days=1))
    assert (await later.publish(budget.id, note="更正名称")).version == 2
    keys = [e["key"] for e in orjson.loads(await store.get(manifest_key(budget, 2)))["objects"]]
    doomed = next(k for k in keys if "/data/" in k)
    await store.delete(doomed)
    await store.delete(manifest_key(budget, 1))  # an earlier run deleted it
    redacted: list[dict[str, object]] = []

    async def redact(entries: list[dict[str, object]]) -> None:
        redacted.extend(entries)

    await withdrawal.rewrite_manifests(
        store, budget.id, folder_of(budget), {doomed}, SyncStats(), signer=None, redact=redact
    )
    assert len(redacted) == 1  # version 2's; version 1's was gone
    manifest = orjson.loads(await store.get(manifest_key(budget, 2)))
    assert [e["key"] for e in manifest["objects"]] == [k for k in keys if k != doomed]
    assert await store.stat(manifest_key(budget, 1)) is None


@pytest.mark.parametrize(("first", "then"), [(False, True), (True, False)])
async def test_an_extended_intent_is_whole_once_either_run_was(
    db: str, first: bool, then: bool
) -> None:
    store = MemoryObjectStore()
    budget = (await published(store))[0]
    folder = folder_of(budget)
    intent = await withdrawal.record_intent(
        store, budget.id, folder, {KEY}, whole=first, worker="one"
    )
    again = await withdrawal.record_intent(
        store, budget.id, folder, {"other/1"}, whole=then, worker="two"
    )
    assert again.id == intent.id and again.whole
    assert again.record_keys == sorted({KEY, "other/1"})
