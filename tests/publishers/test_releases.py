"""The release workflow end to end on a small data set, into the in-memory store."""

from __future__ import annotations

import hashlib
import html
import io
import re
import urllib.parse
import zipfile
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import ahocorasick
import orjson
import pytest

from publishers import select
from publishers.releases import (
    CATALOG_KEY,
    Claimed,
    Embargoed,
    Publisher,
    ReleaseRefused,
    content_digest,
    file_objects,
    input_digest,
    manifest_key,
    render_release,
)
from publishers.sync import SyncStats
from storage import models
from storage.enums import (
    CorrectionKind,
    FilingReason,
    ReleaseKind,
    ReleaseStatus,
    ReviewStatus,
)
from storage.errors import StoreError
from storage.objects import ObjectStore
from storage.objects.memory import MemoryObjectStore
from tests.publishers import dataset

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def publisher(store: ObjectStore, now: datetime = NOW) -> Publisher:
    return Publisher(store, worker="test", clock=lambda: now, signer=dataset.SIGNER)


async def publish_all(p: Publisher, built: dataset.Built) -> None:
    await p.publish_many([r.id for r in built.releases])


async def everything(store: MemoryObjectStore) -> dict[str, bytes]:
    return {info.key: await store.get(info.key) for info in await store.list()}


def decoded(data: bytes, scanned: AbstractSet[str] = frozenset()) -> str:
    """The text of an object with every way a name can hide undone: JSON escapes, HTML
    entities, percent-encoding, a workbook's compression (the official tables and the bulk
    workbooks: every cell of every sheet, the hidden one too), a ZIP's members (the bulk ZIPs:
    each member decoded in turn, and its name) and a SQLite database (every row of every
    table, the full-text indexes' too, and the schema).

    `scanned`: the sha256 digests of objects the caller scans under their own keys. A ZIP
    member with one of them is a copy of such an object (a bulk ZIP holds every published
    file): its name is kept, and its bytes, read there already, are not read again."""
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names:
                return workbook_text(data)
            return "\n".join(f"{n}\n{_member_text(archive.read(n), scanned)}" for n in names)
    if data.startswith(b"SQLite format 3\x00"):
        return database_text(data)
    text = data.decode("utf-8", errors="replace")
    parts = [text]
    if "\\u" in text and text.lstrip().startswith(("{", "[")):
        parts.append(orjson.dumps(orjson.loads(data)).decode())
    # Each undoing is scanned only where it changes something: a district's 13,000 objects
    # are ~300 MB of text, and the scans read every part.
    for undo in (html.unescape, urllib.parse.unquote):
        undone = undo(text)
        if undone != text:
            parts.append(undone)
    return "\n".join(parts)


def finder(markers: Mapping[str, str]) -> Callable[[str], set[str]]:
    """Which markers a text holds: `markers` maps each text to look for to what to report when
    it is found; one Aho–Corasick pass over the text for all of them (a district's objects are
    ~300 MB of text, and there are hundreds of filed names)."""
    automaton = ahocorasick.Automaton()
    for text, reported in markers.items():
        automaton.add_word(text, reported)
    automaton.make_automaton()
    return lambda text: {reported for _, reported in automaton.iter(text)}


def _member_text(data: bytes, scanned: AbstractSet[str]) -> str:
    if scanned and hashlib.sha256(data).hexdigest() in scanned:
        return ""
    return decoded(data, scanned)


def database_text(data: bytes) -> str:
    """A SQLite file as SQL text: its schema and every row of every table, and its bytes."""
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.db"
        path.write_bytes(data)
        connection = sqlite3.connect(path)
        try:
            # The raw bytes too: text a page kept that no table shows any more.
            raw = data.decode("utf-8", errors="replace")
            return "\n".join([*connection.iterdump(), raw])
        finally:
            connection.close()


def workbook_text(data: bytes) -> str:
    """Every cell of every sheet of an .xlsx, with its document properties."""
    import zipfile

    from forms.read import load

    sheets, problems = load(data, "object", hidden=True)
    assert not problems
    cells = [str(v) for s in sheets for row in s.rows for v in row if v not in (None, "")]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        cells.append(package.read("docProps/core.xml").decode())
        cells.append(package.read("xl/workbook.xml").decode())  # the sheet names
    return "\n".join(cells)


def leaks(objects: dict[str, bytes], markers: set[str]) -> list[str]:
    found = []
    for key, data in objects.items():
        haystack = key + urllib.parse.unquote(key) + decoded(data)
        found += [f"{m} in {key}" for m in markers if m in haystack]
    return found


async def snapshot_leaks(markers: set[str]) -> list[str]:
    """Markers found in the snapshot rows: the current ones and every version's (history)."""
    rows = await models.Disclosure.all().values("record_key", "name", "data")
    rows += await models.DisclosureVersion.all().values("record_key", "subject_key", "name", "data")
    text = orjson.dumps(rows).decode()
    return [m for m in markers if m in text]


async def test_publish_writes_data_manifest_catalog_and_snapshots(db: str) -> None:
    built = await dataset.build(dataset.Plan())
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)

    objects = await everything(store)
    catalog = orjson.loads(objects[CATALOG_KEY])
    assert len(catalog["releases"]) == len(built.releases)
    for release in built.releases:
        await release.refresh_from_db()
        assert release.status is ReleaseStatus.PUBLISHED
        assert release.current_version == 1
        await release.fetch_related("jurisdiction", "department")
        manifest = orjson.loads(objects[manifest_key(release, 1)])
        for entry in manifest["objects"]:
            assert (
                entry["sha256"] == __import__("hashlib").sha256(objects[entry["key"]]).hexdigest()
            )
        assert manifest["release"]["title"].startswith("【演示数据】")
    # The snapshot rows are the published records, field for field.
    for row in await models.Disclosure.filter(record_type="TARGET"):
        release = await models.Release.get(id=row.release_id).prefetch_related(
            "jurisdiction", "department"
        )
        manifest = orjson.loads(objects[manifest_key(release, 1)])
        (targets,) = [
            e for e in manifest["objects"] if re.fullmatch(r"data/targets\.\w+\.json", e["path"])
        ]
        published = {r["key"]: r for r in orjson.loads(objects[targets["key"]])["records"]}
        assert published[row.record_key] == row.data
    assert not leaks(objects, {"SECRET"})


async def test_under_a_public_base_url_the_catalog_links_absolutely(db: str) -> None:
    built = await dataset.build(dataset.Plan())
    store = MemoryObjectStore()
    base = "https://open.example.gov.cn/budget/"
    p = Publisher(store, worker="test", clock=lambda: NOW, base_url=base)
    await publish_all(p, built)
    catalog = orjson.loads(await store.get(CATALOG_KEY))
    for entry in catalog["releases"]:
        assert entry["manifestUrl"] == "https://open.example.gov.cn/budget/" + entry["manifest"]
        assert entry["datapackageUrl"].endswith("/" + entry["datapackage"])
        assert await store.stat(entry["manifest"]) is not None  # the key the link points at
    writes = store.puts
    await publish_all(Publisher(store, worker="test", clock=lambda: NOW, base_url=base), built)
    assert store.puts == writes


async def test_rerun_of_a_published_release_writes_nothing(db: str) -> None:
    built = await dataset.build(dataset.Plan())
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    writes = store.puts
    batch = await publisher(store, NOW + timedelta(days=1)).publish_many(
        [r.id for r in built.releases]
    )
    assert {r.outcome for r in batch.results} == {"unchanged"}
    assert batch.stats.written == 0 and not batch.failures
    assert store.puts == writes


async def test_the_planners_statistics_are_refreshed_after_each_jurisdiction_that_changed(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch over two jurisdictions refreshes PostgreSQL's statistics once each was
    published, before the next one and before the pointer objects; an unchanged rerun does
    not. (The statement itself runs on PostgreSQL only.)"""
    built = [
        await dataset.build(dataset.Plan(jurisdiction_code=code, departments=1, projects=1))
        for code in ("990101", "990102")
    ]
    store = MemoryObjectStore()
    seen: list[tuple[list[str], bool]] = []

    async def recorded() -> None:
        codes = await models.Disclosure.all().distinct().values_list("jurisdiction_code", flat=True)
        seen.append((sorted(codes), CATALOG_KEY in {o.key for o in await store.list()}))

    monkeypatch.setattr("publishers.releases.refresh_statistics", recorded)
    ids = [r.id for b in built for r in b.releases]
    await publisher(store).publish_many(ids)
    assert seen == [(["990101"], False), (["990101", "990102"], False)]
    assert CATALOG_KEY in {o.key for o in await store.list()}
    batch = await publisher(store, NOW + timedelta(days=1)).publish_many(ids)
    assert {r.outcome for r in batch.results} == {"unchanged"}
    assert len(seen) == 2


async def test_csv_cells_that_look_like_formulas_are_neutralised(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    objects = {k: v for k, v in (await everything(store)).items() if k.startswith("releases/")}
    (indicators,) = [k for k in objects if re.search(r"targets-indicators\.\w+\.csv$", k)]
    # The plain CSV holds the JSON's value; only the Excel variant neutralises it (issue #15).
    text = objects[indicators].decode()
    assert ",=及时性," in text and ",'=及时性," not in text
    (excel,) = [k for k in objects if k.endswith(".excel.csv") and "targets-indicators" in k]
    assert objects[excel].startswith("\ufeff".encode())
    excel_text = objects[excel].decode("utf-8-sig")
    assert ",'=及时性," in excel_text and ",=及时性," not in excel_text


@pytest.mark.parametrize("reason", [FilingReason.SENSITIVE, FilingReason.CLASSIFIED])
async def test_filed_departments_and_projects_never_reach_the_store(
    db: str, reason: FilingReason
) -> None:
    plan = dataset.Plan(
        departments=3,
        projects=2,
        whole_department_filings={0: reason},
        project_filings={(1, 0): reason},
    )
    built = await dataset.build(plan)
    store = MemoryObjectStore()
    p = publisher(store)
    await p.publish_many([r.id for r in built.releases])
    objects = await everything(store)
    assert not leaks(objects, built.filed_markers)
    assert not await snapshot_leaks(built.filed_markers)
    # …while everything public is there.
    text = "".join(decoded(v) for v in objects.values())
    assert all(m in text for m in built.public_markers)
    # The filed department's releases stay unpublished and out of the catalog.
    catalog = orjson.loads(objects[CATALOG_KEY])
    assert len(catalog["releases"]) == len(built.releases) - 2


async def test_check_reports_every_problem_and_writes_nothing(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    await models.PerformanceTarget.all().update(review_status=ReviewStatus.SUBMITTED)
    store = MemoryObjectStore()
    p = publisher(store)
    budget = built.releases[0]
    selection = await p.check(budget.id)
    assert {problem.rule for problem in selection.problems} == {"DR-7"}
    assert len(selection.problems) == 2
    with pytest.raises(ReleaseRefused, match="DR-7"):
        await p.publish(budget.id)
    assert store.puts == 0
    assert await models.Disclosure.all().count() == 0


async def test_a_correction_is_a_new_version_and_the_old_one_stays_readable(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    budget = built.releases[0]
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（更正）")
    later = publisher(store, NOW + timedelta(days=3))
    result = await later.publish(budget.id, note="更正名称", pointers=False)
    assert (result.outcome, result.version) == ("published", 2)
    await later.write_pointers(SyncStats())  # the site and catalogs, counted apart
    await budget.fetch_related("jurisdiction", "department")
    v1 = orjson.loads(await store.get(manifest_key(budget, 1)))
    v2 = orjson.loads(await store.get(manifest_key(budget, 2)))
    assert v2["supersedes"] == "manifest.v1.json"
    assert v2["correctionNote"] == "更正名称"
    for entry in v1["objects"]:
        await store.get(entry["key"])  # every object of the old version is still there
    names = set(await models.Disclosure.filter(release_id=budget.id).values_list("name", flat=True))
    assert "PUBP0-0项目（更正）" in names and "PUBP0-0项目" not in names
    assert await models.Disclosure.filter(release_id=budget.id, release_version=1).count() == 0
    notice = await models.CorrectionNotice.get(release_id=budget.id)
    assert notice.kind is CorrectionKind.CORRECTION
    # Only the objects that changed were written.
    assert result.stats.written < len(v2["objects"])


async def test_a_filing_after_publication_withdraws_every_version(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    # A correction first, so that the project sits in two versions.
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（更正）")
    await publisher(store, NOW + timedelta(days=1)).publish(built.releases[0].id, note="更正名称")

    await dataset.file_project("PUBP0-0Q", NOW.date())
    markers = {"PUBP0-0Q", "PUBP0-0项目", "PUBP0-0目标", "PUBP0-0评价报告"}
    before = await everything(store)
    assert leaks(before, markers)
    report = await publisher(store, NOW + timedelta(days=2)).withdraw()
    assert report.results and {r.outcome for r in report.results} == {"published"}
    assert not report.blocked
    after = await everything(store)
    assert not leaks(after, markers)
    assert not await snapshot_leaks(markers)
    # The bulk files held the project (issue #15): its ZIP, workbook, database and CSV were
    # rebuilt without it, under the same latest/ keys.
    held = {k for k, v in before.items() if k.startswith("bulk/") and leaks({k: v}, markers)}
    assert {k.rsplit(".", 1)[1] for k in held} >= {"zip", "xlsx", "db", "csv"}
    assert all("/latest/" in k for k in held) and held <= set(after)
    # Old manifests keep no entry of a withdrawn object (not even its sha256), and every
    # entry they keep is there.
    budget = await models.Release.get(id=built.releases[0].id).prefetch_related(
        "jurisdiction", "department"
    )
    gone = set(before) - set(after)
    assert gone
    for version in (1, 2):
        manifest = orjson.loads(after[manifest_key(budget, version)])
        assert manifest["objects"]
        for entry in manifest["objects"]:
            assert entry["key"] in after and "withdrawn" not in entry
        listed = {e["sha256"] for e in manifest["objects"]}
        assert not listed & {hashlib.sha256(before[k]).hexdigest() for k in gone}
        # Its content digest is over what is left, as a publish computes it: every entry but
        # the data package, which is written after it.
        package = f"{manifest_key(budget, version).rsplit('/', 1)[0]}/{manifest['datapackage']}"
        listing = sorted(
            f"{e['path']} {e['sha256']}" for e in manifest["objects"] if e["key"] != package
        )
        assert any(e["key"] == package for e in manifest["objects"])
        assert manifest["contentSha256"] == hashlib.sha256("\n".join(listing).encode()).hexdigest()
    assert await models.Withdrawal.filter(finished_at__isnull=True).count() == 0
    notices = await models.CorrectionNotice.filter(kind=CorrectionKind.WITHDRAWAL)
    assert notices and all("PUBP0-0" not in n.note for n in notices)
    catalog = orjson.loads(after[CATALOG_KEY])
    assert any(n["kind"] == "WITHDRAWAL" for n in catalog["notices"])
    # Nothing else was touched: the other department's objects are all still there.
    assert all(k in after for k in before if "/PUBD1X/" in k)


async def test_a_whole_department_filed_after_publication_disappears(db: str) -> None:
    store = MemoryObjectStore()
    withdrawal = await dataset.withdraw_whole_department(store, NOW)
    after = await everything(store)
    assert not leaks(after, set(dataset.WITHDRAWN_MARKERS))
    assert not await snapshot_leaks(set(dataset.WITHDRAWN_MARKERS))
    catalog = orjson.loads(after[CATALOG_KEY])
    assert all(r["departmentCode"] != "PUBD0X" for r in catalog["releases"])
    department = withdrawal.department
    assert await models.Release.filter(department=department, status="PUBLISHED").count() == 0


# The correction below rewrites four objects (the subjects JSON and CSVs, the data package):
# failing the 1st, 2nd or 4th write fails before, between and at the last of them.
@pytest.mark.parametrize("step", [1, 2, 4, "manifest", "catalog"])
async def test_a_store_failure_at_any_step_leaves_the_public_state_intact(
    db: str, step: int | str
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = built.releases[0]
    store = MemoryObjectStore()
    await publisher(store).publish(budget.id)
    # A correction that changes one record, published into a store that fails part way.
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（二）")
    state = (await everything(store), await models.Disclosure.all().values())

    puts = 0

    def fail(operation: str, key: str) -> bool:
        nonlocal puts
        if operation != "put":
            return False
        puts += 1
        if step == "manifest":
            return "manifest." in key
        if step == "catalog":
            return key == CATALOG_KEY
        return puts == step

    store.fail_on = fail
    with pytest.raises(StoreError):
        await publisher(store, NOW + timedelta(days=1)).publish(budget.id, note="更正")
    objects, rows = state
    after = await everything(store)
    if step != "catalog":
        assert await models.Disclosure.all().values() == rows
        assert after[CATALOG_KEY] == objects[CATALOG_KEY]
        for key, data in objects.items():
            assert after[key] == data  # nothing published was changed
        assert (await models.Release.get(id=budget.id)).current_version == 1
    # The rerun completes the release; a further rerun writes nothing.
    store.fail_on = None
    result = await publisher(store, NOW + timedelta(days=1)).publish(budget.id, note="更正")
    assert result.version == 2
    catalog = orjson.loads(await store.get(CATALOG_KEY))
    assert catalog["releases"][0]["currentVersion"] == 2
    writes = store.puts
    again = await publisher(store, NOW + timedelta(days=2)).publish(budget.id)
    assert again.outcome == "unchanged" and store.puts == writes


async def test_a_failure_at_the_database_flip_leaves_the_public_state_intact(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = built.releases[0]
    store = MemoryObjectStore()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(models.Disclosure, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        await publisher(store).publish(budget.id)
    assert await models.ReleaseVersion.all().count() == 0
    assert (await models.Release.get(id=budget.id)).status is ReleaseStatus.SCHEDULED
    assert CATALOG_KEY not in await everything(store)
    monkeypatch.undo()
    result = await publisher(store).publish(budget.id)
    assert (result.outcome, result.version) == ("published", 1)


async def test_embargo_uploads_nothing_before_its_time(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = built.releases[0]
    budget.publish_at = NOW + timedelta(hours=1)
    budget.status = ReleaseStatus.SCHEDULED
    await budget.save()
    # Only the embargoed release is scheduled here (the data set schedules all of them).
    others = [r.id for r in built.releases if r.id != budget.id]
    await models.Release.filter(id__in=others).update(status=ReleaseStatus.DRAFT)
    store = MemoryObjectStore()
    with pytest.raises(Embargoed):
        await publisher(store).publish(budget.id)
    assert store.puts == 0
    assert await publisher(store).due() == []
    later = publisher(store, NOW + timedelta(hours=1))
    assert await later.due() == [budget.id]
    await later.publish_many(await later.due())
    assert (await models.Release.get(id=budget.id)).status is ReleaseStatus.PUBLISHED


async def test_a_claimed_release_is_not_published_twice(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = built.releases[0]
    await models.Release.filter(id=budget.id).update(
        claimed_by="other", claimed_until=NOW + timedelta(minutes=5)
    )
    store = MemoryObjectStore()
    with pytest.raises(Claimed):
        await publisher(store).publish(budget.id)
    assert store.puts == 0
    # An expired lease can be taken over.
    result = await publisher(store, NOW + timedelta(minutes=6)).publish(budget.id)
    assert result.outcome == "published"


async def test_every_datapackage_validates_with_frictionless(db: str, tmp_path: Path) -> None:
    from frictionless import Package

    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    objects = await everything(store)
    for key, data in objects.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(data)
    packages = [k for k in objects if "/datapackage." in k]
    assert len(packages) == len(built.releases)
    for key in packages:
        report = Package(str(tmp_path / key)).validate()
        assert report.valid, report.flatten(["type", "note"])[:5]


async def test_amounts_are_exact_strings_in_json(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    rows = await models.Disclosure.filter(record_type="SUBJECT", name="PUBP0-0项目")
    # The budget release carries the initial budget; the final accounts all three columns.
    by_columns = {frozenset(row.data["amounts"]): row.data["amounts"] for row in rows}
    full = frozenset({"initial", "fullYear", "executed"})
    assert set(by_columns) == {frozenset({"initial"}), full}
    final = by_columns[full]
    assert final["executed"]["total"] == "95000.00"
    assert D(final["executed"]["total"]) == D("95000")


async def test_objects_written_and_unchanged_add_up_to_the_store(db: str) -> None:
    """The publish summary's two numbers count the same thing: every object of the published
    state is either written or unchanged, on a first publish and on an unchanged rerun."""
    built = await dataset.build(dataset.Plan(departments=2, projects=1))
    store = MemoryObjectStore()
    ids = [r.id for r in built.releases]
    first = await publisher(store).publish_many(ids)
    total = len(await store.keys())
    assert (first.stats.written, first.stats.skipped) == (total, 0)
    again = await publisher(store, NOW + timedelta(days=1)).publish_many(ids)
    assert (again.stats.written, again.stats.skipped) == (0, total)
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（更正）")
    corrected = await publisher(store, NOW + timedelta(days=2)).publish_many(ids, note="更正")
    # The current state has as many objects as before; the first version's stay beside it.
    assert 0 < corrected.stats.written < total < len(await store.keys())
    assert corrected.stats.written + corrected.stats.skipped == total


async def test_a_batch_over_two_jurisdictions_holds_one_jurisdictions_facts_at_a_time(
    db: str,
) -> None:
    """A run over a city's districts lets go of each one's facts before it reads the next's,
    so its memory is that of one jurisdiction, not of all of them (issue 18)."""
    first = await dataset.build(dataset.Plan())
    second = await dataset.build(dataset.Plan(jurisdiction_code="990102"))
    releases = first.releases + second.releases
    place = {r.id: r.jurisdiction_id for r in releases}
    p = publisher(MemoryObjectStore())
    held: list[tuple[int, set[int]]] = []
    batch = await p.publish_many(
        [r.id for r in releases], progress=lambda i: held.append((place[i], p.selector.held()))
    )
    assert not batch.failures and len(batch.results) == len(releases)
    assert all(now <= {jurisdiction} for jurisdiction, now in held), held
    assert {jurisdiction for jurisdiction, now in held if now} == {
        first.jurisdiction.id,
        second.jurisdiction.id,
    }
    assert p.selector.held() == set()


async def test_a_part_of_a_year_is_whole_departments_up_to_part_subjects(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part of a year's working rows (issue 18) is whole departments with their units, in
    the order of their ids, closed once it has `PART_SUBJECTS` subjects: here each department
    has three (two projects and its overall expenditure)."""
    built = await dataset.build(dataset.Plan(departments=3, projects=2))
    rows = await models.Department.filter(jurisdiction=built.jurisdiction).order_by("id")
    tops = [d.id for d in rows if d.parent_id is None]  # type: ignore[attr-defined]
    family = {
        top: frozenset({top} | {d.id for d in rows if d.parent_id == top})  # type: ignore[attr-defined]
        for top in tops
    }

    async def parts() -> set[frozenset[int]]:
        facts = await select.load_year(built.jurisdiction.id, dataset.YEAR)
        assert set(facts.parts) == {d.id for d in rows}
        return set(facts.parts.values())

    monkeypatch.setattr(select, "PART_SUBJECTS", 3)
    assert await parts() == {family[top] for top in tops}
    monkeypatch.setattr(select, "PART_SUBJECTS", 4)
    assert await parts() == {family[tops[0]] | family[tops[1]], family[tops[2]]}


async def test_a_years_rows_read_a_part_at_a_time_publish_the_same_bytes(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The selector reads a year's working rows a part at a time and holds a few parts, so a
    publisher's memory is bounded by a part, not by the size of a jurisdiction (issue 18);
    where the parts fall changes nothing that is published."""
    built = await dataset.build(dataset.Plan(departments=3, projects=2))
    loads: list[tuple[ReleaseKind, frozenset[int]]] = []
    load = select._load_records

    async def counted(
        facts: select.YearFacts, part: frozenset[int], kind: ReleaseKind
    ) -> select.YearRecords:
        loads.append((kind, part))
        return await load(facts, part, kind)

    monkeypatch.setattr(select, "_load_records", counted)
    whole = await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
    assert not whole.failures
    assert sorted(kind for kind, _ in loads) == [ReleaseKind.BUDGET, ReleaseKind.FINAL_ACCOUNTS]

    loads.clear()
    monkeypatch.setattr(select, "PART_SUBJECTS", 1)
    p = publisher(MemoryObjectStore())
    held: list[int] = []
    for release in sorted(built.releases, key=select.release_order):
        selection = await p.check(release.id)
        held.append(len(p.selector._records))
        published = await models.ReleaseVersion.get(release_id=release.id, number=1)
        assert input_digest(selection) == published.input_sha256
        objects = render_release(selection) + await file_objects(selection.files)
        assert content_digest(objects) == published.content_sha256
    # Each part read once, in the order the publisher takes the releases; no more held than
    # the selector keeps.
    assert len(loads) == len(set(loads)) == 3 * 2
    assert max(held) == select.Selector.KEEP_PARTS
