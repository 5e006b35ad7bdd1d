"""Public reads from a real streaming replica (api/replicas.py; issue 18), under the rule:

    An answer holds exactly the public data of one publication epoch E, and its ETag names E;
    E is at least the newest epoch the server knows of — the primary's announcement, and any a
    client shows in its If-None-Match.

A primary and a replica made with pg_basebackup on ports of their own (tests/replication.py),
started once per session. The replica is held back with `pg_wal_replay_pause()` — a lag as
long as the test wants, with no timing involved — while the primary withdraws a department.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.graphql_http import seen_epoch
from api.settings import Settings
from publishers.releases import Publisher
from storage import database, models, records
from storage.enums import FilingReason, FilingScope
from storage.objects.memory import MemoryObjectStore
from tests.conftest import BACKEND, RUN_ID
from tests.publishers import dataset
from tests.publishers.test_releases import NOW
from tests.replication import Pair, primary_and_replica, server_binaries

DEPARTMENTS = "{ departments(first: 10) { nodes { code name } } }"
SUBJECTS = "{ subjects(first: 10) { nodes { key name } } }"
WITHDRAWN = "PUBD0X"  # the department filed whole after publication


@pytest.fixture(scope="session")
def replication() -> Iterator[Pair]:
    if BACKEND != "postgres":
        pytest.skip("SKIPPED: read replicas are PostgreSQL's (GONGKAI_TEST_DB=postgres runs them)")
    binaries = server_binaries()
    if binaries is None:
        message = "the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are missing"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}: CI requires the replica tests")
        pytest.skip(f"SKIPPED: {message}; set GONGKAI_PG_BIN to their folder")
    with primary_and_replica(binaries) as pair:
        yield pair


@pytest.fixture
async def primary_db(replication: Pair) -> AsyncIterator[str]:
    """A migrated database on the session's primary (and so, once replayed, on its replica)."""
    name = f"gk_{RUN_ID}_replicated"
    admin = await asyncpg.connect(f"{replication.primary}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await database.migrate(f"{replication.primary}/{name}")
    yield name


def epoch_of(answer: httpx.Response) -> int:
    found = re.fullmatch(r'"e(\d+)-[0-9a-f]{32}"', answer.headers["etag"])
    assert found, answer.headers
    return int(found.group(1))


def codes(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {n["code"] for n in answer.json()["data"]["departments"]["nodes"]}


@pytest.mark.postgres  # its clusters are its own, not the session's `databases`
async def test_an_answer_holds_its_etags_epoch_and_nothing_older_than_the_client_saw(
    replication: Pair, primary_db: str, tmp_path: Path
) -> None:
    url = f"{replication.primary}/{primary_db}"
    store = MemoryObjectStore()
    async with database.connected(url):
        built = await dataset.build(dataset.Plan(departments=2, projects=1))
        publisher = Publisher(store, worker="test", clock=lambda: NOW)
        await publisher.publish_many([r.id for r in built.releases])
    await replication.replayed()

    settings = Settings(
        database_url=url,
        database_read_urls=(f"{replication.replica}/{primary_db}",),
        store_url=f"file://{tmp_path / 'store'}",
    )
    app = create_app(settings)
    router, watch = app.state.replicas, app.state.epoch
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://test"
        ) as client,
    ):
        first = await client.get("/graphql", params={"query": DEPARTMENTS})
        published = epoch_of(first)
        assert WITHDRAWN in codes(first)
        assert router.served["replica"] == 1 and router.served["primary"] == 0

        # The replica stops replaying; on the primary the department is filed and withdrawn.
        await replication.replica_sql("SELECT pg_wal_replay_pause()")
        watch.moved.clear()
        department = await models.Department.get(code=WITHDRAWN)
        await records.file_filing(
            department,
            fiscal_year=dataset.YEAR,
            scope=FilingScope.WHOLE_DEPARTMENT,
            reason=FilingReason.CLASSIFIED,
            reference="补备0",
            filed_with="测试区财政局",
            filed_at=NOW.date(),
        )
        later = NOW + timedelta(days=2)
        await Publisher(store, worker="test", clock=lambda: later).withdraw()
        while await watch.current() == published:  # the notification, however late
            await watch.moved.wait()
            watch.moved.clear()
        withdrawn = await watch.current()
        assert withdrawn > published

        # Announced: the lagging replica is passed over, the primary answers.
        second = await client.get("/graphql", params={"query": DEPARTMENTS})
        assert (epoch_of(second), WITHDRAWN in codes(second)) == (withdrawn, False)
        assert router.served["lagging"] == 1 and router.served["primary"] == 1

        # A server that has not heard of it yet (its notification still on the way), asked by
        # a client that has: the client's ETag says which epoch it saw, and it is still current.
        watch._epoch = published
        third = await client.get(
            "/graphql",
            params={"query": DEPARTMENTS},
            headers={"if-none-match": second.headers["etag"]},
        )
        assert third.status_code == 304 and epoch_of(third) == withdrawn
        # ... and a new question of that client: never from the replica still before it.
        watch._epoch = published
        fourth = await client.get(
            "/graphql",
            params={"query": SUBJECTS},
            headers={"if-none-match": second.headers["etag"]},
        )
        assert epoch_of(fourth) == withdrawn and WITHDRAWN not in fourth.text
        assert router.served["lagging"] == 2 and router.served["primary"] == 2

        # A client that saw nothing newer, at that server: the data of the epoch it knows,
        # named so — the department is there, and the ETag says it is epoch `published`.
        watch._epoch = published
        fifth = await client.get("/graphql", params={"query": DEPARTMENTS})
        assert (epoch_of(fifth), WITHDRAWN in codes(fifth)) == (published, True)

        # The replica catches up; a server behind it gets newer data than it knew of, and the
        # ETag names the replica's epoch, not the server's older one.
        await replication.replica_sql("SELECT pg_wal_replay_resume()")
        await replication.replayed()
        watch._epoch = published
        replica_before = router.served["replica"]
        sixth = await client.get(
            "/graphql", params={"query": "{ departments(first: 9) { nodes { code } } }"}
        )
        assert epoch_of(sixth) == withdrawn and WITHDRAWN not in sixth.text
        assert router.served["replica"] == replica_before + 1
        assert await watch.current() == withdrawn  # and the server learned it


@pytest.mark.parametrize(
    ("header", "epoch"),
    [
        ("", 0),
        ('"e7-0123"', 7),
        ('W/"e7-a", "e12-b"', 12),
        ('"7-a", "e-1-b", *', 0),
        ('"e' + "9" * 19 + '-a"', 0),  # longer than any epoch: not ours
    ],
)
def test_the_epoch_a_client_saw_is_read_from_its_etags(header: str, epoch: int) -> None:
    assert seen_epoch(header) == epoch
