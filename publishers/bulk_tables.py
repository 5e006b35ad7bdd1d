"""The tables of a bulk file set (issue #15): every published record of a jurisdiction (in one
fiscal year, or in all), one table per record type and per list of nested objects, each row
with the department's code and name. Pure: published snapshot rows and the data packages' field
types in, `Table`s out, always in the same order. A table's rows are made from the records each
time they are read, so a builder holds one row at a time, not a set's tables.

A record published by several releases of the year (a subject in the budget and in the final
accounts) is taken once, from the release the public API answers it from (the highest
`precedence`), so a table's count is the API's count. Values are the JSON files' values; each
column's type is the one the release's data package declares for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from publishers import dictionary
from publishers.render import TABLE_NAMES, child_rows, child_stem, child_title, main_row
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
    column's Table Schema type, the stem of the table its `parentKey` points into, its rows and
    how many there are. `rows` can be iterated more than once; each time a set's tables are
    built from its spooled file (`publishers/bulk_rows.py`) the rows are read again from there,
    so no table is ever held whole."""

    stem: str
    title: str
    columns: tuple[str, ...]
    types: Mapping[str, str]
    parent: str | None
    rows: Iterable[Mapping[str, Any]]
    count: int

    @property
    def sql_name(self) -> str:
        return self.stem.replace("-", "_")

    @property
    def searched(self) -> list[str]:
        return [c for c in SEARCHED.get(self.stem, ()) if c in self.columns]


#: One record type's chosen records in key order, read again at each call.
Records = Callable[[], Iterable[SnapshotRow]]
#: What `choose` returns of each chosen row: the row, or where a spooled file holds it.
H = TypeVar("H")


def choose(rows: Iterable[tuple[SnapshotRow, H]]) -> dict[RecordType, list[H]]:
    """One row per (record type, key), by record type, in key order: the highest precedence;
    among equals the first release by key, so the choice never depends on the order the
    database returned them in. Each row comes with a handle (the row itself, or where it is in
    a spooled file), and the handles of the chosen rows are returned."""
    best: dict[RecordType, dict[str, tuple[tuple[int, str], H]]] = {}
    for row, handle in rows:
        if row.record_type not in TABLE_NAMES:
            continue
        of_type = best.setdefault(row.record_type, {})
        held = of_type.get(row.key)
        rank = _rank(row)
        if held is None or rank < held[0]:
            of_type[row.key] = (rank, handle)
    return {kind: [of_type[k][1] for k in sorted(of_type)] for kind, of_type in best.items()}


def _rank(row: SnapshotRow) -> tuple[int, str]:
    """Which of two rows of one record `choose` takes: the lower rank."""
    return (-row.precedence, row.release_key)


def department_names(rows: Iterable[SnapshotRow]) -> dict[tuple[int, str], str]:
    """(fiscal year, department code) → the name its department record published that year,
    chosen as `choose` chooses. From every row, not the chosen ones: a department record's key
    has no year, so across all years `choose` keeps one year's record of each department, and
    the rows of its other years would have no department name."""
    best: dict[tuple[int, str], SnapshotRow] = {}
    for row in rows:
        if row.record_type is RecordType.DEPARTMENT and row.data.get("code"):
            ident = (row.fiscal_year, str(row.data["code"]))
            if ident not in best or _rank(row) < _rank(best[ident]):
                best[ident] = row
    return {ident: str(row.data.get("name") or "") for ident, row in best.items()}


def build_tables(rows: Sequence[SnapshotRow], types: Mapping[tuple[str, str], str]) -> list[Table]:
    """Every table of rows held in memory (`tables` reads them from a set's spooled file)."""
    by_type = choose((row, row) for row in rows)
    records = {kind: partial(iter, own) for kind, own in by_type.items()}
    return tables(records, department_names(rows), types)


def tables(
    records: Mapping[RecordType, Records],
    names: Mapping[tuple[int, str], str],
    types: Mapping[tuple[str, str], str],
) -> list[Table]:
    """Every table of the chosen records, record types in the order of their values, each
    type's main table before its child tables. `names` are `department_names`; `types` maps
    (table stem, column) to the type the data packages declare, and a column none of them
    declares is text. The records are read once here, for each table's columns and count,
    and again each time a table's rows are read."""
    out: list[Table] = []
    for record_type in sorted(records, key=lambda t: t.value):
        read = records[record_type]
        main = TABLE_NAMES[record_type]
        columns: dict[str, dict[str, None]] = {main: dict.fromkeys(("key", *ADDED))}
        counts: Counter[str] = Counter()
        children: dict[str, str] = {}  # list field → its table's stem
        for row in read():
            columns[main].update(dict.fromkeys(main_row(row.key, row.data)))
            counts[main] += 1
            for name, line in child_rows(row.key, row.data):
                stem = children.setdefault(name, child_stem(record_type, name))
                columns.setdefault(stem, dict.fromkeys(("key", "parentKey", *ADDED)))
                columns[stem].update(dict.fromkeys(line))
                counts[stem] += 1
        shapes: list[tuple[str, str, str | None, str | None]]
        shapes = [(main, record_type.label, None, None)]
        shapes += [(children[n], child_title(record_type, n), main, n) for n in sorted(children)]
        for stem, title, parent, field in shapes:
            column_types = {c: types.get((stem, c), "string") for c in columns[stem]}
            rows = _Rows(partial(_rows, read, names, field))
            out.append(
                Table(stem, title, tuple(columns[stem]), column_types, parent, rows, counts[stem])
            )
    return out


@dataclass(frozen=True)
class _Rows:
    """A table's rows, made again each time they are iterated."""

    make: Callable[[], Iterator[Mapping[str, Any]]]

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return self.make()


def _rows(
    read: Records, names: Mapping[tuple[int, str], str], child: str | None
) -> Iterator[dict[str, Any]]:
    """The rows of a record type's main table (`child` None) or of the child table of its list
    field `child`, each with where its record comes from (`ADDED`)."""
    for row in read():
        origin = {
            "departmentCode": row.department_code,
            "departmentName": names.get((row.fiscal_year, row.department_code or ""))
            if row.department_code
            else None,
            "releaseKind": row.release_kind,
        }
        if child is None:
            lines = [main_row(row.key, row.data)]
        else:
            lines = [line for name, line in child_rows(row.key, row.data) if name == child]
        for line in lines:
            merged = line | origin
            if line.get("departmentCode"):  # the record's own, where it says one
                merged["departmentCode"] = line["departmentCode"]
            yield merged


def field_rows(tables: Sequence[Table]) -> list[tuple[str, str, str, str, str]]:
    """The data dictionary of the tables: (table, field, title, description, type)."""
    return [
        (table.stem, column, *dictionary.describe(column), table.types[column])
        for table in tables
        for column in table.columns
    ]
