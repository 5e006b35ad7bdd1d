"""The publication epoch kept in memory: on PostgreSQL the server LISTENs for the notification
that the triggers of migration 0007 send whenever a release version is written or removed or a
correction notice is written, and reads the epoch again only then. Elsewhere (SQLite), or while
the listening connection is down, every request reads it: a few rows.

The epoch is what the answer cache and the `ETag` of GET answers follow (api/graphql_http.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from schema.rows import fetch

#: The channel the triggers of storage/migrations/0007_publication_notify.py notify.
CHANNEL = "gongkai_publication"
log = logging.getLogger(__name__)


async def read_epoch() -> str:
    """Changes whenever a release version is published, a version row goes (withdrawal), or a
    correction notice is written."""
    rows = await fetch(
        "SELECT (SELECT COUNT(*) FROM release_version) AS versions,"
        " (SELECT COALESCE(MAX(id), 0) FROM release_version) AS last_version,"
        " (SELECT COUNT(*) FROM correction_notice) AS notices",
        [],
    )
    row = rows[0]
    return f"{row['versions']}.{row['last_version']}.{row['notices']}"


class EpochWatch:
    """The current epoch, from memory while a LISTEN connection says nothing has moved."""

    def __init__(self) -> None:
        self._epoch: str | None = None
        self._moves = 0  # notifications seen: an epoch read across one is not kept
        self._connection: asyncpg.Connection | None = None
        #: Set by every notification (tests wait on it instead of sleeping).
        self.moved = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def start(self, database_url: str) -> None:
        """Listen on PostgreSQL; on other databases (or if it fails) read per request."""
        if not database_url.startswith(("postgres://", "postgresql://")):
            return
        try:
            connection = await asyncpg.connect(database_url)
            await connection.add_listener(CHANNEL, self._moved)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("publication epoch: not listening (%s); reading it per request", error)
            return
        connection.add_termination_listener(self._lost)
        self._connection = connection

    async def stop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.remove_termination_listener(self._lost)
            await connection.close()

    def _moved(self, *_: Any) -> None:
        self._moves += 1
        self._epoch = None
        self.moved.set()

    def _lost(self, *_: Any) -> None:
        log.warning("publication epoch: the listening connection closed; reading per request")
        self._connection = None
        self._epoch = None

    async def current(self) -> str:
        if self._epoch is not None and self.listening:
            return self._epoch
        moves = self._moves
        epoch = await read_epoch()
        if self.listening and moves == self._moves:
            self._epoch = epoch
        return epoch
