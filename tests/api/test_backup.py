"""The backup drill (docs/operations.md): `gongkai backup`, then `gongkai restore` into an empty
database and an empty store, as an operator runs them — then the public API answers exactly as
before and the store holds the same objects, byte for byte. On the session's database (SQLite,
or PostgreSQL through pg_dump/pg_restore), with the local-folder store and with S3 over HTTP
(moto's server)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api import backup
from api.app import create_app
from api.settings import Settings
from publishers.releases import Publisher
from storage import database
from storage.objects import ObjectStore, open_store
from storage.objects.s3 import S3ObjectStore
from tests.conftest import BACKEND, RUN_ID, Databases
from tests.live import in_process
from tests.publishers import dataset

#: after the data set's last approval (the finance-annual release's, 2026-02-01)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
S3_KEYS = {"S3_ACCESS_KEY": "test", "S3_SECRET_KEY": "test-secret"}
QUERIES = [
    "{ releases(first: 100) { totalCount nodes { id kind departmentCode fiscalYear } } }",
    "{ subjects(first: 100, filter: {fiscalYear: 2024}) { totalCount nodes { id code name"
    " kindLabel amounts { initial { total } } target { overallGoal indicators { name weight } }"
    " selfAssessment { totalScore gradeLabel } } } }",
    "{ statistics(groupBy: YEAR, filter: {fiscalYear: 2024}) { label subjects assessed } }",
    "{ correctionNotices(first: 10) { totalCount } }",
]


async def _answers(settings: Settings) -> list[bytes]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            answers = []
            for query in QUERIES:
                response = await client.post("/graphql", json={"query": query})
                assert response.status_code == 200 and "errors" not in response.json(), query
                answers.append(response.content)
            return answers


async def _objects(store: ObjectStore) -> dict[str, tuple[str | None, str, bytes]]:
    return {
        info.key: (info.sha256, info.content_type, await store.get(info.key))
        for info in await store.list()
    }


@pytest.mark.parametrize("kind", ["local", "s3"])
async def test_backup_then_restore_into_empty_ones_answers_the_same(
    kind: str, db: str, databases: Databases, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        store_urls = [f"s3+http://{endpoint}/gk-drill-{RUN_ID}-{n}" for n in ("a", "b")]
        extra = S3_KEYS
    else:
        store_urls = [f"file://{tmp_path / n}" for n in ("store", "restored")]
        extra = {}
    stores = [
        open_store(url, extra.get("S3_ACCESS_KEY"), extra.get("S3_SECRET_KEY"))
        for url in store_urls
    ]
    for store in stores:
        if isinstance(store, S3ObjectStore):
            await store.ensure_bucket()  # the operator creates the (empty) bucket
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    batch = await Publisher(stores[0], worker="test", clock=lambda: NOW).publish_many(
        [r.id for r in built.releases]
    )
    assert not batch.failures and batch.stats.written > 0
    before = await _objects(stores[0])
    await database.close()

    def settings(database_url: str, store_url: str) -> Settings:
        return Settings(
            database_url=database_url,
            store_url=store_url,
            s3_access_key=extra.get("S3_ACCESS_KEY"),
            s3_secret_key=extra.get("S3_SECRET_KEY"),
        )

    answers = await _answers(settings(db, store_urls[0]))
    assert b'"totalCount":0' not in answers[0]  # the releases are public
    folder = tmp_path / "backup"
    status, output = await in_process(
        "backup", "--to", str(folder), database_url=db, store_url=store_urls[0], **extra
    )
    assert status == 0, output
    assert (folder / ("database.dump" if BACKEND == "postgres" else "database.sqlite3")).is_file()

    restored = await databases.create_empty(f"gk_{RUN_ID}_restored_{kind}")
    try:
        status, output = await in_process(
            "restore",
            "--from",
            str(folder),
            database_url=restored,
            store_url=store_urls[1],
            **extra,
        )
        assert status == 0, output
        assert await _objects(stores[1]) == before  # every key, digest, type and byte
        assert await _answers(settings(restored, store_urls[1])) == answers
        # a second restore over what is there now is refused, and changes nothing
        with pytest.raises(backup.BackupError, match="not empty"):
            await backup.restore(settings(restored, store_urls[1]), folder, print)
        assert await _objects(stores[1]) == before
    finally:
        await databases.drop(restored)
        await database.init(db, global_fallback=True)
