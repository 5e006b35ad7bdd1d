"""The open-data site: static pages, an Atom feed, a calendar and a search index, rendered at
publish time into the bucket, so the public data can be read with nothing but the object store
(and a CDN in front of it), even while the API is down (issue #6; decisions.md D10, D16).

Three steps, like the rest of the publishers:

- `load` (`publishers/site_data.py`, and importable from here) reads what the site shows from
  published rows only, and the current manifests, into a `SiteInput`.
- `render_site` is pure: `SiteInput` in, a list of `Rendered` objects (key → bytes) out, the
  same bytes for the same input (invariant 4). The pages are here: Jinja2 templates with
  autoescape; links are relative and name files explicitly (``…/index.html``, D16), so the site
  works under any prefix; a page links only to objects that exist (pages of the site, or objects
  listed in a current manifest). The feed and the calendar are `publishers/feeds.py`, the search
  index `publishers/search_index.py`, the keys of everything `publishers/site_paths.py`, and how
  values are shown (万元, dates) `publishers/display.py`. It is made of parts: the static
  objects (`render_static`), each jurisdiction's pages (`render_shard`) and the objects above
  the jurisdictions (`render_portal`).
- `SiteSync` (`publishers/site_sync.py`) writes the pages that changed (pointer objects, D10)
  and deletes the pages that vanished (a whole department withdrawn, D12), keeping
  `site-manifest.json` as the list of the site's keys and their sha256: an unchanged rerun reads
  that one object and writes nothing.

`update_site` runs the three when the site's inputs changed, a part at a time, and a
jurisdiction whose inputs did not change is not rendered again. A changed jurisdiction is
planned from a few fields of its rows (`plan_shard`: its page keys, its years, its part of the
search index); its departments' pages are then rendered from their whole rows, a group of
departments at a time (`render_group`), and written 500 pages at a time. So a publish holds a
group's rows, not a city district's (709 MiB).
"""

from __future__ import annotations

import asyncio
import gc
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from publishers import allocator, apart, charts, dictionary, filenames
from publishers.apart import Apart
from publishers.bulk_listing import Listing, read_listing
from publishers.dcat import catalog_keys, next_pages, render_dcat, render_jurisdiction_dcat
from publishers.display import (
    CENT,
    DEMO_NOTE,
    TOTALS_NOTE,
    day,
    percent,
    size,
    to_utc,
    wan,
    when,
)
from publishers.feeds import ATOM_TYPE, CALENDAR_TYPE, calendar_bytes, feed_bytes
from publishers.render import JSON_TYPE, Rendered, sha256_hex
from publishers.search_index import parts_bytes, search_bytes
from publishers.site_data import (
    PORTAL,
    Correction,
    FileLink,
    Notice,
    Published,
    PublishedRelease,
    Row,
    SiteInput,
    Subject,
    load,
)
from publishers.site_paths import (
    CALENDAR_KEY,
    DICTIONARY_KEY,
    FEED_KEY,
    INDEX_KEY,
    SEARCH_KEY,
    SITE_MANIFEST_KEY,
    STYLE_KEY,
    department_page,
    project_page,
    quoted,
    release_page,
    search_part,
    segment,
    shard_of,
    year_page,
)
from publishers.site_sync import HandedSync, PartDone, SiteSync, read_inputs
from publishers.sync import SyncStats
from storage.enums import Grade, RecordType
from storage.objects import ObjectNotFound, ObjectStore

if TYPE_CHECKING:
    from publishers.releases import Publisher

HTML_TYPE = "text/html; charset=utf-8"
CSS_TYPE = "text/css; charset=utf-8"
#: Execution-rate bins (percent): lower bounds and labels; the last bin takes 100 % and above.
RATE_BINS = (
    (Decimal(0), "<50%"),
    (Decimal(50), "50–70%"),
    (Decimal(70), "70–80%"),
    (Decimal(80), "80–90%"),
    (Decimal(90), "90–95%"),
    (Decimal(95), "≥95%"),
)


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


def field_title(path: str) -> str:
    """A changed field's Chinese title: `indicators[2].targetValue` → 第3项·指标值."""
    items = [int(i) + 1 for i in re.findall(r"\[(\d+)\]", path)]
    column = re.sub(r"\[\d+\]", "", path)
    title = dictionary.describe(column.rsplit(".", 1)[-1] if items else column)[0]
    return "".join(f"第{i}项·" for i in items) + title


def _shown(value: Any) -> str:
    return "—" if value is None or value == [] else str(value)


def correction_view(correction: Correction) -> dict[str, Any]:
    return {
        "date": correction.day.isoformat(),
        "release_key": correction.release_key,
        "version": correction.version,
        "what": correction.record_type.label,
        "field": field_title(correction.field),
        "path": correction.field,
        "old": _shown(correction.old),
        "new": _shown(correction.new),
    }


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
                "dictionary.html",
            )
        }
        self.out: list[Rendered] = []
        self.pages: set[str] = set()

    def planned(self) -> None:
        """The keys of every page, known before any is rendered, so links can be checked."""
        self.pages = {INDEX_KEY, FEED_KEY, CALENDAR_KEY, SEARCH_KEY, STYLE_KEY, DICTIONARY_KEY}
        for jurisdiction, year in self.p.by_year:
            self.pages.add(year_page(jurisdiction, year))
        self.pages |= {release_page(key) for key in self.p.releases}
        self.pages |= {department_page(j, c) for j, c in self.p.release_departments()}
        self.pages |= {project_page(j, c) for j, c in self.p.projects}

    def link(self, page: str) -> Callable[[str], str | None]:
        """Relative links from `page`: None for a key that is neither a page nor an object of a
        current version, so no page ever links to something that is not there."""
        up = "../" * page.count("/")

        def to(key: str) -> str | None:
            if key not in self.pages and key not in self.p.objects:
                return None
            return up + quoted(key)

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
                    _grade_counts(self.p.grades[(code, year)].elements()),
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
                        for j, c in self.p.release_departments()
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
                "at": to_utc(r.entry["publishedAt"]),
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
                    "at": to_utc(notice.published_at),
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
            bulk=self.bulk_files(jurisdiction, year),
            bulk_all=self.bulk_files(jurisdiction, None),
        )

    def release(self, release: PublishedRelease, *, preview: bool = False) -> None:
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
        files = _grouped([self._file(release, o) for o in sorted(release.objects, key=_file_order)])
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
            dataset_jsonld=self._dataset_jsonld(release, files),
            notices=[
                self._notice(n) for n in reversed(self.p.notices) if n.release_key == release.key
            ],
            demo=bool(e["demo"]),
            preview=preview,
        )

    def _dataset_jsonld(
        self, release: PublishedRelease, files: Sequence[Mapping[str, Any]]
    ) -> Markup:
        """schema.org `Dataset` for dataset search engines (issue #15): the release, its owner,
        year and times, and each data file as a `DataDownload` (relative links only: the
        page does not know the public address; the DCAT catalog carries absolute ones)."""
        e = release.entry
        versions = sorted(e["versions"], key=lambda v: int(v["number"]))
        owner = e["departmentName"] or self._authority(str(e["jurisdictionCode"]))
        document = {
            "@context": "https://schema.org",
            "@type": "Dataset",
            "name": e["title"],
            "description": f"{owner}{e['fiscalYear']}年度{e['kindLabel']}公开的预算绩效信息。",
            "identifier": release.key,
            "inLanguage": "zh-CN",
            "isAccessibleForFree": True,
            "temporalCoverage": f"{e['fiscalYear']}-01-01/{e['fiscalYear']}-12-31",
            "creator": {"@type": "GovernmentOrganization", "name": owner},
            "datePublished": str(versions[0]["publishedAt"]),
            "dateModified": str(versions[-1]["publishedAt"]),
            "version": str(versions[-1]["number"]),
            "keywords": ["预算绩效", str(e["kindLabel"]), f"{e['fiscalYear']}年度", owner],
            "distribution": [
                {
                    "@type": "DataDownload",
                    "name": f["download"],
                    "encodingFormat": f["format"],
                    "contentSize": str(f["size"]),
                }
                for row in files
                for f in row["formats"]
            ],
        }
        text = orjson.dumps(document, default=str).decode()
        # Inside <script>, "<" could close the element: JSON allows it escaped.
        return Markup(text.replace("<", "\\u003c"))  # noqa: S704 - JSON, "<" escaped

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
        meta = {
            **release.entry,
            "ownerName": self._authority(str(release.entry["jurisdictionCode"])),
        }
        return {
            "key": link.key,
            "download": filenames.readable_name(meta, path, link.title),
            "table": path.split(".")[0] if path.startswith("data/") else path,
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
        corrections = sorted(
            (c for ss in years.values() for s in ss for c in self.p.corrections[s.row.key]),
            key=lambda c: (c.day, c.release_key, c.version, c.record_type.value, c.field),
        )
        self.emit(
            project_page(jurisdiction, code),
            "project.html",
            jurisdiction=self.p.jurisdictions.get(jurisdiction, {"name": jurisdiction}),
            latest=latest,
            names=sorted({str(r["data"]["name"]) for r in rows} - {str(latest["name"])}),
            rows=rows,
            matrix=matrix_table(first, f"{latest['name']}的绩效指标，逐年目标值与实际完成值"),
            changes=[correction_view(c) for c in corrections],
            demo=self.p.is_demo(jurisdiction),
        )

    def dictionary(self) -> None:
        """The data dictionary (issue #15): every field's Chinese title and description, as
        the data packages' table schemas and the Excel headers give them."""
        fields = [(name, *dictionary.describe(name)) for name in sorted(dictionary.FIELDS)]
        self.emit(
            DICTIONARY_KEY,
            "dictionary.html",
            fields=fields,
            money=sorted(dictionary.MONEY_FIELDS),
            demo=False,
        )

    def bulk_files(self, jurisdiction: str, year: int | None) -> list[dict[str, Any]]:
        """The bulk files of a jurisdiction's year (or all years), the CSVs last."""
        entry = self.p.bulk.get((jurisdiction, year))
        if entry is None:
            return []
        return sorted(entry["files"], key=lambda f: ("/" in f["name"], f["name"]))

    def shard(self, batch: int) -> Iterator[list[Rendered]]:
        """The pages of one jurisdiction, from its `SiteInput.shard`, `batch` at a time (the
        pages' bytes of a city district are hundreds of megabytes). `planned` first. The pages
        most others link to come first: projects, departments, releases, then the years."""
        return self.batches(
            [
                *self.departments_pages(None),
                *self.releases_pages(lambda _: True),
                *(partial(self.year, j, y) for j, y in sorted(self.p.by_year)),
            ],
            batch,
        )

    def departments_pages(self, departments: Collection[str] | None) -> list[Callable[[], None]]:
        """Every project's page, then the pages of `departments` (all when None)."""
        out: list[Callable[[], None]] = []
        out += [partial(self.project, j, c) for j, c in sorted(self.p.projects)]
        out += [
            partial(self.department, j, c)
            for j, c in self.p.release_departments()
            if departments is None or c in departments
        ]
        return out

    def releases_pages(
        self, chosen: Callable[[PublishedRelease], bool]
    ) -> list[Callable[[], None]]:
        """The pages of the `chosen` releases."""
        releases = sorted(self.p.releases.values(), key=lambda r: r.key)
        return [partial(self.release, r) for r in releases if chosen(r)]

    def batches(
        self, emitters: Sequence[Callable[[], None]], batch: int
    ) -> Iterator[list[Rendered]]:
        """Render the pages, handing them over `batch` at a time."""
        for emit in emitters:
            emit()
            if len(self.out) >= batch:
                yield self.out
                self.out = []
        if self.out:
            yield self.out
            self.out = []


class _Preview(_Pages):
    """One release's page alone, for the console's preview: no other page and none of its
    objects exist yet, so every link but the stylesheet's stays on the page."""

    def __init__(self, published: Published, style_href: str) -> None:
        super().__init__(published)
        self.style_href = style_href

    def link(self, page: str) -> Callable[[str], str | None]:
        return lambda key: self.style_href if key == STYLE_KEY else "#"


def release_preview(release: PublishedRelease, style_href: str) -> bytes:
    """The site's page of `release` as publishing it would render it, marked as a preview;
    `style_href` is where the reader finds the site's stylesheet."""
    pages = _Preview(Published(SiteInput((release,))), style_href)
    pages.release(release, preview=True)
    return pages.out[-1].data


def style_bytes() -> bytes:
    return (resources.files("publishers") / "templates" / "style.css").read_bytes()


def _grouped(files: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per table: its JSON, CSV and Excel CSV side by side (issue #15)."""
    rows: dict[str, dict[str, Any]] = {}
    for f in files:
        row = rows.setdefault(f["table"], {"title": f["title"], "path": f["table"], "formats": []})
        if f["format"] == "JSON" or not row["formats"]:
            row["title"] = f["title"].removesuffix("（Excel）")
        row["formats"].append(f)
    order = {"JSON": 0, "CSV": 1}
    for row in rows.values():
        row["formats"].sort(key=lambda f: (order.get(f["format"], 2), f["path"]))
    return list(rows.values())


def _file_order(link: FileLink) -> tuple[int, str]:
    rank = 0 if link.path.startswith("data/") else 1 if link.path.startswith("files/") else 2
    return rank, link.path


#: How many pages of a jurisdiction are rendered before they are written and let go.
PAGE_BATCH = 500
#: About how many subjects (of every year) a group of departments has, whose pages are
#: rendered from their whole rows at once (`plan_shard`). A city district's groups of 1,000
#: held 33–60 MiB of rows each; its site step alone peaked at 294 MiB with 1,000, 261 with 500.
GROUP_SUBJECTS = 500


@dataclass(frozen=True)
class Shard:
    """One jurisdiction's part of the site: the keys of its objects, the objects themselves
    (its pages, then its part of the search index) in batches made as they are read, and the
    grades the index page charts (`Published.grades`)."""

    keys: frozenset[str]
    batches: Iterator[list[Rendered]]
    grades: dict[tuple[str, int], Counter[str]]


def render_static() -> list[Rendered]:
    """The objects that no data decides: the stylesheet and the data dictionary. Written
    before the pages that link them."""
    pages = _Pages(Published(SiteInput(())))
    pages.planned()
    pages.dictionary()
    style = style_bytes()
    return [*pages.out, Rendered(STYLE_KEY, style, CSS_TYPE, sha256_hex(style))]


def _shard_keys(pages: _Pages, codes: Sequence[str]) -> set[str]:
    """The keys a jurisdiction's part of the site is written to: its `planned` pages (not the
    objects above the jurisdictions), its part of the search index and its catalog page,
    written last. All are marked before the first is written: a key marked later has the whole
    site manifest written again, at a city's last district ~75 MiB of keys and JSON on top of
    all the part holds after its pages."""
    keys = {k for k in pages.pages if shard_of(k) is not None} | {search_part(c) for c in codes}
    return keys | {key for code in codes for key in catalog_keys(code).values()}


def _search_parts(published: Published, codes: Sequence[str]) -> Iterator[list[Rendered]]:
    """A jurisdiction's part of the search index, a batch of its own."""
    for code in codes:
        body = search_bytes(published)
        yield [Rendered(search_part(code), body, JSON_TYPE, sha256_hex(body))]


def render_shard(data: SiteInput, batch: int = PAGE_BATCH) -> Shard:
    """A jurisdiction's pages from its `SiteInput.shard`: its years, releases, departments
    and projects, and its part of the search index. None of them reads or links another
    jurisdiction's. Its page of the DCAT catalog is `dcat.render_jurisdiction_dcat`, rendered
    after these from what the portal keeps of its releases (`SiteInput.portal`). The pages are
    rendered as `Shard.batches` is read, `batch` at a time."""
    published = Published(data)
    pages = _Pages(published)
    pages.planned()
    codes = data.jurisdictions()
    keys = _shard_keys(pages, codes)

    def batches() -> Iterator[list[Rendered]]:
        yield from pages.shard(batch)
        yield from _search_parts(published, codes)

    return Shard(frozenset(keys), batches(), dict(published.grades))


@dataclass(frozen=True)
class Plan:
    """A jurisdiction's pages, planned from its light rows (`load` with `light`): the keys of
    every page (`_Pages.planned`, which links are checked against), the keys its pages, its
    part of the search index and its catalog page are written to (`_shard_keys`), the groups
    of departments whose pages are rendered from their whole rows a group at a time
    (`render_group`), the grades the index page charts, and the rest of its objects, rendered
    from the light rows as `rest` is read: the finance bureau's release pages, the years and
    the part of the search index."""

    pages: frozenset[str]
    keys: frozenset[str]
    groups: tuple[frozenset[str], ...]
    grades: dict[tuple[str, int], Counter[str]]
    rest: Iterator[list[Rendered]]


def plan_shard(light: SiteInput, batch: int = PAGE_BATCH) -> Plan | None:
    """The `Plan` of a jurisdiction from its light rows; None when it cannot be rendered a
    department at a time (a subject in a release of no department), and `render_shard`
    renders it whole. Departments with a project in common are one group: a project's page
    shows each of its years."""
    published = Published(light)
    pages = _Pages(published)
    pages.planned()
    codes = light.jurisdictions()
    keys = _shard_keys(pages, codes)
    joined: dict[str, str] = {}  # a department → one it shares a project with, towards a root

    def root(code: str) -> str:
        while joined.setdefault(code, code) != code:
            code = joined[code]
        return code

    subjects: Counter[str] = Counter()  # by department
    for years in published.projects.values():
        owners = {
            published.releases[key].entry["departmentCode"]
            for found in years.values()
            for subject in found
            for key in subject.releases.values()
        }
        if None in owners:
            return None
        first, *others = sorted({root(str(code)) for code in owners})
        for other in others:
            joined[other] = first
        subjects[first] += sum(len(found) for found in years.values())
    components: dict[str, set[str]] = defaultdict(set)
    for _, code in published.release_departments():
        components[root(code)].add(code)
    sizes: Counter[str] = Counter()
    for code, count in subjects.items():
        sizes[root(code)] += count
    # Components packed into groups of about `GROUP_SUBJECTS`, so that a group's rows, not the
    # jurisdiction's, are held, in a few loads rather than one a department.
    groups: list[set[str]] = []
    held = 0
    for key in sorted(components):
        if not groups or held >= GROUP_SUBJECTS:
            groups.append(set())
            held = 0
        groups[-1] |= components[key]
        held += sizes[key]

    def rest() -> Iterator[list[Rendered]]:
        finance = pages.releases_pages(lambda r: not r.entry["departmentCode"])
        years = [partial(pages.year, j, y) for j, y in sorted(published.by_year)]
        yield from pages.batches([*finance, *years], batch)
        yield from _search_parts(published, codes)

    return Plan(
        frozenset(pages.pages),
        frozenset(keys),
        tuple(frozenset(group) for group in groups),
        dict(published.grades),
        rest(),
    )


def render_group(
    data: SiteInput, plan: Plan, departments: frozenset[str], batch: int = PAGE_BATCH
) -> Iterator[list[Rendered]]:
    """The pages of a group of departments (`Plan.groups`) from their whole rows (`load` with
    their `departments`): their projects', their own and their releases', `batch` at a time;
    links are checked against every page of the jurisdiction (`Plan.pages`)."""
    pages = _Pages(Published(data))
    pages.pages = set(plan.pages)
    emitters = pages.departments_pages(departments)
    emitters += pages.releases_pages(lambda r: r.entry["departmentCode"] in departments)
    return pages.batches(emitters, batch)


def render_portal(
    data: SiteInput,
    grades: Mapping[tuple[str, int], Counter[str]],
    base_url: str | None = None,
    data_license: str = "CC-BY-4.0",
) -> list[Rendered]:
    """The objects above the jurisdictions, from `SiteInput.portal` and the shards' grades:
    the index page, the feed, the calendar, the search index's list of parts and the DCAT
    catalogs."""
    published = Published(data, grades)
    pages = _Pages(published)
    pages.planned()
    pages.index()
    out = pages.out
    extra = [
        (FEED_KEY, feed_bytes(published, base_url), ATOM_TYPE),
        (CALENDAR_KEY, calendar_bytes(published, base_url), CALENDAR_TYPE),
        (SEARCH_KEY, parts_bytes(data.jurisdictions()), JSON_TYPE),
    ]
    out += [Rendered(key, body, kind, sha256_hex(body)) for key, body, kind in extra]
    out += render_dcat(data, base_url, data_license)  # issue #15: the catalog's first page
    return out


def render_site(
    data: SiteInput, base_url: str | None = None, data_license: str = "CC-BY-4.0"
) -> list[Rendered]:
    """Every object of the site, sorted by key: the same input gives the same bytes. With a
    `base_url` (the public address of the store, D17) the feed and the calendar link to the
    pages absolutely; the pages' own links stay relative. The parts `update_site` renders one
    at a time, here all at once."""
    out = render_static()
    grades: dict[tuple[str, int], Counter[str]] = {}
    for code, following in next_pages(data.jurisdictions()).items():
        part = data.shard(code)
        shard = render_shard(part)
        for pages in shard.batches:
            out += pages
        out += render_jurisdiction_dcat(part.catalogued(), code, following, base_url, data_license)
        grades |= shard.grades
    out += render_portal(data.portal(), grades, base_url, data_license)
    return sorted(out, key=lambda r: r.path)


# --- the workflow: load, render, sync ------------------------------------------------------


async def _write_shard(
    store: ObjectStore, sync: SiteSync, code: str, listing: Listing
) -> tuple[SiteInput, dict[tuple[str, int], Counter[str]]]:
    """Render and write a jurisdiction's pages and its part of the search index a department
    group at a time (`plan_shard`): a city district's whole rows were 709 MiB. Returns its
    light rows, with its releases' files, and its grades. Rendering a district is seconds of
    CPU: it runs in a thread, to keep the event loop (an API process) free."""
    light = await load(store, code, light=True, listing=listing)
    plan = await asyncio.to_thread(plan_shard, light, PAGE_BATCH)
    if plan is None:  # rendered whole
        whole = await load(store, code, listing=listing)
        shard = await asyncio.to_thread(render_shard, whole, PAGE_BATCH)
        del whole  # the batches hold it until the last one is read
        await sync.mark(shard.keys)
        await _write_batches(sync, shard.batches)
        return light, shard.grades
    await sync.mark(plan.keys)
    for group in plan.groups:
        part = await load(store, code, departments=group, listing=listing)
        pages = await asyncio.to_thread(render_group, part, plan, group, PAGE_BATCH)
        del part
        await _write_batches(sync, pages)
        del pages
        collect()
    await _write_batches(sync, plan.rest)
    return light, plan.grades


def collect() -> None:
    """A full garbage collection, after a group's pages. A group's rows and indexes are held in
    reference cycles (the page renderer's link closures, Jinja's contexts) that only a full
    collection frees, and Python runs one only once the objects new to the oldest generation
    are a quarter of those already there (the jurisdiction's light rows): the groups' rows
    piled up. Measured on a city district: 262 MiB of live objects at the peak, 210 with this
    (tracemalloc); a fraction of a second each. Then the memory freed is given back to the
    system (`allocator.trim`): it lies below the jurisdiction's light rows, which stay."""
    gc.collect()
    allocator.trim()


async def _write_batches(sync: SiteSync, batches: Iterator[list[Rendered]]) -> None:
    pages: list[Rendered]
    while pages := await asyncio.to_thread(next, batches, []):
        await sync.write(pages)


async def _render_part(
    store: ObjectStore,
    sync: SiteSync,
    code: str,
    digest: str,
    listing: Listing,
    following: str | None,
    base_url: str | None,
    data_license: str,
) -> dict[tuple[str, int], Counter[str]]:
    """Render and write a jurisdiction's pages, then its DCAT catalog page; its grades."""
    part, own = await _write_shard(store, sync, code, listing)
    # Its catalog page last, when its pages and rows are let go: rdflib's graph of a city
    # district is most of a gigabyte by itself.
    part = part.catalogued()
    catalog = await asyncio.to_thread(
        render_jurisdiction_dcat, part, code, following, base_url, data_license
    )
    del part
    await sync.write(catalog)
    del catalog
    collect()  # rdflib's graphs are cyclic too
    sync.done(code, digest, own)
    return own


async def _part_apart(
    publisher: Publisher,
    handed: HandedSync,
    code: str,
    *args: Any,
) -> tuple[dict[tuple[str, int], Counter[str]], PartDone]:
    """`_render_part` in a process of its own (publishers/apart.py), with the parent's sync
    as it stood; its grades and what the parent's sync is to `adopt`."""
    sync = SiteSync.resumed(publisher.store, SyncStats(), handed, only=segment(code))
    own = await _render_part(publisher.store, sync, code, *args)
    return own, sync.part_done(code)


async def update_site(
    store: ObjectStore,
    stats: SyncStats,
    *,
    base_url: str | None = None,
    data_license: str = "CC-BY-4.0",
    bulk_sha256: str | None = None,
    apart_in: Apart | None = None,
    worker: str = "",
) -> None:
    """Bring the site in the store up to date with the database (a pointer object, D10);
    `base_url` as for `render_site`; `bulk_sha256` the bulk manifest's, which the DCAT catalog
    lists (`publishers/bulk.py`); `apart_in`: how to render each jurisdiction's pages in a
    process of its own, with the publisher's `worker` name (publishers/apart.py).

    When the inputs are the ones the stored site was rendered from (`SiteInputs.fingerprint`),
    nothing is loaded or rendered: an unchanged republish costs three small queries and one
    read. Otherwise the inputs and the bulk listing are read once for every part."""
    inputs = await read_inputs()
    digest = inputs.fingerprint(base_url, data_license, bulk_sha256)
    try:
        stored = orjson.loads(await store.get(SITE_MANIFEST_KEY))
    except ObjectNotFound:
        stored = {}
    if stored.get("fingerprint") == digest:
        stats.skipped += len(stored["objects"]) + 1  # and the site manifest itself
        return
    listing = await read_listing(store)
    shards = inputs.shard_fingerprints(listing.sets.values(), base_url, data_license)
    sync = SiteSync(store, stats, stored)
    await sync.write(render_static())
    # One jurisdiction's rows and pages at a time, so a city's site is rendered in the memory
    # of its largest district; and only the jurisdictions whose inputs changed, so a release of
    # one district does not render the other fifteen again.
    grades: dict[tuple[str, int], Counter[str]] = {}
    following = next_pages(shards)
    for code, shard_digest in sorted(shards.items()):
        if sync.unchanged(code, shard_digest):
            grades |= sync.keep(code)
            continue
        args = (code, shard_digest, listing, following[code], base_url, data_license)
        if apart_in is None:
            grades |= await _render_part(store, sync, *args)
        else:  # in a process of its own, which gives back all it took when it exits
            own, done = await apart.run(apart_in, worker, _part_apart, sync.handed(), *args)
            sync.adopt(code, done)
            grades |= own
    ending = (digest, listing, grades, base_url, data_license)
    if apart_in is None:
        await _finish_portal(store, sync, *ending)
    else:  # the portal's pages are rendered from every release, the manifest lists every page
        stats.add(await apart.run(apart_in, worker, _portal_apart, sync.handed(), *ending))


async def _finish_portal(
    store: ObjectStore,
    sync: SiteSync,
    digest: str,
    listing: Listing,
    grades: Mapping[tuple[str, int], Counter[str]],
    base_url: str | None,
    data_license: str,
) -> None:
    """Render and write the objects above the jurisdictions once every jurisdiction's are
    written, then `finish` the sync: delete the pages that vanished, write the manifest."""
    # Read again once every part is written, not kept from each: what a part left for the
    # portal (its releases' catalog entries and names) lay among the objects of its pages,
    # freed after it, and kept their memory from being given back. A few rows a release
    # (PORTAL), with no files.
    portal = (await load(store, shown=PORTAL, objects=False, listing=listing)).portal()
    pages = await asyncio.to_thread(render_portal, portal, grades, base_url, data_license)
    del portal
    await sync.write(pages)
    del pages
    collect()  # the manifest of every page is made next, on top of what is left here
    await sync.finish(digest)


async def _portal_apart(publisher: Publisher, handed: HandedSync, *args: Any) -> SyncStats:
    """`_finish_portal` in a process of its own (publishers/apart.py), with the parent's sync
    as it stood after the last jurisdiction; what it counted. Measured on the city: in the
    publisher, after sixteen districts, this step took it to 336 MiB, 1.56 times the
    district's largest process."""
    stats = SyncStats()
    await _finish_portal(publisher.store, SiteSync.resumed(publisher.store, stats, handed), *args)
    return stats
