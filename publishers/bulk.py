"""Bulk files (issue #15): per jurisdiction and fiscal year, and for all its years, everything
published in a few files a person can take whole — a ZIP of every published file, a CSV per
table, an .xlsx with a sheet per table, a SQLite database for Datasette and its metadata.json
(the bytes: `publishers/bulk_files.py`; the tables: `publishers/bulk_tables.py`).

They are derived from what is public (the current versions' snapshot rows and objects), so a
filed record is in none of them; they are rebuilt inside `write_pointers`, before the catalogs
that list them. Keys::

    bulk/manifest.json                               every set: its files, sizes, sha256
    bulk/<jurisdiction>/<year|all>/latest/<name>     the newest of each file (pointer objects)
    bulk/<jurisdiction>/<year|all>/latest/csv/<table>.csv

Only the newest is kept: a bulk file is a view of the releases' current versions, whose own
versions are the history; an older bulk file could hold what a withdrawal took out; and two
copies of every file (an immutable one beside the latest) doubled what the bulk files add to a
publish.

A set is rebuilt only when its inputs change: the current version (and manifest sha256) of each
of its releases, the licence, the base URL and the code and libraries that build it
(`inputs_digest`). An unchanged publish reads `bulk/manifest.json` and writes nothing. A rebuild
rewrites the files whose bytes changed, deletes every other object under the set's folder, then
writes the manifest; after a withdrawal the publisher's purge of the store's history takes the
overwritten files' stored versions.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import orjson

from publishers import apart, bulk_files, filenames
from publishers.bulk_listing import BULK_MANIFEST_KEY, Listing, read_listing
from publishers.bulk_rows import ROWS_FILE, read_rows, row_line, spooled_tables
from publishers.bulk_tables import SnapshotRow, Table
from publishers.render import CSV_TYPE, JSON_TYPE, Rendered, sha256_hex
from publishers.site_paths import segment
from publishers.sync import PARALLEL_UPLOADS, SyncStats
from storage import models
from storage.enums import RecordType, ReleaseStatus
from storage.objects import ObjectStore

ALL_YEARS = "all"
#: How many sets are built at once, each in a process of its own (at most one a core).
BUILD_PROCESSES = 2
#: The modules whose code decides the bytes: a change to any rebuilds every set.
BUILDERS = (
    "bulk.py",
    "bulk_files.py",
    "bulk_rows.py",
    "bulk_tables.py",
    "render.py",
    "dictionary.py",
)


@dataclass(frozen=True)
class Current:
    """A published release's current version, as the bulk sets see it."""

    release_id: int
    jurisdiction: str
    year: int
    folder: str  # releases/<jurisdiction>/<year>/<kind>/<department>
    manifest_key: str
    manifest_sha256: str

    @property
    def key(self) -> str:
        return self.folder.removeprefix("releases/")


def set_folder(jurisdiction: str, label: str) -> str:
    return f"bulk/{segment(jurisdiction)}/{label}"


@lru_cache(maxsize=1)
def builder_digest() -> str:
    """The code and the libraries that make the bytes."""
    package = resources.files("publishers")
    code = b"".join((package / name).read_bytes() for name in BUILDERS)
    versions = [metadata.version(n) for n in ("sqlite-utils", "XlsxWriter")]
    return sha256_hex(code + orjson.dumps([versions, sqlite3.sqlite_version]))


def inputs_digest(releases: Sequence[Current], data_license: str, base_url: str | None) -> str:
    versions = sorted((r.manifest_key, r.manifest_sha256) for r in releases)
    return sha256_hex(orjson.dumps([builder_digest(), data_license, base_url, versions]))


async def current_releases() -> list[Current]:
    rows = await models.ReleaseVersion.filter(release__status=ReleaseStatus.PUBLISHED).values(
        "release_id",
        "number",
        "manifest_key",
        "manifest_sha256",
        "release__current_version",
        "release__fiscal_year",
        "release__jurisdiction__code",
    )
    return sorted(
        (
            Current(
                r["release_id"],
                r["release__jurisdiction__code"],
                r["release__fiscal_year"],
                r["manifest_key"].rsplit("/", 1)[0],
                r["manifest_key"],
                r["manifest_sha256"],
            )
            for r in rows
            if r["number"] == r["release__current_version"]
        ),
        key=lambda c: c.folder,
    )


def plan(releases: Sequence[Current]) -> dict[str, tuple[str, int | None, list[Current]]]:
    """Every set (id → jurisdiction, year or None for all years, its releases)."""
    sets: dict[str, tuple[str, int | None, list[Current]]] = {}
    for release in releases:
        for year in (release.year, None):
            label = ALL_YEARS if year is None else str(year)
            ident = f"{release.jurisdiction}/{label}"
            sets.setdefault(ident, (release.jurisdiction, year, []))[2].append(release)
    return sets


async def update_bulk(
    store: ObjectStore,
    stats: SyncStats,
    *,
    base_url: str | None = None,
    data_license: str = "CC-BY-4.0",
    uploaded: Spool | None = None,
) -> Listing:
    """Bring every bulk set up to date with what is published (see the module docstring).
    `uploaded`: the objects the caller has just written, spooled to disk, not read back."""
    listing = await read_listing(store)
    wanted = plan(await current_releases())
    spool = uploaded if uploaded is not None else Spool()
    builders = _builders()
    try:
        changed = await _update_sets(
            store, stats, listing, wanted, spool, builders, base_url, data_license
        )
    finally:
        builders.shutdown(wait=True, cancel_futures=True)
        if uploaded is None:
            spool.close()
    for ident in sorted(set(listing.sets) - set(wanted)):  # nothing of it is public any more
        jurisdiction, label = ident.rsplit("/", 1)
        await _delete_under(store, set_folder(jurisdiction, label) + "/", set(), stats)
        del listing.sets[ident]
        changed = True
    if changed:
        data = listing.data()
        await store.put(BULK_MANIFEST_KEY, data, JSON_TYPE)
        stats.written += 1
        stats.bytes += len(data)
    else:
        stats.skipped += 1
    return listing


def _builders() -> ProcessPoolExecutor:
    """The processes that build the sets' files: the work is CPU (an .xlsx cell by cell, the
    ZIP's deflation, the SQLite file), so a set a core — the all-years set, as big as the years
    together, on one while the years are built on the other. Started on demand: an unchanged
    publish starts none; they exit when the publish's bulk step ends.

    Forked from a fork server, not from the publisher: the publisher has threads, and a child
    forked from it would inherit whatever lock one of them held. The server is one
    single-threaded process per publisher, started on the first fork with the publisher's code
    imported (`apart.context`; the parts of a publish in processes of their own fork from it
    too), so a builder starts with its code loaded. Spawning each builder afresh cost ~0.7 s
    of CPU in imports, twice a publish."""
    return ProcessPoolExecutor(
        _processes(),
        mp_context=apart.context(),
        initializer=apart.die_with,  # nothing left building for a publisher killed -9
        initargs=(os.getpid(),),
    )


def _processes() -> int:
    return max(1, min(BUILD_PROCESSES, os.cpu_count() or 1))


async def _update_sets(
    store: ObjectStore,
    stats: SyncStats,
    listing: Listing,
    wanted: Mapping[str, tuple[str, int | None, list[Current]]],
    spool: Spool,
    builders: ProcessPoolExecutor,
    base_url: str | None,
    data_license: str,
) -> bool:
    """Rebuild the sets whose inputs changed: as many built at once as there are builders, the
    biggest (all years) first, and each written to the store as soon as it is built."""
    objects = _ObjectCache(store, spool)
    todo: list[tuple[str, str]] = []
    for ident in sorted(wanted, key=lambda i: (wanted[i][1] is not None, i)):
        digest = inputs_digest(wanted[ident][2], data_license, base_url)
        held = listing.sets.get(ident)
        if held is not None and held["inputSha256"] == digest:
            stats.skipped += len(held["files"])
        else:
            todo.append((ident, digest))

    building: dict[asyncio.Task[tuple[str, list[BuiltFile]]], tuple[str, str]] = {}
    waiting = iter(todo)

    def start() -> None:
        while len(building) < _processes() and (item := next(waiting, None)):
            jurisdiction, year, releases = wanted[item[0]]
            task = asyncio.ensure_future(
                _build_set(objects, builders, jurisdiction, year, releases, base_url, data_license)
            )
            building[task] = item

    start()
    try:
        while building:
            done, _ = await asyncio.wait(building, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                ident, digest = building.pop(task)
                built = task.result()
                start()
                jurisdiction, year, releases = wanted[ident]
                try:
                    held = listing.sets.get(ident)
                    entry = await _write_set(store, jurisdiction, year, built, held, digest, stats)
                finally:
                    await asyncio.to_thread(_remove_files, built[1])
                entry["years"] = sorted({r.year for r in releases})
                listing.sets[ident] = entry
    finally:
        for task in building:  # a failure: the sets being built are not wanted any more
            task.cancel()
        await asyncio.gather(*building, return_exceptions=True)
    return bool(todo)


def _remove_files(files: Sequence[BuiltFile]) -> None:
    for folder in {f.path.parents[len(Path(f.name).parts) - 1] for f in files}:
        shutil.rmtree(folder, ignore_errors=True)


#: a spool's folder in the temporary directory: this prefix, the owner's pid, a random part
SPOOL_PREFIX = "gongkai-bulk-"


def remove_dead_spools(folder: Path | None = None) -> int:
    """Delete the spools that a killed publisher left (its finalizer never ran): those of
    processes no longer alive on this host. Returns how many were removed."""
    removed = 0
    for path in Path(folder or tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*-*"):
        pid = path.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        if pid.isdigit() and path.is_dir() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


class Spool:
    """Published objects' bytes on disk (a temporary folder, one file per sha256): what the
    publisher has just uploaded, kept for the bulk files without holding a district's every
    file in memory until the pointers are written. Also the scratch space where a set's files
    are built. Found by their sha256 alone, which each manifest lists: an index of keys was
    ~7 KB a release held until the bulk step, 42 MB over a city."""

    def __init__(self, root: Path | None = None) -> None:
        """`root`: another spool's folder, which this one adds to and never removes (a part
        of the publish in a process of its own adds to the publisher's spool)."""
        self._root: Path | None = root
        self._removal: weakref.finalize | None = None
        # `add` runs in worker threads, several at once: without the lock, two of them could
        # each make a folder, and the bytes one had written would be looked for in the other's
        # (a city's bulk rebuild lost a manifest that way).
        self._making = threading.Lock()

    @property
    def root(self) -> Path:
        with self._making:
            if self._root is None:
                remove_dead_spools()
                self._root = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-"))
                # removed with the spool if never closed (a publish that failed before the
                # pointers)
                self._removal = weakref.finalize(
                    self, shutil.rmtree, self._root, ignore_errors=True
                )
            return self._root

    def add(self, data: bytes, sha256: str | None = None) -> Path:
        digest = sha256 or sha256_hex(data)
        path = self.root / digest
        if not path.exists():  # releases are published in parallel: each its own partial file
            partial = path.with_name(f"{digest}.{uuid.uuid4().hex}.part")
            partial.write_bytes(data)
            os.replace(partial, path)
        return path

    def add_all(self, objects: Iterable[Rendered]) -> None:
        for item in objects:
            self.add(item.data, item.sha256)

    def path(self, sha256: str) -> Path | None:
        """Where the bytes with `sha256` are, if they are here (a file appears whole, renamed
        from its partial one)."""
        path = self.root / sha256
        return path if path.exists() else None

    def scratch(self) -> Path:
        """A new empty folder (a set's files while they are built and written)."""
        return Path(tempfile.mkdtemp(dir=self.root, prefix="set-"))

    def close(self) -> None:
        if self._removal is not None:
            self._removal()
        self._root = self._removal = None


class _ObjectCache:
    """The published objects a run reads, each once (a year's set and the all-years set share
    them), starting with what the publisher has just uploaded (the spool). An object is taken
    from the spool only with the sha256 its manifest lists: bytes another worker replaced (a
    manifest of an attempt that lost its lease) are read from the store."""

    def __init__(self, store: ObjectStore, spool: Spool) -> None:
        self.store = store
        self.spool = spool
        self.limit = asyncio.Semaphore(PARALLEL_UPLOADS)

    async def path(self, key: str, sha256: str) -> Path:
        held = self.spool.path(sha256)
        if held is not None:
            return held
        async with self.limit:
            data = await self.store.get(key)
        return await asyncio.to_thread(self.spool.add, data)

    async def get(self, key: str, sha256: str) -> bytes:
        return await asyncio.to_thread((await self.path(key, sha256)).read_bytes)


@dataclass(frozen=True)
class BuiltFile:
    name: str  # the path under the set's folder without the digest: `gongkai-x-2024.zip`
    title: str
    path: Path  # its bytes, on disk until they are written
    content_type: str
    size: int
    sha256: str

    @classmethod
    def of(cls, name: str, title: str, path: Path, content_type: str) -> BuiltFile:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return cls(name, title, path, content_type, path.stat().st_size, digest.hexdigest())


async def _build_set(
    objects: _ObjectCache,
    builders: ProcessPoolExecutor,
    jurisdiction: str,
    year: int | None,
    releases: Sequence[Current],
    base_url: str | None,
    data_license: str,
) -> tuple[str, list[BuiltFile]]:
    """Read a set's inputs and build its files (in a builder process: seconds of CPU for a
    district)."""
    members: list[tuple[str, Path]] = []
    types: dict[tuple[str, str], str] = {}
    for release in releases:
        manifest_data = await objects.get(release.manifest_key, release.manifest_sha256)
        manifest = orjson.loads(manifest_data)
        inner = release.key.split("/", 1)[1]  # <year>/<kind>/<department>
        members.append(
            (
                f"{inner}/{release.manifest_key.rsplit('/', 1)[1]}",
                await objects.path(release.manifest_key, release.manifest_sha256),
            )
        )
        entries = [e for e in manifest["objects"] if not e.get("withdrawn")]
        paths = await asyncio.gather(*(objects.path(e["key"], e["sha256"]) for e in entries))
        for entry, path in zip(entries, paths, strict=True):
            members.append((f"{inner}/{entry['path']}", path))
            if entry["path"] == manifest["datapackage"]:
                types |= _declared_types(await asyncio.to_thread(path.read_bytes))
    folder = objects.spool.scratch()
    rows = folder / ROWS_FILE
    try:
        names = await _spool_rows(releases, rows, jurisdiction)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    label = ALL_YEARS if year is None else str(year)
    demo = "【演示数据】" if names[1] else ""
    period = "历年" if year is None else f"{year}年度"
    title = f"{demo}{names[0]}{period}预算绩效信息公开数据（全部部门）"
    base = f"gongkai-{segment(jurisdiction)}-{label}"
    source = (base_url.rstrip("/") + "/index.html") if base_url else "index.html"
    try:
        files = await asyncio.get_running_loop().run_in_executor(
            builders, _build_files, folder, base, title, rows, types, members, data_license, source
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return title, files


def _build_files(
    folder: Path,
    base: str,
    title: str,
    rows: Path,
    types: Mapping[tuple[str, str], str],
    members: Sequence[tuple[str, Path]],
    data_license: str,
    source: str,
) -> list[BuiltFile]:
    """A set's tables and files, in a builder process, from its spooled rows (`_spool_rows`)."""
    files = _files(folder, base, title, spooled_tables(rows, types), members, data_license, source)
    rows.unlink()
    return files


def _files(
    folder: Path,
    base: str,
    title: str,
    tables: Sequence[Table],
    members: Sequence[tuple[str, Path]],
    data_license: str,
    source: str,
) -> list[BuiltFile]:
    """Write a set's files into `folder`."""
    from publishers.dcat import license_uri

    meta = bulk_files.datasette_metadata(
        tables,
        base,
        title=title,
        description=f"{title}。每个表一行一条记录，金额单位：元。",
        data_license=data_license,
        license_url=license_uri(data_license),
        source_url=source,
    )

    def written(name: str, title: str, content_type: str, data: bytes | None = None) -> BuiltFile:
        path = folder / name
        if data is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return BuiltFile.of(name, title, path, content_type)

    bulk_files.write_zip(members, folder / f"{base}.zip")
    bulk_files.write_tables(tables, folder, base)
    out = [
        written(f"{base}.zip", f"{title}：全部公开文件（ZIP）", bulk_files.ZIP_TYPE),
        written(f"{base}.xlsx", f"{title}：全部表格（Excel）", bulk_files.XLSX_TYPE),
        written(
            f"{base}.db", f"{title}：SQLite 数据库（可用 Datasette 打开）", bulk_files.SQLITE_TYPE
        ),
        written("metadata.json", f"{title}：Datasette 元数据", JSON_TYPE, meta),
    ]
    out += [written(f"csv/{t.stem}.csv", f"{title}：{t.title}（CSV）", CSV_TYPE) for t in tables]
    return out


def _declared_types(package: bytes) -> dict[tuple[str, str], str]:
    """(table stem, field) → type, from a data package's plain CSV resources."""
    out: dict[tuple[str, str], str] = {}
    for resource in orjson.loads(package).get("resources", []):
        path = str(resource.get("path", ""))
        if "schema" not in resource or path.endswith(".excel.csv"):
            continue
        stem = path.rsplit("/", 1)[-1].split(".")[0]
        for f in resource["schema"]["fields"]:
            out[(stem, f["name"])] = f["type"]
    return out


_ROW_FIELDS = (
    "record_type",
    "record_key",
    "fiscal_year",
    "department_code",
    "release_kind",
    "precedence",
    "data",
)


async def snapshot_rows(releases: Sequence[Current]) -> list[SnapshotRow]:
    """The current snapshot rows of the releases (a test's reference for `_spool_rows`)."""
    with tempfile.TemporaryDirectory(prefix="gongkai-rows-") as folder:
        path = Path(folder) / ROWS_FILE
        await _spool_rows(releases, path, "")
        return read_rows(path)


async def _spool_rows(releases: Sequence[Current], target: Path, code: str) -> tuple[str, bool]:
    """Write the current snapshot rows of a set's releases to `target`, one JSON array a line,
    a release at a time: the publisher never holds a set's rows (holding two city districts'
    all-years sets took it to 2 GB), and the builder reads them from disk instead of from a
    pickle of them. Returns the jurisdiction's published name and whether it
    is demo data."""
    name: tuple[str, bool] | None = None
    with target.open("wb") as out:
        for release in sorted(releases, key=lambda r: r.release_id):
            version = int(release.manifest_key.rsplit(".v", 1)[1].split(".")[0])
            rows = (
                await models.Disclosure.filter(
                    release_id=release.release_id, release_version=version
                )
                .order_by("id")
                .values_list(*_ROW_FIELDS)
            )
            lines = []
            for kind, key, year, department, release_kind, precedence, data in rows:
                row = SnapshotRow(
                    RecordType(kind),
                    key,
                    year,
                    department,
                    str(getattr(release_kind, "value", release_kind)),
                    precedence,
                    release.key,
                    data,
                )
                if name is None and row.record_type is RecordType.JURISDICTION:
                    name = str(data.get("name") or code), bool(data.get("demo"))
                lines.append(row_line(row))
            if lines:
                await asyncio.to_thread(out.write, b"\n".join(lines) + b"\n")
    return name or (code, False)


async def _write_set(
    store: ObjectStore,
    jurisdiction: str,
    year: int | None,
    built: tuple[str, list[BuiltFile]],
    held: Mapping[str, Any] | None,
    digest: str,
    stats: SyncStats,
) -> dict[str, Any]:
    """Write a rebuilt set: the files whose bytes changed, then delete the rest under its
    folder. The manifest (written by the caller) comes last: a crash before it leaves the old
    entry, whose digest differs, and the rerun rebuilds the set."""
    title, files = built
    label = ALL_YEARS if year is None else str(year)
    folder = set_folder(jurisdiction, label)
    before = {f["key"]: f["sha256"] for f in (held or {}).get("files", [])}
    entries: list[dict[str, Any]] = []
    puts: list[tuple[str, BuiltFile]] = []
    for item in files:
        key = f"{folder}/latest/{item.name}"
        if before.get(key) == item.sha256:
            stats.skipped += 1
        else:
            puts.append((key, item))
        entries.append(
            {
                "name": item.name,
                "title": item.title,
                "key": key,
                "contentType": item.content_type,
                "bytes": item.size,
                "sha256": item.sha256,
            }
        )
    period = "历年" if year is None else str(year)
    limit = asyncio.Semaphore(PARALLEL_UPLOADS)

    async def put(target: str, item: BuiltFile) -> None:
        readable = filenames.content_disposition(
            f"{period}_{jurisdiction}_{item.name.rsplit('/', 1)[-1]}",
            item.name.rsplit("/", 1)[-1],
            item.content_type,
        )
        async with limit:  # read from its file a piece at a time, never whole
            await store.put_file(
                target,
                item.path,
                item.content_type,
                {filenames.DISPOSITION_METADATA_KEY: readable},
            )
        stats.written += 1
        stats.bytes += item.size

    await asyncio.gather(*(put(target, item) for target, item in puts))
    keep = {e["key"] for e in entries}
    await _delete_under(store, folder + "/", keep, stats)
    return {
        "jurisdictionCode": jurisdiction,
        "fiscalYear": year,
        "title": title,
        "inputSha256": digest,
        "files": entries,
    }


async def _delete_under(store: ObjectStore, prefix: str, keep: set[str], stats: SyncStats) -> None:
    for key in await store.keys(prefix):
        if key not in keep:
            await store.delete(key)
            stats.deleted += 1


def by_jurisdiction(listing: Listing) -> Mapping[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ident in sorted(listing.sets):
        out[listing.sets[ident]["jurisdictionCode"]].append(listing.sets[ident])
    return out
