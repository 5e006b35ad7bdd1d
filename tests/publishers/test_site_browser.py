"""The demo site in a real browser: Debian's headless Chromium loads the index, a release, a
department and a project page from the published demo bucket (S3 on moto) behind a plain HTTP
server, under a prefix as a CDN would serve it, with no console error, no failed request and no
broken link, and saves screenshots under test-output/site/ (decisions.md D18, D20).

Without chromium the tests skip, visibly; in CI (``CI=true``, or ``GONGKAI_REQUIRE_CHROMIUM=1``)
they fail instead: `.ci/run` installs chromium and fonts-noto-cjk.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import orjson
import pytest
from minio.error import S3Error
from websockets.sync.client import connect

from publishers import site_paths
from storage.objects.s3 import S3ObjectStore
from tests.conftest import BACKEND, PublishedDemo

#: Per database backend: `make test` runs both at once.
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "site" / BACKEND
PREFIX = "/open/"
TIMEOUT = 30.0


# --- the bucket over HTTP ----------------------------------------------------------------------


@dataclass
class Bucket:
    """A read-only HTTP server in front of the demo bucket, serving keys under `PREFIX`."""

    base: str
    requests: list[tuple[str, int]] = field(default_factory=list)


def serve(store: S3ObjectStore) -> tuple[ThreadingHTTPServer, Bucket]:
    client, bucket = store.client, store.bucket

    class Handler(BaseHTTPRequestHandler):
        def _object(self, head: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            key = path.removeprefix(PREFIX) if path.startswith(PREFIX) else ""
            key = key or ("index.html" if path == PREFIX else "")
            status, body, content_type, size = 404, b"not found", "text/plain", 9
            if key and not key.endswith("/"):
                try:
                    stat = client.stat_object(bucket, key)
                    content_type = stat.content_type or "application/octet-stream"
                    size = stat.size or 0
                    if head:
                        body = b""
                    else:
                        response = client.get_object(bucket, key)
                        body = response.read()
                        response.close()
                        response.release_conn()
                    status = 200
                except S3Error:
                    pass
            served.requests.append((path, status))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(size if head else len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._object(head=False)

        def do_HEAD(self) -> None:
            self._object(head=True)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = Bucket(f"http://127.0.0.1:{server.server_address[1]}{PREFIX}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, served


# --- Chromium over the DevTools protocol -------------------------------------------------------


class Browser:
    """Headless Chromium driven over the DevTools protocol (websockets), one tab."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.log = (profile / "chromium.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary and fixed flags
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.stack = contextlib.ExitStack()
        self.counter = 0
        self.events: list[dict[str, Any]] = []
        try:
            self.ws = self.stack.enter_context(connect(self._endpoint(profile), max_size=None))
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
            self.session = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable", session=self.session)
        except BaseException:
            self.close()
            raise

    def _endpoint(self, profile: Path) -> str:
        """Chromium writes its DevTools port and path into the profile once it listens."""
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"chromium did not start: see {profile / 'chromium.log'}")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        return f"ws://127.0.0.1:{port}{path}"

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.counter += 1
        message: dict[str, Any] = {"id": self.counter, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=TIMEOUT))
            if reply.get("id") == self.counter:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.send(method, params, self.session)

    def wait_for(self, method: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == method for e in self.events):
            self.events.append(
                json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            )

    def drain(self, seconds: float) -> None:
        """Collect events for a moment after the load (late console messages, fetches)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                break

    def open(self, url: str, width: int = 1280, height: int = 2000, mobile: bool = False) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.drain(0.3)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions, failed requests and HTTP errors since `open`."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(f"console.{params['type']}: {params['args']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append(f"failed: {params.get('errorText')}")
            elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                found.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        return found

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Browser]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    opened = Browser(chromium, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def dead_links(browser: Browser, bucket: Bucket) -> list[str]:
    """Every link of the open page, resolved by the browser, that the server cannot answer."""
    hrefs = browser.evaluate(
        "Array.from(document.querySelectorAll('a[href], link[href]'), a => a.href)"
    )
    dead = []
    for href in sorted(set(hrefs)):
        url = href.split("#")[0]
        if not url.startswith(bucket.base):
            if not href.startswith("data:"):
                dead.append(f"outside the site: {href}")
            continue
        request = urllib.request.Request(url, method="HEAD")  # noqa: S310 - our own server
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                ok = response.status == 200
        except OSError:
            ok = False
        if not ok:
            dead.append(href)
    return dead


async def test_the_demo_site_loads_in_chromium_without_errors_or_broken_links(
    published_demo: PublishedDemo, browser: Browser
) -> None:
    store = published_demo.store
    keys = set(orjson.loads(await store.get(site_paths.SITE_MANIFEST_KEY))["objects"])
    release = sorted(k for k in keys if "/final-accounts/" in k and k.startswith("site/releases/"))
    assert release, "the demo publishes final accounts"
    department_code = release[0].split("/")[-2]
    jurisdiction = release[0].split("/")[2]
    department = site_paths.department_page(jurisdiction, department_code)
    assert department in keys
    page = (await store.get(department)).decode()
    projects = [k for k in keys if k.startswith(f"site/projects/{jurisdiction}/")]
    project = next(k for k in sorted(projects) if k.split("/")[3] in page and "-ZT" not in k)
    pages = {
        "index": "index.html",
        "release": release[0],
        "department": department,
        "project": project,
    }
    # A department's name, as a reader would type it into the search box.
    parts = orjson.loads(await store.get(site_paths.SEARCH_KEY))["parts"]
    items = [i for part in parts for i in orjson.loads(await store.get(part))["items"]]
    query = next(i[0] for i in items if i[1] == "部门")

    server, bucket = serve(store)
    try:
        result = await asyncio.to_thread(visit, browser, bucket, pages, query)
    finally:
        server.shutdown()
        server.server_close()
    assert result == {name: {"errors": [], "dead links": []} for name in pages}
    assert [r for r in bucket.requests if r[1] != 200] == []


#: A two-character term of the demo's project names (绿化, 教育, … all appear there).
TERM = "项目"


def search_results(browser: Browser, url: str) -> list[str]:
    """The text of each search hit once the page at `url` (with ?q=) has run its search."""
    browser.open(url)
    return list(
        browser.evaluate(
            """(async () => {
              for (let i = 0; i < 50 && !document.querySelector('#hits li'); i++) {
                await new Promise(r => setTimeout(r, 100));
              }
              return Array.from(document.querySelectorAll('#hits li')).map(li => li.textContent);
            })()"""
        )
    )


def visit(browser: Browser, bucket: Bucket, pages: dict[str, str], query: str) -> dict[str, Any]:
    result = {}
    for name, key in pages.items():
        browser.open(bucket.base + key)
        title = browser.evaluate("document.title")
        assert "预算绩效信息公开" in title, (name, title)
        assert browser.evaluate("document.documentElement.lang") == "zh-CN"
        if name == "index":
            hits = browser.evaluate(
                """(async (QUERY) => {
                  const q = document.getElementById('q');
                  q.value = QUERY;
                  q.dispatchEvent(new Event('input'));
                  for (let i = 0; i < 50 && !document.querySelector('#hits li'); i++) {
                    await new Promise(r => setTimeout(r, 100));
                  }
                  return document.querySelectorAll('#hits li').length;
                })("""
                + json.dumps(query)
                + ")"
            )
            assert hits > 0, "the search box finds published names"
            # The query is in the address; a two-character term names department and year in
            # its results, and the address reloaded shows the same results (issue #15).
            assert "q=" in browser.evaluate("location.search")
            found = search_results(browser, bucket.base + "index.html?q=" + quote(TERM))
            assert found and all("年度" in hit and "（" in hit for hit in found[:5]), found[:5]
            assert browser.evaluate("document.getElementById('q').value") == TERM
            assert search_results(browser, browser.evaluate("location.href")) == found
            browser.drain(0.2)
        browser.screenshot(OUTPUT / f"{name}.png")
        result[name] = {"errors": browser.errors(), "dead links": dead_links(browser, bucket)}
    # Readable on a phone: nothing wider than the screen; the screenshot is kept.
    browser.open(bucket.base + "index.html", width=390, height=1600, mobile=True)
    overflow = browser.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the index is {overflow}px wider than a phone"
    browser.screenshot(OUTPUT / "index-phone.png")
    # A release page's wide tables scroll inside their box, not the page (issue #15).
    browser.open(bucket.base + pages["release"], width=390, height=1600, mobile=True)
    overflow = browser.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the release page is {overflow}px wider than a phone"
    browser.screenshot(OUTPUT / "release-phone.png")
    assert browser.errors() == []
    return result
