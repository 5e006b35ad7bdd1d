"""A store that passes every call through to another: the base of the test doubles that watch
a real store's writes (recording them, or killing the process at one)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

from storage.objects import ObjectInfo, ObjectStore


class PassThroughStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        return await self.store.put(key, data, content_type, metadata)

    async def put_file(
        self, key: str, path: Path, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        """`put` of the file's bytes, so that a double watching `put` sees these writes too."""
        return await self.put(key, await asyncio.to_thread(path.read_bytes), content_type, metadata)

    async def get(self, key: str) -> bytes:
        return await self.store.get(key)

    async def stat(self, key: str) -> ObjectInfo | None:
        return await self.store.stat(key)

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        return await self.store.list(prefix)

    async def keys(self, prefix: str = "") -> Sequence[str]:
        return await self.store.keys(prefix)

    async def delete(self, key: str) -> None:
        await self.store.delete(key)

    async def remove_abandoned(self, prefix: str = "") -> int:
        return await self.store.remove_abandoned(prefix)

    async def purge_history(self) -> int:
        return await self.store.purge_history()

    async def check(self) -> None:
        await self.store.check()
