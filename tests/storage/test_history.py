"""What a withdrawal needs of every store besides put and delete (D12): key listings, no folder
left named after a deleted key, and a purge of everything but the current objects — old
versions and delete markers in a versioned bucket, a killed writer's temporary files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from storage.objects import ObjectStore, open_store
from storage.objects.local import META_DIR, STALE_TEMPORARY
from storage.objects.s3 import S3ObjectStore
from tests.storage.test_objects import BACKENDS, s3_store


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    match request.param:
        case "local":
            return open_store(f"file://{tmp_path / 'objects'}")
        case "memory":
            return open_store("memory://")
        case backend:
            endpoint = request.getfixturevalue("moto_endpoint")
            return await s3_store(endpoint, versioned=backend == "s3-versioned")


async def test_keys_are_sorted_and_limited_to_the_prefix(store: ObjectStore) -> None:
    for key in ("b/2.json", "a/1.json", "b/1.json", "bb/1.json"):
        await store.put(key, b"{}", "application/json")
    assert list(await store.keys()) == ["a/1.json", "b/1.json", "b/2.json", "bb/1.json"]
    assert list(await store.keys("b/")) == ["b/1.json", "b/2.json"]
    assert list(await store.keys("c/")) == []


async def test_purge_history_leaves_the_current_objects(store: ObjectStore) -> None:
    await store.put("site/a.html", b"one", "text/html")
    await store.put("site/a.html", b"two", "text/html")
    await store.put("site/b.html", b"b", "text/html")
    await store.delete("site/b.html")
    await store.purge_history()
    assert list(await store.keys()) == ["site/a.html"]
    assert await store.get("site/a.html") == b"two"


# --- the local folder ---------------------------------------------------------------------------


async def test_a_local_delete_leaves_no_folder_named_after_the_key(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    await store.put("releases/990101/2024/budget/SECRET/data/x.json", b"{}", "application/json")
    await store.put("releases/990101/2024/budget/KEPT/data/y.json", b"{}", "application/json")
    await store.delete("releases/990101/2024/budget/SECRET/data/x.json")
    names = tree(tmp_path)
    assert not [n for n in names if "SECRET" in n]
    assert "releases/990101/2024/budget/KEPT/data/y.json" in names
    assert f"{META_DIR}/releases/990101/2024/budget/KEPT/data/y.json.json" in names
    assert META_DIR in names  # the roots stay


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


async def test_local_purge_removes_stale_temporary_files_and_empty_folders(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    await store.put("site/kept.html", b"x", "text/html")
    empty = tmp_path / "site" / "projects" / "SECRET"
    empty.mkdir(parents=True)
    stale = tmp_path / "site" / ".gongkai-tmp-stale"
    fresh = tmp_path / "site" / ".gongkai-tmp-fresh"
    stale.write_bytes(b"half a page")
    fresh.write_bytes(b"a write in flight")
    old = time.time() - STALE_TEMPORARY.total_seconds() - 60
    os.utime(stale, (old, old))
    just_stale_enough = time.time() - STALE_TEMPORARY.total_seconds() + 60
    os.utime(fresh, (just_stale_enough, just_stale_enough))

    removed = await store.purge_history()

    assert removed == 3  # the stale file, .../SECRET and .../projects
    assert not stale.exists() and fresh.exists()
    assert not (tmp_path / "site" / "projects").exists()
    assert await store.get("site/kept.html") == b"x"


# --- S3 ---------------------------------------------------------------------------------------


def all_versions(store: S3ObjectStore) -> list[tuple[str, bool]]:
    listed = store.client.list_objects(store.bucket, recursive=True, include_version=True)
    return sorted((str(o.object_name), bool(o.is_delete_marker)) for o in listed)


async def test_s3_purge_deletes_old_versions_and_delete_markers(moto_endpoint: str) -> None:
    store = await s3_store(moto_endpoint, versioned=True)
    await store.put("index.html", b"names the filed project", "text/html")
    await store.put("index.html", b"names no one", "text/html")
    await store.put("gone.html", b"x", "text/html")
    store.client.remove_object(store.bucket, "gone.html")  # a plain delete leaves a marker
    assert len(all_versions(store)) == 4

    assert await store.purge_history() == 3

    assert all_versions(store) == [("index.html", False)]
    assert await store.get("index.html") == b"names no one"
    assert await store.purge_history() == 0


async def test_s3_purge_on_an_unversioned_bucket_deletes_nothing(moto_endpoint: str) -> None:
    store = await s3_store(moto_endpoint, versioned=False)
    await store.put("index.html", b"one", "text/html")
    await store.put("index.html", b"two", "text/html")
    assert await store.purge_history() == 0
    assert all_versions(store) == [("index.html", False)]
