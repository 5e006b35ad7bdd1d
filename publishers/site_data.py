"""What the open-data site shows: the published rows, loaded and indexed.

`load` reads, from the database, the `Disclosure` snapshot rows of the current versions of
PUBLISHED releases, their versions, the correction notices, and the due dates of SCHEDULED
releases whose department already has published rows for that year (a department under a
whole-department filing never has). It never reads a working table's content, so nothing
unpublished or filed can appear: security by construction (invariant 2). It also reads each
release's current manifest from the store, for the file links. It reads one jurisdiction, the
releases of some of its departments, or only the few fields of each row that a jurisdiction's
plan needs (`LIGHT`).

`Published` indexes a `SiteInput` once for every output of the site: the pages
(`publishers/site.py`), the feed and the calendar (`publishers/feeds.py`) and the search index
(`publishers/search_index.py`).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import orjson
from tortoise.expressions import Q

from publishers import history
from publishers.bulk_listing import Listing, read_listing
from publishers.render import JSON_TYPE, sha256_hex
from publishers.sync import PARALLEL_UPLOADS
from storage import models
from storage.enums import CorrectionKind, RecordType, ReleaseKind, ReleaseStatus
from storage.objects import ObjectNotFound, ObjectStore

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
#: The rows the portal objects read (`SiteInput.portal`): the releases' catalog entries and
#: the names of their jurisdictions and departments.
PORTAL = (RecordType.JURISDICTION, RecordType.DEPARTMENT, RecordType.RELEASE)


# --- what the site is rendered from ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
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

    def portal(self) -> PublishedRelease:
        """This release as the portal objects see it (`SiteInput.portal`): its catalog entry
        and names, none of its files (no portal object lists or links them)."""
        return replace(self, rows=self.catalogued().rows, objects=())

    def catalogued(self) -> PublishedRelease:
        """This release as its jurisdiction's page of the DCAT catalog sees it: its catalog
        entry, names and files."""
        return replace(self, rows=tuple(r for r in self.rows if r.record_type in PORTAL))


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
class Correction:
    """A field of a subject's record that a correction changed (issue 16): the project page
    shows "changed on …: field, old → new". Read from the history of published versions, which
    holds nothing of a withdrawn record."""

    subject_key: str
    record_type: RecordType
    day: date
    release_key: str
    version: int
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class SiteInput:
    releases: tuple[PublishedRelease, ...]
    notices: tuple[Notice, ...] = ()
    scheduled: tuple[Scheduled, ...] = ()
    #: the bulk file sets (`publishers/bulk.py`), as `bulk/manifest.json` lists them
    bulk: tuple[Mapping[str, Any], ...] = ()
    corrections: tuple[Correction, ...] = ()

    def jurisdictions(self) -> list[str]:
        return sorted({str(r.entry["jurisdictionCode"]) for r in self.releases})

    def shard(self, jurisdiction: str) -> SiteInput:
        """What the pages of one jurisdiction are rendered from: its releases, the notices of
        its releases and its bulk sets. No page of one jurisdiction reads or links another's."""
        releases = tuple(r for r in self.releases if r.entry["jurisdictionCode"] == jurisdiction)
        keys = {r.key for r in releases}
        return SiteInput(
            releases,
            tuple(n for n in self.notices if n.release_key in keys),
            (),
            tuple(b for b in self.bulk if b["jurisdictionCode"] == jurisdiction),
            tuple(c for c in self.corrections if c.release_key in keys),
        )

    def portal(self) -> SiteInput:
        """What the objects above the jurisdictions are rendered from (the index, the feed, the
        calendar, the catalogs): every release with only the rows that name its jurisdiction
        and departments, and every notice, scheduled release and bulk set. Small beside the
        shards: a city's subjects stay out of it."""
        return replace(self, releases=tuple(r.portal() for r in self.releases), corrections=())

    def catalogued(self) -> SiteInput:
        """What a jurisdiction's page of the DCAT catalog is rendered from: its releases with
        their files and the rows that name them (`PublishedRelease.catalogued`), its bulk
        sets."""
        return replace(self, releases=tuple(r.catalogued() for r in self.releases), corrections=())


# --- load: the database (published rows only) and the current manifests ------------------------

#: Parsed manifests by (key, sha256), of the jurisdiction loaded last (`load`'s
#: `jurisdiction`): a manifest's bytes are fixed by its digest. A jurisdiction's site is loaded
#: light, then a group of departments at a time, each reading the same manifests again; and a
#: process that renders the same jurisdiction again (an API process publishing its releases as
#: they are approved) reads them once. A publish of a whole city reads every release's (6,001,
#: ~14 KB each): kept from one jurisdiction to the next they would be held for nothing, among
#: the objects of the pages rendered since. At most `MANIFESTS_KEPT` at a time.
_manifests: dict[str | None, dict[tuple[str, str], tuple[FileLink, ...]]] = {}
MANIFESTS_KEPT = 1_000


#: The fields of each record type that a jurisdiction's plan reads (`load` with `light`; the
#: plan is `site.plan_shard`): its year pages, the finance bureau's release pages, its part of
#: the search index, its page keys and its grades. None: the whole row; a type not here is not
#: read. A city district's rows took 709 MiB whole; the pages of one department at a time are
#: rendered from its whole rows.
LIGHT: dict[RecordType, tuple[str, ...] | None] = {
    RecordType.JURISDICTION: None,
    RecordType.DEPARTMENT: None,
    RecordType.RELEASE: None,
    RecordType.FILE: None,
    RecordType.ANNUAL_STATEMENT: None,
    RecordType.SUBJECT: (
        "jurisdictionCode",
        "fiscalYear",
        "code",
        "name",
        "kind",
        "kindLabel",
        "departmentCode",
        "departmentName",
        "amounts",
        "budgetBookLabel",
        "fundingPurposeLabel",
    ),
    RecordType.SELF_ASSESSMENT: ("subjectKey", "grade", "executionRate"),
    RecordType.EVALUATION: ("subjectKey", "grade"),
}
#: How many releases' rows one query reads: a light load keeps only `LIGHT` of each chunk,
#: and the chunk's whole rows are held until it is read (a city district's 64 releases' were
#: ~50 MiB).
ROWS_CHUNK = 16


def _light(
    data: Mapping[str, Any], fields: tuple[str, ...], shared: dict[Any, Any]
) -> dict[str, Any]:
    """The `fields` of a row's data as a plan reads them. Of the amounts, each column's total
    alone (what the year pages add up). A value that repeats from row to row (a code, a label,
    a department's name, a subject's name in its budget and final-accounts rows) is one object,
    `shared` by every row of the load. A city district's light rows were 99 MiB, 62 so."""
    out: dict[str, Any] = {}
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        if name == "amounts":
            value = {column: {"total": block["total"]} for column, block in value.items()}
        if isinstance(value, str):
            value = shared.setdefault(value, value)
        out[name] = value
    return out


async def load(
    store: ObjectStore,
    jurisdiction: str | None = None,
    *,
    shown: Sequence[RecordType] = SHOWN,
    objects: bool = True,
    listing: Listing | None = None,
    departments: Collection[str] | None = None,
    light: bool = False,
) -> SiteInput:
    """Everything the site shows, from published snapshot rows (see the module docstring); with
    `jurisdiction`, one jurisdiction's shard of it (`SiteInput.shard`), so that rendering a
    city holds one district's rows at a time; with `shown`, only those rows (`PORTAL`: what
    the portal objects read, once every jurisdiction is written); without `objects`, no
    release's files (no manifest is read: the portal objects need none); `listing`, the bulk
    listing when the caller has read it already; with `departments`, only their releases and
    the finance bureau's; with `light`, only the `LIGHT` fields of the rows."""
    published = models.Release.filter(status=ReleaseStatus.PUBLISHED)
    if jurisdiction is not None:
        published = published.filter(jurisdiction__code=jurisdiction)
    if departments is not None:
        published = published.filter(
            Q(department__code__in=list(departments)) | Q(department_id=None)
        )
    releases = {r["id"]: r for r in await published.values("id", "current_version")}
    rows: dict[int, list[Row]] = defaultdict(list)
    types = [t for t in shown if t in LIGHT] if light else list(shown)
    shared: dict[Any, Any] = {}  # a light load's repeated values, one object each (`_light`)
    ids = sorted(releases)
    for start in range(0, len(ids), ROWS_CHUNK):
        query = models.Disclosure.filter(
            release_id__in=ids[start : start + ROWS_CHUNK], record_type__in=types
        )
        for row in await query.values(
            "release_id",
            "release_version",
            "record_type",
            "record_key",
            "fiscal_year",
            "department_code",
            "data",
        ):
            if row["release_version"] != releases[row["release_id"]]["current_version"]:
                continue
            kind = RecordType(row["record_type"])
            data = row["data"]
            fields = LIGHT[kind] if light else None
            department = row["department_code"]
            if fields is not None:
                data = _light(data, fields, shared)
                department = shared.setdefault(department, department)
            rows[row["release_id"]].append(
                Row(kind, row["record_key"], row["fiscal_year"], department, data)
            )
    versions = {
        (v["release_id"], v["number"]): v["manifest_sha256"]
        for v in await models.ReleaseVersion.filter(release_id__in=list(releases)).values(
            "release_id", "number", "manifest_sha256"
        )
    }
    limit = asyncio.Semaphore(PARALLEL_UPLOADS)
    parsed: dict[tuple[str, str], tuple[FileLink, ...]] = {}
    if objects:  # this jurisdiction's are kept, another's let go
        parsed = _manifests.pop(jurisdiction, {})
        _manifests.clear()
        _manifests[jurisdiction] = parsed

    async def published_release(release_id: int) -> PublishedRelease | None:
        own = sorted(rows[release_id], key=lambda r: (r.record_type.value, r.key))
        entries = [r.data for r in own if r.record_type is RecordType.RELEASE]
        if not entries:
            return None
        entry = entries[0]
        if not objects:
            return PublishedRelease(entry, tuple(own), ())
        digest = versions.get((release_id, releases[release_id]["current_version"]), "")
        async with limit:
            files = await _manifest_objects(store, str(entry["manifest"]), digest, parsed)
        return PublishedRelease(entry, tuple(own), files)

    loaded = await asyncio.gather(*(published_release(i) for i in sorted(releases)))
    done = tuple(sorted((r for r in loaded if r is not None), key=lambda r: r.key))
    if listing is None:
        listing = await read_listing(store)
    bulk = tuple(listing.sets[ident] for ident in sorted(listing.sets))
    corrected = [i for i, r in releases.items() if r["current_version"] > 1]
    # Corrections are of the records of subjects: the project pages list them, no light page.
    wanted = set(CORRECTED) & set(shown) and not light
    corrections = await _corrections(corrected) if wanted else ()
    notices = await _notices(done, jurisdiction)
    if jurisdiction is not None:  # a shard has no schedule: the calendar is the portal's
        return SiteInput(done, notices, (), bulk, corrections).shard(jurisdiction)
    return SiteInput(done, notices, await _scheduled(done), bulk, corrections)


#: The records of a subject whose corrections its project page lists.
CORRECTED = (
    RecordType.SUBJECT,
    RecordType.TARGET,
    RecordType.EX_ANTE_ASSESSMENT,
    RecordType.SELF_ASSESSMENT,
    RecordType.EVALUATION,
)


async def _corrections(release_ids: Sequence[int]) -> tuple[Correction, ...]:
    """Each field a later version of these releases changed in a subject's records, against
    the release's previous version that carried the record. A `…Label` field changes with the
    code beside it and is left out."""
    if not release_ids:
        return ()
    found: list[Correction] = []
    previous: dict[tuple[int, str, str], Mapping[str, Any]] = {}
    rows = await (
        models.DisclosureVersion.filter(release_id__in=list(release_ids), record_type__in=CORRECTED)
        .order_by("release_id", "record_type", "record_key", "release_version")
        .values(
            "release_id",
            "release_key",
            "release_version",
            "record_type",
            "record_key",
            "subject_key",
            "published_at",
            "data",
        )
    )
    for row in rows:
        ident = (row["release_id"], row["record_type"], row["record_key"])
        before = previous.get(ident)
        previous[ident] = row["data"]
        if before is None or row["subject_key"] is None:
            continue
        day = row["published_at"].astimezone(history.SHANGHAI).date()
        found += [
            Correction(
                str(row["subject_key"]),
                RecordType(row["record_type"]),
                day,
                str(row["release_key"]),
                int(row["release_version"]),
                change.field,
                change.old,
                change.new,
            )
            for change in history.changes(before, row["data"])
            if not change.field.endswith("Label")
        ]
    return tuple(found)


async def _manifest_objects(
    store: ObjectStore, key: str, digest: str, parsed: dict[tuple[str, str], tuple[FileLink, ...]]
) -> tuple[FileLink, ...]:
    """The objects a release's manifest lists, and the manifest itself, from `parsed` or the
    store; kept in `parsed` when its bytes are the `digest` the release names."""
    cached = parsed.get((key, digest))
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
        if len(parsed) >= MANIFESTS_KEPT:
            parsed.clear()
        parsed[(key, digest)] = objects
    return objects


async def _notices(
    releases: Sequence[PublishedRelease], jurisdiction: str | None = None
) -> tuple[Notice, ...]:
    """The correction notices (of `jurisdiction`, or all), each naming its release when that
    is one of `releases`."""
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
    query = models.CorrectionNotice.all()
    if jurisdiction is not None:
        query = query.filter(jurisdiction__code=jurisdiction)
    for n in await query.values(
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

    def __init__(
        self, data: SiteInput, grades: Mapping[tuple[str, int], Counter[str]] | None = None
    ) -> None:
        """`grades`: the `grades` of the shards, for the portal, whose input has no subjects."""
        self.releases = {r.key: r for r in data.releases}
        self.notices = data.notices
        self.corrections: dict[str, list[Correction]] = defaultdict(list)
        for correction in data.corrections:
            self.corrections[correction.subject_key].append(correction)
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
        #: The bulk file sets (issue #15) by (jurisdiction, fiscal year or None for all years).
        self.bulk = {(str(b["jurisdictionCode"]), b["fiscalYear"]): b for b in data.bulk}
        self.objects |= {str(f["key"]) for b in data.bulk for f in b["files"]}
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
        #: (jurisdiction, fiscal year) → how many of its subjects' self-assessments have each
        #: grade: the index page's chart
        self.grades: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for subject in self.subjects.values():
            d = subject.data
            if subject.assessment and subject.assessment["grade"]:
                self.grades[(d["jurisdictionCode"], d["fiscalYear"])][
                    subject.assessment["grade"]
                ] += 1
        for ident, found in (grades or {}).items():
            self.grades[ident] += found

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

    def release_departments(self) -> list[tuple[str, str]]:
        """(jurisdiction, code) of the departments (主管部门) with a release of their own: the
        departments that have a page."""
        return sorted(
            {
                (str(r.entry["jurisdictionCode"]), str(r.entry["departmentCode"]))
                for r in self.releases.values()
                if r.entry["departmentCode"]
            }
        )
