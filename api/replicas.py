"""Reads of the public API from streaming replicas (GONGKAI_DATABASE_READ_URL), under one rule:

    An answer holds exactly the public data of one publication epoch E, and its ETag names E.
    E is at least the newest epoch this server knows of: the one the primary last announced
    (api/epoch.py), and any a client shows in its If-None-Match.

So an answer never carries data newer than its ETag says, and never data older than a
publication or withdrawal the client has already been told of — by this server, by another
behind the same load balancer, or by a replica further ahead.

How: the epoch grows by one in every transaction that changes public data (migration 0009),
so a read that finds the same epoch E before and after its statements read the data of E (on a
replica "committed" means replayed). A replica whose epoch is below the floor has not replayed
what the primary announced: it is passed over, and the primary answers. A replica ahead of the
floor (the primary's notification has not reached us yet) answers, tagged with its own epoch.
The internal API and the publishers never come here: they use the primary.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DBConnectionError, OperationalError

from api.epoch import read_epoch
from storage import database

T = TypeVar("T")
log = logging.getLogger(__name__)
#: Reads on the primary retried when a commit lands between their epoch reads.
PRIMARY_ATTEMPTS = 3
_UNREACHABLE = (OSError, asyncpg.PostgresError, DBConnectionError, OperationalError)


class ReadRouter:
    """Chooses where a public read runs: a replica that has replayed at least the floor epoch,
    in turn, else the primary. `served` counts the answers by where they came from."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self.clients: list[tuple[str, BaseDBAsyncClient]] = []
        self._turn = 0
        self.served: Counter[str] = Counter()

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

    async def start(self) -> None:
        """Pools to the replicas (connected on first use, so a replica down at start-up is
        passed over like one that goes down later)."""
        self.clients = [
            (f"read{i}", await database.replica_client(url, f"read{i}"))
            for i, url in enumerate(self.urls)
        ]

    async def stop(self) -> None:
        clients, self.clients = self.clients, []
        for _, client in clients:
            await client.close()

    async def run(self, floor: int, work: Callable[[], Awaitable[T]]) -> tuple[T, int | None]:
        """`work`'s result and the epoch of the data it read (None: commits kept landing
        during the read on the primary; such an answer is neither tagged nor cached)."""
        start, self._turn = self._turn, (self._turn + 1) % max(len(self.clients), 1)
        for alias, client in self.clients[start:] + self.clients[:start]:
            try:
                before = await read_epoch(client)
            except _UNREACHABLE as error:
                log.warning("read replica %s unreachable (%s): passed over", alias, error)
                self.served["unreachable"] += 1
                continue
            if before < floor:  # it has not replayed what we know was published
                self.served["lagging"] += 1
                continue
            result, epoch = await self._pinned(client, before, work)
            if epoch is not None:
                self.served["replica"] += 1
                return result, epoch
            self.served["moved"] += 1  # it replayed a publication meanwhile
        primary = connections.get("default")
        for _ in range(PRIMARY_ATTEMPTS):
            result, epoch = await self._pinned(primary, await read_epoch(primary), work)
            if epoch is not None:
                break
        self.served["primary"] += 1
        return result, epoch

    @staticmethod
    async def _pinned(
        client: BaseDBAsyncClient, before: int, work: Callable[[], Awaitable[T]]
    ) -> tuple[T, int | None]:
        token = connections.set("default", client)  # this request's reads only
        try:
            result = await work()
        finally:
            connections.reset(token)
        return result, before if await read_epoch(client) == before else None
