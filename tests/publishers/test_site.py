"""The open-data site (issue #6): charts, pages, feed, calendar and search index rendered at
publish time from published rows only; links that resolve; stale pages removed; nothing filed on
any page (invariant 2); and the `/open/` route that serves a local-folder store."""

from __future__ import annotations

import ast
import html
import posixpath
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal as D
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from icalendar import Calendar

from api.app import create_app
from api.settings import Settings
from publishers import charts, dcat, display, site, site_data, site_paths, site_sync
from publishers.records import subject_key
from publishers.render import Rendered, sha256_hex
from publishers.select import Selector
from publishers.sync import SyncStats
from storage import database, models
from storage.enums import FilingReason, RecordType, ReleaseStatus
from storage.errors import StoreError
from storage.objects import open_store
from storage.objects.memory import MemoryObjectStore
from tests.conftest import PublishedDemo
from tests.publishers import dataset
from tests.publishers.test_releases import NOW, decoded, everything, finder, publisher

ROOT_KEYS = (
    site_paths.INDEX_KEY,
    site_paths.FEED_KEY,
    site_paths.CALENDAR_KEY,
    site_paths.SEARCH_KEY,
    dcat.JSONLD_KEY,
    dcat.TURTLE_KEY,
)


def xml(data: str | bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - our own output, not untrusted input


def is_site_key(key: str) -> bool:
    return key in ROOT_KEYS or key.startswith("site/")


def site_objects(objects: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in objects.items() if is_site_key(k)}


def site_text(key: str, data: bytes) -> str:
    """The text of a site object with every way a name can hide undone: iCalendar line folding
    and escapes first, then JSON escapes, HTML entities and percent-encoding (`decoded`)."""
    if key.endswith(".ics"):
        text = data.decode().replace("\r\n ", "").replace("\r\n\t", "")
        text = text.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n")
        data = text.encode()
    return key + urllib.parse.unquote(key) + decoded(data)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for n, v in attrs if n in ("href", "src") and v is not None]


def target(page: str, href: str) -> str | None:
    """The key a relative link on `page` names, or None for a same-page anchor."""
    if href.startswith(("#", "data:")):
        return None
    assert "://" not in href and not href.startswith("/"), f"{page}: {href} is not relative"
    path = href.split("#")[0]
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    assert not joined.startswith(".."), f"{page}: {href} climbs above the root"
    return urllib.parse.unquote(joined)


def search_items(objects: dict[str, bytes]) -> list[list[str]]:
    """The search box's items, as its script reads them: every part `search-index.json` lists,
    in its order."""
    parts = orjson.loads(objects[site_paths.SEARCH_KEY])["parts"]
    return [item for part in parts for item in orjson.loads(objects[part])["items"]]


def broken_links(objects: dict[str, bytes], keys: set[str]) -> list[str]:
    """Every href/src of every page, feed link, search part and search hit that names no
    stored object."""
    broken = []
    for key, data in objects.items():
        hrefs: list[str] = []
        base = key  # what the links are relative to
        if key.endswith(".html"):
            parser = Links()
            parser.feed(data.decode())
            hrefs = parser.found
        elif key == site_paths.FEED_KEY:
            hrefs = [str(e.get("href")) for e in xml(data).iter() if e.get("href")]
        elif key == site_paths.SEARCH_KEY:
            hrefs = orjson.loads(data)["parts"]
        elif key.startswith("site/search/"):  # read by the index page: links relative to it
            hrefs, base = [item[2] for item in orjson.loads(data)["items"]], site_paths.INDEX_KEY
        for href in hrefs:
            found = target(base, href)
            if found is not None and found not in keys:
                broken.append(f"{key} → {href}")
    return broken


async def published_small(plan: dataset.Plan) -> tuple[dataset.Built, MemoryObjectStore]:
    built = await dataset.build(plan)
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for r in built.releases])
    return built, store


# --- charts ------------------------------------------------------------------------------------


def test_charts_are_deterministic_accessible_svg_with_escaped_labels() -> None:
    rows = [("<script>x</script>", D("12.50")), ("政府性基金预算", D("3.25"))]
    bars = charts.horizontal_bars("b1", "预算 & 构成", rows, lambda v: f"{v} 万元", "万元")
    again = charts.horizontal_bars("b1", "预算 & 构成", rows, lambda v: f"{v} 万元", "万元")
    assert bars == again
    svg = xml(str(bars.svg))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "b1-t b1-d"
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.find(f"{ns}title").text == "预算 & 构成"  # type: ignore[union-attr]
    assert "<script>" not in str(bars.svg) and "&lt;script&gt;" in str(bars.svg)
    assert bars.rows == (("<script>x</script>", "12.50 万元"), ("政府性基金预算", "3.25 万元"))
    widths = [r.get("width") for r in svg.iter(f"{ns}rect")]
    assert widths == ["380", "98.8"]  # proportional, exact decimals

    grades = charts.stacked_bars(
        "g",
        "等级",
        [("2024年", [("优", 3), ("良", 1), ("中", 0), ("差", 0)])],
        charts.GRADE_COLOURS,
    )
    assert grades.headers == ("", "优", "良", "中", "差", "合计")
    assert grades.rows == (("2024年", "3", "1", "0", "0", "4"),)
    xml(str(grades.svg))
    histogram = charts.columns("r", "执行率", [("<50%", 0), ("≥95%", 7)], "执行率")
    assert "≥95%：7个" in str(histogram.svg)
    for empty in (
        charts.horizontal_bars("e", "空", [], str, "万元"),
        charts.stacked_bars("e", "空", []),
        charts.columns("e", "空", [], "x"),
    ):
        xml(str(empty.svg))


def test_amounts_show_in_wan_yuan_and_codes_make_safe_segments() -> None:
    assert display.wan("100000.00") == "10.00"
    assert display.wan("123456789.99") == "12,345.68"
    assert display.wan("50.00") == "0.01"  # half-up
    assert display.wan(None) == "—"
    assert display.percent("94.9450") == "94.95%"
    assert site_paths.segment("101-2017-0010") == "101-2017-0010"
    assert site_paths.segment("项目/1") == "~" + "项目/1".encode().hex()
    assert site_paths.segment("..a") != "..a" and site_paths.segment("~x").startswith("~7e")


# --- the small data set ------------------------------------------------------------------------


async def test_every_publish_renders_the_site_and_every_link_resolves(db: str) -> None:
    _, store = await published_small(dataset.Plan(departments=2, projects=2))
    objects = await everything(store)
    pages = site_objects(objects)
    department = "site/departments/990101/PUBD0X/index.html"
    for key in [
        *ROOT_KEYS,
        site_paths.STYLE_KEY,
        "site/years/990101/2024/index.html",
        "site/releases/990101/2024/budget/PUBD0X/index.html",
        "site/releases/990101/2024/final-accounts/PUBD1X/index.html",
        "site/releases/990101/2025/finance-annual/finance/index.html",
        department,
        "site/projects/990101/PUBP0-0Q/index.html",
        "site/projects/990101/PUBD0X-OV/index.html",
    ]:
        assert key in pages, key
    assert broken_links(pages, set(objects)) == []
    manifest = orjson.loads(objects[site_paths.SITE_MANIFEST_KEY])["objects"]
    assert manifest == {k: sha256_hex(v) for k, v in pages.items()}

    release = pages["site/releases/990101/2024/final-accounts/PUBD0X/index.html"].decode()
    for suffix in (".json", ".csv", ".excel.csv", "datapackage.v1.json", "manifest.v1.json"):
        assert re.search(rf'href="[^"]*{re.escape(suffix)}"', release), suffix
    data_file = re.search(r'href="((?:\.\./)+releases/[^"]+/data/subjects\.\w+\.json)"', release)
    assert data_file is not None
    key = target("site/releases/990101/2024/final-accounts/PUBD0X/index.html", data_file[1])
    assert key is not None
    assert sha256_hex(objects[key]) in release and f'value="{len(objects[key])}"' in release
    # One row per table, its three formats side by side, each with a readable download name.
    (row,) = [r for r in release.split("<tr>") if "/data/subjects." in r]
    assert [f for f in ("JSON</a>", "CSV</a>", "CSV（Excel，带BOM）</a>") if f in row] == [
        "JSON</a>",
        "CSV</a>",
        "CSV（Excel，带BOM）</a>",
    ]
    downloads = re.findall(r'download="([^"]+)"', row)
    assert len(downloads) == 3 and all(d.startswith("2024_") for d in downloads), downloads
    assert downloads[2].endswith("_Excel.csv")
    assert "10.00" in release and "9.50" in release  # 100,000 and 95,000 元 in 万元
    assert "95.00%" in release  # the execution rate
    for key, data in pages.items():
        if key.endswith(".html"):
            text = data.decode()
            assert '<html lang="zh-CN">' in text and 'name="viewport"' in text, key
            assert display.TOTALS_NOTE in text, key  # D7
            assert "演示数据" in text, key  # D4: the data set's jurisdiction is a demo
            # The only script besides the index's search is a release page's schema.org data.
            jsonld = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text)
            text = re.sub(r'<script type="application/ld\+json">.*?</script>', "", text)
            assert len(jsonld) == (1 if key.startswith("site/releases/") else 0), key
            for found in jsonld:
                described = orjson.loads(found)
                assert described["@context"] == "https://schema.org"
                assert described["@type"] == "Dataset", key
                assert described["name"] and described["distribution"], key
            assert "<script" not in text or key == site_paths.INDEX_KEY, key
            outside = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
            assert "http://" not in outside and "https://" not in outside, key  # no external
    project = pages["site/projects/990101/PUBP0-0Q/index.html"].decode()
    assert "目标</span>≥90%" in project and "<strong>95%</strong>" in project


async def test_the_site_renders_the_same_bytes_and_a_rerun_writes_nothing(db: str) -> None:
    _, store = await published_small(dataset.Plan(departments=1, projects=2))
    published = await site.load(store)
    first = site.render_site(published)
    assert [(r.path, r.data) for r in first] == [
        (r.path, r.data) for r in site.render_site(published)
    ]
    writes = store.puts
    stats = SyncStats()
    await publisher(store, NOW + timedelta(days=5)).write_pointers(stats)
    assert store.puts == writes and stats.written == 0
    feed = xml(await store.get(site_paths.FEED_KEY))
    atom = "{http://www.w3.org/2005/Atom}"
    updated = [e.text for e in feed.iter(f"{atom}updated")]
    assert updated[0] == max(updated[1:])  # the feed's time is its latest entry's, not the clock
    calendar = Calendar.from_ical(await store.get(site_paths.CALENDAR_KEY))
    assert len(calendar.walk("VEVENT")) == 3


async def test_the_site_is_rendered_one_jurisdiction_at_a_time_and_only_where_it_changed(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city's site is loaded and rendered a district at a time, so its memory is that of one
    district; a correction in one district renders that district's pages and the portal's, not
    the others' (issue 18); and the store holds the bytes of rendering the site whole."""
    first = await dataset.build(dataset.Plan())
    second = await dataset.build(dataset.Plan(jurisdiction_code="990102"))
    store = MemoryObjectStore()
    loaded: list[tuple[str | None, bool]] = []
    load = site.load

    async def recorded(
        store: MemoryObjectStore,
        jurisdiction: str | None = None,
        *,
        shown: tuple[RecordType, ...] = site_data.SHOWN,
        objects: bool = True,
        listing: Any = None,
        departments: Any = None,
        light: bool = False,
    ) -> site.SiteInput:
        assert listing is not None  # read once by update_site, not again by each part
        loading.append(jurisdiction)
        data = await load(
            store,
            jurisdiction,
            shown=shown,
            objects=objects,
            listing=listing,
            departments=departments,
            light=light,
        )
        if jurisdiction is not None:
            assert set(data.jurisdictions()) <= {jurisdiction}
        # The portal objects read every jurisdiction's names once the parts are written, and
        # no files.
        assert shown == (site_data.SHOWN if jurisdiction else site_data.PORTAL)
        assert objects == (jurisdiction is not None)
        assert objects or not any(r.objects for r in data.releases)
        # A rendered part: its light rows, then its departments' whole rows, a group at a time.
        kind = "light" if light else "group" if departments else "portal"
        if kind == "group":
            owners = {r.entry["departmentCode"] for r in data.releases}
            assert owners - {None} == set(departments)
        loaded.append((jurisdiction, kind))
        loading.pop()
        return data

    monkeypatch.setattr(site, "load", recorded)
    monkeypatch.setattr(site_data, "_manifests", {})
    loading: list[str | None] = []
    manifests_read: list[str] = []
    get = store.get

    async def recorded_get(key: str) -> bytes:
        if loading and key.endswith("/manifest.v1.json"):
            manifests_read.append(key)
        return await get(key)

    monkeypatch.setattr(store, "get", recorded_get)
    await publisher(store).publish_many([r.id for r in first.releases + second.releases])
    # Two departments in each, in one group (a group holds about GROUP_SUBJECTS subjects).
    parts = ["light", "group"]
    rendered = [(code, part) for code in ("990101", "990102") for part in parts]
    assert loaded == [*rendered, (None, "portal")]
    # A jurisdiction's manifests are read once for its light rows and its groups, and let go
    # when the next jurisdiction is loaded.
    assert sorted(manifests_read) == sorted(set(manifests_read))
    assert {key.split("/")[1] for key in manifests_read} == {"990101", "990102"}
    assert list(site_data._manifests) == ["990102"]
    assert {key.split("/")[1] for key, _ in site_data._manifests["990102"]} == {"990102"}
    monkeypatch.setattr(store, "get", get)
    # Nothing changed: the site manifest's fingerprint says so, and nothing is loaded.
    loaded.clear()
    await publisher(store).write_pointers(SyncStats())
    assert loaded == []
    objects = await everything(store)
    assert {r.path: r.data for r in site.render_site(await load(store))} == site_objects(objects)
    parts = orjson.loads(objects[site_paths.SEARCH_KEY])["parts"]
    assert parts == ["site/search/990101.json", "site/search/990102.json"]
    for code, part in zip(("990101", "990102"), parts, strict=True):
        pages = {item[2] for item in orjson.loads(objects[part])["items"]}
        assert pages and all(f"/{code}/" in page for page in pages), part
    # Every page of a jurisdiction is filed under it in the site manifest, the rest under none.
    shard_of = {k: site_paths.shard_of(k) for k in site_objects(objects)}
    assert {code for code in shard_of.values()} == {"990101", "990102", None}
    assert all(shard_of[k] is None for k in ROOT_KEYS)
    assert all(
        shard_of[k] == k.split("/")[2].removesuffix(".json")
        for k in shard_of
        if k.startswith(tuple(f"site/{f}/" for f in (*site_paths.SHARD_FOLDERS, "search")))
    )

    # A correction in the second jurisdiction: its pages and the portal's are rendered again.
    loaded.clear()
    await models.Subject.filter(
        code="PUBP0-0Q", department__jurisdiction_id=second.jurisdiction.id
    ).update(name="PUBP0-0项目（更正）")
    written: list[str] = []
    put = store.put

    async def recorded_put(key: str, data: bytes, *args: Any, **kwargs: Any) -> None:
        written.append(key)
        await put(key, data, *args, **kwargs)

    monkeypatch.setattr(store, "put", recorded_put)
    later = publisher(store, NOW + timedelta(days=3))
    batch = await later.publish_many(
        [r.id for r in first.releases + second.releases], note="更正项目名称"
    )
    assert not batch.failures
    assert sorted({r.outcome for r in batch.results}) == ["published", "unchanged"]
    assert loaded == [("990102", "light"), ("990102", "group"), (None, "portal")]
    assert [k for k in written if site_paths.shard_of(k) == "990101"] == []
    assert "site/projects/990102/PUBP0-0Q/index.html" in written
    objects = await everything(store)
    assert {r.path: r.data for r in site.render_site(await load(store))} == site_objects(objects)
    assert broken_links(site_objects(objects), set(objects)) == []


BASE = "https://open.example.gov.cn/gongkai/"
ATOM = "{http://www.w3.org/2005/Atom}"


async def test_under_a_base_url_the_feed_and_the_calendar_link_absolutely(db: str) -> None:
    _, store = await published_small(dataset.Plan(departments=1, projects=1))
    published = await site.load(store)
    relative = {r.path: r.data for r in site.render_site(published)}
    absolute = {r.path: r.data for r in site.render_site(published, base_url=BASE)}
    # The pages keep their relative links (the site works under any prefix): only the feed,
    # the calendar and the DCAT catalog's pages (whose IRIs are absolute) change.
    catalogs = [site_paths.jurisdiction_catalog("990101", s) for s in dcat.SYNTAXES]
    assert relative.keys() == absolute.keys()
    assert {k for k in relative if relative[k] != absolute[k]} == {
        site_paths.FEED_KEY,
        site_paths.CALENDAR_KEY,
        dcat.JSONLD_KEY,
        dcat.TURTLE_KEY,
        *catalogs,
    }
    feed, plain = xml(absolute[site_paths.FEED_KEY]), xml(relative[site_paths.FEED_KEY])
    links = [str(e.get("href")) for e in feed.iter(f"{ATOM}link")]
    assert links and all(link.startswith(BASE) for link in links)
    assert all(link.removeprefix(BASE) in relative for link in links)  # each names a page
    assert f"{BASE}site/releases/990101/2024/budget/PUBD0X/index.html" in links
    assert [str(e.get("href")) for e in plain.iter(f"{ATOM}link")] == [
        link.removeprefix(BASE) for link in links
    ]
    # IDs are tag: URIs, the same under any address (an Atom ID never changes).
    ids = [e.text for e in feed.iter(f"{ATOM}id")]
    assert ids == [e.text for e in plain.iter(f"{ATOM}id")]
    assert all(str(i).startswith("tag:gongkai,2024:") for i in ids)
    events = Calendar.from_ical(absolute[site_paths.CALENDAR_KEY]).walk("VEVENT")
    urls = [str(e["url"]) for e in events]
    assert len(urls) == 3 and all(url.removeprefix(BASE) in relative for url in urls)
    plain_events = Calendar.from_ical(relative[site_paths.CALENDAR_KEY]).walk("VEVENT")
    assert not [e for e in plain_events if "url" in e]  # iCalendar URLs must be absolute
    # update_site takes the base too, and re-renders when it changes (then writes nothing).
    stats = SyncStats()
    await site.update_site(store, stats, base_url=BASE)
    # the feed, the calendar, the DCAT catalog's two pages in two syntaxes each (the
    # jurisdiction's are rendered again: its digest covers the base URL), the site manifest
    # (once, as an object)
    assert stats.written == 7
    assert await store.get(site_paths.FEED_KEY) == absolute[site_paths.FEED_KEY]
    again = SyncStats()
    await site.update_site(store, again, base_url=BASE)
    assert again.written == 0


def test_the_fingerprint_covers_every_module_that_renders_the_site() -> None:
    """A change to any module the site is rendered with must re-render it (`site_sync`)."""
    folder = Path(site.__file__).parent
    found: set[str] = set()
    pending = ["site"]
    while pending:
        module = pending.pop()
        if f"{module}.py" in found:
            continue
        found.add(f"{module}.py")
        tree = ast.parse((folder / f"{module}.py").read_text(encoding="utf-8"))
        typing_only = {  # imports for annotations alone (`if TYPE_CHECKING:`) run no code
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "publishers":
                pending += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("publishers."):
                pending.append(str(node.module).split(".")[1])
    # The data publisher's own modules, the allocator's and the one that runs a jurisdiction's
    # pages in a process of its own: they shape no byte of the site.
    plumbing = {"render.py", "sync.py", "allocator.py", "apart.py"}
    assert found - plumbing == set(site_sync.RENDERER)


async def test_names_are_escaped_on_every_page(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    evil = '<script>alert("x")</script>&amp;"项目'
    await models.Subject.filter(code="PUBP0-0Q").update(name=evil)
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for r in built.releases])
    pages = site_objects(await everything(store))
    project = pages["site/projects/990101/PUBP0-0Q/index.html"].decode()
    assert html.escape(evil) in project
    for key, data in pages.items():
        text = data.decode()
        assert '<script>alert("x")' not in text, key
        assert "alert(&#34;x&#34;)" not in text.replace("&amp;", "&") or key.endswith(".html")
    hits = search_items(pages)
    # name, kind, page, department, year (issue #15)
    project_hit = [
        evil,
        "项目支出",
        "site/projects/990101/PUBP0-0Q/index.html",
        "PUBD0部门",
        "2024",
    ]
    assert project_hit in hits
    xml(pages[site_paths.FEED_KEY])  # still well-formed XML


@pytest.mark.parametrize("reason", [FilingReason.SENSITIVE, FilingReason.CLASSIFIED])
async def test_nothing_filed_is_on_any_page_feed_calendar_or_search_index(
    db: str, reason: FilingReason
) -> None:
    plan = dataset.Plan(
        departments=3,
        projects=2,
        whole_department_filings={0: reason},
        project_filings={(1, 0): reason},
    )
    built, store = await published_small(plan)
    pages = site_objects(await everything(store))
    texts = {key: site_text(key, data) for key, data in pages.items()}
    found = [f"{m} in {k}" for k, text in texts.items() for m in built.filed_markers if m in text]
    assert found == []
    everything_shown = "".join(texts.values())
    assert sorted(m for m in built.public_markers if m not in everything_shown) == []


async def test_scheduled_releases_are_in_the_calendar_only_when_their_department_is_public(
    db: str,
) -> None:
    plan = dataset.Plan(
        departments=2, projects=1, whole_department_filings={1: FilingReason.SENSITIVE}
    )
    built = await dataset.build(plan)
    budget_0, final_0, budget_1, final_1, annual = built.releases
    store = MemoryObjectStore()
    await publisher(store).publish_many([budget_0.id, annual.id])
    for release in (final_0, budget_1, final_1):
        release.status = ReleaseStatus.SCHEDULED
        await release.save()
    await publisher(store).write_pointers(SyncStats())
    calendar = (await store.get(site_paths.CALENDAR_KEY)).decode().replace("\r\n ", "")
    assert "PUBD0部门2024年度决算公开（待公开）" in calendar
    assert "SECRET" not in calendar and calendar.count("BEGIN:VEVENT") == 3


async def test_pages_of_a_withdrawn_department_are_deleted_and_nothing_links_to_them(
    db: str,
) -> None:
    store = MemoryObjectStore()
    withdrawal = await dataset.withdraw_whole_department(store, NOW)
    gone = [
        k for k in withdrawal.published if is_site_key(k) and ("/PUBD0X/" in k or "/PUBP0-" in k)
    ]
    assert len(gone) == 4  # two release pages, the department, the project
    after = await everything(store)
    assert [k for k in gone if k in after] == []
    assert broken_links(site_objects(after), set(after)) == []
    markers = dataset.WITHDRAWN_MARKERS
    assert [
        m for m in markers for k, v in site_objects(after).items() if m in site_text(k, v)
    ] == []
    manifest = orjson.loads(after[site_paths.SITE_MANIFEST_KEY])["objects"]
    assert set(manifest) == set(site_objects(after))
    index = after[site_paths.INDEX_KEY].decode()
    assert "撤回" in index  # the notice, naming no one


async def test_a_store_failure_while_writing_the_site_is_completed_by_the_rerun(db: str) -> None:
    built, store = await published_small(dataset.Plan(departments=1, projects=1))
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（更正）")
    writes = 0

    def fail(operation: str, key: str) -> bool:
        nonlocal writes
        if operation == "put" and key.startswith("site/releases/"):
            writes += 1
            return True
        return False

    store.fail_on = fail
    with pytest.raises(StoreError):
        await publisher(store, NOW + timedelta(days=1)).publish(built.releases[0].id, note="更正")
    assert writes
    interim = orjson.loads(await store.get(site_paths.SITE_MANIFEST_KEY))["objects"]
    page = "site/releases/990101/2024/budget/PUBD0X/index.html"
    assert interim[page] is None  # not vouched for
    store.fail_on = None
    await publisher(store, NOW + timedelta(days=1)).write_pointers(SyncStats())
    objects = await everything(store)
    manifest = orjson.loads(objects[site_paths.SITE_MANIFEST_KEY])["objects"]
    assert manifest == {k: sha256_hex(v) for k, v in site_objects(objects).items()}
    assert "PUBP0-0项目（更正）" in objects[page].decode()


@pytest.mark.parametrize("group_subjects", [1, 10_000, None], ids=["each", "one", "whole"])
async def test_a_jurisdictions_pages_are_rendered_a_group_of_departments_at_a_time(
    db: str, monkeypatch: pytest.MonkeyPatch, group_subjects: int | None
) -> None:
    """A changed jurisdiction is planned from a few fields of its rows, and its departments'
    pages are rendered from their whole rows a group at a time, each group about
    `GROUP_SUBJECTS` subjects; or whole, when it has no plan: the same bytes every way."""
    plan_shard = site.plan_shard
    if group_subjects is None:
        monkeypatch.setattr(site, "plan_shard", lambda *_: None)
    else:
        monkeypatch.setattr(site, "GROUP_SUBJECTS", group_subjects)
    _, store = await published_small(dataset.Plan(departments=3, projects=2))
    objects = await everything(store)
    assert {r.path: r.data for r in site.render_site(await site.load(store))} == site_objects(
        objects
    )
    assert broken_links(site_objects(objects), set(objects)) == []
    plan = plan_shard(await site.load(store, "990101", light=True))
    assert plan is not None
    departments = {code for group in plan.groups for code in group}
    assert len(departments) == 3
    assert len(plan.groups) == {1: 3, 10_000: 1, None: 1}[group_subjects]


async def test_a_light_load_keeps_each_columns_total_and_one_object_per_repeated_value(
    db: str,
) -> None:
    """A plan's rows (`load` with `light`) hold the `LIGHT` fields of the whole rows, of the
    amounts each column's total alone, and a value that repeats from row to row is one object."""
    _, store = await published_small(dataset.Plan(departments=2, projects=2))
    light = await site.load(store, "990101", light=True)
    whole = {
        (release.key, row.record_type, row.key): row.data
        for release in (await site.load(store, "990101")).releases
        for row in release.rows
    }
    subjects = []
    for release in light.releases:
        for row in release.rows:
            full = whole[(release.key, row.record_type, row.key)]
            fields = site_data.LIGHT[row.record_type]
            if fields is None:
                assert row.data == full
                continue
            assert set(row.data) == set(fields) & set(full)
            if row.record_type is RecordType.SUBJECT:
                subjects.append(row)
                amounts = full["amounts"]
                assert row.data["amounts"] == {c: {"total": amounts[c]["total"]} for c in amounts}
                assert {k: v for k, v in row.data.items() if k != "amounts"} == {
                    k: full[k] for k in row.data if k != "amounts"
                }
    assert len(subjects) > 4
    for name in ("departmentName", "kindLabel", "jurisdictionCode"):
        values = [row.data[name] for row in subjects]
        assert len({id(v) for v in values}) == len(set(values)) < len(values), name
    codes = [row.department_code for row in subjects]
    assert len({id(code) for code in codes}) == len(set(codes)) < len(codes)


async def test_departments_sharing_a_project_are_one_group_and_a_finance_subject_is_whole(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's page shows all its years, so departments whose subjects share a project code
    are rendered together; a subject published by a release of no department is rendered with
    the whole jurisdiction (`plan_shard` gives no plan)."""
    monkeypatch.setattr(site, "GROUP_SUBJECTS", 1)
    _, store = await published_small(dataset.Plan(departments=3, projects=2))
    light = await site.load(store, "990101", light=True)
    plan = site.plan_shard(light)
    assert plan is not None and len(plan.groups) == 3
    # A group is closed once it holds GROUP_SUBJECTS subjects (of every year), not before.
    published = site_data.Published(light)
    counts = Counter(
        published.releases[min(s.releases.values())].entry["departmentCode"]
        for years in published.projects.values()
        for found in years.values()
        for s in found
    )
    assert len(set(counts.values())) == 1
    each = next(iter(counts.values()))
    for bound, groups in ((each, 3), (each + 1, 2)):
        monkeypatch.setattr(site, "GROUP_SUBJECTS", bound)
        planned = site.plan_shard(light)
        assert planned is not None and len(planned.groups) == groups
    monkeypatch.setattr(site, "GROUP_SUBJECTS", 1)
    owned = [r for r in light.releases if r.entry["departmentCode"]]
    first, second = sorted({str(r.entry["departmentCode"]) for r in owned})[:2]
    code = next(
        row.data["code"]
        for r in owned
        if r.entry["departmentCode"] == first
        for row in r.rows
        if row.record_type is RecordType.SUBJECT
    )

    def renamed(release: site_data.PublishedRelease) -> site_data.PublishedRelease:
        if release.entry["departmentCode"] != second:
            return release
        rows = tuple(
            replace(row, data={**row.data, "code": code})
            if row.record_type is RecordType.SUBJECT
            else row
            for row in release.rows
        )
        return replace(release, rows=rows)

    shared = site.plan_shard(replace(light, releases=tuple(map(renamed, light.releases))))
    assert shared is not None
    assert sorted(len(group) for group in shared.groups) == [1, 2]
    assert {first, second} in [set(group) for group in shared.groups]

    def finance(release: site_data.PublishedRelease) -> site_data.PublishedRelease:
        if release.entry["departmentCode"] != second:
            return release
        return replace(release, entry={**release.entry, "departmentCode": None})

    assert site.plan_shard(replace(light, releases=tuple(map(finance, light.releases)))) is None


@pytest.mark.parametrize("failing_put", [1, 4, 9])
async def test_a_jurisdiction_written_in_batches_never_claims_a_page_it_has_not_written(
    db: str, monkeypatch: pytest.MonkeyPatch, failing_put: int
) -> None:
    """A jurisdiction's pages are rendered and written a batch at a time, its keys marked
    unknown in the site manifest before the first batch: a store failure in any batch leaves a
    manifest whose every claimed sha256 is the stored object's, and the rerun completes it."""
    monkeypatch.setattr(site, "PAGE_BATCH", 3)
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    puts = 0

    def fail(operation: str, key: str) -> bool:
        nonlocal puts
        if operation == "put" and site_paths.shard_of(key) is not None:
            puts += 1
            return puts >= failing_put
        return False

    store.fail_on = fail
    with pytest.raises(StoreError):
        await publisher(store).publish_many([r.id for r in built.releases])
    interim = orjson.loads(await store.get(site_paths.SITE_MANIFEST_KEY))["objects"]
    objects = await everything(store)
    claimed = {k: v for k, v in interim.items() if v is not None}
    assert {k: sha256_hex(objects[k]) for k in claimed} == claimed
    year = "site/years/990101/2024/index.html"
    assert interim[year] is None and year not in objects  # the years come last
    store.fail_on = None
    await publisher(store).write_pointers(SyncStats())
    objects = await everything(store)
    manifest = orjson.loads(objects[site_paths.SITE_MANIFEST_KEY])["objects"]
    assert manifest == {k: sha256_hex(v) for k, v in site_objects(objects).items()}
    assert {r.path: r.data for r in site.render_site(await site.load(store))} == site_objects(
        objects
    )


async def test_a_jurisdiction_marks_every_key_before_its_first_page_catalog_included(
    db: str,
) -> None:
    """The site manifest is written before a jurisdiction's first page and not again while its
    pages, its part of the search index and its catalog page go out: a key marked late has the
    whole manifest made again, at a city's last district ~75 MiB on top of the part's pages."""
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    puts: list[str] = []

    def record(operation: str, key: str) -> bool:
        if operation == "put":
            puts.append(key)
        return False

    store.fail_on = record
    await publisher(store).publish_many([r.id for r in built.releases])
    own = [i for i, key in enumerate(puts) if site_paths.shard_of(key) == "990101"]
    assert dcat.catalog_keys("990101")["jsonld"] in {puts[i] for i in own}
    between = puts[own[0] : own[-1] + 1]
    assert site_paths.SITE_MANIFEST_KEY not in between
    assert puts[own[0] - 1] == site_paths.SITE_MANIFEST_KEY  # the marks, just before


async def test_a_jurisdictions_part_holds_its_own_stored_entries_yet_marks_against_all() -> None:
    """A jurisdiction's part holds the stored manifest's entries of its own pages and the
    portal's, not the other jurisdictions' (a city's are ~150,000), yet the manifest it writes
    before its first page lists every stored key; the portal's part holds them all."""
    store = MemoryObjectStore()
    a, b, new, index = (
        f"site/{path}"
        for path in ("projects/A/1/x.html", "projects/B/1/x.html", "years/B/2/x.html", "index.html")
    )
    stored = {"objects": {a: "1", b: "2", index: "3"}, "shards": {}}
    whole = site_sync.SiteSync(store, SyncStats(), stored)
    part = site_sync.SiteSync.resumed(store, SyncStats(), whole.handed(), only="B")
    assert part.old == {b: "2", index: "3"}
    await part.mark([b, new])
    interim = orjson.loads(await store.get(site_paths.SITE_MANIFEST_KEY))["objects"]
    assert interim == {a: "1", b: None, index: "3", new: None}
    assert site_sync.SiteSync.resumed(store, SyncStats(), whole.handed()).old == stored["objects"]


async def test_a_written_jurisdictions_marks_are_let_go_and_its_unwritten_keys_stay_unknown() -> (
    None
):
    """Once a jurisdiction is done its written pages are in the manifest's new entries, and
    their marks are let go (a city's keys are not held twice to the end); a key marked and not
    written stays unknown in every manifest written after."""
    store = MemoryObjectStore()
    sync = site_sync.SiteSync(store, SyncStats(), {})
    first, second, other = (f"site/projects/{code}/index.html" for code in ("A/1", "A/2", "B/1"))
    await sync.mark([first, second])
    await sync.write([Rendered(first, b"1", "text/html", sha256_hex(b"1"))])
    assert sync.marked == {first, second}
    sync.done("A", "digest", {})
    assert sync.marked == {second}
    await sync.mark([other])
    interim = orjson.loads(await store.get(site_paths.SITE_MANIFEST_KEY))["objects"]
    assert interim == {first: sha256_hex(b"1"), second: None, other: None}


async def test_parsed_manifests_are_kept_up_to_the_bound_then_let_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process keeps the manifests it parsed for the next render, up to `MANIFESTS_KEPT`:
    a whole city's would be 84 MB, held for the rest of the publish."""
    monkeypatch.setattr(site_data, "MANIFESTS_KEPT", 3)
    parsed: dict[tuple[str, str], tuple[site_data.FileLink, ...]] = {}
    store = MemoryObjectStore()
    digests = []
    for number in range(4):
        data = orjson.dumps(
            {
                "objects": [
                    {
                        "key": f"k{number}",
                        "path": "p",
                        "contentType": "t",
                        "bytes": 1,
                        "sha256": "0" * 64,
                    }
                ]
            }
        )
        await store.put(f"m{number}.json", data, "application/json")
        digests.append(sha256_hex(data))
    for number in range(3):
        found = await site_data._manifest_objects(store, f"m{number}.json", digests[number], parsed)
        assert [o.key for o in found] == [f"k{number}", f"m{number}.json"]
        assert len(parsed) == number + 1
    # The fourth would be one too many: the kept ones are let go, and it is kept.
    await site_data._manifest_objects(store, "m3.json", digests[3], parsed)
    assert list(parsed) == [("m3.json", digests[3])]
    # A manifest whose bytes are not the digest the release names is not kept.
    await site_data._manifest_objects(store, "m0.json", digests[1], parsed)
    assert list(parsed) == [("m3.json", digests[3])]


# --- the /open/ route --------------------------------------------------------------------------


async def test_open_serves_the_local_store_read_only_and_hides_its_metadata(
    db: str, tmp_path: Path
) -> None:
    store = open_store(f"file://{tmp_path / 'store'}")
    await store.put("index.html", "<p>首页</p>".encode(), site.HTML_TYPE)
    await store.put("site/style.css", b"p{}", site.CSS_TYPE)
    named = "attachment; filename=\"a.csv\"; filename*=utf-8''%E9%A1%B9%E7%9B%AE.csv"
    await store.put("a.csv", b"k\r\n", "text/csv", {"content-disposition": named})
    await database.close()
    try:
        app = create_app(Settings(database_url=db, store_url=f"file://{tmp_path / 'store'}"))
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for path in ("/open/", "/open/index.html"):
                    response = await client.get(path)
                    assert response.status_code == 200, path
                    assert response.text == "<p>首页</p>"
                    assert response.headers["content-type"] == site.HTML_TYPE
                etag = response.headers["etag"]
                again = await client.get("/open/index.html", headers={"if-none-match": etag})
                assert again.status_code == 304
                assert (await client.head("/open/site/style.css")).status_code == 200
                assert "content-disposition" not in response.headers
                # A readable download name (issue #15), as S3 serves it.
                data = await client.get("/open/a.csv")
                assert data.headers["content-disposition"] == named
                for path in (
                    "/open/.gongkai-meta/index.html.json",
                    "/open/site/.hidden",
                    "/open/site/%2e%2e/index.html",
                    "/open/missing.html",
                    "/open/site/",
                ):
                    assert (await client.get(path)).status_code == 404, path
                assert (await client.post("/open/index.html")).status_code == 405
        s3 = Settings(
            database_url=db,
            store_url="s3+http://127.0.0.1:9/gongkai",
            s3_access_key="a",
            s3_secret_key="b",
        )
        async with LifespanManager(create_app(s3)) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/open/index.html")).status_code == 404
    finally:
        await database.init(db, global_fallback=True)


# --- the demo, published once (D18) ------------------------------------------------------------


@dataclass
class Names:
    """What each fiscal year of the demo files and publishes, by name, code and key."""

    filed: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    public: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    filed_keys: set[str] = field(default_factory=set)

    def markers(self, years: set[int]) -> set[str]:
        """Markers of filed records for a page covering `years`: every name or link filed in
        some year that is public in none of the page's years (a name public in a year the page
        shows may rightly be on it, whatever another year filed)."""
        filed = set().union(*(self.filed[y] - self.public[y] for y in self.filed))
        return filed - set().union(*(self.public[y] for y in years))


async def filed_names() -> Names:
    """Mirror of `test_demo_publish._filed_markers`, keeping the public names beside the filed
    ones, and the page links (department and project codes) of both."""
    jurisdiction = await models.Jurisdiction.get()
    code = jurisdiction.code
    selector = Selector()
    names = Names()
    for year in sorted(set(await models.Release.all().values_list("fiscal_year", flat=True))):
        facts = await selector.year_facts(jurisdiction.id, year)
        covered = facts.coverage.covered_subject_ids()
        filed_departments = facts.coverage.covered_department_ids()
        for i, s in facts.subjects.items():
            department = facts.departments[s.department_id].code
            bucket = names.filed if i in covered else names.public
            bucket[year] |= {s.name, f"projects/{code}/{site_paths.segment(s.code)}/"}
            if i in covered:
                names.filed_keys.add(subject_key(code, department, str(s.kind), s.code, year))
        for i, d in facts.departments.items():
            bucket = names.filed if i in filed_departments else names.public
            bucket[year] |= {d.name, f"departments/{code}/{site_paths.segment(d.code)}/"}
    return names


async def page_years(keys: list[str]) -> dict[str, set[int]]:
    """The fiscal years each page shows, from the published rows behind it."""
    years = sorted(set(await models.Release.all().values_list("fiscal_year", flat=True)))
    by_department: dict[str, set[int]] = defaultdict(set)
    by_code: dict[str, set[int]] = defaultdict(set)
    for row in await models.Disclosure.filter(record_type=RecordType.DEPARTMENT).values(
        "department_code", "fiscal_year"
    ):
        by_department[site_paths.segment(row["department_code"])].add(row["fiscal_year"])
    for row in await models.Disclosure.filter(record_type=RecordType.SUBJECT).values(
        "data", "fiscal_year"
    ):
        by_code[site_paths.segment(row["data"]["code"])].add(row["fiscal_year"])
    covered = {}
    for key in keys:
        parts = key.split("/")
        if key in ROOT_KEYS or key == site_paths.DICTIONARY_KEY:
            covered[key] = set(years)
        elif parts[1] in ("releases", "years"):
            year = int(parts[3])
            covered[key] = {year, year - 1} if parts[4:5] == ["finance-annual"] else {year}
        elif parts[1] == "departments":
            covered[key] = by_department[parts[3]]
        elif parts[1] == "projects":
            covered[key] = by_code[parts[3]]
    return covered


async def test_nothing_of_a_years_filings_is_on_the_demo_site(
    published_demo: PublishedDemo,
) -> None:
    objects = await published_demo.objects()
    keys = [k for k in objects if k.startswith("site/") and k.endswith(".html")]
    keys += list(ROOT_KEYS)
    async with database.connected(published_demo.url):
        names = await filed_names()
        covered = await page_years(keys)
    assert all(names.filed.values()), "each year of the demo has filings"
    found = []
    # One finder for each set of years a page shows: the markers depend on them. (Each marker
    # looked for by `in`, one after the other, took minutes over the district's pages.)
    finders: dict[frozenset[int], Callable[[str], set[str]]] = {}
    for key in keys:
        years = frozenset(covered[key])
        if years not in finders:
            finders[years] = finder(
                {m: m for m in names.markers(set(years))} | {f'"{k}"': k for k in names.filed_keys}
            )
        text = site_text(key, objects[key])
        found += [f"{m} in {key}" for m in sorted(finders[years](text))]
        if key.endswith(".html"):
            assert "演示数据" in text and display.TOTALS_NOTE in text, key
    assert found == []


async def test_a_correction_is_listed_on_its_release_page_the_index_and_the_feed(db: str) -> None:
    built, store = await published_small(dataset.Plan(departments=1, projects=1))
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（更正）")
    budget = built.releases[0]
    await publisher(store, NOW + timedelta(days=3)).publish(budget.id, note="更正项目名称")
    objects = await everything(store)
    page = "site/releases/990101/2024/budget/PUBD0X/index.html"
    release = objects[page].decode()
    assert "第2版" in release and "更正项目名称" in release
    assert 'manifest.v1.json">manifest.v1.json' in release  # the old version stays listed
    index = objects[site_paths.INDEX_KEY].decode()
    assert "更正项目名称" in index and "PUBD0X/index.html" in index
    feed = objects[site_paths.FEED_KEY].decode()
    assert "更正：【演示数据】PUBD0部门2024年度预算公开" in feed
    assert broken_links(site_objects(objects), set(objects)) == []
