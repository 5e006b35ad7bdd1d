"""`gongkai backup --to DIR` and `gongkai restore --from DIR`: the database and the bucket, as
one tested command sequence (docs/operations.md, "Backups").

A backup folder holds:

    backup.json        what was backed up: the database's dialect, the migrations, the objects
    database.dump      PostgreSQL: `pg_dump -Fc` (custom format, for pg_restore)
    database.sqlite3   SQLite: an online copy through SQLite's backup API
    objects.json       every object of the store: key, bytes, sha256, content type, metadata
    objects/<key>      the objects' bytes

The database is copied first, then the store: published objects are written before the
database names them and never rewritten, so every object the dump names is in the store by the
time the store is listed (objects written in between are named by nothing and harmless).

A restore goes into an EMPTY database and an EMPTY store — it refuses anything else rather
than mix two states — checks every object's sha256 against objects.json before writing it,
and restores the database with `pg_restore` (or a SQLite copy), migrations table included.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson

from api.settings import Settings
from storage import database
from storage.objects import ObjectStore, check_key, open_store

FORMAT = 1
Say = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why."""


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://").split("?", 1)[0])


def _libpq_url(url: str) -> str:
    """A Tortoise PostgreSQL URL as libpq takes it: `postgres://`, without Tortoise's own
    query parameters (pool sizes), which pg_dump would refuse."""
    parts = urlsplit(url)
    return urlunsplit(("postgres", parts.netloc, parts.path, "", ""))


def pg_tool(name: str) -> str:
    """`pg_dump` or `pg_restore`: on the PATH, else the newest of Debian's
    /usr/lib/postgresql/<version>/bin (it must be at least the server's version)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise BackupError(f"{name} is not installed (PostgreSQL's client tools)")
    return str(candidates[-1])


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, error = await process.communicate()
    if process.returncode != 0:
        raise BackupError(
            f"{Path(command[0]).name} failed ({process.returncode}): "
            + error.decode(errors="replace").strip()
        )


def _sqlite_copy(source: Path, target: Path) -> None:
    """An online copy: consistent even while a server writes (unlike copying the file)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _store(settings: Settings) -> ObjectStore:
    return open_store(settings.store_url, settings.s3_access_key, settings.s3_secret_key)


def _new_folder(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder")
    target.mkdir(parents=True, exist_ok=True)


async def backup(settings: Settings, target: Path, say: Say) -> int:
    """Back up the database, then the store, into the new or empty folder `target`."""
    _new_folder(target)
    url = settings.database_url
    dialect = "sqlite" if url.startswith("sqlite") else "postgres"
    if dialect == "postgres":
        await _run(pg_tool("pg_dump"), "-Fc", "-f", str(target / "database.dump"), _libpq_url(url))
    else:
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"no SQLite database at {source}")
        await asyncio.to_thread(_sqlite_copy, source, target / "database.sqlite3")
    say(f"database ({dialect}) copied")
    store = _store(settings)
    folder = target / "objects"
    entries: list[dict[str, Any]] = []
    total = 0
    for info in await store.list():
        data = await store.get(info.key)
        path = folder / check_key(info.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append(
            {
                "key": info.key,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "contentType": info.content_type,
                "metadata": info.metadata,
            }
        )
        total += len(data)
    (target / "objects.json").write_bytes(orjson.dumps(entries, option=orjson.OPT_INDENT_2))
    summary = {
        "format": FORMAT,
        "createdAt": datetime.now(UTC).isoformat(),
        "database": dialect,
        "migrations": database.migration_names(),
        "objects": len(entries),
        "bytes": total,
    }
    (target / "backup.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    say(f"store copied: {len(entries)} objects, {total:,} bytes; backup in {target}")
    return 0


async def _postgres_is_empty(url: str) -> bool:
    connection = await asyncpg.connect(_libpq_url(url))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    return int(count) == 0


async def restore(settings: Settings, source: Path, say: Say) -> int:
    """Restore a backup folder into the configured database and store, both empty."""
    try:
        summary = orjson.loads((source / "backup.json").read_bytes())
        entries = orjson.loads((source / "objects.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise BackupError(f"{source} is not a gongkai backup: {error}") from None
    if summary.get("format") != FORMAT:
        raise BackupError(f"{source}: backup format {summary.get('format')!r} is not {FORMAT}")
    url = settings.database_url
    dialect = "sqlite" if url.startswith("sqlite") else "postgres"
    if dialect != summary["database"]:
        raise BackupError(
            f"the backup holds a {summary['database']} database; GONGKAI_DATABASE_URL is {dialect}"
        )
    store = _store(settings)
    if await store.keys():
        raise BackupError("the store is not empty: restore into an empty bucket or folder")
    if dialect == "postgres":
        if not await _postgres_is_empty(url):
            raise BackupError("the database is not empty: restore into a new, empty database")
    else:
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists: restore into a new database file")
    # Every object is checked before anything is written: a damaged backup restores nothing.
    objects: list[tuple[dict[str, Any], bytes]] = []
    for entry in entries:
        data = (source / "objects" / check_key(entry["key"])).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise BackupError(f"object {entry['key']} in {source} is damaged (sha256 differs)")
        objects.append((entry, data))
    if dialect == "postgres":
        await _run(
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "-d",
            _libpq_url(url),
            str(source / "database.dump"),
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_sqlite_copy, source / "database.sqlite3", path)
    say(f"database ({dialect}) restored")
    for entry, data in objects:
        await store.put(entry["key"], data, entry["contentType"], entry["metadata"] or None)
    say(
        f"store restored: {len(objects)} objects. Next: re-enter the sensitivity filings "
        "recorded after the backup and run `gongkai withdraw` before the bucket is served "
        "(docs/operations.md)"
    )
    return 0
