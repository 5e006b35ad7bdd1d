"""The embedded object store: a folder on the local disk, laid out as the keys say.

The folder is served as the open-data site (the ``/open/`` route), so object files sit exactly at
their keys and nothing else is mixed in beside them: content type, sha256 and user metadata of
``KEY`` live in ``.gongkai-meta/KEY.json`` at the root, and writes go through hidden temporary
files. Keys may not use the reserved ``.gongkai-`` segments (`check_key`), so neither can clash
with an object.

A write replaces the data file atomically (temporary file, fsync, `os.replace`), then its
metadata. A crash between the two leaves new bytes with the old (or no) sha256, which an
incremental publish sees as changed and rewrites — never the reverse, which would skip a write.
File I/O runs in a worker thread so that the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import stat as stat_module
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, TypeVar

from storage.objects import (
    FILE_CHUNK,
    RESERVED_SEGMENT_PREFIX,
    ObjectInfo,
    ObjectNotFound,
    StoreError,
    check_key,
    check_prefix,
    check_put,
    file_info,
    sha256_hex,
)

META_DIR = f"{RESERVED_SEGMENT_PREFIX}meta"
_TMP_PREFIX = f"{RESERVED_SEGMENT_PREFIX}tmp-"
#: This process's temporary files: ``.gongkai-tmp-HOST~PID~random``, so that a later process on
#: the same host can tell a dead writer's file from one still being written.
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())
#: A temporary file this old belongs to no write in flight: its writer died.
STALE_TEMPORARY = timedelta(minutes=10)
#: Published files must be readable by whatever web server serves the folder.
_FILE_MODE = 0o644
_DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: What opening a key that is missing, or is a folder of other keys, raises.
_ABSENT = (FileNotFoundError, NotADirectoryError, IsADirectoryError)

T = TypeVar("T")


class LocalObjectStore:
    """Objects as files under `root`; created on first use."""

    def __init__(
        self, root: str | os.PathLike[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.root = Path(root)
        #: Seconds since the epoch, compared with files' modification times (tests set it).
        self.clock = clock

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    async def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        user = check_put(key, content_type, metadata)
        info = ObjectInfo(key, len(data), sha256_hex(data), content_type, user)

        def write() -> None:
            _write_atomically(self._path(key), data)
            _write_atomically(self._meta_path(key), _sidecar(info))

        await self._run("put", key, write)
        return info

    async def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        user = check_put(key, content_type, metadata)

        def write() -> ObjectInfo:
            info = file_info(key, path, content_type, user)
            with path.open("rb") as source:
                _replace_atomically(
                    self._path(key), lambda out: shutil.copyfileobj(source, out, FILE_CHUNK)
                )
            _write_atomically(self._meta_path(key), _sidecar(info))
            return info

        return await self._run("put", key, write)

    async def get(self, key: str) -> bytes:
        check_key(key)

        def read() -> bytes:
            try:
                return self._path(key).read_bytes()
            except _ABSENT:
                raise ObjectNotFound(f"no object {key!r} in {self.root}") from None

        return await self._run("get", key, read)

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        return await self._run("stat", key, lambda: self._stat(key))

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        check_prefix(prefix)

        def scan() -> list[ObjectInfo]:
            infos = (self._stat(key) for key in _keys_under(self.root, prefix))
            return sorted((info for info in infos if info), key=lambda info: info.key)

        return await self._run("list", prefix, scan)

    async def keys(self, prefix: str = "") -> Sequence[str]:
        check_prefix(prefix)
        return sorted(await self._run("keys", prefix, lambda: _keys_under(self.root, prefix)))

    async def delete(self, key: str) -> None:
        check_key(key)

        def remove() -> None:
            # Data first: a crash in between leaves an orphaned sidecar, which `stat` ignores.
            # Folders named after the key (a project's code, a release's path) go with it.
            for path, top in (
                (self._path(key), self.root),
                (self._meta_path(key), self.root / META_DIR),
            ):
                with contextlib.suppress(*_ABSENT):
                    path.unlink()
                _prune_empty_parents(path, top)

        await self._run("delete", key, remove)

    async def purge_history(self) -> int:
        """Remove the temporary files that a killed writer left (older than
        `STALE_TEMPORARY`, so that a write in flight is never touched) and every empty
        folder, in the objects' tree and in the metadata's. A folder keeps no versions."""
        cutoff = self.clock() - STALE_TEMPORARY.total_seconds()

        def purge() -> int:
            removed = 0
            if not self.root.is_dir():
                return 0
            for dirpath, _dirnames, filenames in os.walk(self.root, topdown=False):
                folder = Path(dirpath)
                removed += _remove_abandoned_files(folder, filenames, cutoff)
                if folder not in (self.root, self.root / META_DIR):
                    with contextlib.suppress(OSError):  # not empty, or gone already
                        folder.rmdir()
                        removed += 1
            return removed

        return await self._run("purge history", "", purge)

    async def remove_abandoned(self, prefix: str = "") -> int:
        """Remove the temporary files under `prefix` (and its metadata) whose writer is gone: a
        process of this host that no longer runs, or any writer older than `STALE_TEMPORARY`."""
        cutoff = self.clock() - STALE_TEMPORARY.total_seconds()

        def remove() -> int:
            removed = 0
            for top in (self.root / prefix, self.root / META_DIR / prefix):
                for dirpath, _dirnames, filenames in os.walk(top):
                    removed += _remove_abandoned_files(Path(dirpath), filenames, cutoff)
            return removed

        return await self._run("remove abandoned", prefix, remove)

    async def check(self) -> None:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StoreError(f"object store folder {self.root} is not writable")

        await self._run("check", "", probe)

    def _path(self, key: str) -> Path:
        return self.root / key

    def _meta_path(self, key: str) -> Path:
        return self.root / META_DIR / f"{key}.json"

    def _stat(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat_module.S_ISREG(st.st_mode):
            return None
        try:
            sidecar = json.loads(self._meta_path(key).read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            # A file put there by hand, or a first write interrupted before its metadata.
            return ObjectInfo(key, st.st_size, None, _DEFAULT_CONTENT_TYPE)
        return ObjectInfo(
            key, st.st_size, sidecar["sha256"], sidecar["content_type"], sidecar["metadata"]
        )

    async def _run(self, operation: str, key: str, work: Callable[[], T]) -> T:
        """Run blocking file work in a thread; OS errors become `StoreError`."""
        try:
            return await asyncio.to_thread(work)
        except OSError as exc:
            raise StoreError(f"{operation} {key!r} in {self.root} failed: {exc}") from exc


def _keys_under(root: Path, prefix: str) -> list[str]:
    """Keys of the regular files under `prefix`, skipping the store's own files. The walk
    starts at the prefix's folder rather than the root."""
    folder = prefix.rpartition("/")[0]
    keys = []
    for dirpath, dirnames, filenames in os.walk(root / folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(RESERVED_SEGMENT_PREFIX)]
        relative = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            key = name if relative == "." else f"{relative}/{name}"
            if key.startswith(prefix) and not name.startswith(RESERVED_SEGMENT_PREFIX):
                keys.append(key)
    return keys


def _prune_empty_parents(path: Path, top: Path) -> None:
    """Remove the folders above `path` that are empty now, up to (not including) `top`."""
    folder = path.parent
    while folder != top and top in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): the folders above are not empty either
            return
        folder = folder.parent


def _remove_abandoned_files(folder: Path, names: list[str], cutoff: float) -> int:
    removed = 0
    for name in names:
        if not name.startswith(_TMP_PREFIX):
            continue
        path = folder / name
        with contextlib.suppress(FileNotFoundError):  # renamed into place meanwhile
            if _writer_is_gone(name) or path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def _writer_is_gone(name: str) -> bool:
    """True for a temporary file of a process of this host that no longer runs. A file of
    another host, or of an older layout, is judged by its age only."""
    host, _, rest = name.removeprefix(_TMP_PREFIX).partition("~")
    pid, _, _random = rest.partition("~")
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """Whether a process has exited but was not reaped yet: it writes nothing any more. A
    publish's part (publishers/apart.py) killed with its publisher stays one until its parent,
    the fork server, or whoever inherits it reaps it, which in a container may be never."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile, or no /proc (not Linux): judged by age then
        return False
    # The state follows the command name, which is in parentheses and may hold any character.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _sidecar(info: ObjectInfo) -> bytes:
    """The metadata file written beside an object: its content type, sha256 and user metadata."""
    sidecar = {"content_type": info.content_type, "sha256": info.sha256, "metadata": info.metadata}
    return json.dumps(sidecar, ensure_ascii=False, sort_keys=True).encode()


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader or a crash sees the old bytes or the new."""
    _replace_atomically(path, lambda out: out.write(data))


def _replace_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Replace `path` with what `write` writes, so that a reader or a crash sees the old bytes
    or the new."""
    for attempt in range(3):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            prefix = f"{_TMP_PREFIX}{_HOST}~{os.getpid()}~"
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix)
            break
        except FileNotFoundError:  # a delete pruned the folder between the two calls
            if attempt == 2:
                raise
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
