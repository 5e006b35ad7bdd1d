"""The web console on a fresh database: the internal tests' small world (departments 甲局 101 and
乙局 202, with targets and releases), accounts for an officer, a publisher, an auditor and an
editor of 101, and an HTTPS client (the session cookie is Secure) on an app whose clock a test
moves by hand — no test reads the wall clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.console import accounts
from api.settings import OidcSettings, Settings
from storage import database
from tests.forms.conftest import form_world  # noqa: F401 - the import page's fixture
from tests.internal.conftest import NOW, SECRET, build_world

PASSWORD = "correct horse battery staple"
CONSOLE_SECRET = "console-secret-of-at-least-32-bytes!!"


@dataclass
class Clock:
    now: float = float(NOW)

    def __call__(self) -> float:
        return self.now


@dataclass
class Console:
    client: httpx.AsyncClient
    clock: Clock
    world: Any
    db: str
    log_lines: list[str] = field(default_factory=list)

    async def csrf(self, path: str = "/console/sign-in") -> str:
        """The CSRF token of the page at `path` (the form's hidden field)."""
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        marker = 'name="csrf" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        token = await self.csrf()
        return await self.client.post(
            "/console/sign-in", data={"csrf": token, "username": username, "password": password}
        )


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """argon2id with the smallest parameters: a sign-in costs ~1 ms instead of ~100 ms, and the
    rate-limit tests sign in twenty times. Production's are checked in test_security.py."""
    before = accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        yield
    finally:
        accounts.use_hasher(before)


def console_settings(db: str, store: Path, oidc: OidcSettings | None = None) -> Settings:
    return Settings(
        database_url=db,
        store_url=f"file://{store}",
        jwt_algorithms=("HS256",),
        jwt_key=SECRET,
        console_secret=CONSOLE_SECRET,
        oidc=oidc,
    )


async def add_accounts() -> None:
    await accounts.add_user("officer", PASSWORD, ["finance_officer", "publisher"])
    await accounts.add_user("auditor", PASSWORD, ["auditor"])
    await accounts.add_user("editor", PASSWORD, ["department_editor"], "101")


@contextlib.asynccontextmanager
async def running(
    db: str,
    tmp_path: Path,
    world: Any,
    oidc: OidcSettings | None = None,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[Console]:
    """The app on `db` (its rows made by the caller, Tortoise connected), with the accounts;
    its clock one that the test moves by hand, unless `clock` is given."""
    await add_accounts()
    await database.close()  # the app connects by itself, in its lifespan
    hand = Clock()
    app = create_app(console_settings(db, tmp_path / "store", oidc), clock=clock or hand)
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="https://console.test"
            ) as client:
                yield Console(client, hand, world, db)
    finally:
        await database.init(db, global_fallback=True)


@pytest.fixture
async def console(db: str, tmp_path: Path) -> AsyncIterator[Console]:
    async with running(db, tmp_path, await build_world()) as started:
        yield started
