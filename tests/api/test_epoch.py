"""The publication epoch in memory (api/epoch.py): on PostgreSQL read once, then taken from the
notifications of migration 0009's triggers, which carry it; on SQLite read per request. And the pool
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
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    found: list[int] = []
    original = epoch_module.read_epoch

    async def counted(client: object = None) -> int:
        value = await original()
        found.append(value)
        return value

    monkeypatch.setattr(epoch_module, "read_epoch", counted)
    return found


async def test_the_epoch_comes_with_the_notification(db: str, reads: list[int]) -> None:
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
        assert moved == first + 1 and len(reads) == 1  # the notification said which
        assert await watch.current() == moved and len(reads) == 1
    finally:
        await watch.stop()
    assert await watch.current() == moved and len(reads) == 2  # stopped: read per request


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


async def test_one_transaction_raises_the_epoch_once_and_every_write_raises_it(db: str) -> None:
    """Migration 0009: the epoch grows by exactly one per transaction that writes versions or
    notices, however many rows it writes, and by nothing else."""
    from tortoise.transactions import in_transaction

    from api.epoch import read_epoch

    jurisdiction = await factories.jurisdiction()
    start = await read_epoch()
    await factories.department(jurisdiction)  # not a publication
    assert await read_epoch() == start

    def notice() -> models.CorrectionNotice:
        return models.CorrectionNotice(
            jurisdiction=jurisdiction,
            fiscal_year=2024,
            published_at=datetime(2025, 3, 1, tzinfo=UTC),
            kind=CorrectionKind.CORRECTION,
            note="更正",
        )

    async with in_transaction() as connection:
        await notice().save(using_db=connection)
        await notice().save(using_db=connection)
        await models.CorrectionNotice.filter(note="更正").using_db(connection).update(note="改")
    raised = await read_epoch()
    if database.dialect() == "postgres":
        assert raised == start + 1  # once, at the commit
    else:
        assert raised == start + 4  # SQLite: once per row written (it only has to grow)
    await models.CorrectionNotice.filter(note="改").delete()
    assert await read_epoch() > raised
