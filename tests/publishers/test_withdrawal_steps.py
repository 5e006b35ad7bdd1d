"""The withdrawal's steps one by one (publishers/withdrawal.py), at the edges the whole-workflow
tests do not reach: legacy manifest entries, objects already gone, CSV keys with a fragment,
the counts and the log line."""

from __future__ import annotations

import logging

import orjson
import pytest

from publishers import withdrawal
from publishers.sync import SyncStats
from storage.objects.memory import MemoryObjectStore

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
