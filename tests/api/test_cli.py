"""The command line's first hour: the development signing key, `gongkai token`, the serve
banner and base URL, and releases named by their public key."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import stat
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api import cli
from api import settings as settings_module
from api.app import create_app
from api.auth import Role, TokenVerifier
from api.devkey import DevKeyError, read_or_create, with_dev_key
from api.settings import MIN_HS_KEY_BYTES, Settings
from storage import database, models
from storage.enums import ReleaseKind
from storage.errors import NotFound
from tests.publishers import dataset

KEY = Path("var/dev-jwt.key")
SECRET = "development-secret-of-at-least-32-bytes!"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and an environment with no key and no base URL set."""
    monkeypatch.chdir(tmp_path)
    for name in ("JWT_KEY", "JWT_JWKS_FILE", "JWT_ALGORITHMS", "ENV", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(f"GONGKAI_{name}", raising=False)
    return tmp_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_development_creates_a_private_key_once_and_tokens_use_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["token", "--role", "finance_officer"]) == 0
    first = capsys.readouterr().out.strip()
    assert mode(workdir / KEY) == 0o600
    key = (workdir / KEY).read_text().strip()
    assert len(key.encode()) >= MIN_HS_KEY_BYTES
    assert cli.main(["token", "--role", "auditor", "--dept", "101"]) == 0
    second = capsys.readouterr().out.strip()
    assert (workdir / KEY).read_text().strip() == key  # reused, not replaced
    served, used = cli.serving_settings(settings_module.load(), "127.0.0.1", 8000)
    assert used == KEY and served.jwt_key == key
    verifier = TokenVerifier(served)
    assert verifier.verify(first).roles == {Role.FINANCE_OFFICER}
    assert verifier.verify(second).department == "101"


def test_production_never_creates_a_key(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_ENV", "production")
    assert cli.main(["token", "--role", "finance_officer"]) == 1
    served, used = cli.serving_settings(settings_module.load(), "127.0.0.1", 8000)
    assert used is None and served.jwt_key is None
    assert not (workdir / "var").exists()
    assert "none accepted" in "\n".join(cli.banner(served, "127.0.0.1", 8000, used))


def test_a_configured_key_is_used_and_no_file_is_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGKAI_JWT_KEY", SECRET)
    assert cli.main(["token", "--role", "publisher"]) == 0
    token = capsys.readouterr().out.strip()
    assert TokenVerifier(Settings(jwt_key=SECRET)).verify(token).roles == {Role.PUBLISHER}
    assert with_dev_key(settings_module.load())[1] is None
    # A public-key setup cannot mint and gets no HS key either.
    public = Settings(jwt_algorithms=("RS256",))
    assert with_dev_key(public) == (public, None)
    assert not (workdir / "var").exists()


def test_a_key_file_others_can_read_or_too_short_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workdir / KEY
    path.parent.mkdir()
    path.write_text("x" * MIN_HS_KEY_BYTES)
    os.chmod(path, 0o644)
    with pytest.raises(DevKeyError, match="readable by others"):
        read_or_create(path)
    assert cli.main(["token", "--role", "auditor"]) == 1
    assert "chmod 600" in capsys.readouterr().err
    os.chmod(path, 0o600)
    assert read_or_create(path) == "x" * MIN_HS_KEY_BYTES  # exactly the minimum: accepted
    path.write_text("x" * (MIN_HS_KEY_BYTES - 1))
    with pytest.raises(DevKeyError, match="delete it"):
        read_or_create(path)


async def test_the_dev_key_token_reaches_the_internal_api(
    workdir: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's two lines: `TOKEN=$(gongkai token …)`, then a query with it."""
    assert cli.main(["token", "--role", "finance_officer"]) == 0
    token = capsys.readouterr().out.strip()
    served, _ = cli.serving_settings(
        Settings(database_url=db, store_url=f"file://{workdir / 'store'}"), "127.0.0.1", 8000
    )
    await database.close()
    app = create_app(served)
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.post(
                    "/internal/graphql",
                    json={"query": "{ me { roles } }"},
                    headers={"authorization": f"Bearer {token}"},
                )
    finally:
        await database.init(db, global_fallback=True)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["roles"] == ["finance_officer"]


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123/open"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000/open"),  # noqa: S104
        ("::1", 8000, "http://[::1]:8000/open"),
    ],
)
def test_the_public_base_url_follows_the_server_unless_set(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, host: str, port: int, expected: str
) -> None:
    served, _ = cli.serving_settings(settings_module.load(), host, port)
    assert served.public_base_url == expected
    monkeypatch.setenv("GONGKAI_PUBLIC_BASE_URL", "https://data.example.gov.cn/open")
    served, _ = cli.serving_settings(settings_module.load(), host, port)
    assert served.public_base_url == "https://data.example.gov.cn/open"


def test_the_banner_names_every_address(workdir: Path) -> None:
    served, used = cli.serving_settings(settings_module.load(), "127.0.0.1", 8123)
    text = "\n".join(cli.banner(served, "127.0.0.1", 8123, used))
    for address in ("/graphql", "/internal/graphql", "/console/", "/open/", "/healthz"):
        assert re.search(f"http://127.0.0.1:8123{address}(\\s|$)", text), address
    assert "GraphiQL" in text
    assert "var/dev-jwt.key" in text and "gongkai token --role" in text
    production = Settings(env="production", jwt_key=SECRET, store_url="s3://h:9000/b")
    text = "\n".join(cli.banner(production, "127.0.0.1", 8123, None))
    assert "GraphiQL" not in text and "/open/" not in text and "/internal/graphql" in text
    assert "/console/" not in text  # production serves the console only with its secret


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7),
        ("990102/2024/budget/103", cli.ReleaseKey("990102", 2024, ReleaseKind.BUDGET, "103")),
        (
            "990102/2023/final-accounts/103-1",
            cli.ReleaseKey("990102", 2023, ReleaseKind.FINAL_ACCOUNTS, "103-1"),
        ),
        (
            "/990102/2024/finance-annual/finance/",
            cli.ReleaseKey("990102", 2024, ReleaseKind.FINANCE_ANNUAL, None),
        ),
    ],
)
def test_a_release_is_an_id_or_a_public_key(value: str, expected: object) -> None:
    assert cli._release(value) == expected
    if isinstance(expected, cli.ReleaseKey):
        assert str(expected) == value.strip("/")


@pytest.mark.parametrize(
    "value",
    [
        "990102/2024/budgets/103",
        "990102/24/budget/103",
        "990102/2024/budget",
        "990102/2024/budget/103/x",
        "990102/2024/finance-annual/103",
        "-1",
    ],
)
def test_a_malformed_release_key_is_refused_naming_the_form(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(value))) as caught:
        cli._release(value)
    assert "finance" in str(caught.value)  # it shows the form a key takes
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["check", "--release", value])
    assert exited.value.code == 2
    assert "--release" in capsys.readouterr().err


async def test_a_public_key_resolves_to_its_release(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=2, projects=1))
    for release in built.releases:
        await release.fetch_related("jurisdiction", "department")
        department = release.department.code if release.department else "finance"
        slug = {"BUDGET": "budget", "FINAL_ACCOUNTS": "final-accounts"}.get(
            release.kind.value, "finance-annual"
        )
        key = f"{release.jurisdiction.code}/{release.fiscal_year}/{slug}/{department}"
        assert await cli.resolve_release(cli._release(key)) == release.id, key
    assert await cli.resolve_release(release.id) == release.id
    missing = cli._release(f"{built.jurisdiction.code}/1999/budget/PUBD0X")
    with pytest.raises(NotFound, match="1999/budget/PUBD0X"):
        await cli.resolve_release(missing)


async def test_check_and_publish_take_a_public_key(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    code = built.jurisdiction.code
    key = f"{code}/{dataset.YEAR}/budget/PUBD0X"
    release = await models.Release.get(department__code="PUBD0X", kind=ReleaseKind.BUDGET)
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db)
    monkeypatch.setenv("GONGKAI_STORE_URL", f"file://{tmp_path / 'store'}")
    await database.close()
    try:
        checked = await asyncio.to_thread(cli.main, ["check", "--release", key])
        check_output = capsys.readouterr().err
        published = await asyncio.to_thread(cli.main, ["publish", "--release", key])
        missing = await asyncio.to_thread(
            cli.main, ["publish", "--release", f"{code}/1999/budget/PUBD0X"]
        )
        missing_output = capsys.readouterr().err
    finally:
        await database.init(db, global_fallback=True)
    assert checked == 0, check_output
    assert f"release {release.id} ({key})" in check_output
    assert published == 0
    assert (await models.Release.get(id=release.id)).current_version == 1
    assert missing == 1 and "no release has the key" in missing_output


async def test_check_lists_personal_data_and_check_published_finds_it_after_publication(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DR-10 on the command line: `check` names the finding masked and exits 1; after an
    exception the release publishes and `check` shows the decision; a term registered after
    publication is found by `check --published` (exit 1), which never prints the datum."""
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    key = f"{built.jurisdiction.code}/{dataset.YEAR}/budget/PUBD0X"
    target = await models.PerformanceTarget.get(overall_goal="PUBP0-0目标")
    target.overall_goal = "PUBP0-0目标，电话13912345678"
    await target.save()
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db)
    monkeypatch.setenv("GONGKAI_STORE_URL", f"file://{tmp_path / 'store'}")
    await database.close()
    try:
        refused = await asyncio.to_thread(cli.main, ["check", "--release", key])
        refused_output = capsys.readouterr().err
        clean = await asyncio.to_thread(cli.main, ["check", "--published"])
        bad = await asyncio.to_thread(cli.main, ["check", "--published", "--year", "2024"])
        capsys.readouterr()
    finally:
        await database.init(db, global_fallback=True)
    assert refused == 1 and "139****5678" in refused_output and "13912345678" not in refused_output
    assert (clean, bad) == (0, 2)
    finding = refused_output.split("(finding ")[1][:16]
    release = built.releases[0]
    await models.PersonalDataException.create(
        release_id=release.id,
        finding=finding,
        location="x",
        field="overallGoal",
        kind="mobile",
        masked="139****5678",
        reason="公开的服务电话",
        created_by="officer-1",
    )
    await models.ProtectedTerm.create(release_id=release.id, term="PUBP0-0目标", created_by="e")
    await database.close()
    try:
        checked = await asyncio.to_thread(cli.main, ["check", "--release", key])
        checked_output = capsys.readouterr().err
    finally:
        await database.init(db, global_fallback=True)
    assert checked == 1  # the registered term is a finding of its own
    assert "公开的服务电话" in checked_output and "officer-1" in checked_output
    await models.ProtectedTerm.filter(release_id=release.id).delete()
    await database.close()
    try:
        published = await asyncio.to_thread(cli.main, ["publish", "--release", key])
    finally:
        await database.init(db, global_fallback=True)
    assert published == 0
    await models.ProtectedTerm.create(release_id=release.id, term="PUBP0-0目标", created_by="e")
    await database.close()
    try:
        after = await asyncio.to_thread(cli.main, ["check", "--published", "--release", key])
        after_output = capsys.readouterr().err
    finally:
        await database.init(db, global_fallback=True)
    assert after == 1 and "1 findings" in after_output and "PUBP0-0目标" not in after_output


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("2.5", 2.5), ("86400", 86400.0)])
def test_publish_waits_as_long_as_it_is_told(value: str, seconds: float) -> None:
    args = cli.build_parser().parse_args(["publish", "--due", "--wait", value])
    assert args.wait == seconds


def test_publish_waits_one_lease_by_default() -> None:
    assert cli.build_parser().parse_args(["publish", "--due"]).wait == 120


@pytest.mark.parametrize("value", ["-0.1", "86400.5", "soon", "nan"])
def test_a_bad_wait_is_refused_naming_the_option(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["publish", "--due", "--wait", value])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--wait" in error and value in error


@pytest.mark.parametrize(("value", "workers"), [("1", 1), ("2", 2), ("64", 64)])
def test_serve_runs_as_many_workers_as_it_is_told(value: str, workers: int) -> None:
    assert cli.build_parser().parse_args(["serve", "--workers", value]).workers == workers
    assert cli.build_parser().parse_args(["serve"]).workers == 1


@pytest.mark.parametrize("value", ["0", "65", "-1", "two", "1.5"])
def test_a_bad_worker_count_is_refused_naming_the_option(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["serve", "--workers", value])
    assert exited.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_workers_and_a_metrics_listener_are_refused_together(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGKAI_METRICS_ADDRESS", "127.0.0.1:9464")
    assert cli.main(["serve", "--workers", "2"]) == 1
    assert "GONGKAI_METRICS_ADDRESS" in capsys.readouterr().err
