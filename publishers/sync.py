"""Sync: the only module that writes to the object store.

Data and report objects have content-addressed names, so a key that an earlier manifest lists
with the same sha256 is already there and is skipped without asking the store. Pointer objects
(the catalog) are compared with what the store holds and written only when their bytes change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from publishers.render import Rendered, sha256_hex
from storage.objects import ObjectStore

#: Uploads in flight at once: the minio SDK blocks, each call takes a worker thread.
PARALLEL_UPLOADS = 8


@dataclass
class SyncStats:
    written: int = 0
    bytes: int = 0
    skipped: int = 0
    deleted: int = 0

    def add(self, other: SyncStats) -> None:
        self.written += other.written
        self.bytes += other.bytes
        self.skipped += other.skipped
        self.deleted += other.deleted


async def upload_objects(
    store: ObjectStore,
    folder: str,
    objects: Sequence[Rendered],
    known: Mapping[str, str],
    stats: SyncStats,
    metadata: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Put every object under `folder` unless `known` (key → sha256) says it is there;
    `metadata` by an object's path (its Content-Disposition, `publishers/filenames.py`)."""
    pending = [o for o in objects if known.get(f"{folder}/{o.path}") != o.sha256]
    stats.skipped += len(objects) - len(pending)
    limit = asyncio.Semaphore(PARALLEL_UPLOADS)

    async def put(item: Rendered) -> None:
        async with limit:
            extra = (metadata or {}).get(item.path)
            await store.put(f"{folder}/{item.path}", item.data, item.content_type, extra)
        stats.written += 1
        stats.bytes += item.size

    # Fail fast: the first error cancels the rest and the publish stops before its manifest.
    try:
        async with asyncio.TaskGroup() as group:
            for item in pending:
                group.create_task(put(item))
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None


async def put_if_changed(
    store: ObjectStore, key: str, data: bytes, content_type: str, stats: SyncStats
) -> bool:
    """Write a pointer object only when the store holds other bytes (or nothing)."""
    info = await store.stat(key)
    if info is not None and info.sha256 == sha256_hex(data):
        stats.skipped += 1
        return False
    await store.put(key, data, content_type)
    stats.written += 1
    stats.bytes += len(data)
    return True
