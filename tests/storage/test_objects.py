"""The object store contract, run against every backend, plus what only one backend has.

The S3 backends talk HTTP to moto's server on loopback through the real minio SDK, each test in
a fresh bucket; "s3-versioned" enables bucket versioning, so that deleting really has to remove
every version (decisions.md D12).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

from storage.objects import ObjectInfo, ObjectNotFound, ObjectStore, StoreError, open_store
from storage.objects.local import _HOST, META_DIR, STALE_TEMPORARY, LocalObjectStore
from storage.objects.memory import MemoryObjectStore
from storage.objects.s3 import S3ObjectStore

BACKENDS = ["local", "memory", "s3", "s3-versioned"]
CREDENTIALS = ("testing", "testing")

REPORT = "示例区教育局2025年部门整体支出绩效自评报告（演示数据）\n".encode()
TITLE = {"title": "部门整体支出绩效自评报告", "release": "budget-2025-v1", "note": "100% 演示数据"}


async def s3_store(endpoint: str, *, versioned: bool) -> S3ObjectStore:
    store = open_store(f"s3+http://{endpoint}/gk-{uuid.uuid4().hex[:16]}", *CREDENTIALS)
    assert isinstance(store, S3ObjectStore)
    await store.ensure_bucket()
    if versioned:
        store.client.set_bucket_versioning(store.bucket, VersioningConfig(ENABLED))
    return store


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """A fresh, empty store of each backend; moto starts only when an S3 backend is asked for."""
    match request.param:
        case "local":
            return open_store(f"file://{tmp_path / 'objects'}")
        case "memory":
            return open_store("memory://")
        case backend:
            endpoint = request.getfixturevalue("moto_endpoint")
            return await s3_store(endpoint, versioned=backend == "s3-versioned")


# --- the contract ---------------------------------------------------------------------------


async def test_put_get_round_trip_with_chinese_content_and_metadata(store: ObjectStore) -> None:
    key = "2025/示例区教育局/自评报告.txt"
    info = await store.put(key, REPORT, "text/plain; charset=utf-8", TITLE)

    assert info == ObjectInfo(
        key, len(REPORT), hashlib.sha256(REPORT).hexdigest(), "text/plain; charset=utf-8", TITLE
    )
    assert await store.get(key) == REPORT


async def test_a_file_put_from_disk_is_stored_as_its_bytes_would_be(
    store: ObjectStore, tmp_path: Path
) -> None:
    """`put_file` reads the file a piece at a time (6 MiB: several of the local store's 1 MiB
    pieces, a multipart upload to S3) and stores what `put` of its bytes would, replacing what
    was there."""
    data = bytes(range(256)) * (6 * 4096) + "尾".encode()
    path = tmp_path / "示例.db"
    path.write_bytes(data)
    meta = {**TITLE, "content-disposition": "attachment; filename=data.db"}
    await store.put("bulk/a/data.db", b"old", "application/octet-stream")

    info = await store.put_file("bulk/a/data.db", path, "application/vnd.sqlite3", meta)

    assert info == ObjectInfo(
        "bulk/a/data.db",
        len(data),
        hashlib.sha256(data).hexdigest(),
        "application/vnd.sqlite3",
        meta,
    )
    assert await store.stat("bulk/a/data.db") == info
    assert await store.get("bulk/a/data.db") == data
    await store.put("bulk/a/same.db", data, "application/vnd.sqlite3", meta)
    assert await store.stat("bulk/a/same.db") == replace(info, key="bulk/a/same.db")


async def test_stat_reports_size_sha256_content_type_and_metadata(store: ObjectStore) -> None:
    await store.put("r/data.json", b'{"a": 1}', "application/json", {"release": "r1"})

    info = await store.stat("r/data.json")

    assert info is not None
    assert info.key == "r/data.json"
    assert info.size == 8
    assert info.sha256 == hashlib.sha256(b'{"a": 1}').hexdigest()
    assert info.content_type == "application/json"
    assert info.metadata == {"release": "r1"}


async def test_a_missing_key_stats_as_none_and_cannot_be_read(store: ObjectStore) -> None:
    await store.put("present/a.json", b"{}", "application/json")

    assert await store.stat("absent.json") is None
    assert await store.stat("present") is None  # a "folder" of keys is not an object
    with pytest.raises(ObjectNotFound, match=r"absent\.json"):
        await store.get("absent.json")
    with pytest.raises(ObjectNotFound):
        await store.get("present")


async def test_list_is_sorted_and_limited_to_the_prefix(store: ObjectStore) -> None:
    keys = ["2025/b/x.json", "2025/a/y.csv", "2025/中文.json", "2025a.json", "2024/a.json"]
    for key in keys:
        await store.put(key, key.encode(), "application/octet-stream")

    listed = await store.list("2025/")

    assert [info.key for info in listed] == ["2025/a/y.csv", "2025/b/x.json", "2025/中文.json"]
    assert all(info.sha256 == hashlib.sha256(info.key.encode()).hexdigest() for info in listed)
    assert [info.key for info in await store.list("2025/a")] == ["2025/a/y.csv"]
    assert [info.key for info in await store.list("2025")] == sorted(set(keys) - {"2024/a.json"})
    # Everything, and nothing of the store's own bookkeeping (the local metadata folder).
    assert [info.key for info in await store.list()] == sorted(keys)
    assert await store.list("2026/") == []


async def test_overwrite_replaces_bytes_and_sha256(store: ObjectStore) -> None:
    await store.put("pointer/catalog.json", b"old", "application/json", {"v": "1"})
    await store.put("pointer/catalog.json", b"newer", "application/json")

    info = await store.stat("pointer/catalog.json")

    assert await store.get("pointer/catalog.json") == b"newer"
    assert info is not None
    assert (info.size, info.sha256, info.metadata) == (5, hashlib.sha256(b"newer").hexdigest(), {})
    assert [i.key for i in await store.list("pointer/")] == ["pointer/catalog.json"]


async def test_delete_removes_the_object(store: ObjectStore) -> None:
    await store.put("w/a.json", b"1", "application/json")
    await store.put("w/a.json", b"2", "application/json")
    await store.put("w/a.json.bak", b"3", "application/json")

    await store.delete("w/a.json")

    assert await store.stat("w/a.json") is None
    with pytest.raises(ObjectNotFound):
        await store.get("w/a.json")
    assert [info.key for info in await store.list("w/")] == ["w/a.json.bak"]


async def test_deleting_a_missing_key_does_nothing(store: ObjectStore) -> None:
    await store.delete("never/was.json")
    assert await store.list() == []


BAD_KEYS = [
    "",
    "/abs.json",
    "a/../b.json",
    "..",
    "a/..hidden",
    "a\\b.json",
    "a\nb.json",
    "tab\there",
    "a\x7f",
    "a//b.json",
    "a/./b.json",
    "folder/",
    ".gongkai-meta/x.json",
    "a/.gongkai-tmp-1",
    "长" * 342,  # 1026 UTF-8 bytes
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused_by_every_operation(store: ObjectStore, key: str) -> None:
    for call in (
        store.put(key, b"x", "text/plain"),
        store.get(key),
        store.stat(key),
        store.delete(key),
    ):
        with pytest.raises(ValueError, match="object key"):
            await call
    assert await store.list() == []


@pytest.mark.parametrize("prefix", ["/", "../", "a/../", "a//", "a\\", ".gongkai-meta/"])
async def test_bad_prefixes_are_refused(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        await store.list(prefix)


@pytest.mark.parametrize(
    ("content_type", "metadata", "problem"),
    [
        ("", None, "content type"),
        ("文本/纯文本", None, "content type"),
        ("text/plain\r\nX-Evil: 1", None, "content type"),
        ("text/plain", {"Title": "x"}, "lower-case"),
        ("text/plain", {"标题": "x"}, "lower-case"),
        ("text/plain", {"sha256": "0" * 64}, "reserved"),
    ],
)
async def test_put_refuses_what_s3_headers_cannot_carry(
    store: ObjectStore, content_type: str, metadata: dict[str, str] | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        await store.put("a.txt", b"x", content_type, metadata)
    assert await store.stat("a.txt") is None


async def test_check_passes_on_a_working_store_and_leaves_it_as_it_was(
    store: ObjectStore,
) -> None:
    await store.put("kept.txt", b"x", "text/plain")
    await store.check()  # no exception: reachable, and writable or present
    assert list(await store.keys()) == ["kept.txt"]  # the check wrote and removed nothing
    assert await store.get("kept.txt") == b"x"


# --- S3 only ----------------------------------------------------------------------------------


async def test_delete_removes_every_version_and_delete_marker(moto_endpoint: str) -> None:
    store = await s3_store(moto_endpoint, versioned=True)
    key = "2025/dept/withdrawn.json"
    await store.put(key, b"first", "application/json")
    await store.put(key, b"second", "application/json")
    store.client.remove_object(store.bucket, key)  # a plain delete: a marker hides the versions
    await store.put(key, b"third", "application/json")
    await store.put(f"{key}.neighbour", b"kept", "application/json")
    assert len(versions(store.client, store.bucket, key)) == 4  # three versions and the marker

    await store.delete(key)

    assert versions(store.client, store.bucket, key) == []
    assert len(versions(store.client, store.bucket, f"{key}.neighbour")) == 1


def versions(client: Minio, bucket: str, key: str) -> list[str]:
    listed = client.list_objects(bucket, prefix=key, recursive=True, include_version=True)
    return [str(obj.version_id) for obj in listed if obj.object_name == key]


async def test_metadata_values_travel_percent_encoded(moto_endpoint: str) -> None:
    """S3 headers are ASCII: other readers of the bucket see the escapes, we see the text."""
    store = await s3_store(moto_endpoint, versioned=False)
    await store.put("a.txt", b"x", "text/plain", {"title": "绩效 100%"})

    raw = store.client.stat_object(store.bucket, "a.txt").metadata
    assert raw is not None

    assert raw["x-amz-meta-title"] == "%E7%BB%A9%E6%95%88%20100%25"
    assert raw["x-amz-meta-sha256"] == hashlib.sha256(b"x").hexdigest()


async def test_check_fails_when_the_bucket_is_missing(moto_endpoint: str) -> None:
    store = open_store(f"s3+http://{moto_endpoint}/gk-never-created", *CREDENTIALS)

    with pytest.raises(StoreError, match="gk-never-created"):
        await store.check()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_check_names_bucket_and_server_when_the_server_is_down() -> None:
    quick = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=0.5, read=0.5), retries=urllib3.Retry(total=0)
    )
    store = S3ObjectStore(f"127.0.0.1:{closed_port()}", "gongkai", secure=False, http_client=quick)

    with pytest.raises(StoreError, match=r"check in bucket 'gongkai' at 127\.0\.0\.1") as caught:
        await store.check()

    assert "testing" not in str(caught.value)


# --- local only -------------------------------------------------------------------------------


async def test_local_files_sit_at_their_keys_with_metadata_aside(tmp_path: Path) -> None:
    """The folder is served as a static site: the file at the key is the object, byte for byte,
    and nothing but the hidden metadata folder is added."""
    store = LocalObjectStore(tmp_path)
    await store.put("2025/报告.txt", REPORT, "text/plain", TITLE)
    await store.put("2025/报告.txt", REPORT + b"!", "text/plain", TITLE)

    assert (tmp_path / "2025" / "报告.txt").read_bytes() == REPORT + b"!"
    assert files_under(tmp_path) == [".gongkai-meta/2025/报告.txt.json", "2025/报告.txt"]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def test_local_file_put_by_hand_lists_without_sha256(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    (tmp_path / "by-hand.html").write_bytes(b"<p>")

    assert await store.list() == [ObjectInfo("by-hand.html", 3, None, "application/octet-stream")]


async def test_local_check_creates_the_folder_and_fails_when_it_cannot(tmp_path: Path) -> None:
    await LocalObjectStore(tmp_path / "new" / "objects").check()
    assert (tmp_path / "new" / "objects").is_dir()

    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(StoreError, match="a-file"):
        await LocalObjectStore(tmp_path / "a-file" / "objects").check()


async def test_local_key_clashing_with_a_folder_is_a_store_error(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    await store.put("a", b"file", "text/plain")

    with pytest.raises(StoreError, match="'a/b'"):
        await store.put("a/b", b"under a file", "text/plain")


# --- memory only ------------------------------------------------------------------------------


async def test_memory_fault_injection_fails_before_changing_anything() -> None:
    store = MemoryObjectStore(fail_on=lambda op, key: op == "put" and key.endswith("manifest.json"))
    await store.put("r/data.json", b"{}", "application/json")

    with pytest.raises(StoreError, match=r"injected failure: put 'r/manifest\.json'"):
        await store.put("r/manifest.json", b"{}", "application/json")

    assert [info.key for info in await store.list()] == ["r/data.json"]
    assert store.puts == 1


# --- open_store -------------------------------------------------------------------------------


def test_open_store_file_urls() -> None:
    relative = open_store("file://var/objects")
    absolute = open_store("file:///srv/gongkai/objects")

    assert isinstance(relative, LocalObjectStore) and relative.root == Path("var/objects")
    assert isinstance(absolute, LocalObjectStore) and absolute.root == Path("/srv/gongkai/objects")


def test_open_store_memory_url() -> None:
    assert isinstance(open_store("memory://"), MemoryObjectStore)


@pytest.mark.parametrize(
    ("url", "endpoint", "bucket", "secure"),
    [
        (
            "s3://minio.example.org:9000/gongkai-public",
            "minio.example.org:9000",
            "gongkai-public",
            True,
        ),
        ("s3://s3.amazonaws.com/gongkai", "s3.amazonaws.com", "gongkai", True),
        ("s3+http://127.0.0.1:9000/gongkai/", "127.0.0.1:9000", "gongkai", False),
        ("s3+http://[::1]:9000/gongkai", "[::1]:9000", "gongkai", False),
    ],
)
def test_open_store_s3_urls(url: str, endpoint: str, bucket: str, secure: bool) -> None:
    store = open_store(url, *CREDENTIALS)

    assert isinstance(store, S3ObjectStore)
    assert (store.endpoint, store.bucket, store.secure) == (endpoint, bucket, secure)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "SCHEME://"),
        ("var/objects", "SCHEME://"),
        ("ftp://host/bucket", "scheme 'ftp'"),
        ("S3://host/bucket", "scheme 'S3'"),
        ("file://", "no path"),
        ("memory://x", "nothing after"),
        ("s3://", "no host"),
        ("s3:///bucket", "no host"),
        ("s3://host:9000", "no bucket"),
        ("s3+http://host:9000/", "no bucket"),
        ("s3://host:port/bucket", "invalid port"),
        ("s3://host:99999/bucket", "invalid port"),
        ("s3://host:9000/bucket/folder", "single bucket name"),
        ("s3://host:9000/bucket?region=x", "query"),
        ("s3://AKIA:hunter2@host:9000/bucket", "credentials"),
        ("s3://host:9000/Not_A_Bucket", "invalid bucket name"),
    ],
)
def test_open_store_refuses_malformed_urls(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)


# --- what a withdrawal needs of every store (D12): key listings and a purge of history ------------


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


# --- the local folder: deletes and purges leave no names ------------------------------------------


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
    now = 1_800_000_000.0  # the store's clock, so the test never reads the wall clock
    store = LocalObjectStore(tmp_path, clock=lambda: now)
    await store.put("site/kept.html", b"x", "text/html")
    empty = tmp_path / "site" / "projects" / "SECRET"
    empty.mkdir(parents=True)
    stale = tmp_path / "site" / ".gongkai-tmp-stale"
    fresh = tmp_path / "site" / ".gongkai-tmp-fresh"
    stale.write_bytes(b"half a page")
    fresh.write_bytes(b"a write in flight")
    # Both sides of the bound: a second older than STALE_TEMPORARY goes, a second younger stays.
    old = now - STALE_TEMPORARY.total_seconds() - 1
    os.utime(stale, (old, old))
    young = now - STALE_TEMPORARY.total_seconds() + 1
    os.utime(fresh, (young, young))

    removed = await store.purge_history()

    assert removed == 3  # the stale file, .../SECRET and .../projects
    assert not stale.exists() and fresh.exists()
    assert not (tmp_path / "site" / "projects").exists()
    assert await store.get("site/kept.html") == b"x"


def exited_pid() -> int:
    """The process id of a process that has exited."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


async def test_local_remove_abandoned_takes_dead_writers_files_only(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    store = LocalObjectStore(tmp_path, clock=lambda: now)
    await store.put("releases/r/data/a.json", b"{}", "application/json")
    dead, alive = exited_pid(), os.getpid()
    host = _HOST
    folder = tmp_path / "releases" / "r" / "data"
    meta = tmp_path / META_DIR / "releases" / "r" / "data"
    files = {
        "dead": folder / f".gongkai-tmp-{host}~{dead}~abc",
        "dead meta": meta / f".gongkai-tmp-{host}~{dead}~def",
        "alive": folder / f".gongkai-tmp-{host}~{alive}~ghi",
        "other host": folder / f".gongkai-tmp-elsewhere~{dead}~jkl",
        "other host, stale": folder / f".gongkai-tmp-elsewhere~{dead}~mno",
        "elsewhere in the store": tmp_path / "site" / f".gongkai-tmp-{host}~{dead}~pqr",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
        young = now - STALE_TEMPORARY.total_seconds() + 1
        os.utime(path, (young, young))
    stale = now - STALE_TEMPORARY.total_seconds() - 1
    os.utime(files["other host, stale"], (stale, stale))

    assert await store.remove_abandoned("releases/r/") == 3

    gone = {name for name, path in files.items() if not path.exists()}
    assert gone == {"dead", "dead meta", "other host, stale"}
    assert await store.get("releases/r/data/a.json") == b"{}"
    assert await store.remove_abandoned() == 1  # the whole store: the one under site/


@pytest.fixture
def unreaped_pid() -> Iterator[int]:
    """The pid of a process that has exited but that its parent (this one) has not reaped."""
    writer = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, writer.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped
    yield writer.pid
    writer.wait()


async def test_local_remove_abandoned_takes_an_unreaped_writers_files(
    tmp_path: Path, unreaped_pid: int
) -> None:
    """A writer that has exited but that its parent has not reaped yet (a zombie: a killed
    publish's part whose fork server is gone too, in a container whose first process reaps
    nothing) still answers to its pid. It writes nothing any more: its files go."""
    now = 1_800_000_000.0
    store = LocalObjectStore(tmp_path, clock=lambda: now)
    os.kill(unreaped_pid, 0)  # it still answers to its pid
    zombie = tmp_path / f".gongkai-tmp-{_HOST}~{unreaped_pid}~abc"
    alive = tmp_path / f".gongkai-tmp-{_HOST}~{os.getpid()}~def"
    for path in (zombie, alive):
        path.write_bytes(b"half")
        os.utime(path, (now, now))  # young: their age does not take them
    assert await store.remove_abandoned() == 1
    assert not zombie.exists() and alive.exists()


async def test_local_temporary_files_name_their_writer(tmp_path: Path) -> None:
    """What `remove_abandoned` reads: a write in flight is named after this host and process."""
    seen: list[str] = []
    real = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(Path(src).name)
        real(src, dst)

    store = LocalObjectStore(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", spy)
        await store.put("a.txt", b"x", "text/plain")
    assert seen and all(name.startswith(f".gongkai-tmp-{_HOST}~{os.getpid()}~") for name in seen)


# --- S3: purging old versions ---------------------------------------------------------------------


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
