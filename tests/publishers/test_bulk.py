"""Bulk files (issue #15) of the published town demo: per jurisdiction and year, and for all
years, a ZIP of every published file, a CSV per table, an .xlsx, a SQLite database for Datasette
and its metadata.json — listed in both catalogs with their sha256 and size, deterministic, with
stable `latest/` keys; a Datasette in-process answers a facet and a full-text query with the
public API's counts."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from openpyxl import load_workbook

from publishers import bulk, bulk_files
from publishers.bulk_rows import row_line, spooled_tables
from publishers.bulk_tables import SnapshotRow, Table, build_tables
from publishers.releases import CATALOG_KEY
from publishers.site_paths import DICTIONARY_KEY, jurisdiction_catalog, quoted, year_page
from publishers.sync import SyncStats
from schema import pagination
from storage import database, models
from storage.enums import RecordType, ReleaseStatus
from storage.objects.memory import MemoryObjectStore
from tests.conftest import PublishedDemo
from tests.publishers import builder_probe
from tests.publishers.test_withdrawal_crash import public_answers

#: Subjects whose name or department, target goal or indicator name holds the query: what the
#: public API's search reads (publishers/records.py), through the full-text indexes.
MATCHED = (
    "SELECT count(*) AS n FROM subjects WHERE key IN ("
    "SELECT s.key FROM subjects s JOIN subjects_fts f ON f.rowid = s.rowid"
    " WHERE subjects_fts MATCH :q UNION SELECT t.subjectKey FROM targets t"
    " JOIN targets_fts f ON f.rowid = t.rowid WHERE targets_fts MATCH :q"
    " UNION SELECT t.subjectKey FROM targets t JOIN targets_indicators i"
    " ON i.parentKey = t.key JOIN targets_indicators_fts f ON f.rowid = i.rowid"
    " WHERE targets_indicators_fts MATCH :q)"
)


def listing(objects: dict[str, bytes]) -> dict[str, Any]:
    return orjson.loads(objects[bulk.BULK_MANIFEST_KEY])["sets"]


def files_of(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in entry["files"]}


def year_set(objects: dict[str, bytes]) -> tuple[int, dict[str, Any]]:
    sets = listing(objects)
    years = sorted(e["fiscalYear"] for e in sets.values() if e["fiscalYear"] is not None)
    year = years[-1]
    entry = next(e for e in sets.values() if e["fiscalYear"] == year)
    return year, entry


def database_file(objects: dict[str, bytes], entry: dict[str, Any]) -> bytes:
    name = next(n for n in files_of(entry) if n.endswith(".db"))
    return objects[files_of(entry)[name]["key"]]


async def test_every_set_is_listed_with_its_bytes_in_both_catalogs(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    sets = listing(objects)
    async with database.connected(published_demo.url):
        years = {
            (r["jurisdiction__code"], r["fiscal_year"])
            for r in await models.Release.filter(status=ReleaseStatus.PUBLISHED).values(
                "jurisdiction__code", "fiscal_year"
            )
        }
    expected = {f"{j}/{y}" for j, y in years} | {f"{j}/all" for j, _ in years}
    assert set(sets) == expected
    catalog = orjson.loads(objects[CATALOG_KEY])
    assert [e["jurisdictionCode"] for e in catalog["bulk"]] == [
        sets[i]["jurisdictionCode"] for i in sorted(sets)
    ]
    for entry in sets.values():
        # Its jurisdiction's page of the DCAT catalog lists it.
        turtle = objects[jurisdiction_catalog(entry["jurisdictionCode"], "ttl")].decode()
        names = set(files_of(entry))
        assert {"metadata.json"} < names
        assert {n.rsplit(".", 1)[1] for n in names if "/" not in n} == {"zip", "xlsx", "db", "json"}
        assert any(n.startswith("csv/") for n in names)
        for f in entry["files"]:
            # The file under its stable latest/ key holds the listed bytes.
            key = f["key"]
            assert hashlib.sha256(objects[key]).hexdigest() == f["sha256"], key
            assert len(objects[key]) == f["bytes"]
            assert key == f"bulk/{entry['jurisdictionCode']}/{key.split('/')[2]}/latest/{f['name']}"
            assert f["sha256"] in turtle  # the DCAT catalog lists it, with its checksum
    # Nothing else lies under bulk/: no older version, no stray file.
    listed = {bulk.BULK_MANIFEST_KEY} | {f["key"] for e in sets.values() for f in e["files"]}
    assert {k for k in objects if k.startswith("bulk/")} == listed


async def test_the_year_set_holds_every_published_file_and_record(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    year, entry = year_set(objects)
    files = files_of(entry)
    zip_name = next(n for n in files if n.endswith(".zip"))
    archive = zipfile.ZipFile(io.BytesIO(objects[files[zip_name]["key"]]))
    assert {i.date_time for i in archive.infolist()} == {bulk_files.ZIP_TIME}
    jurisdiction = entry["jurisdictionCode"]
    async with database.connected(published_demo.url):
        manifests = [
            v["manifest_key"]
            for v in await models.ReleaseVersion.filter(
                release__status=ReleaseStatus.PUBLISHED,
                release__fiscal_year=year,
                release__jurisdiction__code=jurisdiction,
            ).values("manifest_key", "number", "release__current_version")
            if v["number"] == v["release__current_version"]
        ]
        subjects = await models.Disclosure.filter(
            record_type=RecordType.SUBJECT,
            release__fiscal_year=year,
            jurisdiction_code=jurisdiction,
        ).values_list("record_key", flat=True)
    prefix = f"releases/{jurisdiction}/"
    expected = {}
    for key in manifests:
        expected[key.removeprefix(prefix)] = objects[key]
        folder = key.rsplit("/", 1)[0]
        for e in orjson.loads(objects[key])["objects"]:
            expected[f"{folder}/{e['path']}".removeprefix(prefix)] = objects[e["key"]]
    assert sorted(archive.namelist()) == sorted(expected)
    for name, data in expected.items():
        assert archive.read(name) == data, name
    # The subjects' CSV: every subject once, with its department's code and name.
    rows = list(csv.DictReader(io.StringIO(objects[files["csv/subjects.csv"]["key"]].decode())))
    assert sorted(r["key"] for r in rows) == sorted(set(subjects))
    assert all(r["departmentCode"] and r["departmentName"] for r in rows)
    # The workbook: a sheet per table with the Chinese header, and the field dictionary.
    xlsx_name = next(n for n in files if n.endswith(".xlsx"))
    book = load_workbook(io.BytesIO(objects[files[xlsx_name]["key"]]), read_only=True)
    assert "subjects" in book.sheetnames and book.sheetnames[-1] == "字段说明"
    header = next(book["subjects"].iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("记录键", "部门编码", "部门名称")
    assert book["subjects"].max_row == len(rows) + 1


async def test_the_database_is_typed_linked_searchable_and_rebuilt_identically(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    _, entry = year_set(objects)
    data = database_file(objects, entry)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "year.db"
        path.write_bytes(data)
        connection = sqlite3.connect(path)
        try:
            columns = {r[1]: r[2] for r in connection.execute("PRAGMA table_info(subjects)")}
            assert columns["key"] == "TEXT"
            assert "REAL" in {t for n, t in columns.items() if n.startswith("amounts.")}
            links = connection.execute("PRAGMA foreign_key_list(targets_indicators)").fetchall()
            assert ("targets", "parentKey", "key") in {(r[2], r[3], r[4]) for r in links}
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
            name = connection.execute("SELECT name FROM subjects ORDER BY key LIMIT 1").fetchone()[
                0
            ]
            found = connection.execute(
                "SELECT count(*) FROM subjects_fts WHERE subjects_fts MATCH ?",
                [f'"{name[:3]}"'],
            ).fetchone()[0]
            assert found >= 1
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
        finally:
            connection.close()
    assert "subjects_fts" in tables
    # The same tables built again: the same bytes.
    async with database.connected(published_demo.url):
        releases = [
            r
            for r in await bulk.current_releases()
            if f"{r.jurisdiction}/{r.year}" == f"{entry['jurisdictionCode']}/{entry['fiscalYear']}"
        ]
        rows = await bulk.snapshot_rows(releases)
    types: dict[tuple[str, str], str] = {}
    for release in releases:
        manifest = orjson.loads(objects[release.manifest_key])
        types |= bulk._declared_types(objects[f"{release.folder}/{manifest['datapackage']}"])
    assert bulk_files.sqlite_bytes(build_tables(rows, types)) == data


def in_memory(rows: list[SnapshotRow], _: Path) -> list[Table]:
    return build_tables(rows, {})


def spooled(rows: list[SnapshotRow], folder: Path) -> list[Table]:
    """The tables as a builder makes them: from the rows' spooled file, read again for each
    table (so a table's rows are read twice here, and must be the same both times)."""
    path = folder / "rows.jsonl"
    path.write_bytes(b"".join(row_line(r) + b"\n" for r in rows))
    tables = spooled_tables(path, {})
    for table in tables:
        assert list(table.rows) == list(table.rows)
        assert len(list(table.rows)) == table.count
    return tables


Build = Callable[[list[SnapshotRow], Path], list[Table]]
BUILDS = pytest.mark.parametrize("build", [in_memory, spooled], ids=["in-memory", "spooled"])


@BUILDS
def test_a_record_in_two_releases_is_taken_once_from_the_higher_precedence(
    build: Build, tmp_path: Path
) -> None:
    def row(kind: str, precedence: int, name: str) -> SnapshotRow:
        return SnapshotRow(
            RecordType.SUBJECT,
            "s1",
            2024,
            "D1",
            kind,
            precedence,
            f"j/2024/{kind}/D1",
            {"name": name},
        )

    department = SnapshotRow(
        RecordType.DEPARTMENT,
        "d1",
        2024,
        "D1",
        "BUDGET",
        1,
        "j/2024/b/D1",
        {"code": "D1", "name": "部门"},
    )
    for rows in (
        [row("BUDGET", 1, "old"), row("FINAL_ACCOUNTS", 2, "new"), department],
        [row("FINAL_ACCOUNTS", 2, "new"), row("BUDGET", 1, "old"), department],
    ):
        tables = {t.stem: t for t in build(rows, tmp_path)}
        assert [dict(r) for r in tables["subjects"].rows] == [
            {
                "key": "s1",
                "departmentCode": "D1",
                "departmentName": "部门",
                "releaseKind": "FINAL_ACCOUNTS",
                "name": "new",
            }
        ]


@BUILDS
def test_every_years_rows_carry_that_years_department_name(build: Build, tmp_path: Path) -> None:
    """Across all years a department record (its key has no year) is taken once, yet the rows of
    every year are named by that year's record: the highest precedence within the year."""

    def department(year: int, kind: str, precedence: int, name: str) -> SnapshotRow:
        data = {"code": "D1", "name": name}
        return SnapshotRow(
            RecordType.DEPARTMENT, "j/D1", year, "D1", kind, precedence, f"j/{year}/{kind}/D1", data
        )

    def subject(year: int) -> SnapshotRow:
        return SnapshotRow(
            RecordType.SUBJECT, f"s{year}", year, "D1", "BUDGET", 1, f"j/{year}/b/D1", {}
        )

    rows = [
        department(2023, "BUDGET", 1, "旧名"),
        department(2024, "BUDGET", 1, "预算时的名"),
        department(2024, "FINAL_ACCOUNTS", 2, "新名"),
        subject(2023),
        subject(2024),
    ]
    tables = {t.stem: t for t in build(rows, tmp_path)}
    assert {r["key"]: r["departmentName"] for r in tables["subjects"].rows} == {
        "s2023": "旧名",
        "s2024": "新名",
    }
    assert [r["name"] for r in tables["departments"].rows] == ["新名"]


@BUILDS
def test_a_records_lists_are_child_tables_of_the_chosen_row(build: Build, tmp_path: Path) -> None:
    """Each list of objects is a child table keyed to its record, from the row `choose` took;
    a child row names its own department where it says one, its record's otherwise."""

    def target(kind: str, precedence: int, indicators: list[dict[str, Any]]) -> SnapshotRow:
        data = {"goal": kind, "indicators": indicators, "notes": [{"text": "n"}]}
        at = f"j/2024/{kind}/D1"
        return SnapshotRow(RecordType.TARGET, "t1", 2024, "D1", kind, precedence, at, data)

    rows = [
        target("FINAL_ACCOUNTS", 2, [{"name": "a"}, {"name": "b", "departmentCode": "D2"}]),
        target("BUDGET", 1, [{"name": "old"}]),
    ]
    tables = build(rows, tmp_path)
    assert [(t.stem, t.parent, t.count) for t in tables] == [
        ("targets", None, 1),
        ("targets-indicators", "targets", 2),
        ("targets-notes", "targets", 1),
    ]
    indicators = tables[1]
    assert indicators.columns == (
        "key",
        "parentKey",
        "departmentCode",
        "departmentName",
        "releaseKind",
        "name",
    )
    assert [(r["key"], r["name"], r["departmentCode"]) for r in indicators.rows] == [
        ("t1#0", "a", "D1"),
        ("t1#1", "b", "D2"),
    ]


def test_formula_like_text_is_neutralised_in_the_workbook_only() -> None:
    table = Table(
        "subjects",
        "项目",
        ("key", "name", "weight"),
        {"key": "string", "name": "string", "weight": "number"},
        None,
        ({"key": "s1", "name": "=1+1", "weight": "10.5"},),
        1,
    )
    assert b"=1+1" in bulk_files.table_csv(table) and b"'=1+1" not in bulk_files.table_csv(table)
    sheet = load_workbook(io.BytesIO(bulk_files.xlsx_bytes([table])))["subjects"]
    assert [c.value for c in sheet[2]] == ["s1", "'=1+1", 10.5]
    assert bulk_files.xlsx_bytes([table]) == bulk_files.xlsx_bytes([table])


async def test_datasette_answers_with_the_public_apis_counts(
    published_demo: PublishedDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasette_app = pytest.importorskip("datasette.app")
    # A year's self-assessments are more than a public `totalCount` counts (D30): raised here,
    # and `count` checks that each total is exact.
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 100_000)
    objects = published_demo.recorded.objects
    year, entry = year_set(objects)
    data = database_file(objects, entry)
    metadata = orjson.loads(objects[files_of(entry)["metadata.json"]["key"]])
    with tempfile.TemporaryDirectory() as folder:
        stem = next(n for n in files_of(entry) if n.endswith(".db")).removesuffix(".db")
        path = Path(folder) / f"{stem}.db"
        path.write_bytes(data)
        ds = datasette_app.Datasette([str(path)], metadata=metadata)
        response = await ds.client.get(
            f"/{stem}/self_assessments.json?_facet=grade&_size=0&_shape=objects"
        )
        assert response.status_code == 200, response.text
        body = response.json()
        facet = {r["value"]: r["count"] for r in body["facet_results"]["grade"]["results"]}
        total = body["filtered_table_rows_count"]
        table = await ds.client.get(f"/{stem}/subjects.json?_size=0")
        assert table.json()["human_description_en"] is not None
        page = await ds.client.get(f"/{stem}")
        assert metadata["title"] in page.text
        name = next(
            n
            for n in (
                await ds.client.get(f"/{stem}/subjects.json?_shape=array&_sort=key&_size=1")
            ).json()
        )["name"]
        term = name[:3]  # the trigram index: a query of three characters or more
        search = await ds.client.get(
            f"/{stem}.json?" + urlencode({"sql": MATCHED, "q": f'"{term}"', "_shape": "array"})
        )
        assert search.status_code == 200, search.text
        searched = search.json()[0]["n"]
        # Datasette's own search box over the subjects' names and departments.
        box = await ds.client.get(f"/{stem}/subjects.json?" + urlencode({"_search": term}))
        assert box.json()["filtered_table_rows_count"] >= 1
    where = f'fiscalYear: {year}, jurisdictionCode: "{entry["jurisdictionCode"]}"'
    async with database.connected(published_demo.url):
        api_total = await count(f"selfAssessments(first: 1, filter: {{{where}}})")
        api_facet = {
            grade: await count(f"selfAssessments(first: 1, filter: {{{where}, grade: {grade}}})")
            for grade in ("EXCELLENT", "GOOD", "AVERAGE", "POOR")
        }
        api_search = await count(f'subjects(first: 1, filter: {{{where}, search: "{term}"}})')
    assert total == api_total > 0
    assert facet == {g: n for g, n in api_facet.items() if n}
    assert searched == api_search > 0


async def count(field: str) -> int:
    answer = await public_answers(f"{{ {field} {{ totalCount totalCountIsExact }} }}")
    counted: Any = next(iter(answer.values()))
    assert counted["totalCountIsExact"], field
    return int(counted["totalCount"])


async def test_an_unchanged_update_writes_nothing_and_a_changed_input_rebuilds(
    published_demo: PublishedDemo,
) -> None:
    stats = SyncStats()
    async with database.connected(published_demo.url):
        await bulk.update_bulk(published_demo.recorded, stats)
    assert stats.written == 0 and stats.deleted == 0


async def test_the_year_page_links_the_bulk_files_and_the_dictionary(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    year, entry = year_set(objects)
    page = objects[year_page(entry["jurisdictionCode"], year)].decode()
    for f in entry["files"]:
        assert f'../../../../{quoted(f["key"])}"' in page, f["key"]
    assert "../../../../site/dictionary/index.html" in page
    dictionary_page = objects[DICTIONARY_KEY].decode()
    assert "<code>key</code></th><td>记录键</td>" in dictionary_page
    assert "<code>releaseKind</code></th><td>公开类型</td>" in dictionary_page
    assert "（元）" in dictionary_page


async def test_bytes_held_from_the_upload_are_used_only_with_the_listed_sha256() -> None:
    store = MemoryObjectStore()
    await store.put("releases/x/manifest.v1.json", b"the store's", "application/json")
    spool = bulk.Spool()
    try:
        spool.add(b"another attempt's")  # uploaded under the manifest's key, then replaced
        spool.add(b"uploaded")
        objects = bulk._ObjectCache(store, spool)
        listed = hashlib.sha256(b"the store's").hexdigest()
        assert await objects.get("releases/x/manifest.v1.json", listed) == b"the store's"
        uploaded = hashlib.sha256(b"uploaded").hexdigest()
        assert await objects.get("releases/x/a.json", uploaded) == b"uploaded"  # not in the store
        root = spool.root
    finally:
        spool.close()
    assert not root.exists()


def test_a_zip_streamed_from_files_has_the_bytes_of_one_built_in_memory(tmp_path: Path) -> None:
    members = {"b/data.json": b'{"a": 1}' * 5000, "a/report.pdf": b"%PDF-1.7 " * 300, "c": b""}
    for number, data in enumerate(members.values()):
        (tmp_path / str(number)).write_bytes(data)
    on_disk = [(name, tmp_path / str(n)) for n, name in enumerate(members)]
    bulk_files.write_zip(on_disk, tmp_path / "out.zip")
    assert (tmp_path / "out.zip").read_bytes() == bulk_files.zip_bytes(members.items())
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.namelist() == sorted(members)
        assert {n: archive.read(n) for n in members} == members
        assert archive.getinfo("a/report.pdf").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("b/data.json").compress_type == zipfile.ZIP_DEFLATED


def test_threads_that_spool_at_once_share_one_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spool's folder is made on first use, by whichever of the upload threads comes first:
    two that come at once make one folder, and every path `add` returns holds its bytes."""
    both_in = threading.Barrier(2)

    def meet() -> int:  # holds the first thread in until the second arrives, or gives up
        with contextlib.suppress(threading.BrokenBarrierError):
            both_in.wait(timeout=2)
        return 0

    monkeypatch.setattr(bulk, "remove_dead_spools", meet)
    spool = bulk.Spool()
    try:
        with ThreadPoolExecutor(2) as threads:
            paths = list(threads.map(lambda n: spool.add(b"x%d" % n), range(2)))
        assert [p.read_bytes() for p in paths] == [b"x0", b"x1"]
        assert {p.parent for p in paths} == {spool.root}
    finally:
        spool.close()


def test_a_killed_publishers_spool_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    """A SIGKILLed publish never runs its spool's finalizer: the next spool removes the folders
    of processes that are gone, and only those."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f"{bulk.SPOOL_PREFIX}{gone.stdout.strip()}-abc"
    live = tmp_path / f"{bulk.SPOOL_PREFIX}{os.getpid()}-def"
    other = tmp_path / f"{bulk.SPOOL_PREFIX}notapid"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / ("0" * 64)).write_bytes(b"spooled")
    assert bulk.remove_dead_spools(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()


def test_builders_are_forked_from_a_fork_server_with_the_builder_code_loaded() -> None:
    """Not children of the publisher (whose threads' locks a fork would copy), and not spawned
    afresh each publish (a second of imports each): forked from one server that has imported
    `publishers.bulk` already."""
    builders = bulk._builders()
    try:
        parent = builders.submit(os.getppid).result()
        preloaded = builders.submit(builder_probe.loaded_modules).result()
    finally:
        builders.shutdown()
    assert parent != os.getpid()
    assert "publishers.bulk" in preloaded
