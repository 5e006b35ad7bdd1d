"""Test databases: every test session runs against one backend, in databases it creates and drops.

``GONGKAI_TEST_DB=sqlite`` (the default) or ``postgres``. The session migrates one template
database; each test that asks for `db` gets a fresh copy (a file copy on SQLite, ``CREATE
DATABASE … TEMPLATE`` on PostgreSQL, decisions.md D18) that is dropped afterwards. With
``GONGKAI_TEST_DB=postgres`` an unreachable server fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import hashlib
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import pytest

from bench.moto import moto_server
from publishers.releases import Batch, Publisher
from publishers.signing import write_key_file
from storage import database, models
from storage.objects import ObjectInfo, open_store
from storage.objects.s3 import S3ObjectStore
from tests.publishers.dataset import SIGNER
from tests.stores import PassThroughStore

BACKEND = os.environ.get("GONGKAI_TEST_DB", "sqlite")
PG_SERVER = os.environ.get("GONGKAI_TEST_PG", "postgres://postgres@127.0.0.1:5432")
RUN_ID = uuid.uuid4().hex[:8]
T = TypeVar("T")

if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"GONGKAI_TEST_DB must be sqlite or postgres, not {BACKEND!r}")


#: `make test` runs each backend's suite as two processes, so that two cores share the four
#: (while one waits on a child process or the database, another runs): ``demo`` — the tests
#: that read the demo data set (its generation and its publish take minutes at district scale,
#: once per process) — and ``rest``. Unset: every test.
#:
#: A PostgreSQL shard also leaves out the tests that use no database — no `databases` fixture,
#: directly or through another, and no ``postgres`` mark: what they check cannot depend on the
#: backend, and the SQLite run has run them already. They are about half the tests (890 of
#: 1,701: the rules, the object stores, the settings, the tokens).
SHARD = os.environ.get("GONGKAI_TEST_SHARD", "")


def _signing_key_file() -> str:
    """Every publisher of the tests — in this process (`dataset.SIGNER`) and the `gongkai`
    processes they start (`GONGKAI_SIGNING_KEY_FILE`) — signs with one key, so that they can
    share a bucket (a second key would be refused: publishers/signing.py)."""
    folder = Path(tempfile.mkdtemp(prefix="gongkai-test-key-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    write_key_file(SIGNER, folder / "signing.pem")
    return str(folder / "signing.pem")


os.environ["GONGKAI_SIGNING_KEY_FILE"] = _signing_key_file()
if SHARD not in ("", "demo", "rest"):
    raise pytest.UsageError(f"GONGKAI_TEST_SHARD must be demo or rest, not {SHARD!r}")
DEMO_FIXTURES = frozenset({"demo_template", "published_demo"})
#: The kill -9 modules run in the demo shard too: they spend minutes starting and killing
#: processes, and there they even out the two shards' times (the demo's was two thirds of the
#: rest's).
KILL_MODULES = frozenset({"test_publish_crash.py", "test_withdrawal_crash.py"})


def pytest_report_header() -> str:
    return (
        f"gongkai test database: {BACKEND}"
        + (f" at {PG_SERVER}" if BACKEND == "postgres" else "")
        + (f"; shard: {SHARD}" if SHARD else "")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With a shard, keep its tests: a module is the demo shard's when one of its tests asks,
    directly or through another fixture, for the demo data set (whole modules, since a test
    may read what an earlier one of its module left, as test_sqlpath's tally does), or when it
    is one of the kill -9 modules."""
    if not SHARD:
        return
    if BACKEND == "postgres":
        items[:] = _deselect(config, items, keep=uses_the_backend)
    demo_modules = {
        item.path
        for item in items
        if not DEMO_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        or item.path.name in KILL_MODULES
    }
    items[:] = _deselect(
        config, items, keep=lambda item: (item.path in demo_modules) == (SHARD == "demo")
    )


def uses_the_backend(item: pytest.Item) -> bool:
    """Whether the test can see which database backend runs: it asks for the session's databases
    (`db`, the demo data set and every other database fixture ask for `databases`), or it is
    marked ``postgres`` (the replica tests, which start PostgreSQL clusters of their own)."""
    return (
        "databases" in getattr(item, "fixturenames", ())
        or item.get_closest_marker("postgres") is not None
    )


def _deselect(
    config: pytest.Config, items: list[pytest.Item], keep: Callable[[pytest.Item], bool]
) -> list[pytest.Item]:
    kept = [item for item in items if keep(item)]
    dropped = [item for item in items if not keep(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    return kept


#: The kill -9 matrices (tests/publishers/test_publish_crash.py, test_withdrawal_crash.py) run
#: each store with the database it is deployed with: S3 with PostgreSQL, a local folder with
#: SQLite (`make run`). Each point kills a step of the store's writes; the database's part of
#: the recovery (the dead worker's lease taken over, the intent finished) is the same code at
#: every point, and the tests outside the matrices kill and recover on both backends. Run on
#: both, the two matrices took about a fifth of each backend's run (12 of the SQLite run's 58
#: minutes on a loaded machine).
#: ``GONGKAI_KILL_MATRICES=all`` runs both on either (mutation/run.py sets it).
_BOTH_MATRICES = os.environ.get("GONGKAI_KILL_MATRICES") == "all"
S3_KILL_MATRIX = pytest.mark.skipif(
    BACKEND != "postgres" and not _BOTH_MATRICES,
    reason="the S3 kill matrix runs with PostgreSQL (tests/conftest.py)",
)
FOLDER_KILL_MATRIX = pytest.mark.skipif(
    BACKEND != "sqlite" and not _BOTH_MATRICES,
    reason="the folder kill matrix runs with SQLite (tests/conftest.py)",
)


class Databases:
    """Creates and drops the databases of one test session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = 0
        self._spares: dict[str, asyncio.Future[str]] = {}
        self._dropping: list[asyncio.Future[None]] = []

    def url(self, name: str) -> str:
        if BACKEND == "sqlite":
            return f"sqlite://{self.workdir / name}.sqlite3"
        return f"{PG_SERVER}/{name}"

    async def admin(self, sql: str) -> None:
        conn = await self._connect_admin()
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    @staticmethod
    async def _connect_admin() -> asyncpg.Connection:
        """Copies and drops run in the background while the next tests run (`copy(ahead=…)`,
        `drop_later`), and a synchronous test holds the event loop for as long as it takes. A
        connection begun before such a test is not finished until it ends: asyncpg's own
        60-second deadline expired (CI, after the README's tests), and with none PostgreSQL's
        `authentication_timeout` (60 s) closed the half-opened connection. So no deadline here,
        and a connection the server closed before the command was sent is opened again."""
        for attempt in range(3):
            try:
                return await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=None)
            except (ConnectionError, OSError, asyncpg.ConnectionDoesNotExistError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def create_empty(self, name: str) -> str:
        if BACKEND == "postgres":
            await self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    async def copy(self, template: str, *, ahead: bool = False) -> str:
        """A new database copied from `template`. With `ahead`, the next copy is started in the
        background at once, so that PostgreSQL makes it while the test runs: a CREATE DATABASE
        takes ~0.4 s here, most of a small test's time."""
        if BACKEND == "sqlite":
            name = self._name()
            source, target = (self.workdir / f"{n}.sqlite3" for n in (template, name))
            shutil.copyfile(source, target)
            return self.url(name)
        spare = self._spares.pop(template, None)
        name = await spare if spare is not None else await self._create_copy(template)
        if ahead:
            self._spares[template] = asyncio.ensure_future(self._create_copy(template))
        return self.url(name)

    def _name(self) -> str:
        self.counter += 1
        return f"gk_{RUN_ID}_{self.counter}"

    async def _create_copy(self, template: str) -> str:
        name = self._name()
        await self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    @asynccontextmanager
    async def connected_copy(self, template: str) -> AsyncIterator[str]:
        """A copy of `template` with Tortoise connected to it (the tests' `db`), dropped after."""
        url = await self.copy(template, ahead=True)
        await database.init(url, global_fallback=True)
        try:
            yield url
        finally:
            await database.close()
            self.drop_later(url)

    async def drop_spare(self, template: str) -> None:
        """Drop the copy of `template` made ahead, if any (before `template` is dropped)."""
        spare = self._spares.pop(template, None)
        if spare is not None:
            await self.drop(self.url(await spare))

    def drop_later(self, url: str) -> None:
        """Drop in the background, while the next test runs; `close` waits for it."""
        self._dropping.append(asyncio.ensure_future(self.drop(url)))

    async def close(self) -> None:
        """Drop the copies made ahead and never used; wait for the drops under way."""
        for template in list(self._spares):
            await self.drop_spare(template)
        await asyncio.gather(*self._dropping)

    async def drop(self, url: str) -> None:
        if BACKEND == "sqlite":
            Path(url.removeprefix("sqlite://")).unlink(missing_ok=True)  # noqa: ASYNC240 (tiny)
        else:
            name = url.rsplit("/", 1)[-1]
            await self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (decisions.md D20). Without it the browser tests skip, visibly; in CI
    (``CI=true``, or ``GONGKAI_REQUIRE_CHROMIUM=1``) they fail: `.ci/run` installs it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    required = os.environ.get("CI", "").lower() in ("1", "true", "yes") or (
        os.environ.get("GONGKAI_REQUIRE_CHROMIUM") == "1"
    )
    if required:
        pytest.fail(f"{message}: CI requires the browser tests (decisions.md D20)")
    pytest.skip(f"SKIPPED: {message}")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``host:port`` of moto's standalone S3 server on loopback, started once per session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("db"))
    yield made
    await made.close()


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


class RecordingStore(PassThroughStore):
    """Passes every call through to a real store and keeps what was written: the bytes of every
    object put (and not deleted since), and the number of writes. The tests that scan a
    published district (13,000 objects) read them here instead of fetching each from the S3
    server again; `PublishedDemo.objects` checks once that the bucket holds exactly these."""

    def __init__(self, store: S3ObjectStore) -> None:
        super().__init__(store)
        self.objects: dict[str, bytes] = {}
        self.writes = 0

    async def put(
        self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        info = await super().put(key, data, content_type, metadata)
        self.objects[key] = data
        self.writes += 1
        return info

    async def delete(self, key: str) -> None:
        await super().delete(key)
        self.objects.pop(key, None)
        self.writes += 1


@dataclass
class PublishedDemo:
    """The demo data set published once to S3 (moto), shared by the tests that read it (D18)."""

    url: str
    store: S3ObjectStore
    recorded: RecordingStore
    batch: Batch
    _checked: bool = False
    _texts: dict[str, str] | None = None

    async def objects(self) -> dict[str, bytes]:
        """Every object in the bucket. The first call lists the bucket and checks that it holds
        exactly the objects the publisher wrote — the same keys, and each ETag the MD5 of the
        recorded bytes — so the scans read what the S3 server holds without 13,000 GETs."""
        if not self._checked:
            listing = await asyncio.to_thread(
                lambda: list(self.store.client.list_objects(self.store.bucket, recursive=True))
            )
            etags = {str(item.object_name): str(item.etag).strip('"') for item in listing}
            assert sorted(etags) == sorted(self.recorded.objects), "bucket ≠ what was written"
            for key, data in self.recorded.objects.items():
                if "-" in etags[key]:  # a multipart upload: its ETag is no MD5 of the bytes
                    assert await self.store.get(key) == data, key
                else:
                    assert etags[key] == hashlib.md5(data).hexdigest(), key  # noqa: S324
            self._checked = True
        return self.recorded.objects

    async def texts(self) -> dict[str, str]:
        """Every object's key with its decoded text (tests/publishers/test_releases.py,
        `decoded`), made once for the session's scans. A bulk ZIP's members that are copies of
        published objects are read under those objects' keys, not a second and third time."""
        if self._texts is None:
            from tests.publishers.test_releases import decoded

            objects = await self.objects()
            scanned = {hashlib.sha256(data).hexdigest() for data in objects.values()}
            self._texts = {key: decoded(data, scanned) for key, data in objects.items()}
        return self._texts


@pytest.fixture(scope="session")
async def published_demo(
    databases: Databases, demo_template: str, moto_endpoint: str
) -> AsyncIterator[PublishedDemo]:
    from api.cli import history_time

    url = await databases.copy(demo_template)
    store = open_store(f"s3+http://{moto_endpoint}/gk-demo-{RUN_ID}", "test", "test-secret")
    assert isinstance(store, S3ObjectStore)
    await store.ensure_bucket()
    recorded = RecordingStore(store)
    async with database.connected(url):
        ids = [r.id for r in await models.Release.all().order_by("id")]
        releases = {r.id: r for r in await models.Release.all()}
        batch = await Publisher(recorded, signer=SIGNER).publish_many(
            ids, as_of=lambda r: history_time(releases[r.id])
        )
    yield PublishedDemo(url, store, recorded, batch)
    await databases.drop(url)


@pytest.fixture
async def empty_db(databases: Databases, migrated_template: str) -> AsyncIterator[str]:
    """A fresh, migrated, empty database with Tortoise connected to it; yields its URL."""
    async with databases.connected_copy(migrated_template) as url:
        yield url


@pytest.fixture
def db(empty_db: str) -> str:
    """The test's database: `empty_db`, unless its module overrides `db` with a copy of a
    database it built once (`prebuilt_database`)."""
    return empty_db


@dataclass(frozen=True)
class Prebuilt(Generic[T]):
    """A database that a module builds once and copies for each of its tests: the tests that
    read one published data set spent most of their time publishing it again (2–4 s a test).
    A copy is a file copy on SQLite, a ``CREATE DATABASE … TEMPLATE`` on PostgreSQL (~0.15 s).

    `value` is what the build returned (the models it made, a store it published to), a new
    copy for each test, so that no test sees what another changed in it."""

    template: str
    pickled: bytes

    def value(self) -> T:
        loaded: T = pickle.loads(self.pickled)  # noqa: S301 (what this session pickled)
        return loaded


def prebuilt_database(make: Callable[[], Awaitable[T]]) -> tuple[Any, Any]:
    """A module's two fixtures, ``prebuilt, db = prebuilt_database(make)``: `prebuilt` runs
    `make` once, connected to a new migrated database, and `db`, overriding the session's,
    gives each test a copy of that database, connected. The module's own fixture hands out
    `prebuilt.value()`."""

    @pytest.fixture(scope="module")
    async def prebuilt(databases: Databases, migrated_template: str) -> AsyncIterator[Prebuilt[T]]:
        url = await databases.copy(migrated_template)
        async with database.connected(url):
            value = await make()
        template = url.rsplit("/", 1)[-1].removesuffix(".sqlite3")
        yield Prebuilt(template, pickle.dumps(value))
        await databases.drop_spare(template)  # a copy made ahead would hold the template open
        await databases.drop(url)

    @pytest.fixture
    async def db(databases: Databases, prebuilt: Prebuilt[T]) -> AsyncIterator[str]:
        async with databases.connected_copy(prebuilt.template) as url:
            yield url

    return prebuilt, db


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """A coroutine that a test created and never awaited is reported when the garbage collector
    finalises it: collect here, so the report falls on the test that left it, not on whichever
    later test the collector happened to run in.

    Only what the test made is examined: what existed before it is frozen (`gc.freeze`) for the
    test's duration. A full collection walks every object of the session — the imported
    libraries, the published demo's recorded objects — and took 1.5 s after each test, most of
    the suite's time; the test's own garbage is all it needs to find."""
    gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        gc.unfreeze()
