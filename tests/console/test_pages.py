"""The console's commands, settings and the import page."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api import cli
from api.app import create_app
from api.console import accounts
from api.settings import Settings, SettingsError, load
from storage import database, models
from storage.identities import ConsoleIdentity
from tests.console.conftest import Console, running
from tests.forms.conftest import FIXTURES, FormWorld


def user(monkeypatch: pytest.MonkeyPatch, db: str, password: str | None, *args: str) -> int:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db)
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return cli.main(["user", *args])


async def test_user_commands_add_disable_and_reset(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await database.close()
    short, enough = "x" * (accounts.MIN_PASSWORD - 1), "y" * accounts.MIN_PASSWORD
    try:

        def run(password: str | None, *args: str) -> int:
            return user(monkeypatch, db, password, *args)

        too_short = await asyncio.to_thread(
            run, short, "add", "li", "--role", "finance_officer", "--password-stdin"
        )
        added = await asyncio.to_thread(
            run, enough, "add", "li", "--role", "finance_officer", "--password-stdin"
        )
        again = await asyncio.to_thread(
            run, enough, "add", "li", "--role", "auditor", "--password-stdin"
        )
        editor = await asyncio.to_thread(
            run, enough, "add", "wang", "--role", "department_editor", "--password-stdin"
        )
        disabled = await asyncio.to_thread(run, None, "disable", "li")
        reset = await asyncio.to_thread(
            run, enough + "z", "reset-password", "li", "--password-stdin"
        )
        missing = await asyncio.to_thread(run, None, "disable", "nobody")
        kept = await asyncio.to_thread(
            run, "z" * 12, "add", "li", "--role", "auditor", "--password-stdin", "--if-missing"
        )
        new = await asyncio.to_thread(
            run, enough, "add", "zhao", "--role", "auditor", "--password-stdin", "--if-missing"
        )
        no_issuer = await asyncio.to_thread(run, None, "link", "li", "li-at-idp")
        linked = await asyncio.to_thread(
            run, None, "link", "li", "li-at-idp", "--issuer", "https://idp.example/"
        )
        taken = await asyncio.to_thread(
            run, None, "link", "zhao", "li-at-idp", "--issuer", "https://idp.example"
        )
    finally:
        await database.init(db, global_fallback=True)
    output = capsys.readouterr().err
    assert (too_short, added, again, editor, disabled, reset, missing) == (1, 0, 1, 1, 0, 0, 1)
    assert (kept, new) == (0, 0)
    assert (no_issuer, linked, taken) == (1, 0, 1)
    assert "GONGKAI_OIDC_ISSUER" in output and "linked to li already" in output
    link = await ConsoleIdentity.get(subject="li-at-idp").select_related("user")
    assert (link.issuer, link.user.username) == ("https://idp.example", "li")
    assert "12–1024" in output and "exists already" in output and "--dept" in output
    assert "nobody" in output
    li = await models.ConsoleUser.get(username="li")
    assert li.roles == ["finance_officer"] and not li.disabled and li.session_epoch == 3
    assert enough not in output and enough not in li.password_hash
    assert not await models.ConsoleUser.exists(username="wang")
    # --if-missing left li as it was (its roles above, its epoch) and added a missing one
    assert (await models.ConsoleUser.get(username="zhao")).roles == ["auditor"]


def test_the_console_secret_has_at_least_32_bytes() -> None:
    with pytest.raises(SettingsError, match="GONGKAI_CONSOLE_SECRET"):
        load({"GONGKAI_CONSOLE_SECRET": "s" * 31})
    assert load({"GONGKAI_CONSOLE_SECRET": "s" * 32}).console_secret == "s" * 32


@pytest.fixture
async def importing(form_world: FormWorld, db: str, tmp_path: Path) -> AsyncIterator[Console]:
    async with running(db, tmp_path, form_world) as started:
        yield started


async def test_import_shows_every_problem_by_cell_and_stores_only_when_confirmed(
    importing: Console,
) -> None:
    console = importing
    await console.sign_in("editor")  # of department 101, whose forms the fixtures are
    targets_before = await models.PerformanceTarget.all().count()
    token = await console.csrf("/console/import")
    mistakes = (FIXTURES / "mistakes.xlsx").read_bytes()
    shown = await console.client.post(
        "/console/import",
        data={"csrf": token},
        files={"workbook": ("mistakes.xlsx", mistakes, "application/octet-stream")},
    )
    assert shown.status_code == 200, shown.text
    assert "未导入" in shown.text and "确认导入" not in shown.text
    assert shown.text.count("<tr><td>") >= 2  # one row per problem, with its sheet and cell
    good = (FIXTURES / "shaped.xlsx").read_bytes()
    checked = await console.client.post(
        "/console/import",
        data={"csrf": token},
        files={"workbook": ("shaped.xlsx", good, "application/octet-stream")},
    )
    assert "检查通过" in checked.text and "确认导入" in checked.text, checked.text[-1500:]
    assert await models.PerformanceTarget.all().count() == targets_before
    marker = 'name="content" value="'
    start = checked.text.index(marker) + len(marker)
    content = checked.text[start : checked.text.index('"', start)]
    wrong = await console.client.post(
        "/console/import",
        data={"csrf": "wrong", "filename": "shaped.xlsx", "content": content, "confirmed": "yes"},
    )
    assert wrong.status_code == 403
    assert await models.PerformanceTarget.all().count() == targets_before
    stored = await console.client.post(
        "/console/import",
        data={"csrf": token, "filename": "shaped.xlsx", "content": content, "confirmed": "yes"},
    )
    assert "已导入" in stored.text, stored.text[-1500:]
    assert await models.PerformanceTarget.all().count() > targets_before
    audited = (
        await models.AuditEntry.filter(actor="editor").exclude(record_type="ConsoleUser").count()
    )
    assert audited > 0


async def test_production_serves_the_console_only_with_its_secret(tmp_path: Path) -> None:
    for secret, status in ((None, 404), ("p" * 32, 200)):
        settings = Settings(env="production", store_url=f"file://{tmp_path}", console_secret=secret)
        app = create_app(settings)  # no lifespan: the sign-in page needs no database
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://c") as client:
            response = await client.get("/console/sign-in")
        assert response.status_code == status, secret
