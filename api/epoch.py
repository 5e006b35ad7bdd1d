"""The publication epoch: a number that grows by one with every transaction that writes or
removes a release version or a correction notice (migration 0009). The snapshot rows change only
in such transactions, so a database whose epoch reads E holds exactly the public data of epoch
E — a streaming replica as well as the primary.

On PostgreSQL the server LISTENs on the primary: the notification carries the new epoch, so the
current one is known without a query. Elsewhere (SQLite), or while the listening connection is
down, every request reads it: one row.

The epoch is what the answer cache and the `ETag` of GET answers follow (api/graphql_http.py),
and what decides whether a read replica may answer (api/replicas.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient

from schema.rows import fetch

#: The channel the triggers of storage/migrations/0009_publication_epoch.py notify.
CHANNEL = "gongkai_publication"
EPOCH_SQL = "SELECT epoch FROM publication_epoch WHERE id = 1"
log = logging.getLogger(__name__)


async def read_epoch(client: BaseDBAsyncClient | None = None) -> int:
    """The epoch of the connected database (or of `client`, a replica's)."""
    if client is None:
        rows = await fetch(EPOCH_SQL, [])
    else:
        rows = list(await client.execute_query_dict(EPOCH_SQL))
    return int(rows[0]["epoch"])


class EpochWatch:
    """The current epoch of the primary, from memory while a LISTEN connection says nothing
    has moved."""

    def __init__(self) -> None:
        self._epoch: int | None = None
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

    def _moved(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._moves += 1
        # Notifications come in commit order; the payload is the epoch that commit made.
        self._epoch = int(payload) if payload.isdigit() else None
        self.moved.set()

    def _lost(self, *_: Any) -> None:
        log.warning("publication epoch: the listening connection closed; reading per request")
        self._connection = None
        self._epoch = None

    def learn(self, epoch: int) -> None:
        """An epoch seen committed elsewhere (a replica's, or the primary's read by another
        path): the current one is at least that."""
        if self.listening and self._epoch is not None and epoch > self._epoch:
            self._epoch = epoch

    async def current(self) -> int:
        if self._epoch is not None and self.listening:
            return self._epoch
        moves = self._moves
        epoch = await read_epoch()
        if self.listening and moves == self._moves:
            self._epoch = epoch
        return epoch

    async def fresh(self) -> int:
        """Read the primary's epoch now (a client has seen a newer one than memory holds)."""
        epoch = await read_epoch()
        self.learn(epoch)
        return epoch
