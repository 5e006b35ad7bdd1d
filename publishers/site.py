"""The open-data site: static pages, an Atom feed, a calendar and a search index, rendered at
publish time into the bucket, so the public data can be read with nothing but the object store
(and a CDN in front of it), even while the API is down (issue #6; decisions.md D10, D16).

Three steps, like the rest of the publishers:

- `load` reads what the site shows from the database: the `Disclosure` snapshot rows of the
  current versions of PUBLISHED releases, their versions, the correction notices, and the due
  dates of SCHEDULED releases whose department already has published rows for that year (a
  department under a whole-department filing never has). It never reads a working table's
  content, so nothing unpublished or filed can appear: security by construction (invariant 2).
  It also reads each release's current manifest from the store, for the file links.
- `render_site` is pure: `SiteInput` in, a list of `Rendered` objects (key → bytes) out, the
  same bytes for the same input (invariant 4). Pages are Jinja2 templates with autoescape; links
  are relative and name files explicitly (``…/index.html``, D16), so the site works under any
  prefix; a page links only to objects that exist (pages of the site, or objects listed in a
  current manifest). Amounts are shown in 万元 with two decimals; data files keep 元.
- `sync_site` writes the pages that changed (pointer objects, D10) and deletes the pages that
  vanished (a whole department withdrawn, D12), keeping `site-manifest.json` as the list of the
  site's keys and their sha256: an unchanged rerun reads that one object and writes nothing.

Object keys::

    index.html                                     jurisdictions, years, releases, search, news
    feed.xml  calendar.ics  search-index.json      Atom feed, due dates, the search box's index
    site/style.css
    site/years/<jurisdiction>/<year>/index.html    a year's charts and releases
    site/releases/<jurisdiction>/<year>/<kind>/<department>/index.html
    site/departments/<jurisdiction>/<code>/index.html
    site/projects/<jurisdiction>/<code>/index.html   a subject (project, policy, overall) by code
    site-manifest.json                             the site's keys (not linked from any page)
"""

from __future__ import annotations

import asyncio
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import orjson
from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from publishers import charts
from publishers.render import JSON_TYPE, Rendered, sha256_hex
from publishers.sync import PARALLEL_UPLOADS, SyncStats, put_if_changed
from storage import models
from storage.enums import CorrectionKind, Grade, RecordType, ReleaseKind, ReleaseStatus
from storage.objects import ObjectNotFound, ObjectStore

INDEX_KEY = "index.html"
FEED_KEY = "feed.xml"
CALENDAR_KEY = "calendar.ics"
SEARCH_KEY = "search-index.json"
STYLE_KEY = "site/style.css"
SITE_MANIFEST_KEY = "site-manifest.json"
HTML_TYPE = "text/html; charset=utf-8"
CSS_TYPE = "text/css; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
#: The newest entries the feed carries.
FEED_ENTRIES = 100
#: Record types the pages show (monitoring rows stay in the data files).
SHOWN = (
    RecordType.JURISDICTION,
    RecordType.DEPARTMENT,
    RecordType.SUBJECT,
    RecordType.TARGET,
    RecordType.EX_ANTE_ASSESSMENT,
    RecordType.SELF_ASSESSMENT,
    RecordType.EVALUATION,
    RecordType.ANNUAL_STATEMENT,
    RecordType.FILE,
    RecordType.RELEASE,
)
TOTALS_NOTE = (
    "本站的数量、合计和分布只包括已公开的记录，可能与官方预算总数不同。"
    "Totals cover published records only and can differ from the official budget totals."
)
DEMO_NOTE = "本站所列行政区划、部门、项目和数字均为虚构。Demo data: fictitious."
CENT = Decimal("0.01")
#: Execution-rate bins (percent): lower bounds and labels; the last bin takes 100 % and above.
RATE_BINS = (
    (Decimal(0), "<50%"),
    (Decimal(50), "50–70%"),
    (Decimal(70), "70–80%"),
    (Decimal(80), "80–90%"),
    (Decimal(90), "90–95%"),
    (Decimal(95), "≥95%"),
)
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# --- what the renderer takes -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One published snapshot row."""

    record_type: RecordType
    key: str
    fiscal_year: int
    department_code: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class FileLink:
    """An object of a release's current version, as its manifest lists it."""

    key: str
    path: str
    title: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PublishedRelease:
    """A published release: its catalog entry (the RELEASE row), its current snapshot rows and
    the objects of its current version (the manifest included)."""

    entry: Mapping[str, Any]
    rows: tuple[Row, ...]
    objects: tuple[FileLink, ...]

    @property
    def key(self) -> str:
        return str(self.entry["key"])


@dataclass(frozen=True)
class Notice:
    """A correction notice (D7): the date and the kind, never a count or a withdrawn name."""

    id: int
    jurisdiction_code: str
    fiscal_year: int
    published_at: datetime
    kind: str
    kind_label: str
    note: str
    release_key: str | None


@dataclass(frozen=True)
class Scheduled:
    """A scheduled release whose department is published for its year: its due date."""

    jurisdiction_code: str
    fiscal_year: int
    kind: ReleaseKind
    department_code: str | None
    due_date: date
    publish_at: datetime | None


@dataclass(frozen=True)
class SiteInput:
    releases: tuple[PublishedRelease, ...]
    notices: tuple[Notice, ...] = ()
    scheduled: tuple[Scheduled, ...] = ()


# --- load: the database (published rows only) and the current manifests ------------------------

#: Parsed manifests by (key, sha256): a manifest's bytes are fixed by its digest.
_manifests: dict[tuple[str, str], tuple[FileLink, ...]] = {}


async def load(store: ObjectStore) -> SiteInput:
    """Everything the site shows, from published snapshot rows (see the module docstring)."""
    releases = {
        r["id"]: r
        for r in await models.Release.filter(status=ReleaseStatus.PUBLISHED).values(
            "id", "current_version"
        )
    }
    rows: dict[int, list[Row]] = defaultdict(list)
    for row in await models.Disclosure.filter(
        release__status=ReleaseStatus.PUBLISHED, record_type__in=list(SHOWN)
    ).values(
        "release_id",
        "release_version",
        "record_type",
        "record_key",
        "fiscal_year",
        "department_code",
        "data",
    ):
        release = releases.get(row["release_id"])
        if release is None or row["release_version"] != release["current_version"]:
            continue
        rows[row["release_id"]].append(
            Row(
                RecordType(row["record_type"]),
                row["record_key"],
                row["fiscal_year"],
                row["department_code"],
                row["data"],
            )
        )
    versions = {
        (v["release_id"], v["number"]): v["manifest_sha256"]
        for v in await models.ReleaseVersion.filter(release_id__in=list(releases)).values(
            "release_id", "number", "manifest_sha256"
        )
    }
    limit = asyncio.Semaphore(PARALLEL_UPLOADS)

    async def published(release_id: int) -> PublishedRelease | None:
        own = sorted(rows[release_id], key=lambda r: (r.record_type.value, r.key))
        entries = [r.data for r in own if r.record_type is RecordType.RELEASE]
        if not entries:
            return None
        entry = entries[0]
        digest = versions.get((release_id, releases[release_id]["current_version"]), "")
        async with limit:
            objects = await _manifest_objects(store, str(entry["manifest"]), digest)
        return PublishedRelease(entry, tuple(own), objects)

    loaded = await asyncio.gather(*(published(i) for i in sorted(releases)))
    done = tuple(sorted((r for r in loaded if r is not None), key=lambda r: r.key))
    return SiteInput(done, await _notices(done), await _scheduled(done))


async def _manifest_objects(store: ObjectStore, key: str, digest: str) -> tuple[FileLink, ...]:
    cached = _manifests.get((key, digest))
    if cached is not None:
        return cached
    try:
        data = await store.get(key)
    except ObjectNotFound:
        return ()
    listed = [
        FileLink(
            e["key"], e["path"], e.get("title") or "", e["contentType"], e["bytes"], e["sha256"]
        )
        for e in orjson.loads(data)["objects"]
        if not e.get("withdrawn")
    ]
    own = FileLink(key, key.rsplit("/", 1)[-1], "清单", JSON_TYPE, len(data), sha256_hex(data))
    objects = (*listed, own)
    if sha256_hex(data) == digest:
        if len(_manifests) > 20_000:
            _manifests.clear()
        _manifests[(key, digest)] = objects
    return objects


async def _notices(releases: Sequence[PublishedRelease]) -> tuple[Notice, ...]:
    published = {r.key for r in releases}
    keys = {
        (
            str(r.entry["jurisdictionCode"]),
            int(r.entry["fiscalYear"]),
            r.entry["kind"],
            r.entry["departmentCode"],
        ): r.key
        for r in releases
    }
    found = []
    for n in await models.CorrectionNotice.all().values(
        "id",
        "jurisdiction__code",
        "fiscal_year",
        "published_at",
        "kind",
        "note",
        "release__kind",
        "release__department__code",
        "release__status",
    ):
        release_key = None
        if n["release__status"] is not None and (
            ReleaseStatus(n["release__status"]) is ReleaseStatus.PUBLISHED
        ):
            release_key = keys.get(
                (
                    n["jurisdiction__code"],
                    n["fiscal_year"],
                    ReleaseKind(n["release__kind"]).value,
                    n["release__department__code"],
                )
            )
        kind = CorrectionKind(n["kind"])
        found.append(
            Notice(
                n["id"],
                n["jurisdiction__code"],
                n["fiscal_year"],
                n["published_at"],
                kind.value,
                kind.label,
                n["note"],
                release_key if release_key in published else None,
            )
        )
    return tuple(sorted(found, key=lambda n: (n.published_at, n.id)))


async def _scheduled(releases: Sequence[PublishedRelease]) -> tuple[Scheduled, ...]:
    """Due dates of SCHEDULED releases, gated on published rows: a department release only if
    its department has a published DEPARTMENT row for that year, a finance release only if its
    jurisdiction has published anything."""
    public_departments = {
        (row.data["jurisdictionCode"], row.data["code"], row.fiscal_year)
        for r in releases
        for row in r.rows
        if row.record_type is RecordType.DEPARTMENT
    }
    jurisdictions = {str(r.entry["jurisdictionCode"]) for r in releases}
    found = []
    for s in await models.Release.filter(status=ReleaseStatus.SCHEDULED).values(
        "jurisdiction__code", "department__code", "kind", "fiscal_year", "due_date", "publish_at"
    ):
        jurisdiction, department = s["jurisdiction__code"], s["department__code"]
        if jurisdiction not in jurisdictions:
            continue
        if department is not None and (
            (jurisdiction, department, s["fiscal_year"]) not in public_departments
        ):
            continue
        found.append(
            Scheduled(
                jurisdiction,
                s["fiscal_year"],
                ReleaseKind(s["kind"]),
                department,
                s["due_date"],
                s["publish_at"],
            )
        )
    return tuple(
        sorted(
            found,
            key=lambda s: (s.due_date, s.jurisdiction_code, s.department_code or "", s.kind.value),
        )
    )


# --- formatting --------------------------------------------------------------------------------


def wan(value: Any) -> str:
    """An amount in 元 (Decimal or its string) shown in 万元 with two decimals (D16)."""
    if value is None or value == "":
        return "—"
    amount = (Decimal(value) / 10000).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


def percent(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)}%"


def size(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{Decimal(value) / 1024:.1f} KB"
    return f"{Decimal(value) / 1024 / 1024:.1f} MB"


def day(value: Any) -> str:
    return str(value)[:10] if value else "—"


def when(value: Any) -> str:
    text = str(value)
    return f"{text[:10]} {text[11:16]}" if len(text) >= 16 else text


def segment(code: str) -> str:
    """A code as one key segment: itself when plain, else ``~`` and the hex of its UTF-8 (no
    plain code starts with ``~``, so the two never collide)."""
    if _SAFE_SEGMENT.fullmatch(code) and ".." not in code:
        return code
    return "~" + code.encode().hex()


def release_page(release_key: str) -> str:
    return f"site/releases/{release_key}/index.html"


def department_page(jurisdiction: str, code: str) -> str:
    return f"site/departments/{segment(jurisdiction)}/{segment(code)}/index.html"


def project_page(jurisdiction: str, code: str) -> str:
    return f"site/projects/{segment(jurisdiction)}/{segment(code)}/index.html"


def year_page(jurisdiction: str, year: int) -> str:
    return f"site/years/{segment(jurisdiction)}/{year}/index.html"


@lru_cache(maxsize=65536)
def _quoted(key: str) -> str:
    return quote(key, safe="/-._~")


def _to_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC)


# --- the published data, indexed ---------------------------------------------------------------


@dataclass
class Subject:
    """A subject of one year as the site shows it: its best row (the final accounts carry all
    three amount columns) and what hangs off it."""

    row: Row
    release_key: str
    target: Mapping[str, Any] | None = None
    assessment: Mapping[str, Any] | None = None
    evaluations: list[Mapping[str, Any]] = field(default_factory=list)
    ex_ante: list[Mapping[str, Any]] = field(default_factory=list)
    releases: dict[str, str] = field(default_factory=dict)  # kind → release key

    @property
    def data(self) -> Mapping[str, Any]:
        return self.row.data

    @property
    def budget(self) -> Any:
        amounts = self.data["amounts"]
        return amounts.get("fullYear", amounts["initial"])["total"]


class Published:
    """Indexes over the published rows, shared by all pages."""

    def __init__(self, data: SiteInput) -> None:
        self.releases = {r.key: r for r in data.releases}
        self.notices = data.notices
        self.scheduled = data.scheduled
        self.jurisdictions: dict[str, Mapping[str, Any]] = {}
        self.departments: dict[tuple[str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
        self.units: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        self.subjects: dict[str, Subject] = {}
        self.files: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self.reports_about: dict[str, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
        # Objects of the current versions, and the manifests of every version (D11 keeps
        # them: a withdrawal rewrites an old manifest, never deletes it).
        self.objects = {o.key for r in data.releases for o in r.objects}
        self.objects |= {str(v["manifest"]) for r in data.releases for v in r.entry["versions"]}
        self.by_year: dict[tuple[str, int], list[PublishedRelease]] = defaultdict(list)
        for release in data.releases:
            e = release.entry
            self.by_year[(str(e["jurisdictionCode"]), int(e["fiscalYear"]))].append(release)
            for row in release.rows:
                self._add(release, row)
        for release in data.releases:
            if release.entry["kind"] == ReleaseKind.BUDGET.value:
                self._attach(release, overwrite=False)
        for release in data.releases:
            if release.entry["kind"] == ReleaseKind.FINAL_ACCOUNTS.value:
                self._attach(release, overwrite=True)
        self.projects: dict[tuple[str, str], dict[int, list[Subject]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.department_subjects: dict[tuple[str, str], list[Subject]] = defaultdict(list)
        for subject in sorted(self.subjects.values(), key=lambda s: s.row.key):
            d = subject.data
            self.projects[(d["jurisdictionCode"], d["code"])][d["fiscalYear"]].append(subject)
            self.department_subjects[(d["jurisdictionCode"], d["departmentCode"])].append(subject)

    def _add(self, release: PublishedRelease, row: Row) -> None:
        match row.record_type:
            case RecordType.JURISDICTION:
                self.jurisdictions[row.key] = row.data
            case RecordType.DEPARTMENT:
                jurisdiction = str(row.data["jurisdictionCode"])
                self.departments[(jurisdiction, str(row.data["code"]))][row.fiscal_year] = row.data
                if row.data["parentCode"]:  # a unit: its latest name under its department
                    units = self.units[(jurisdiction, str(row.data["parentCode"]))]
                    units[str(row.data["code"])] = str(row.data["name"])
            case RecordType.FILE:
                key = f"releases/{release.key}/{row.data['path']}"
                if key in self.objects:
                    self.files[row.key] = (key, row.data)
                    if row.data.get("aboutKey"):
                        self.reports_about[str(row.data["aboutKey"])].append((key, row.data))

    def _attach(self, release: PublishedRelease, *, overwrite: bool) -> None:
        kind = str(release.entry["kind"])
        for row in release.rows:
            if row.record_type is RecordType.SUBJECT:
                found = self.subjects.get(row.key)
                if found is None or overwrite:
                    subject = Subject(row, release.key)
                    if found is not None:
                        subject.target, subject.ex_ante = found.target, found.ex_ante
                        subject.releases = found.releases
                    self.subjects[row.key] = subject
                self.subjects[row.key].releases[kind] = release.key
        for row in release.rows:
            owner = self.subjects.get(str(row.data.get("subjectKey")))
            if owner is None:
                continue
            match row.record_type:
                case RecordType.TARGET if row.data["horizon"] == "ANNUAL" or owner.target is None:
                    owner.target = row.data
                case RecordType.EX_ANTE_ASSESSMENT:
                    owner.ex_ante.append(row.data)
                case RecordType.SELF_ASSESSMENT:
                    owner.assessment = row.data
                case RecordType.EVALUATION:
                    owner.evaluations.append(row.data)

    def report(self, evaluation: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        """The published main text of an evaluation report, if any."""
        found = self.files.get(str(evaluation.get("reportFileKey")))
        if found is not None:
            return found
        about = self.reports_about.get(str(evaluation["key"]))
        return about[0] if about else None

    def department_name(self, jurisdiction: str, code: str | None, year: int) -> str | None:
        names = self.departments.get((jurisdiction, code or ""), {})
        found = names.get(year)
        return None if found is None else str(found["name"])

    def jurisdiction_name(self, code: str) -> str:
        found = self.jurisdictions.get(code)
        return str(found["name"]) if found else code

    def is_demo(self, code: str) -> bool:
        found = self.jurisdictions.get(code)
        return bool(found and found.get("demo"))


# --- views: plain values for the templates -----------------------------------------------------


def _grade_counts(grades: Iterable[str | None]) -> list[tuple[str, int]]:
    counts = Counter(g for g in grades if g)
    return [(g.label, counts.get(g.value, 0)) for g in Grade]


def _rate_bins(rates: Iterable[Any]) -> list[tuple[str, int]]:
    counts = [0] * len(RATE_BINS)
    for rate in rates:
        value = Decimal(rate)
        index = max(i for i, (low, _) in enumerate(RATE_BINS) if value >= low or i == 0)
        counts[index] += 1
    return [(label, counts[i]) for i, (_, label) in enumerate(RATE_BINS)]


def _by_label(subjects: Iterable[Subject], field_name: str) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for s in subjects:
        if s.data["kind"] == "DEPARTMENT_OVERALL":
            continue  # an overall expenditure contains its projects: counting both doubles
        totals[str(s.data.get(f"{field_name}Label") or "未分类")] += Decimal(s.budget) / 10000
    return sorted(
        ((label, total.quantize(CENT, rounding=ROUND_HALF_UP)) for label, total in totals.items()),
        key=lambda item: (-item[1], item[0]),
    )


def _wan_label(value: Decimal) -> str:
    return f"{value:,.2f} 万元"


def indicator_rows(subject: Subject) -> list[dict[str, Any]]:
    """The target's indicators, each with its actual value when a self-assessment says it."""
    if subject.assessment is not None:
        return [
            {
                "level1": r["level1Label"],
                "level2": r["level2Label"],
                "name": r["indicatorName"],
                "target": r["targetValue"],
                "actual": r["actualValue"],
                "weight": r["weight"],
                "score": r["score"],
                "reason": r["deviationReason"],
            }
            for r in subject.assessment["rows"]
        ]
    if subject.target is None:
        return []
    return [
        {
            "level1": i["level1Label"],
            "level2": i["level2Label"],
            "name": i["name"],
            "target": i["targetValue"],
            "actual": None,
            "weight": i["weight"],
            "score": None,
            "reason": "",
        }
        for i in subject.target["indicators"]
    ]


def _h(value: Any) -> str:
    return html.escape(str(value)) if value is not None and value != "" else "—"


_INDICATOR_HEAD = (
    '<div class="scroll">\n<table class="indicators">\n<caption>{caption}</caption>\n'
    '<thead><tr><th scope="col">一级指标</th><th scope="col">二级指标</th>'
    '<th scope="col">三级指标</th><th scope="col">指标值（目标）</th>'
    '<th scope="col">实际完成值</th>'
    '<th scope="col" class="num">分值</th><th scope="col" class="num">得分</th>'
    '<th scope="col">偏差原因分析及改进措施</th></tr></thead>\n<tbody>\n'
)


def indicator_table(rows: Sequence[Mapping[str, Any]], caption: str) -> Markup:
    """The indicators of one subject and year (built here, not in a template: a district has
    tens of thousands of these rows, and this is where rendering spends its time)."""
    if not rows:
        return Markup("<p>未公开绩效指标。</p>\n")
    body = "".join(
        f"<tr><td>{_h(r['level1'])}</td><td>{_h(r['level2'])}</td>"
        f'<th scope="row">{_h(r["name"])}</th><td>{_h(r["target"])}</td>'
        f'<td>{_h(r["actual"])}</td><td class="num">{_h(r["weight"])}</td>'
        f'<td class="num">{_h(r["score"])}</td><td>{html.escape(r["reason"] or "")}</td></tr>\n'
        for r in rows
    )
    head = _INDICATOR_HEAD.format(caption=html.escape(caption))
    return Markup(head + body + "</tbody>\n</table>\n</div>\n")  # noqa: S704 - escaped above


def matrix_table(years: Mapping[int, Subject], caption: str) -> Markup | None:
    """Targets against actual values, year by year: one row per indicator, a column a year."""
    order: list[tuple[str, str, str]] = []
    cells: dict[tuple[str, str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for year in sorted(years):
        for row in indicator_rows(years[year]):
            ident = (row["level1"], row["level2"], row["name"])
            if ident not in cells:
                order.append(ident)
            cells[ident][year] = row
    if not order:
        return None
    columns = "".join(
        f'<th scope="col">{year}年<br><small>目标 → 实际</small></th>' for year in sorted(years)
    )
    lines = []
    for ident in order:
        tds = []
        for year in sorted(years):
            cell = cells[ident].get(year)
            if cell is None:
                tds.append("<td>—</td>")
                continue
            actual = (
                ""
                if cell["actual"] is None
                else ' <span aria-hidden="true">→</span><span class="vh">，实际</span> '
                f"<strong>{html.escape(str(cell['actual']))}</strong>"
            )
            tds.append(f'<td><span class="vh">目标</span>{_h(cell["target"])}{actual}</td>')
        lines.append(
            f"<tr><td>{html.escape(ident[0])}</td><td>{html.escape(ident[1])}</td>"
            f'<th scope="row">{html.escape(ident[2])}</th>{"".join(tds)}</tr>\n'
        )
    return Markup(  # noqa: S704 - every value is escaped above
        '<div class="scroll">\n<table class="matrix">\n'
        f"<caption>{html.escape(caption)}</caption>\n"
        '<thead><tr><th scope="col">一级指标</th><th scope="col">二级指标</th>'
        f'<th scope="col">三级指标</th>{columns}</tr></thead>\n<tbody>\n'
        + "".join(lines)
        + "</tbody>\n</table>\n</div>\n"
    )


# --- rendering ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("publishers", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(wan=wan, percent=percent, size=size, day=day, when=when)
    env.globals.update(
        totals_note=TOTALS_NOTE,
        demo_note=DEMO_NOTE,
        release_page=release_page,
        department_page=department_page,
        project_page=project_page,
        year_page=year_page,
    )
    return env


class _Pages:
    """Renders every page of the site from the indexed rows."""

    def __init__(self, published: Published) -> None:
        self.p = published
        self.env = environment()
        self.templates = {
            name: self.env.get_template(name)
            for name in (
                "index.html",
                "year.html",
                "release.html",
                "department.html",
                "project.html",
            )
        }
        self.out: list[Rendered] = []
        self.pages: set[str] = set()

    def planned(self) -> None:
        """The keys of every page, known before any is rendered, so links can be checked."""
        self.pages = {INDEX_KEY, FEED_KEY, CALENDAR_KEY, SEARCH_KEY, STYLE_KEY}
        for jurisdiction, year in self.p.by_year:
            self.pages.add(year_page(jurisdiction, year))
        self.pages |= {release_page(key) for key in self.p.releases}
        self.pages |= {department_page(j, c) for j, c in self._department_codes()}
        self.pages |= {project_page(j, c) for j, c in self.p.projects}

    def _department_codes(self) -> list[tuple[str, str]]:
        """Departments (主管部门) with a release of their own."""
        return sorted(
            {
                (str(r.entry["jurisdictionCode"]), str(r.entry["departmentCode"]))
                for r in self.p.releases.values()
                if r.entry["departmentCode"]
            }
        )

    def link(self, page: str) -> Callable[[str], str | None]:
        """Relative links from `page`: None for a key that is neither a page nor an object of a
        current version, so no page ever links to something that is not there."""
        up = "../" * page.count("/")

        def to(key: str) -> str | None:
            if key not in self.pages and key not in self.p.objects:
                return None
            return up + _quoted(key)

        return to

    def emit(self, key: str, template: str, **context: Any) -> None:
        link = self.link(key)

        def anchor(target: str, text: Any) -> Markup:
            href = link(target)
            if href is None:
                return escape(text)
            return Markup(f'<a href="{href}">{escape(text)}</a>')  # noqa: S704 - escaped

        text = self.templates[template].render(page=key, link=link, a=anchor, **context)
        data = text.encode()
        self.out.append(Rendered(key, data, HTML_TYPE, sha256_hex(data)))

    # pages ---------------------------------------------------------------------------------

    def index(self) -> None:
        jurisdictions: list[dict[str, Any]] = []
        for code in sorted({j for j, _ in self.p.by_year}):
            years = sorted({y for j, y in self.p.by_year if j == code}, reverse=True)
            grades = [
                (
                    f"{year}年",
                    _grade_counts(
                        s.assessment["grade"] if s.assessment else None
                        for s in self.p.subjects.values()
                        if s.data["jurisdictionCode"] == code and s.data["fiscalYear"] == year
                    ),
                )
                for year in sorted(years)
            ]
            jurisdictions.append(
                {
                    "code": code,
                    "data": self.p.jurisdictions.get(code, {"name": code}),
                    "years": [{"year": y, "rows": self._release_table(code, y)} for y in years],
                    "grades": charts.stacked_bars(
                        f"g{code}", "绩效自评等级分布（按年度）", grades, charts.GRADE_COLOURS
                    ),
                    "departments": [
                        (c, self._latest_name(j, c))
                        for j, c in self._department_codes()
                        if j == code
                    ],
                }
            )
        self.emit(
            INDEX_KEY,
            "index.html",
            jurisdictions=jurisdictions,
            news=self._news()[:12],
            notices=[self._notice(n) for n in reversed(self.p.notices)],
            demo=any(self.p.is_demo(j["code"]) for j in jurisdictions),
        )

    def _latest_name(self, jurisdiction: str, code: str) -> str:
        names = self.p.departments.get((jurisdiction, code), {})
        return str(names[max(names)]["name"]) if names else code

    def _release_table(self, jurisdiction: str, year: int) -> list[dict[str, Any]]:
        """One row per department (and the finance authority): its releases of the year."""
        rows: dict[str, dict[str, Any]] = {}
        for release in self.p.by_year[(jurisdiction, year)]:
            e = release.entry
            owner = str(e["departmentCode"] or "")
            row = rows.setdefault(
                owner,
                {
                    "jurisdiction": jurisdiction,
                    "code": e["departmentCode"],
                    "name": e["departmentName"] or self._authority(jurisdiction),
                    "releases": {},
                },
            )
            row["releases"][e["kind"]] = self._release_summary(release)
        return [rows[k] for k in sorted(rows, key=lambda k: (k == "", k))]

    def _authority(self, jurisdiction: str) -> str:
        found = self.p.jurisdictions.get(jurisdiction)
        return str(found["financeAuthority"]) if found else jurisdiction

    def _release_summary(self, release: PublishedRelease) -> dict[str, Any]:
        e = release.entry
        notes = [v for v in e["versions"] if int(v["number"]) > 1]
        return {
            "key": release.key,
            "title": e["title"],
            "kindLabel": e["kindLabel"],
            "publishedAt": e["publishedAt"],
            "onTime": e["onTime"],
            "corrections": len(notes),
        }

    def _notice(self, notice: Notice) -> dict[str, Any]:
        return {
            "date": notice.published_at,
            "jurisdiction": self.p.jurisdiction_name(notice.jurisdiction_code),
            "year": notice.fiscal_year,
            "kindLabel": notice.kind_label,
            "note": notice.note,
            "release": self.p.releases[notice.release_key].entry["title"]
            if notice.release_key
            else None,
            "page": release_page(notice.release_key) if notice.release_key else None,
        }

    def _news(self) -> list[dict[str, Any]]:
        """What is new: first publications and correction notices, newest first."""
        items = [
            {
                "at": _to_utc(r.entry["publishedAt"]),
                "label": "公开",
                "title": r.entry["title"],
                "page": release_page(r.key),
                "note": None,
            }
            for r in self.p.releases.values()
        ]
        for notice in self.p.notices:
            items.append(
                {
                    "at": _to_utc(notice.published_at),
                    "label": notice.kind_label,
                    "title": self._notice_title(notice),
                    "page": release_page(notice.release_key) if notice.release_key else None,
                    "note": notice.note,
                }
            )
        items.sort(key=lambda i: (i["at"], i["title"]), reverse=True)
        return items

    def _notice_title(self, notice: Notice) -> str:
        if notice.release_key:
            return str(self.p.releases[notice.release_key].entry["title"])
        name = self.p.jurisdiction_name(notice.jurisdiction_code)
        demo = "【演示数据】" if self.p.is_demo(notice.jurisdiction_code) else ""
        return f"{demo}{name}{notice.fiscal_year}年度已公开信息"

    def year(self, jurisdiction: str, year: int) -> None:
        subjects = [
            s
            for s in self.p.subjects.values()
            if s.data["jurisdictionCode"] == jurisdiction and s.data["fiscalYear"] == year
        ]
        assessed = [s.assessment for s in subjects if s.assessment]
        evaluations = [e for s in subjects for e in s.evaluations]
        ident = f"y{year}"
        figures = [
            charts.stacked_bars(
                f"{ident}g",
                f"{year}年度绩效等级分布",
                [
                    ("绩效自评", _grade_counts(a["grade"] for a in assessed)),
                    ("绩效评价", _grade_counts(e["grade"] for e in evaluations)),
                ],
                charts.GRADE_COLOURS,
            ),
            charts.columns(
                f"{ident}r",
                f"{year}年度预算执行率分布",
                _rate_bins(a["executionRate"] for a in assessed),
                "预算执行率（全年执行数 / 全年预算数）",
            ),
            charts.horizontal_bars(
                f"{ident}b",
                f"{year}年度项目和政策预算（按预算类别）",
                _by_label(subjects, "budgetBook"),
                _wan_label,
                "万元",
            ),
            charts.horizontal_bars(
                f"{ident}p",
                f"{year}年度项目和政策预算（按资金用途）",
                _by_label(subjects, "fundingPurpose"),
                _wan_label,
                "万元",
            ),
        ]
        budget = sum((Decimal(s.budget) for s in subjects), Decimal(0))
        executed = [s for s in subjects if "executed" in s.data["amounts"]]
        self.emit(
            year_page(jurisdiction, year),
            "year.html",
            jurisdiction=self.p.jurisdictions.get(jurisdiction, {"name": jurisdiction}),
            year=year,
            rows=self._release_table(jurisdiction, year),
            figures=figures,
            totals={
                "subjects": len(subjects),
                "assessed": len(assessed),
                "evaluations": len(evaluations),
                "budget": budget,
                "executed": sum(
                    (Decimal(s.data["amounts"]["executed"]["total"]) for s in executed),
                    Decimal(0),
                ),
            },
            demo=self.p.is_demo(jurisdiction),
        )

    def release(self, release: PublishedRelease) -> None:
        e = release.entry
        jurisdiction = str(e["jurisdictionCode"])
        kind = str(e["kind"])
        by_type: dict[RecordType, list[Row]] = defaultdict(list)
        for row in release.rows:
            by_type[row.record_type].append(row)
        # The release's own records: a page shows exactly what its release published.
        own: dict[str, Subject] = {}
        for row in by_type[RecordType.SUBJECT]:
            own[row.key] = Subject(row, release.key)
        for row in release.rows:
            subject = own.get(str(row.data.get("subjectKey")))
            if subject is None:
                continue
            if row.record_type is RecordType.TARGET:
                if row.data["horizon"] == "ANNUAL" or subject.target is None:
                    subject.target = row.data
            elif row.record_type is RecordType.SELF_ASSESSMENT:
                subject.assessment = row.data
            elif row.record_type is RecordType.EVALUATION:
                subject.evaluations.append(row.data)
            elif row.record_type is RecordType.EX_ANTE_ASSESSMENT:
                subject.ex_ante.append(row.data)
        kinds = {"DEPARTMENT_OVERALL": 0, "POLICY": 1, "PROJECT": 2}
        subjects = sorted(own.values(), key=lambda s: (kinds.get(s.data["kind"], 3), s.row.key))
        files = [self._file(release, o) for o in sorted(release.objects, key=_file_order)]
        reports = [
            {
                "title": row.data["title"],
                "about": self._about(row.data.get("aboutKey")),
                "file": self.p.files.get(row.key),
            }
            for row in by_type[RecordType.FILE]
            if row.data.get("aboutKey")
        ]
        self.emit(
            release_page(release.key),
            "release.html",
            entry=e,
            kind=kind,
            jurisdiction=self.p.jurisdictions.get(jurisdiction, {"name": jurisdiction}),
            departments=[r.data for r in by_type[RecordType.DEPARTMENT]],
            subjects=[self._subject_view(s, f"{s.data['name']}的绩效指标") for s in subjects],
            statements=[r.data for r in by_type[RecordType.ANNUAL_STATEMENT]],
            reports=reports,
            files=files,
            notices=[
                self._notice(n) for n in reversed(self.p.notices) if n.release_key == release.key
            ],
            demo=bool(e["demo"]),
        )

    def _about(self, about_key: Any) -> dict[str, Any] | None:
        """The subject an evaluation report is about: ``<subject key>/evaluation/<kind>``."""
        if not about_key:
            return None
        subject_key = str(about_key).split("/evaluation/")[0]
        subject = self.p.subjects.get(subject_key)
        if subject is None:
            return None
        d = subject.data
        return {
            "name": d["name"],
            "year": d["fiscalYear"],
            "page": project_page(d["jurisdictionCode"], d["code"]),
        }

    def _file(self, release: PublishedRelease, link: FileLink) -> dict[str, Any]:
        path = link.path
        if path.endswith(".excel.csv"):
            form = "CSV（Excel，带BOM）"
        elif path.endswith(".csv"):
            form = "CSV"
        elif path.endswith(".json"):
            form = "JSON"
        else:
            form = path.rsplit(".", 1)[-1].upper()
        if path.startswith("datapackage."):
            title = "数据包（Frictionless datapackage.json）"
        elif path.startswith("manifest."):
            title = "清单（manifest：全部对象及其 sha256）"
        else:
            title = link.title or path
        group = "files" if path.startswith("files/") else "data"
        return {
            "key": link.key,
            "path": path,
            "title": title,
            "format": form,
            "size": link.size,
            "sha256": link.sha256,
            "group": group,
        }

    def _subject_view(self, subject: Subject, caption: str) -> dict[str, Any]:
        d = subject.data
        evaluations = []
        for evaluation in subject.evaluations:
            report = self.p.report(evaluation)
            evaluations.append(
                {
                    "kindLabel": evaluation["kindLabel"],
                    "score": evaluation["score"],
                    "grade": evaluation["gradeLabel"],
                    "report": report[0] if report else None,
                }
            )
        return {
            "data": d,
            "page": project_page(d["jurisdictionCode"], d["code"]),
            "target": subject.target,
            "assessment": subject.assessment,
            "evaluations": evaluations,
            "ex_ante": subject.ex_ante,
            "indicators": indicator_table(indicator_rows(subject), caption),
        }

    def department(self, jurisdiction: str, code: str) -> None:
        names = self.p.departments[(jurisdiction, code)]
        years = sorted({y for (j, y) in self.p.by_year if j == jurisdiction}, reverse=True)
        subjects = self.p.department_subjects.get((jurisdiction, code), [])
        summary = []
        for year in years:
            releases = {
                r.entry["kind"]: self._release_summary(r)
                for r in self.p.by_year[(jurisdiction, year)]
                if r.entry["departmentCode"] == code
            }
            if not releases:
                continue
            own = [s for s in subjects if s.data["fiscalYear"] == year]
            assessed = [s.assessment for s in own if s.assessment]
            executed = [s for s in own if "executed" in s.data["amounts"]]
            summary.append(
                {
                    "year": year,
                    "releases": releases,
                    "subjects": len(own),
                    "budget": sum((Decimal(s.budget) for s in own), Decimal(0)),
                    "executed": sum(
                        (Decimal(s.data["amounts"]["executed"]["total"]) for s in executed),
                        Decimal(0),
                    )
                    if executed
                    else None,
                    "grades": _grade_counts(a["grade"] for a in assessed),
                }
            )
        overall = {
            s.data["fiscalYear"]: s for s in subjects if s.data["kind"] == "DEPARTMENT_OVERALL"
        }
        projects: dict[str, dict[str, Any]] = {}
        for s in subjects:
            if s.data["kind"] == "DEPARTMENT_OVERALL":
                continue
            entry = projects.setdefault(
                s.data["code"],
                {
                    "code": s.data["code"],
                    "kindLabel": s.data["kindLabel"],
                    "page": project_page(jurisdiction, s.data["code"]),
                    "years": {},
                },
            )
            entry["name"] = s.data["name"]  # the latest year's name (subjects sorted by key)
            entry["years"][s.data["fiscalYear"]] = (
                s.assessment["gradeLabel"] if s.assessment else "✓"
            )
        units = self.p.units.get((jurisdiction, code), {})
        latest = names[max(names)]
        self.emit(
            department_page(jurisdiction, code),
            "department.html",
            jurisdiction=self.p.jurisdictions.get(jurisdiction, {"name": jurisdiction}),
            department=latest,
            names=sorted({str(n["name"]) for n in names.values()} - {str(latest["name"])}),
            summary=summary,
            overall=matrix_table(
                overall, f"{latest['name']}部门整体支出绩效指标，逐年目标值与实际完成值"
            )
            if overall
            else None,
            projects=sorted(projects.values(), key=lambda p: p["code"]),
            project_years=sorted({y for p in projects.values() for y in p["years"]}),
            units=sorted(units.items()),
            demo=self.p.is_demo(jurisdiction),
        )

    def project(self, jurisdiction: str, code: str) -> None:
        years = self.p.projects[(jurisdiction, code)]
        rows = []
        for year in sorted(years):
            for subject in years[year]:
                view = self._subject_view(subject, f"{year}年度绩效指标")
                view["year"] = year
                view["department"] = department_page(jurisdiction, subject.data["departmentCode"])
                view["releases"] = [
                    self._release_summary(self.p.releases[k])
                    for _, k in sorted(subject.releases.items())
                ]
                view["ex_ante"] = subject.ex_ante
                rows.append(view)
        latest = rows[-1]["data"]
        first = {year: subjects[0] for year, subjects in years.items()}
        self.emit(
            project_page(jurisdiction, code),
            "project.html",
            jurisdiction=self.p.jurisdictions.get(jurisdiction, {"name": jurisdiction}),
            latest=latest,
            names=sorted({str(r["data"]["name"]) for r in rows} - {str(latest["name"])}),
            rows=rows,
            matrix=matrix_table(first, f"{latest['name']}的绩效指标，逐年目标值与实际完成值"),
            demo=self.p.is_demo(jurisdiction),
        )

    def render(self) -> list[Rendered]:
        self.planned()
        self.index()
        for jurisdiction, year in sorted(self.p.by_year):
            self.year(jurisdiction, year)
        for release in sorted(self.p.releases.values(), key=lambda r: r.key):
            self.release(release)
        for jurisdiction, code in self._department_codes():
            self.department(jurisdiction, code)
        for jurisdiction, code in sorted(self.p.projects):
            self.project(jurisdiction, code)
        return self.out


def _file_order(link: FileLink) -> tuple[int, str]:
    rank = 0 if link.path.startswith("data/") else 1 if link.path.startswith("files/") else 2
    return rank, link.path


# --- feed, calendar, search index --------------------------------------------------------------


def _tag(specific: str) -> str:
    return f"tag:gongkai,2024:{specific}"


def feed_bytes(p: Published) -> bytes:
    """Atom: the first publication of every release and every correction notice, newest first;
    `updated` is the latest publication time, so the same data gives the same bytes."""
    entries = []
    for release in p.releases.values():
        e = release.entry
        on_time = "按时" if e["onTime"] else "逾期"
        entries.append(
            (
                _to_utc(e["publishedAt"]),
                _tag(f"release/{release.key}"),
                f"公开：{e['title']}",
                release_page(release.key),
                f"{e['kindLabel']}，{e['fiscalYear']}年度；批准日期{e['approvalDate']}，"
                f"公开截止日{e['dueDate']}，{on_time}公开。",
            )
        )
    for notice in p.notices:
        title = (
            p.releases[notice.release_key].entry["title"]
            if notice.release_key
            else f"{p.jurisdiction_name(notice.jurisdiction_code)}{notice.fiscal_year}年度"
        )
        entries.append(
            (
                _to_utc(notice.published_at),
                _tag(f"notice/{notice.id}"),
                f"{notice.kind_label}：{title}",
                release_page(notice.release_key) if notice.release_key else INDEX_KEY,
                notice.note,
            )
        )
    entries.sort(key=lambda item: (item[0], item[1]), reverse=True)
    feed = FeedGenerator()
    feed.id(_tag("feed"))
    feed.title("预算绩效信息公开：公开与更正")
    feed.subtitle("各部门预算绩效信息公开批次和更正公告。" + TOTALS_NOTE)
    feed.author({"name": "预算绩效信息公开"})
    feed.link(href=INDEX_KEY, rel="alternate", type="text/html")
    feed.link(href=FEED_KEY, rel="self", type="application/atom+xml")
    feed.language("zh-CN")
    feed.generator("gongkai")
    epoch = entries[0][0] if entries else datetime(2000, 1, 1, tzinfo=UTC)
    feed.updated(epoch)
    for moment, ident, title, page, summary in entries[:FEED_ENTRIES]:
        item = feed.add_entry(order="append")
        item.id(ident)
        item.title(title)
        item.updated(moment)
        item.published(moment)
        item.link(href=page, rel="alternate", type="text/html")
        item.summary(summary)
    return bytes(feed.atom_str(pretty=True))


def calendar_bytes(p: Published) -> bytes:
    """iCalendar: the due date (approval + 20 days) of every published and scheduled release,
    as all-day events; DTSTAMP is a publication time, never the clock."""
    calendar = Calendar()
    calendar.add("prodid", "-//gongkai//预算绩效信息公开//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "预算绩效信息公开截止日")
    times = [_to_utc(r.entry["publishedAt"]) for r in p.releases.values()]
    epoch = max(times, default=datetime(2000, 1, 1, tzinfo=UTC))
    events = []
    for release in p.releases.values():
        e = release.entry
        status = "已按时公开" if e["onTime"] else "已逾期公开"
        events.append(
            (
                date.fromisoformat(str(e["dueDate"])),
                release.key,
                f"公开截止：{e['title']}（{status}）",
                f"批准日期{e['approvalDate']}；公开截止日{e['dueDate']}；"
                f"首次公开{day(e['publishedAt'])}。",
                _to_utc(e["versions"][-1]["publishedAt"]),
            )
        )
    for s in p.scheduled:
        owner = (
            p.department_name(s.jurisdiction_code, s.department_code, s.fiscal_year)
            if s.department_code
            else str(p.jurisdictions[s.jurisdiction_code]["financeAuthority"])
        )
        if owner is None:
            continue
        demo = "【演示数据】" if p.is_demo(s.jurisdiction_code) else ""
        folder = f"{s.jurisdiction_code}/{s.fiscal_year}/{s.kind.value}/{s.department_code}"
        embargo = f"；定于{when(s.publish_at.astimezone(UTC))}（UTC）公开" if s.publish_at else ""
        events.append(
            (
                s.due_date,
                folder,
                f"公开截止：{demo}{owner}{s.fiscal_year}年度{s.kind.label}（待公开）",
                f"公开截止日{s.due_date.isoformat()}{embargo}。",
                epoch,
            )
        )
    for due, ident, summary, description, stamp in sorted(events, key=lambda e: (e[0], e[1])):
        event = Event()
        event.add("uid", f"{ident}@gongkai")
        event.add("dtstamp", stamp)
        event.add("dtstart", due)
        event.add("summary", summary)
        event.add("description", description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def search_bytes(p: Published) -> bytes:
    """The search box's index: every published name with its kind and page."""
    items: set[tuple[str, str, str]] = set()
    own_pages = _department_keys(p)
    for release in p.releases.values():
        items.add((str(release.entry["title"]), "公开批次", release_page(release.key)))
    for (jurisdiction, code), names in p.departments.items():
        page = department_page(jurisdiction, code)
        if (jurisdiction, code) in own_pages:
            items |= {(str(n["name"]), "部门", page) for n in names.values()}
    for (jurisdiction, code), years in p.projects.items():
        page = project_page(jurisdiction, code)
        for subjects in years.values():
            for s in subjects:
                items.add((str(s.data["name"]), str(s.data["kindLabel"]), page))
    document = {"items": [list(item) for item in sorted(items)]}
    return orjson.dumps(document) + b"\n"


def _department_keys(p: Published) -> set[tuple[str, str]]:
    return {
        (str(r.entry["jurisdictionCode"]), str(r.entry["departmentCode"]))
        for r in p.releases.values()
        if r.entry["departmentCode"]
    }


def render_site(data: SiteInput) -> list[Rendered]:
    """Every object of the site, sorted by key: the same input gives the same bytes."""
    published = Published(data)
    out = _Pages(published).render()
    style = (resources.files("publishers") / "templates" / "style.css").read_bytes()
    extra = [
        (STYLE_KEY, style, CSS_TYPE),
        (FEED_KEY, feed_bytes(published), ATOM_TYPE),
        (CALENDAR_KEY, calendar_bytes(published), CALENDAR_TYPE),
        (SEARCH_KEY, search_bytes(published), JSON_TYPE),
    ]
    out += [Rendered(key, body, kind, sha256_hex(body)) for key, body, kind in extra]
    return sorted(out, key=lambda r: r.path)


# --- sync: write what changed, delete what vanished --------------------------------------------


async def update_site(store: ObjectStore, stats: SyncStats) -> None:
    """Bring the site in the store up to date with the database (a pointer object, D10).

    When the inputs are the ones the stored site was rendered from (`fingerprint`), nothing is
    loaded or rendered: an unchanged republish costs two small queries and one read."""
    digest = await fingerprint()
    try:
        stored = orjson.loads(await store.get(SITE_MANIFEST_KEY))
    except ObjectNotFound:
        stored = {}
    if stored.get("fingerprint") == digest:
        stats.skipped += len(stored["objects"])
        return
    published = await load(store)
    # Rendering a district is seconds of CPU: keep the event loop (an API process) free.
    pages = await asyncio.to_thread(render_site, published)
    await sync_site(store, pages, stats, digest)


async def fingerprint() -> str:
    """A digest of everything the site is rendered from: the current version (and manifest) of
    every published release — snapshot rows change only with a new version — the correction
    notices, the scheduled releases, and the renderer itself (this module and its templates)."""
    versions = await models.ReleaseVersion.filter(release__status=ReleaseStatus.PUBLISHED).values(
        "release_id", "number", "manifest_sha256", "release__current_version"
    )
    current = sorted(
        (v["release_id"], v["number"], v["manifest_sha256"])
        for v in versions
        if v["number"] == v["release__current_version"]
    )
    notices = (
        await models.CorrectionNotice.all()
        .order_by("id")
        .values_list("id", "release_id", "fiscal_year", "published_at", "kind", "note")
    )
    scheduled = (
        await models.Release.filter(status=ReleaseStatus.SCHEDULED)
        .order_by("id")
        .values_list(
            "id",
            "jurisdiction__code",
            "department__code",
            "kind",
            "fiscal_year",
            "due_date",
            "publish_at",
        )
    )
    inputs = [_code_digest(), current, notices, scheduled]
    return sha256_hex(orjson.dumps(inputs, default=str))


@lru_cache(maxsize=1)
def _code_digest() -> str:
    package = resources.files("publishers")
    parts = [package / "site.py", package / "charts.py"]
    parts += sorted((p for p in (package / "templates").iterdir() if p.is_file()), key=str)
    return sha256_hex(b"".join(part.read_bytes() for part in parts))


async def sync_site(
    store: ObjectStore, pages: Sequence[Rendered], stats: SyncStats, digest: str | None = None
) -> None:
    """Write the pages whose bytes changed, delete the pages that are gone, then record the
    site's keys (and the `fingerprint` of its inputs) in `site-manifest.json` (D10, D12).

    The manifest says which bytes the store holds under each key. Before anything changes, the
    keys about to be written are marked unknown in it, so a crash part way leaves a manifest that
    never claims bytes the store may not hold; the rerun rewrites those keys. Leaf pages go
    first and the root objects (index, feed, calendar, search index) after them, so a link
    appears only once its page is there; vanished pages go after every page that linked them.
    """
    try:
        old: dict[str, str | None] = orjson.loads(await store.get(SITE_MANIFEST_KEY))["objects"]
    except ObjectNotFound:
        old = {}
    new = {page.path: page.sha256 for page in pages}
    changed = [page for page in pages if old.get(page.path) != page.sha256]
    stale = sorted(set(old) - set(new))
    stats.skipped += len(pages) - len(changed)
    if changed or stale:
        interim = {**old, **{page.path: None for page in changed}}
        await put_if_changed(store, SITE_MANIFEST_KEY, _manifest(interim, None), JSON_TYPE, stats)
        await _put_pages(store, changed, old, stats)
        for key in stale:
            await store.delete(key)
    await put_if_changed(store, SITE_MANIFEST_KEY, _manifest(new, digest), JSON_TYPE, stats)


async def _put_pages(
    store: ObjectStore, changed: Sequence[Rendered], old: Mapping[str, str | None], stats: SyncStats
) -> None:
    limit = asyncio.Semaphore(PARALLEL_UPLOADS)

    async def put(page: Rendered) -> None:
        async with limit:
            if page.path in old:
                await put_if_changed(store, page.path, page.data, page.content_type, stats)
            else:  # a key the site never had: nothing to compare with, skip the stat
                await store.put(page.path, page.data, page.content_type)
                stats.written += 1
                stats.bytes += page.size

    leaves = [page for page in changed if page.path.startswith("site/")]
    roots = [page for page in changed if not page.path.startswith("site/")]
    for group in (leaves, roots):
        try:
            async with asyncio.TaskGroup() as tasks:
                for page in group:
                    tasks.create_task(put(page))
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None


def _manifest(objects: Mapping[str, str | None], digest: str | None) -> bytes:
    document = {"fingerprint": digest, "objects": dict(sorted(objects.items()))}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
