"""GraphiQL served from the package (api/graphiql.py): the pages load only this server's files,
and render in headless Chromium with the network to anything but 127.0.0.1 blocked — a real
`gongkai serve` process, as after `make run` (decisions.md D20 for chromium)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from strawberry.http.ides import get_graphql_ide_html

from api.app import create_app
from api.graphiql import ASSETS, ASSETS_PATH
from api.settings import Settings
from storage import database
from tests.live import free_port, gongkai_serve, serve

ASSET_FILES = (
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "setup.js",
)
#: Every host name resolves to nothing but 127.0.0.1, and whatever still leaves for another
#: address (an IP literal) goes to a proxy that refuses: an intranet with no way out.
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
]


async def client_for(db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await database.close()  # the app connects by itself, in its lifespan
    try:
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client
    finally:
        await database.init(db, global_fallback=True)


HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.mark.parametrize("path", ["/graphql", "/internal/graphql"])
async def test_the_pages_load_only_this_servers_files(db: str, tmp_path: Path, path: str) -> None:
    async for client in client_for(db, Settings(database_url=db, store_url=f"file://{tmp_path}")):
        page = await client.get(path, headers=HTML)  # no token, even for the internal page
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sorted(s for s in sources if s != "data:,") == sorted(
            f"{ASSETS_PATH}/{name}" for name in ASSET_FILES
        )
        assert "://" not in page.text
        assert ('id="token"' in page.text) is (path == "/internal/graphql")
        for name in ASSET_FILES:
            asset = await client.get(f"{ASSETS_PATH}/{name}")
            assert asset.status_code == 200, name
            assert asset.content == (ASSETS / name).read_bytes()
        # Not a browser: the endpoints answer as before.
        assert (await client.get(path)).status_code in (400, 401)


def test_the_vendored_files_are_those_listed_with_their_licences() -> None:
    import hashlib

    listed = dict(
        line.split()[::-1]
        for line in (ASSETS / "VERSIONS").read_text().splitlines()
        if re.fullmatch(r"[0-9a-f]{64}  \S+", line)
    )
    assert sorted(listed) == sorted(ASSET_FILES[:-1])  # setup.js is ours
    for name, digest in listed.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    for package in ("graphiql", "react", "react-dom"):
        assert "MIT License" in (ASSETS / f"LICENSE.{package}").read_text(), package


async def test_production_serves_no_graphiql(db: str, tmp_path: Path) -> None:
    secret = "production-secret-of-at-least-32-bytes"
    settings = Settings(
        database_url=db, store_url=f"file://{tmp_path}", env="production", jwt_key=secret
    )
    async for client in client_for(db, settings):
        for path in ("/graphql", "/internal/graphql"):
            page = await client.get(path, headers=HTML)
            assert "text/html" not in page.headers.get("content-type", ""), path
        assert (await client.get(f"{ASSETS_PATH}/setup.js")).status_code == 404


# --- in a browser --------------------------------------------------------------------------------


@pytest.fixture
def server(db: str, tmp_path: Path) -> Iterator[str]:
    """`gongkai serve` in a process of its own, in an empty working directory (so the
    development key is made there), on a free port; yields its base URL once it is healthy."""
    with serve(db, tmp_path, gongkai_serve(free_port()), in_workdir=True) as server:
        yield server.url


def dump_dom(chromium: str, url: str, profile: Path) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran: chromium's --dump-dom once a budget of virtual
    time has passed (network fetches hold virtual time, so the schema request completes); and
    the uncaught errors and refusals (CSP) its console logged."""
    result = subprocess.run(  # noqa: S603 - a fixed binary and fixed flags
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            *OFFLINE,
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    console = re.findall(r'CONSOLE[^"]*"((?:Uncaught|Refused)[^"]*)"', result.stderr.decode())
    return result.stdout.decode(), console


def test_graphiql_renders_in_chromium_with_no_network(
    chromium: str, server: str, tmp_path: Path
) -> None:
    for path in ("/graphql", "/internal/graphql"):
        dom, console = dump_dom(
            chromium, f"{server}{path}", tmp_path / f"profile{path.replace('/', '-')}"
        )
        assert console == [], path
        # The editor (CodeMirror inside GraphiQL's query editor), not the placeholder text.
        assert 'class="graphiql-container' in dom, path
        assert "graphiql-query-editor" in dom and "CodeMirror" in dom, path
        assert "Loading GraphiQL" not in dom, path
        assert ('id="token"' in dom) is (path == "/internal/graphql")
    log = (tmp_path / "server.log").read_text()
    assert f"{server}/internal/graphql" in log and f"{server}/open/" in log  # the banner
    # `gongkai serve` logs each request as a JSON line (api/request_context.py).
    requests = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and '"request"' in line
    ]
    assert any(
        r["method"] == "POST" and r["path"] == "/graphql" and r["status"] == 200 for r in requests
    ), "the schema was fetched"


def test_the_blocked_network_is_real(chromium: str, tmp_path: Path) -> None:
    """The control: strawberry's own GraphiQL page, which loads its scripts from a CDN, stays
    blank under the same flags."""
    page = tmp_path / "cdn.html"
    page.write_text(get_graphql_ide_html(graphql_ide="graphiql"))
    dom, _ = dump_dom(chromium, page.as_uri(), tmp_path / "profile-cdn")
    assert "unpkg.com" in dom
    assert "graphiql-query-editor" not in dom and "CodeMirror" not in dom
