"""The publication epoch in memory (api/epoch.py): on PostgreSQL read once, then again only
after a notification of migration 0007's triggers; on SQLite read per request. And the pool
connection that skips its reset query exactly once, after `mark_unchanged`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise import connections

from api import epoch as epoch_module
from api.epoch import EpochWatch
from storage import database, models
from storage.enums import CorrectionKind
from tests import factories


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    found: list[str] = []
    original = epoch_module.read_epoch

    async def counted() -> str:
        value = await original()
        found.append(value)
        return value

    monkeypatch.setattr(epoch_module, "read_epoch", counted)
    return found


async def test_the_epoch_is_read_again_only_after_a_notification(db: str, reads: list[str]) -> None:
    watch = EpochWatch()
    await watch.start(db)
    try:
        first = await watch.current()
        assert await watch.current() == first
        if database.dialect() != "postgres":  # no notifications: read per request
            assert not watch.listening and len(reads) == 2
            return
        assert watch.listening and len(reads) == 1  # the second came from memory
        jurisdiction = await factories.jurisdiction()
        await models.CorrectionNotice.create(
            jurisdiction=jurisdiction,
            fiscal_year=2024,
            published_at=datetime(2025, 3, 1, tzinfo=UTC),
            kind=CorrectionKind.CORRECTION,
            note="更正",
        )
        await asyncio.wait_for(watch.moved.wait(), timeout=30)
        moved = await watch.current()
        assert moved != first and len(reads) == 2
        assert await watch.current() == moved and len(reads) == 2
    finally:
        await watch.stop()
    assert await watch.current() == moved and len(reads) == 3  # stopped: read per request


async def test_a_pool_connection_skips_its_reset_once_when_marked(db: str) -> None:
    if database.dialect() != "postgres":
        pytest.skip("the connection pool and its reset query are PostgreSQL's")
    client = connections.get("default")
    async with client.acquire_connection() as connection:
        reset = connection.get_reset_query()
        assert "RESET ALL" in reset
        connection.mark_unchanged()
        assert connection.get_reset_query() == ""
        assert connection.get_reset_query() == reset  # once only
