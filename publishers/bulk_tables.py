"""The tables of a bulk file set (issue #15): every published record of a jurisdiction (in one
fiscal year, or in all), one table per record type and per list of nested objects, each row
with the department's code and name. Pure: published snapshot rows and the data packages' field
types in, `Table`s out, always in the same order.

A record published by several releases of the year (a subject in the budget and in the final
accounts) is taken once, from the release the public API answers it from (the highest
`precedence`), so a table's count is the API's count. Values are the JSON files' values; each
column's type is the one the release's data package declares for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from publishers import dictionary
from publishers.render import TABLE_NAMES, table_rows
from storage.enums import RecordType
from storage.search_text import SEARCHABLE

#: Columns every bulk table has after its key (and parent key): where the record comes from.
ADDED = ("departmentCode", "departmentName", "releaseKind")
#: Columns searched by full text in the SQLite file, by table: what the public API's search
#: reads (`publishers/records.py`), and the indicators' names, which it reads with the targets.
SEARCHED: dict[str, tuple[str, ...]] = {
    TABLE_NAMES[record_type]: columns for record_type, columns in SEARCHABLE.items()
} | {"targets-indicators": ("name",)}


@dataclass(frozen=True)
class SnapshotRow:
    """One published record as the snapshot table holds it (JSON values)."""

    record_type: RecordType
    key: str
    fiscal_year: int
    department_code: str | None
    release_kind: str
    precedence: int
    release_key: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    """One table: its stem (`subjects`, `targets-indicators`), title, columns in order, each
    column's Table Schema type, the stem of the table its `parentKey` points into, and rows."""

    stem: str
    title: str
    columns: tuple[str, ...]
    types: Mapping[str, str]
    parent: str | None
    rows: tuple[Mapping[str, Any], ...]

    @property
    def sql_name(self) -> str:
        return self.stem.replace("-", "_")

    @property
    def searched(self) -> list[str]:
        return [c for c in SEARCHED.get(self.stem, ()) if c in self.columns]


def chosen(rows: Iterable[SnapshotRow]) -> list[SnapshotRow]:
    """One row per (record type, key): the highest precedence; among equals the first release
    by key, so the choice never depends on the order the database returned them in."""
    best: dict[tuple[RecordType, str], SnapshotRow] = {}
    for row in rows:
        if row.record_type not in TABLE_NAMES:
            continue
        ident = (row.record_type, row.key)
        held = best.get(ident)
        if held is None or _rank(row) < _rank(held):
            best[ident] = row
    return [best[i] for i in sorted(best, key=lambda i: (i[0].value, i[1]))]


def _rank(row: SnapshotRow) -> tuple[int, str]:
    """Which of two rows of one record `chosen` takes: the lower rank."""
    return (-row.precedence, row.release_key)


def department_names(rows: Iterable[SnapshotRow]) -> dict[tuple[int, str], str]:
    """(fiscal year, department code) → the name its department record published that year,
    chosen as `chosen` chooses. From every row, not the chosen ones: a department record's key
    has no year, so across all years `chosen` keeps one year's record of each department, and
    the rows of its other years would have no department name."""
    best: dict[tuple[int, str], SnapshotRow] = {}
    for row in rows:
        if row.record_type is RecordType.DEPARTMENT and row.data.get("code"):
            ident = (row.fiscal_year, str(row.data["code"]))
            if ident not in best or _rank(row) < _rank(best[ident]):
                best[ident] = row
    return {ident: str(row.data.get("name") or "") for ident, row in best.items()}


def build_tables(rows: Sequence[SnapshotRow], types: Mapping[tuple[str, str], str]) -> list[Table]:
    """Every table of the rows. `types` maps (table stem, column) to the type the data packages
    declare; a column none of them declares is text."""
    picked = chosen(rows)
    names = department_names(rows)
    by_type: dict[RecordType, list[SnapshotRow]] = {}
    for row in picked:
        by_type.setdefault(row.record_type, []).append(row)
    tables: list[Table] = []
    for record_type in sorted(by_type, key=lambda t: t.value):
        own = by_type[record_type]
        origin = {
            r.key: {
                "departmentCode": r.department_code,
                "departmentName": names.get((r.fiscal_year, r.department_code or ""))
                if r.department_code
                else None,
                "releaseKind": r.release_kind,
            }
            for r in own
        }
        main = TABLE_NAMES[record_type]
        for stem, title, plain in table_rows(record_type, [(r.key, r.data) for r in own]):
            parent = None if stem == main else main
            lead = ("key", "parentKey") if parent else ("key",)
            out_rows = []
            columns: dict[str, None] = dict.fromkeys((*lead, *ADDED))
            for line in plain:
                owner = origin[str(line["parentKey"] if parent else line["key"])]
                added = {**owner}
                if line.get("departmentCode"):  # the record's own, where it says one
                    added["departmentCode"] = line["departmentCode"]
                merged = {**{c: line.get(c) for c in lead}, **added}
                merged |= {c: v for c, v in line.items() if c not in merged}
                columns |= dict.fromkeys(merged)
                out_rows.append(merged)
            column_types = {c: types.get((stem, c), "string") for c in columns}
            tables.append(Table(stem, title, tuple(columns), column_types, parent, tuple(out_rows)))
    return tables


def field_rows(tables: Sequence[Table]) -> list[tuple[str, str, str, str, str]]:
    """The data dictionary of the tables: (table, field, title, description, type)."""
    return [
        (table.stem, column, *dictionary.describe(column), table.types[column])
        for table in tables
        for column in table.columns
    ]
