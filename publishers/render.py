"""Rendering: published records to deterministic bytes (pure; no I/O).

The same records always give the same bytes, so the same sha256, so an unchanged republish writes
nothing (invariant 4). Data files carry no version number and no time: only the manifest and the
data package of a version say when and which version.

Per record type a release gets
- ``data/<table>.<sha12>.json``: ``{"recordType": …, "records": [...]}``, sorted by key;
- ``data/<table>.<sha12>.csv``: UTF-8, one row per record, nested objects flattened to dotted
  columns, lists of objects split into child tables (``<table>-<field>``) keyed to their parent;
- ``data/<table>.<sha12>.excel.csv``: the same rows for Excel: a BOM (Excel needs it to read
  UTF-8), the fields' Chinese titles as the header row (`publishers/dictionary.py`), and text
  cells that start like a formula neutralised. The plain CSV holds exactly the JSON's values.

Every field of a table schema carries its Chinese `title` and a `description`; money columns
say their unit (元).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from publishers import dictionary
from storage.enums import RecordType

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"
#: OWASP CSV injection: a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The file stem of each record type's table.
TABLE_NAMES: dict[RecordType, str] = {
    RecordType.JURISDICTION: "jurisdictions",
    RecordType.DEPARTMENT: "departments",
    RecordType.SUBJECT: "subjects",
    RecordType.TARGET: "targets",
    RecordType.EX_ANTE_ASSESSMENT: "ex-ante-assessments",
    RecordType.MONITORING: "monitoring",
    RecordType.SELF_ASSESSMENT: "self-assessments",
    RecordType.EVALUATION: "evaluations",
    RecordType.ANNUAL_STATEMENT: "annual-statements",
    RecordType.FILE: "files",
}


@dataclass(frozen=True)
class Record:
    """One published record. `data` holds plain values (str, int, bool, None, Decimal, date,
    lists and dicts of them); `jsonable` turns it into what the JSON files and snapshot rows
    hold."""

    record_type: RecordType
    key: str
    fiscal_year: int
    department_code: str | None
    name: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Rendered:
    """Bytes ready to upload, under a key relative to the release folder."""

    path: str
    data: bytes
    content_type: str
    sha256: str
    title: str = ""
    schema: Mapping[str, Any] | None = None
    encoding: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jsonable(value: Any) -> Any:
    """Plain JSON values: money and other decimals as exact strings, dates in ISO 8601."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def dumps(value: Any) -> bytes:
    """Canonical JSON: UTF-8 without ASCII escaping, sorted keys, a final newline."""
    return orjson.dumps(jsonable(value), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def neutralise(cell: str) -> str:
    """Prefix a formula-like text cell with an apostrophe so spreadsheets show it as text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for name, value in data.items():
        column = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from _flatten(value, column + ".")
        elif isinstance(value, list | tuple) and value and isinstance(value[0], Mapping):
            continue  # a child table, rendered separately
        elif isinstance(value, list | tuple):
            yield column, "；".join(str(jsonable(v)) for v in value)
        else:
            yield column, value


def _child_lists(data: Mapping[str, Any]) -> Iterable[tuple[str, Sequence[Mapping[str, Any]]]]:
    for name, value in data.items():
        if isinstance(value, list | tuple) and value and isinstance(value[0], Mapping):
            yield name, value


def _field_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "string"


def _cell(value: Any, excel: bool = False) -> str:
    """A CSV cell: the JSON value as text (null empty, booleans `true`/`false`); in the Excel
    variant a text cell that starts like a formula is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value) if excel else value
    return str(jsonable(value))


def _table(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """Column names in order of first appearance, and each column's type (first non-empty)."""
    columns: dict[str, str] = {}
    for row in rows:
        for name, value in row.items():
            if name not in columns or (columns[name] == "?" and value is not None):
                columns[name] = "?" if value is None else _field_type(value)
    types = {name: ("string" if kind == "?" else kind) for name, kind in columns.items()}
    return list(columns), types


def csv_bytes(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], excel: bool = False
) -> bytes:
    """The plain CSV (the JSON's values, the field names as header) or, with `excel`, the Excel
    variant: a BOM, the Chinese titles as header, formula-like text neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(dictionary.titles(columns) if excel else columns)
    for row in rows:
        writer.writerow(csv_cells(row, columns, excel))
    return ("\ufeff" if excel else "").encode() + buffer.getvalue().encode("utf-8")


def csv_cells(row: Mapping[str, Any], columns: Sequence[str], excel: bool = False) -> list[str]:
    """A row's cells of the plain CSV (or of the Excel variant)."""
    return [_cell(row.get(column), excel) for column in columns]


def _schema(
    columns: Sequence[str], types: Mapping[str, str], key: str, excel: bool = False
) -> dict[str, Any]:
    """A Table Schema. The Excel variant's fields are named by their Chinese titles (its header
    row), each description saying which field of the plain CSV it is."""
    names = dictionary.titles(columns) if excel else list(columns)
    fields = []
    for name, column in zip(names, columns, strict=True):
        title, description = dictionary.describe(column)
        if excel:
            description = f"{description}（字段 {column}）"
        fields.append(
            {"name": name, "title": title, "description": description, "type": types[column]}
        )
    return {"fields": fields, "primaryKey": [names[columns.index(key)]]}


def _content_named(
    stem: str, extension: str, data: bytes, content_type: str, **extra: Any
) -> Rendered:
    digest = sha256_hex(data)
    return Rendered(f"data/{stem}.{digest[:12]}.{extension}", data, content_type, digest, **extra)


def _tabular(stem: str, title: str, rows: Sequence[Mapping[str, Any]]) -> list[Rendered]:
    columns, types = _table(rows)
    plain, excel = csv_bytes(rows, columns), csv_bytes(rows, columns, excel=True)
    return [
        _content_named(
            stem,
            "csv",
            plain,
            CSV_TYPE,
            title=title,
            schema=_schema(columns, types, columns[0]),
            encoding="utf-8",
        ),
        _content_named(
            stem,
            "excel.csv",
            excel,
            CSV_TYPE,
            title=f"{title}（Excel）",
            schema=_schema(columns, types, columns[0], excel=True),
            encoding="utf-8-sig",
        ),
    ]


def render_records(record_type: RecordType, records: Sequence[Record]) -> list[Rendered]:
    """The JSON file and the CSV tables (plain and Excel) of one record type."""
    ordered = sorted(records, key=lambda r: r.key)
    document = {"recordType": record_type.value, "records": [r.data for r in ordered]}
    stem = TABLE_NAMES[record_type]
    out = [_content_named(stem, "json", dumps(document), JSON_TYPE, title=record_type.label)]
    for table, title, rows in table_rows(record_type, [(r.key, r.data) for r in ordered]):
        out += _tabular(table, title, rows)
    return out


def table_rows(
    record_type: RecordType, records: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The rows of a record type's tables, (stem, title, rows) each, from (key, data) pairs in
    order: the main table, nested objects flattened to dotted columns, then a child table per
    list of objects (``<table>-<field>``), its rows keyed to their parent."""
    stem = TABLE_NAMES[record_type]
    out = [(stem, record_type.label, [main_row(key, data) for key, data in records])]
    children: dict[str, list[dict[str, Any]]] = {}
    for key, data in records:
        for name, row in child_rows(key, data):
            children.setdefault(name, []).append(row)
    for name in sorted(children):
        out.append((child_stem(record_type, name), child_title(record_type, name), children[name]))
    return out


def main_row(key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A record's row of its type's main table: nested objects flattened to dotted columns."""
    return {"key": key, **dict(_flatten(data))}


def child_rows(key: str, data: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A record's rows of its child tables, (list field, row) each, keyed to the record."""
    for name, items in _child_lists(data):
        for position, item in enumerate(items):
            yield name, {"key": f"{key}#{position}", "parentKey": key, **dict(_flatten(item))}


def child_stem(record_type: RecordType, name: str) -> str:
    """The stem of the child table of a record type's list field `name`."""
    return f"{TABLE_NAMES[record_type]}-{_kebab(name)}"


def child_title(record_type: RecordType, name: str) -> str:
    return f"{record_type.label}：{name}"


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def datapackage(
    name: str,
    title: str,
    version: int,
    license_name: str,
    description: str,
    resources: Sequence[Rendered],
) -> Rendered:
    """A Frictionless data package listing every resource with its `bytes` and sha256 `hash`."""
    entries = []
    for resource in sorted(resources, key=lambda r: r.path):
        stem = resource.path.rsplit("/", 1)[-1]
        entry: dict[str, Any] = {
            "name": _resource_name(stem),
            "path": resource.path,
            "title": resource.title,
            "mediatype": resource.content_type.split(";")[0],
            "bytes": resource.size,
            "hash": f"sha256:{resource.sha256}",
        }
        if resource.schema is not None:
            entry |= {
                "profile": "tabular-data-resource",
                "format": "csv",
                "encoding": resource.encoding,
                "schema": resource.schema,
            }
        else:
            entry["format"] = stem.rsplit(".", 1)[-1]
            if entry["format"] == "xlsx":
                # The official tables: forms laid out for reading, one per sheet, not a table
                # of rows; a reader validates its bytes and hash, not its rows.
                entry["type"] = "file"
        entries.append(entry)
    document = {
        "profile": "data-package",
        "name": name,
        "title": title,
        "description": description,
        "version": f"{version}.0.0",
        "licenses": [{"name": license_name, "title": license_name}],
        "resources": entries,
    }
    data = dumps(document)
    return Rendered(f"datapackage.v{version}.json", data, JSON_TYPE, sha256_hex(data), title=title)


def _resource_name(stem: str) -> str:
    """`targets.ab12cd34ef56.excel.csv` → `targets-excel-csv`: unique, lower-case, no dots."""
    parts = stem.split(".")
    kept = [parts[0], *parts[2:]] if len(parts) > 2 else parts
    return "-".join(kept).lower()
