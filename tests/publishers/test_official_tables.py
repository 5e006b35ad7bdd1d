"""The official tables of each release: one .xlsx of its disclosed targets and
self-assessments as the standard forms — listed in the manifest and the data package with
its size and sha256, linked from the release page, readable by python-calamine and openpyxl,
equal to the JSON records cell by cell, and the same bytes when republished unchanged."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import orjson

from forms.layouts import FormKind
from forms.read import read_workbook
from publishers import official_tables
from publishers.render import Record
from storage.enums import RecordType
from storage.objects.memory import MemoryObjectStore
from tests.publishers import dataset
from tests.publishers.test_releases import everything, publish_all, publisher


def _tables(objects: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in objects.items() if "/data/official-tables." in k}


def _records(objects: dict[str, bytes], folder: str, table: str) -> list[dict]:
    found = [v for k, v in objects.items() if k.startswith(f"{folder}/data/{table}.")]
    json = [v for v in found if v.lstrip().startswith(b"{")]
    return orjson.loads(json[0])["records"] if json else []


async def test_each_release_carries_its_forms_as_one_workbook(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    objects = await everything(store)

    tables = _tables(objects)
    # every department's BUDGET and FINAL_ACCOUNTS release, none for the finance authority
    assert len(tables) == 4
    for key, data in tables.items():
        folder = key.split("/data/")[0]
        manifest = orjson.loads(
            objects[
                max(
                    k
                    for k in objects
                    if k.startswith(f"{folder}/manifest.") and k.endswith(".json")
                )
            ]
        )
        entry = next(o for o in manifest["objects"] if o["key"] == key)
        assert entry["bytes"] == len(data)
        assert entry["contentType"].endswith("spreadsheetml.sheet")
        package = orjson.loads(objects[f"{folder}/{manifest['datapackage']}"])
        resource = next(r for r in package["resources"] if r["path"] == entry["path"])
        assert resource["bytes"] == len(data) and resource["hash"] == f"sha256:{entry['sha256']}"
        _matches_the_json_records(objects, folder, data)
        _opens_with_openpyxl(data)
    page = next(v for k, v in objects.items() if k.startswith("site/") and b"official-tables" in v)
    assert "公开表格".encode() in page


def _matches_the_json_records(objects: dict[str, bytes], folder: str, data: bytes) -> None:
    """Read back with gongkai's reader (python-calamine), every form equals the one the JSON
    records make, field by field: names, amounts, goals, every indicator row."""
    subjects = _records(objects, folder, "subjects")
    targets = _records(objects, folder, "targets")
    assessments = _records(objects, folder, "self-assessments")
    records = [
        Record(t, r["key"], r["fiscalYear"], None, "", r)
        for t, rows in (
            (RecordType.SUBJECT, subjects),
            (RecordType.TARGET, targets),
            (RecordType.SELF_ASSESSMENT, assessments),
        )
        for r in rows
    ]
    expected = [form for form, _ in official_tables.forms_of(records)]
    assert expected, folder
    got = read_workbook(data, "tables.xlsx")
    assert got.problems == []
    assert len(got.forms) == len(expected) == len(targets) + len(assessments)
    for read, want in zip(got.forms, expected, strict=True):
        assert (read.kind, read.code, read.name, read.department) == (
            want.kind,
            want.code,
            want.name,
            want.department,
        )
        assert read.goal == want.goal and read.goal_actual == want.goal_actual
        for column, values in want.amounts.items():
            assert read.amounts[column] == values
        assert [(x.name, x.target_raw, x.weight, x.actual_raw, x.score) for x in read.lines] == [
            (x.name, x.target_raw, x.weight, x.actual_raw, x.score) for x in want.lines
        ]
        if read.kind is not FormKind.TARGET:
            assert read.total_score == want.total_score and read.grade is want.grade


def _opens_with_openpyxl(data: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    visible = [s for s in book.worksheets if s.sheet_state == "visible"]
    assert visible
    for sheet in visible:
        title = sheet["A1"].value
        assert title in ("项目支出绩效目标申报表", "项目支出绩效自评表", "部门整体支出绩效自评表")
        assert sheet.freeze_panes is not None  # the table heading stays in view
        # fit to one page wide (1 is the default width, which the file leaves out), any height
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
        # amounts are numbers in 万元, as the form declares
        assert sheet["A3"].value == "单位：万元"
        numbers = [
            c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, float | int)
        ]
        assert numbers


async def test_republishing_unchanged_gives_the_same_bytes(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    store = MemoryObjectStore()
    await publish_all(publisher(store), built)
    first = _tables(await everything(store))
    records = [Record(RecordType.SUBJECT, "k", 2024, None, "", {})]
    assert official_tables.render_official_tables(records) == []

    await publish_all(publisher(store), built)

    assert _tables(await everything(store)) == first
    # rendered again from scratch: the same bytes (fixed time in the document properties)
    objects = await everything(store)
    folder = next(iter(first)).split("/data/")[0]
    data = first[next(iter(first))]
    assert b"2000-01-01T00:00:00Z" in _core(data)
    assert official_tables.record_keys(data) >= {
        r["key"]
        for r in _records(objects, folder, "targets")
        + _records(objects, folder, "self-assessments")
    }


def _core(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.read("docProps/core.xml")


def test_amounts_are_numbers_in_wan() -> None:
    subject = {
        "key": "s",
        "kind": "PROJECT",
        "code": "P1",
        "fiscalYear": 2024,
        "name": "项目",
        "departmentName": "局",
        "budgetBook": "GENERAL_PUBLIC",
        "amounts": {
            "initial": {
                "total": "215457.60",
                "appropriation": "215457.60",
                "carryOver": "0.00",
                "other": "0.00",
            }
        },
    }
    target = {
        "key": "s/target/ANNUAL",
        "subjectKey": "s",
        "fiscalYear": 2024,
        "horizon": "ANNUAL",
        "overallGoal": "目标",
        "indicators": [
            {
                "level1": "OUTPUT",
                "level2": "QUANTITY",
                "name": "数量",
                "comparator": "GE",
                "targetValue": "≥8场次",
                "targetNumber": "8.0000",
                "unit": "场次",
                "weight": "10.00",
                "core": False,
            }
        ],
    }
    records = [
        Record(RecordType.SUBJECT, "s", 2024, None, "", subject),
        Record(RecordType.TARGET, "s/target/ANNUAL", 2024, None, "", target),
    ]
    [rendered] = official_tables.render_official_tables(records)
    sheet = openpyxl.load_workbook(io.BytesIO(rendered.data)).worksheets[0]
    assert sheet["C8"].value == 21.54576  # 215,457.60 元 in 万元
    assert rendered.path.startswith("data/official-tables.") and rendered.path.endswith(".xlsx")
    assert Decimal(str(sheet["F14"].value)) == Decimal(10)
