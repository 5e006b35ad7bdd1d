"""Console sign-in through a real OpenID Connect provider (node-oidc-provider, started from
tests/oidc_provider/): the authorization code flow with PKCE, the linked account signed in, and
each way it must fail, failing with nothing signed in.

The provider needs Node and its npm package (`make test` runs `npm ci --prefix
tests/oidc_provider`); without them these tests are skipped, saying so, except in CI
(``CI=true``), where they fail.

The provider stamps its tokens with the wall clock, as a real one does, so the console here
checks them against the same clock; nothing depends on how long anything takes within the
tokens' lifetimes (the ID token's is an hour).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.console import accounts
from api.settings import OidcSettings, Settings, SettingsError, load
from storage import database, models
from tests.console.conftest import CONSOLE_SECRET, add_accounts, running
from tests.node import node_with

HERE = Path(__file__).resolve().parents[1] / "oidc_provider"
CONSOLE = "https://console.test/console"
CALLBACK = f"{CONSOLE}/sign-in/oidc/callback"
CLIENT_SECRET = "client-secret-of-the-console"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    """The provider, on a free port of the loopback, until the module's tests end."""
    node = node_with(HERE, "oidc-provider", "the OpenID Connect sign-in tests")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 (node and our own script)
        [node, str(HERE / "provider.mjs"), str(port), CLIENT_SECRET, CALLBACK],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        # A generous bound on the start: nothing is asserted about how long it took.
        deadline = time.monotonic() + 60
        while (line := process.stdout.readline()) and line.strip() != "ready":
            assert time.monotonic() < deadline, "the provider did not start"
        assert line.strip() == "ready", "the provider exited"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
async def console(db: str, tmp_path: Path, issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    oidc = OidcSettings(issuer, "gongkai-console", CLIENT_SECRET, CONSOLE)
    async with running(db, tmp_path, None, oidc, clock=time.time) as started:
        await accounts.link_identity("officer", issuer, "alice")
        await accounts.link_identity("auditor", issuer, "carol")
        await accounts.disable_user("auditor")
        yield started.client


async def at_provider(authorize: str, login: str) -> str:
    """Sign in at the provider as `login` and consent, as a person would in its forms; the
    address it sends the browser back to (the console's callback)."""
    async with httpx.AsyncClient() as browser:  # the provider's side: its own cookies
        response = await browser.get(authorize)
        for _ in range(10):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(CALLBACK):
                    return target
                response = await browser.get(target)
                continue
            action, body = re.findall(
                r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S
            )[0]
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', body))
            if fields.get("prompt") == "login":
                fields.update({"login": login, "password": "any"})
            response = await browser.post(urljoin(str(response.url), action), data=fields)
    raise AssertionError("the provider never sent the browser back")


async def start(console: httpx.AsyncClient) -> str:
    started = await console.get("/console/sign-in/oidc")
    assert started.status_code == 303
    cookie = started.headers["set-cookie"]
    assert "Path=/console/sign-in/oidc" in cookie and "SameSite=lax" in cookie
    assert "HttpOnly" in cookie and "Secure" in cookie
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [CALLBACK]
    return str(started.headers["location"])


def back(callback: str) -> str:
    return callback.removeprefix("https://console.test")


async def signed_in_actions() -> list[tuple[str, str | None, dict[str, object]]]:
    rows = await models.AuditEntry.filter(record_type="ConsoleUser").order_by("id")
    return [
        (r.action, r.actor, dict(r.after or {})) for r in rows if r.action.startswith("console.")
    ]


async def test_a_linked_user_signs_in_as_its_account(console: httpx.AsyncClient) -> None:
    page = await console.get("/console/sign-in")
    assert "通过单位统一身份认证登录" in page.text
    callback = await at_provider(await start(console), "alice")
    signed = await console.get(back(callback))
    assert signed.status_code == 200, signed.text
    assert '<meta http-equiv="refresh" content="0; url=/console/">' in signed.text
    desk = await console.get("/console/")
    assert desk.status_code == 200 and "officer" in desk.text
    assert ("console.sign_in", "officer", {"via": "oidc"}) in await signed_in_actions()
    # the code and the flow are spent: the same callback again signs in no one
    await console.post("/console/sign-out", data={"csrf": _csrf(desk.text)})
    replayed = await console.get(back(callback))
    assert replayed.status_code == 400
    assert (await console.get("/console/", follow_redirects=False)).status_code == 303


def _csrf(page: str) -> str:
    return re.findall(r'name="csrf" value="([^"]+)"', page)[0]


@pytest.mark.parametrize(
    ("login", "reason"), [("mallory", "no account is linked"), ("carol", "disabled")]
)
async def test_an_unlinked_or_disabled_user_is_refused(
    console: httpx.AsyncClient, login: str, reason: str
) -> None:
    callback = await at_provider(await start(console), login)
    refused = await console.get(back(callback))
    assert refused.status_code == 403 and "未关联控制台账户，或账户已停用" in refused.text
    assert (await console.get("/console/", follow_redirects=False)).status_code == 303
    actions = await signed_in_actions()
    assert actions[-1][0] == "console.sign_in_failed" and actions[-1][2]["reason"] == reason
    assert actions[-1][2]["subject"] == login


async def test_a_tampered_state_or_a_missing_flow_cookie_is_refused(
    console: httpx.AsyncClient,
) -> None:
    callback = await at_provider(await start(console), "alice")
    tampered = re.sub(r"state=[^&]+", "state=forged", back(callback))
    refused = await console.get(tampered)
    assert refused.status_code == 400 and "登录请求已失效" in refused.text
    console.cookies.delete("gk_console_oidc", path="/console/sign-in/oidc")
    no_cookie = await console.get(back(callback))
    assert no_cookie.status_code == 400
    assert (await console.get("/console/", follow_redirects=False)).status_code == 303
    reasons = [a[2].get("reason") for a in await signed_in_actions()]
    assert reasons[-2:] == ["state differs", "no flow cookie"]


async def test_a_provider_error_is_refused(console: httpx.AsyncClient) -> None:
    await start(console)
    refused = await console.get("/console/sign-in/oidc/callback?error=access_denied&state=x")
    assert refused.status_code == 400 and "统一身份认证服务未完成登录" in refused.text


async def test_without_the_settings_there_is_no_provider_sign_in(db: str, tmp_path: Path) -> None:
    await database.close()
    settings = Settings(
        database_url=db, store_url=f"file://{tmp_path}", console_secret=CONSOLE_SECRET
    )
    try:
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="https://c.test") as client:
                page = await client.get("/console/sign-in")
                assert page.status_code == 200 and "统一身份认证" not in page.text
                assert (await client.get("/console/sign-in/oidc")).status_code == 404
    finally:
        await database.init(db, global_fallback=True)


OIDC = {
    "GONGKAI_OIDC_ISSUER": "https://id.example.gov.cn",
    "GONGKAI_OIDC_CLIENT_ID": "console",
    "GONGKAI_OIDC_CLIENT_SECRET": "s",
    "GONGKAI_CONSOLE_URL": "https://console.example.gov.cn/console/",
}


def test_the_settings_are_all_four_or_none() -> None:
    assert load({}).oidc is None
    oidc = load(OIDC).oidc
    assert oidc is not None and oidc.console_url == "https://console.example.gov.cn/console"
    partial = {k: v for k, v in OIDC.items() if k != "GONGKAI_OIDC_CLIENT_SECRET"}
    with pytest.raises(SettingsError, match="also needs GONGKAI_OIDC_CLIENT_SECRET"):
        load(partial)


@pytest.mark.parametrize(
    ("issuer", "accepted"),
    [
        ("https://id.example.gov.cn", True),
        ("http://127.0.0.1:9000", True),
        ("http://localhost:9000", True),
        ("http://id.example.gov.cn", False),
        ("ftp://id.example.gov.cn", False),
    ],
)
def test_the_provider_is_https_except_on_the_loopback(issuer: str, accepted: bool) -> None:
    environ = {**OIDC, "GONGKAI_OIDC_ISSUER": issuer}
    if accepted:
        assert load(environ).oidc is not None
    else:
        with pytest.raises(SettingsError, match="GONGKAI_OIDC_ISSUER"):
            load(environ)


async def test_a_subject_is_linked_to_one_account_only(db: str) -> None:
    await add_accounts()
    await accounts.link_identity("officer", "https://id", "alice")
    await accounts.link_identity("officer", "https://id", "alice")  # again: nothing changes
    with pytest.raises(accounts.AccountError, match="linked to officer already"):
        await accounts.link_identity("auditor", "https://id", "alice")
    await accounts.link_identity("auditor", "https://other", "alice")  # another provider's
    with pytest.raises(accounts.AccountError, match="1 to 255 printable"):
        await accounts.link_identity("auditor", "https://id", "x" * 256)
    await accounts.link_identity("auditor", "https://id", "x" * 255)
