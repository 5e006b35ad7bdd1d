"""The app's health check, over HTTP through the ASGI interface with its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from storage import database


@pytest.fixture
async def settings(db: str, tmp_path: Path) -> AsyncIterator[Settings]:
    # The app connects by itself in its lifespan: hand it the test database, disconnected.
    await database.close()
    yield Settings(database_url=db, store_url=f"file://{tmp_path / 'store'}")
    await database.init(db, global_fallback=True)


async def get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)


async def test_healthz_reports_database_and_store(settings: Settings) -> None:
    response = await get(settings, "/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    dialect = "sqlite" if settings.database_url.startswith("sqlite") else "postgres"
    assert body["database"] == {"status": "ok", "dialect": dialect}
    assert body["store"] == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_healthz_fails_when_the_store_is_down(settings: Settings) -> None:
    # Nothing listens on port 9 (discard): the S3 store cannot be reached.
    down = replace(
        settings, store_url="s3+http://127.0.0.1:9/gongkai", s3_access_key="a", s3_secret_key="b"
    )
    response = await get(down, "/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["store"]["status"] == "error"
    assert body["database"]["status"] == "ok"
    assert "b" not in body["store"].get("error", "").split()


async def test_liveness_asks_nothing_of_the_database_or_the_store(settings: Settings) -> None:
    down = replace(
        settings, store_url="s3+http://127.0.0.1:9/gongkai", s3_access_key="a", s3_secret_key="b"
    )
    response = await get(down, "/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_needs_database_migrations_and_store(settings: Settings) -> None:
    ready = await get(settings, "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["migrations"] == {"status": "ok"}
    down = replace(
        settings, store_url="s3+http://127.0.0.1:9/gongkai", s3_access_key="a", s3_secret_key="b"
    )
    unready = await get(down, "/readyz")
    assert unready.status_code == 503
    assert unready.json()["store"]["status"] == "error"


async def test_readiness_fails_while_a_migration_is_pending(settings: Settings) -> None:
    from tortoise import connections

    newest = database.migration_names()[-1]
    async with database.connected(settings.database_url):
        await connections.get("default").execute_query(
            "DELETE FROM tortoise_migrations WHERE name = $1"
            if settings.database_url.startswith("postgres")
            else "DELETE FROM tortoise_migrations WHERE name = ?",
            [newest],
        )
    response = await get(settings, "/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == {"status": "error", "error": f"not applied: {newest}"}
    assert (await get(settings, "/healthz")).status_code == 200  # /healthz keeps its meaning
