"""The console in Debian's headless Chromium, driven like the site's browser tests (the same
`Browser`): an officer signs in, approves a reviewed target, files a project-scope filing,
checks, schedules and publishes the budget release, and the site at /open/ shows the release
without the filed project; an editor cannot see another department. No console errors; the
screenshots are saved under test-output/console/<backend>/."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from api.console import accounts
from storage import database, models
from storage.enums import ReleaseKind, ReviewStatus
from tests.conftest import BACKEND
from tests.console.conftest import PASSWORD, Clock, console_settings
from tests.internal.conftest import gid
from tests.publishers import dataset
from tests.publishers.test_site_browser import Browser

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "console" / BACKEND


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Browser]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "profile"
    profile.mkdir()
    opened = Browser(chromium, profile)
    try:
        yield opened
    finally:
        opened.close()


def serve(db: str, store: Path) -> tuple[uvicorn.Server, threading.Thread, str]:
    app = create_app(console_settings(db, store), clock=Clock())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    # "localhost": a secure context over plain HTTP, so the Secure cookie is kept
    return server, thread, f"http://localhost:{port}"


def submit(browser: Browser, script: str) -> None:
    """Run `script` (which submits a form) and wait for the next page."""
    browser.events.clear()
    browser.evaluate(script)
    browser.wait_for("Page.loadEventFired")
    browser.drain(0.1)


def fill_and_submit(browser: Browser, form: str, values: dict[str, str]) -> None:
    submit(
        browser,
        f"""(() => {{
          const form = document.querySelector({json.dumps(form)});
          for (const [name, value] of Object.entries({json.dumps(values)})) {{
            form.elements[name].value = value;
          }}
          form.requestSubmit();
        }})()""",
    )


def text(browser: Browser) -> str:
    return str(browser.evaluate("document.body.innerText"))


def shot(browser: Browser, name: str) -> None:
    browser.screenshot(OUTPUT / f"{name}.png")


async def test_officer_publishes_through_the_console_and_editor_is_kept_out(
    db: str, tmp_path: Path, browser: Browser
) -> None:
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    department = await models.Department.get(code="PUBD0X")
    other = await models.Department.get(code="PUBD1X")
    release = next(
        r
        for r in built.releases
        if r.kind is ReleaseKind.BUDGET and r.department_id == department.pk
    )
    reviewed = await models.PerformanceTarget.get(overall_goal="PUBP0-0目标")
    reviewed.review_status = ReviewStatus.DEPT_REVIEWED
    await reviewed.save()
    filed = await models.Subject.get(code="PUBP0-1Q")
    await accounts.add_user("officer", PASSWORD, ["finance_officer", "publisher"])
    await accounts.add_user("editor", PASSWORD, ["department_editor"], "PUBD0X")
    await database.close()
    server, thread, base = serve(db, tmp_path / "store")
    errors: dict[str, list[str]] = {}
    try:
        b = browser

        def page(name: str, *, expected: tuple[str, ...] = ()) -> None:
            shot(b, name)
            found = [e for e in b.errors() if not any(x in e for x in expected)]
            if found:
                errors[name] = found

        b.open(f"{base}/console/")
        assert "登录" in text(b)
        fill_and_submit(b, "form.narrow", {"username": "officer", "password": PASSWORD})
        assert "工作台" in str(b.evaluate("document.title")), text(b)
        page("desk")

        b.open(f"{base}/console/review")
        assert "PUBP0-0" in text(b)
        page("review")
        submit(
            b,
            f"""document.querySelector('form[action*="{gid(reviewed)}/approve"]')
                        .requestSubmit()""",
        )
        assert "目标已批复" in text(b), text(b)
        page("approved")

        b.open(f"{base}/console/filings?year={dataset.YEAR}&department={gid(department)}")
        b.evaluate(f"""document.querySelector('input[value="{gid(filed)}"]').checked = true""")
        fill_and_submit(
            b,
            'form[action$="/filings"]',
            {"reference": "敏备-浏览器-1", "filedWith": "测试区财政局"},
        )
        assert "备案已登记" in text(b), text(b)
        page("filed")

        b.open(f"{base}/console/releases/{gid(release)}")
        submit(b, "document.querySelector('form[action$=\"/check\"]').requestSubmit()")
        checked = text(b)
        assert "可以发布" in checked, checked
        # the preview lists what would be published: the filed project is not in it
        assert "PUBP0-0项目" in checked and "PUBP0-1项目" not in checked
        page("checked")
        # the preview as the site's own page: the same records, styled, nothing published
        submit(b, "document.querySelector('form[action$=\"/preview\"]').requestSubmit()")
        previewed = text(b)
        assert "预览" in previewed and "PUBP0-0项目" in previewed, previewed
        assert "PUBP0-1项目" not in previewed
        assert (
            b.evaluate("getComputedStyle(document.querySelector('p.preview')).borderTopStyle")
            == "solid"
        )
        page("preview")
        b.open(f"{base}/console/releases/{gid(release)}")
        # a time past by every clock: the publisher checks the embargo against its own
        fill_and_submit(b, 'form[action$="/schedule"]', {"publishAt": "2024-02-10T09:00"})
        assert "已排期" in text(b), text(b)
        b.open(f"{base}/console/releases/{gid(release)}")
        submit(b, "document.querySelector('form[action$=\"/publish\"]').requestSubmit()")
        assert "确认立即向社会公开" in text(b)
        page("confirm")
        submit(b, "document.querySelector('form.confirm').requestSubmit()")
        assert "已公开发布" in text(b), text(b)
        page("published")

        # On a tablet held upright (820 × 1180 CSS pixels): nothing wider than the screen.
        for name, path in (("desk", "/console/"), ("release", f"/console/releases/{gid(release)}")):
            b.open(f"{base}{path}", width=820, height=1180, mobile=True)
            overflow = b.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the {name} page is {overflow}px wider than a tablet"
            page(f"{name}-tablet")

        b.open(f"{base}/open/")
        assert "PUBD0部门" in text(b)
        page("open-index")
        href = b.evaluate(
            "Array.from(document.querySelectorAll('a')).find(a =>"
            " a.textContent.includes('PUBD0部门') && a.href.includes('/releases/'))?.href"
        )
        assert href, "the index links the published release"
        b.open(str(href))
        published = text(b)
        assert "PUBP0-0项目" in published and "PUBP0-1项目" not in published
        page("open-release")

        b.open(f"{base}/console/")
        submit(b, "document.querySelector('form.who').requestSubmit()")
        assert "登录" in text(b)
        fill_and_submit(b, "form.narrow", {"username": "editor", "password": PASSWORD})
        b.open(f"{base}/console/departments/{gid(department)}")
        assert "PUBD0部门" in text(b)
        page("editor-own")
        b.open(f"{base}/console/departments/{gid(other)}")
        refused = text(b)
        assert "无权查看" in refused and "PUBD1部门" not in refused
        page("editor-other", expected=("404",))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        await database.init(db, global_fallback=True)
    assert errors == {}
