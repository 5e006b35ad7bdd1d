"""Database configuration, start-up, shutdown and migrations. Takes URLs; reads no environment.

URLs are Tortoise's: ``sqlite://var/gongkai.sqlite3`` (relative path), ``sqlite:///abs/path``,
``postgres://user@host:5432/dbname``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.asyncpg import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as migrate_api

MODEL_MODULES = ["storage.models", "storage.identities"]
MIGRATIONS_MODULE = "storage.migrations"
APP = "models"


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A PostgreSQL connection of the pool that can skip the reset on its way back.

    The pool resets every connection it takes back (`SELECT pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`): one more round trip per statement. The public SQL path runs
    one read-only SELECT of its own making on a connection the pool handed out clean, so the
    session cannot have changed; it says so with `mark_unchanged`, and that one release skips
    the reset query (asyncpg still rolls back any open transaction and drops listeners)."""

    _unchanged = False

    def mark_unchanged(self) -> None:
        self._unchanged = True

    def get_reset_query(self) -> str:
        if self._unchanged:
            self._unchanged = False
            return ""
        return str(super().get_reset_query())


#: The aliases of read replicas' connections: ``read0``, ``read1``, … (`replica_aliases`).
READ_ALIAS = "read{}"


def _connection(db_url: str) -> str | dict[str, Any]:
    if db_url.startswith(("postgres://", "postgresql://")):
        expanded = expand_db_url(db_url)
        expanded["credentials"]["connection_class"] = PooledConnection
        return expanded
    return db_url


def tortoise_config(db_url: str, read_urls: Sequence[str] = ()) -> dict[str, Any]:
    """`read_urls`: streaming replicas, as connections of their own (`replica_aliases`); every
    model stays on the primary ("default") unless a caller routes a task's reads elsewhere."""
    connections_config = {"default": _connection(db_url)}
    for i, url in enumerate(read_urls):
        connections_config[READ_ALIAS.format(i)] = _connection(url)
    return {
        "connections": connections_config,
        "apps": {
            APP: {
                "models": MODEL_MODULES,
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        # Times are stored in UTC and shown in Asia/Shanghai (decisions.md D3).
        "use_tz": True,
        "timezone": "UTC",
    }


async def init(
    db_url: str, *, global_fallback: bool = False, read_urls: Sequence[str] = ()
) -> None:
    """Connect. `global_fallback` lets request tasks of a Starlette app see the context that
    its lifespan created (architecture.md, stack notes); `read_urls` adds replicas."""
    await Tortoise.init(
        config=tortoise_config(db_url, read_urls), _enable_global_fallback=global_fallback
    )


def replica_aliases(count: int) -> list[str]:
    return [READ_ALIAS.format(i) for i in range(count)]


async def replica_client(db_url: str, alias: str) -> BaseDBAsyncClient:
    """A connection pool to a read replica, outside Tortoise's configuration: with a second
    configured connection every `in_transaction()` would have to name its connection. The
    public API routes a request's reads to it for that request only (api/replicas.py)."""
    expanded = expand_db_url(db_url)
    credentials = {**expanded["credentials"], "connection_class": PooledConnection}
    client: BaseDBAsyncClient = AsyncpgDBClient(connection_name=alias, **credentials)
    return client


async def close() -> None:
    await Tortoise.close_connections()


async def migrate(db_url: str) -> None:
    """Apply every pending migration (creates the database file or tables as needed)."""
    try:
        await migrate_api(config=tortoise_config(db_url))
    finally:
        # Also after a failure: an open connection would keep the process from exiting.
        await Tortoise.close_connections()


@asynccontextmanager
async def connected(db_url: str) -> AsyncIterator[None]:
    await init(db_url)
    try:
        yield
    finally:
        await close()


async def ping() -> None:
    """A trivial query, for health checks; raises if the database is unreachable."""
    await connections.get("default").execute_query("SELECT 1")


def migration_names() -> list[str]:
    """The migrations this code ships (`storage/migrations/NNNN_*.py`), in order."""
    package = importlib.import_module(MIGRATIONS_MODULE)
    return sorted(
        module.name
        for module in pkgutil.iter_modules(package.__path__)
        if re.fullmatch(r"\d{4}_\w+", module.name)
    )


async def pending_migrations() -> list[str]:
    """The migrations this code ships that the database has not applied (readiness: a server
    must not answer from a schema older than its code)."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT name FROM tortoise_migrations"
    )
    applied = {row["name"] for row in rows}
    return [name for name in migration_names() if name not in applied]


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, …`` (no ``?`` appears in our SQL's text)."""
    pieces = sql.split("?")
    return "".join(f"{piece}${i}" for i, piece in enumerate(pieces[:-1], 1)) + pieces[-1]


def dialect() -> str:
    """'sqlite' or 'postgres', of the default connection."""
    return str(connections.get("default").capabilities.dialect)


#: For `tortoise -c storage.database.TORTOISE_ORM makemigrations`: autodetection compares the
#: models with the migration files, so an in-memory database is enough.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
