"""The in-memory double of `ObjectStore`, for tests: same rules, no I/O.

`fail_on(operation, key)` lets a test make any call fail with `StoreError` — an outage at a
chosen step of a publish — before the call changes anything (invariant 3's crash tests).
Operations are named after the methods; `list` passes its prefix as the key, `check` passes "".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from storage.objects import (
    ObjectInfo,
    ObjectNotFound,
    StoreError,
    check_key,
    check_prefix,
    check_put,
    sha256_hex,
)

FailOn = Callable[[str, str], bool]


class MemoryObjectStore:
    """Objects in a dict; `puts` counts writes, so tests can assert that a rerun wrote none."""

    def __init__(self, fail_on: FailOn | None = None) -> None:
        self.fail_on = fail_on
        self.puts = 0
        self._objects: dict[str, tuple[bytes, ObjectInfo]] = {}

    def __repr__(self) -> str:
        return f"MemoryObjectStore({len(self._objects)} objects)"

    async def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        user = check_put(key, content_type, metadata)
        self._maybe_fail("put", key)
        info = ObjectInfo(key, len(data), sha256_hex(data), content_type, user)
        self._objects[key] = (data, info)
        self.puts += 1
        return _copy(info)

    async def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """`put` of the file's bytes: this store holds every object's bytes anyway."""
        return await self.put(key, await asyncio.to_thread(path.read_bytes), content_type, metadata)

    async def get(self, key: str) -> bytes:
        check_key(key)
        self._maybe_fail("get", key)
        try:
            return self._objects[key][0]
        except KeyError:
            raise ObjectNotFound(f"no object {key!r} in memory") from None

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        self._maybe_fail("stat", key)
        stored = self._objects.get(key)
        return _copy(stored[1]) if stored else None

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        check_prefix(prefix)
        self._maybe_fail("list", prefix)
        return [
            _copy(info)
            for key, (_, info) in sorted(self._objects.items())
            if key.startswith(prefix)
        ]

    async def keys(self, prefix: str = "") -> Sequence[str]:
        check_prefix(prefix)
        self._maybe_fail("keys", prefix)
        return sorted(key for key in self._objects if key.startswith(prefix))

    async def delete(self, key: str) -> None:
        check_key(key)
        self._maybe_fail("delete", key)
        self._objects.pop(key, None)

    async def purge_history(self) -> int:
        """Memory keeps no versions and no folders."""
        self._maybe_fail("purge_history", "")
        return 0

    async def remove_abandoned(self, prefix: str = "") -> int:
        """A memory write cannot be half done."""
        self._maybe_fail("remove_abandoned", prefix)
        return 0

    async def check(self) -> None:
        self._maybe_fail("check", "")

    def _maybe_fail(self, operation: str, key: str) -> None:
        if self.fail_on is not None and self.fail_on(operation, key):
            raise StoreError(f"injected failure: {operation} {key!r}")


def _copy(info: ObjectInfo) -> ObjectInfo:
    """A copy whose metadata dict the caller may change without changing the store."""
    return replace(info, metadata=dict(info.metadata))
