"""A bulk file set's spooled rows: the file the publisher writes a set's current snapshot rows
to, a release at a time (`bulk._spool_rows`), and that its builder reads them from.

One JSON array a line. The builder reads the file once to choose each record's row and to
name the departments, keeping only where each chosen row is (`spooled_tables`), then reads the
chosen rows again from there for each table it writes. So neither the publisher nor the
builder holds a set's rows or tables: at the city (a district's all-years set, 353 releases)
the builder held them all and reached 1.3 GiB.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path

import orjson

from publishers.bulk_tables import SnapshotRow, Table, choose, department_names, tables
from storage.enums import RecordType

#: The file a set's snapshot rows are spooled to for its builder, in the set's scratch folder.
ROWS_FILE = "rows.jsonl"


def row_line(row: SnapshotRow) -> bytes:
    """A row as its line of the file, without the newline."""
    return orjson.dumps(
        [
            row.record_type.value,
            row.key,
            row.fiscal_year,
            row.department_code,
            row.release_kind,
            row.precedence,
            row.release_key,
            row.data,
        ]
    )


def _row(line: bytes) -> SnapshotRow:
    kind, key, year, department, release_kind, precedence, at, data = orjson.loads(line)
    # A release's key is on every one of its rows: one string for all of them.
    at = sys.intern(at)
    return SnapshotRow(RecordType(kind), key, year, department, release_kind, precedence, at, data)


def read_rows(path: Path) -> list[SnapshotRow]:
    """Every row of the file, in its order."""
    with path.open("rb") as lines:
        return [_row(line) for line in lines]


def _numbered(path: Path) -> Iterator[tuple[SnapshotRow, int]]:
    """Every row of the file with the offset of its line."""
    offset = 0
    with path.open("rb") as lines:
        for line in lines:
            yield _row(line), offset
            offset += len(line)


def _at(path: Path, offsets: array[int]) -> Iterator[SnapshotRow]:
    """The rows whose lines start at `offsets`, in that order."""
    with path.open("rb") as lines:
        for offset in offsets:
            lines.seek(offset)
            yield _row(lines.readline())


def spooled_tables(path: Path, types: Mapping[tuple[str, str], str]) -> list[Table]:
    """The set's tables (`bulk_tables.tables`) over its spooled file: what is held is the
    offset of each chosen row and the departments' rows, for their names."""
    departments: list[SnapshotRow] = []

    def noting_departments() -> Iterator[tuple[SnapshotRow, int]]:
        for row, offset in _numbered(path):
            if row.record_type is RecordType.DEPARTMENT:
                departments.append(row)
            yield row, offset

    chosen = choose(noting_departments())
    names = department_names(departments)
    records = {kind: partial(_at, path, array("q", offsets)) for kind, offsets in chosen.items()}
    return tables(records, names, types)
