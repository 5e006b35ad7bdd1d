"""Test databases: every test session runs against one backend, in databases it creates and drops.

``GONGKAI_TEST_DB=sqlite`` (the default) or ``postgres``. The session migrates one template
database; each test that asks for `db` gets a fresh copy (a file copy on SQLite, ``CREATE
DATABASE … TEMPLATE`` on PostgreSQL, decisions.md D18) that is dropped afterwards. With
``GONGKAI_TEST_DB=postgres`` an unreachable server fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bench.moto import moto_server
from publishers.releases import Batch, Publisher
from storage import database, models
from storage.objects import open_store
from storage.objects.s3 import S3ObjectStore

BACKEND = os.environ.get("GONGKAI_TEST_DB", "sqlite")
PG_SERVER = os.environ.get("GONGKAI_TEST_PG", "postgres://postgres@127.0.0.1:5432")
RUN_ID = uuid.uuid4().hex[:8]

if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"GONGKAI_TEST_DB must be sqlite or postgres, not {BACKEND!r}")


def pytest_report_header() -> str:
    return f"gongkai test database: {BACKEND}" + (
        f" at {PG_SERVER}" if BACKEND == "postgres" else ""
    )


class Databases:
    """Creates and drops the databases of one test session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = 0

    def url(self, name: str) -> str:
        if BACKEND == "sqlite":
            return f"sqlite://{self.workdir / name}.sqlite3"
        return f"{PG_SERVER}/{name}"

    async def admin(self, sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_empty(self, name: str) -> str:
        if BACKEND == "postgres":
            await self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    async def copy(self, template: str) -> str:
        self.counter += 1
        name = f"gk_{RUN_ID}_{self.counter}"
        if BACKEND == "sqlite":
            source, target = (self.workdir / f"{n}.sqlite3" for n in (template, name))
            shutil.copyfile(source, target)
        else:
            await self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    async def drop(self, url: str) -> None:
        if BACKEND == "sqlite":
            Path(url.removeprefix("sqlite://")).unlink(missing_ok=True)  # noqa: ASYNC240 (tiny)
        else:
            name = url.rsplit("/", 1)[-1]
            await self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``host:port`` of moto's standalone S3 server on loopback, started once per session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    yield Databases(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
async def migrated_template(databases: Databases) -> AsyncIterator[str]:
    """The name of a database with every migration applied and no rows."""
    name = f"gk_{RUN_ID}_template"
    url = await databases.create_empty(name)
    await database.migrate(url)
    yield name
    await databases.drop(url)


#: D18: the district data set on PostgreSQL, the town on SQLite (which serialises every query).
DEMO_SCALE = "district" if BACKEND == "postgres" else "town"


@pytest.fixture(scope="session")
async def demo_template(databases: Databases, migrated_template: str) -> AsyncIterator[str]:
    """The name of a database holding the demo data set (seed 1), built once per session."""
    from api.demo import generate

    url = await databases.copy(migrated_template)
    async with database.connected(url):
        await generate(DEMO_SCALE, seed=1)
    yield url.rsplit("/", 1)[-1].removesuffix(".sqlite3")
    await databases.drop(url)


@dataclass
class PublishedDemo:
    """The demo data set published once to S3 (moto), shared by the tests that read it (D18)."""

    url: str
    store: S3ObjectStore
    batch: Batch
    seconds: float
    _objects: dict[str, bytes] | None = None

    async def objects(self) -> dict[str, bytes]:
        """Every object in the store, fetched once (in parallel) and shared by the tests that
        scan them."""
        if self._objects is None:
            # Names straight from the bucket listing: `store.list()` would also fetch every
            # object's metadata, one request each.
            listing = await asyncio.to_thread(
                lambda: list(self.store.client.list_objects(self.store.bucket, recursive=True))
            )
            keys = sorted(str(item.object_name) for item in listing)
            limit = asyncio.Semaphore(8)

            async def fetch(key: str) -> bytes:
                async with limit:
                    return await self.store.get(key)

            values = await asyncio.gather(*(fetch(k) for k in keys))
            self._objects = dict(zip(keys, values, strict=True))
        return self._objects


@pytest.fixture(scope="session")
async def published_demo(
    databases: Databases, demo_template: str, moto_endpoint: str
) -> AsyncIterator[PublishedDemo]:
    from api.cli import history_time

    url = await databases.copy(demo_template)
    store = open_store(f"s3+http://{moto_endpoint}/gk-demo-{RUN_ID}", "test", "test-secret")
    assert isinstance(store, S3ObjectStore)
    await store.ensure_bucket()
    async with database.connected(url):
        ids = [r.id for r in await models.Release.all().order_by("id")]
        releases = {r.id: r for r in await models.Release.all()}
        started = time.perf_counter()
        batch = await Publisher(store).publish_many(
            ids, as_of=lambda r: history_time(releases[r.id])
        )
        seconds = time.perf_counter() - started
    yield PublishedDemo(url, store, batch, seconds)
    await databases.drop(url)


@pytest.fixture
async def db(databases: Databases, migrated_template: str) -> AsyncIterator[str]:
    """A fresh, migrated, empty database with Tortoise connected to it; yields its URL."""
    url = await databases.copy(migrated_template)
    await database.init(url, global_fallback=True)
    try:
        yield url
    finally:
        await database.close()
        await databases.drop(url)
