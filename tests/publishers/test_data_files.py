"""Data a person can read (issue #15): the plain CSV of a table holds exactly its JSON's values;
the Excel CSV differs from it only by the BOM, the Chinese header row and the formula guard;
every field of every table schema has a Chinese title and a description, and money says 元."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

import orjson

from publishers import dictionary, render
from tests.conftest import PublishedDemo


def flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON record as the CSV's columns: nested objects dotted, lists of objects left out
    (their child tables), lists of values joined with "；"."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{name}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            continue
        elif isinstance(value, list):
            out[prefix + name] = "；".join(str(v) for v in value)
        else:
            out[prefix + name] = value
    return out


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rows(data: bytes, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def packages(objects: Mapping[str, bytes]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (key.rsplit("/", 1)[0], orjson.loads(data))
        for key, data in sorted(objects.items())
        if re.search(r"/datapackage\.v\d+\.json$", key)
    ]


async def test_the_plain_csv_equals_the_json_and_the_excel_csv_differs_only_as_allowed(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    compared = 0
    for folder, package in packages(objects):
        resources = {r["path"]: r for r in package["resources"]}
        for path in resources:
            match = re.fullmatch(r"data/([a-z-]+)\.\w{12}\.json", path)
            if not match:
                continue
            stem = match.group(1)
            (csv_path,) = [p for p in resources if re.fullmatch(rf"data/{stem}\.\w{{12}}\.csv", p)]
            records = orjson.loads(objects[f"{folder}/{path}"])["records"]
            header, *body = rows(objects[f"{folder}/{csv_path}"])
            assert len(body) == len(records), csv_path
            for record, cells in zip(records, body, strict=True):
                expected = {"key": record["key"], **flat(record)}
                got = dict(zip(header, cells, strict=True))
                assert got == {c: as_text(expected.get(c)) for c in header}, record["key"]
                compared += 1
        for path, resource in resources.items():
            if not path.endswith(".csv") or path.endswith(".excel.csv"):
                continue
            stem = path.split(".")[0]
            (excel_path,) = [
                p for p in resources if p.startswith(stem + ".") and p.endswith(".excel.csv")
            ]
            plain = rows(objects[f"{folder}/{path}"])
            excel_bytes = objects[f"{folder}/{excel_path}"]
            assert excel_bytes.startswith(b"\xef\xbb\xbf")
            excel = rows(excel_bytes, "utf-8-sig")
            fields = resources[excel_path]["schema"]["fields"]
            assert excel[0] == [f["name"] for f in fields] == dictionary.titles(plain[0])
            types = [f["type"] for f in resource["schema"]["fields"]]
            assert len(excel) == len(plain)
            for plain_row, excel_row in zip(plain[1:], excel[1:], strict=True):
                guarded = [
                    render.neutralise(c) if t == "string" else c
                    for c, t in zip(plain_row, types, strict=True)
                ]
                assert excel_row == guarded
    assert compared > 100


async def test_every_field_has_a_chinese_title_and_money_says_its_unit(
    published_demo: PublishedDemo,
) -> None:
    money, untitled = 0, set()
    for _, package in packages(published_demo.recorded.objects):
        for resource in package["resources"]:
            for field in resource.get("schema", {}).get("fields", []):
                if not re.search(r"[\u4e00-\u9fff]", field["title"]):
                    untitled.add((resource["path"].split(".")[0], field["name"]))
                assert field["description"], field
                if field["title"].endswith("（元）"):
                    money += 1
                    assert "单位：元" in field["description"]
    assert money > 0 and untitled == set()


def test_titles_and_units() -> None:
    assert dictionary.describe("amounts.fullYear.total")[0] == "全年预算数·合计（元）"
    assert dictionary.describe("amounts.executed.carryOver")[0] == "执行数·上年结转（元）"
    assert dictionary.describe("executed")[0] == "全年执行数（元）"
    assert dictionary.describe("grade")[0] == "等级（代码）"
    assert dictionary.describe("gradeLabel")[0] == "等级"
    assert not dictionary.is_money("weight")
    # An unknown column keeps its name; titles stay unique within a table.
    assert dictionary.describe("somethingNew") == ("somethingNew", "字段 somethingNew。")
    assert dictionary.titles(["code", "code"]) == ["编码", "编码（code）"]
