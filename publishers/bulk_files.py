"""The bytes of a bulk file set (issue #15), pure and deterministic: the same tables and objects
give the same bytes, whatever the clock or the machine.

- a ZIP of every published file (fixed timestamps and attributes, members sorted; text
  deflated, already-compressed files stored);
- one plain CSV per table (the JSON's values, like a release's plain CSV);
- one .xlsx with a sheet per table (Chinese titles in the header row, formula-like text
  neutralised, fixed document properties) and a sheet of the fields' titles and descriptions;
- one SQLite database built with sqlite-utils: typed columns, the primary key `key`, foreign keys
  from each child table's `parentKey` and from `subjectKey` to the subjects, full-text search
  (FTS5, trigram tokenizer: Chinese has no spaces between words) on names and goals, and the
  `metadata.json` that Datasette reads for titles, descriptions, licence and source.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils
import xlsxwriter
from sqlite_utils.db import quote_identifier

from forms.write import FIXED_TIME, sheet_name
from publishers import dictionary
from publishers.bulk_tables import Table, field_rows
from publishers.render import csv_bytes, csv_cells, dumps, neutralise

ZIP_TYPE = "application/zip"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SQLITE_TYPE = "application/vnd.sqlite3"
#: 1980-01-01, the earliest time a ZIP entry can hold: no build time in the bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: Members already compressed: stored as they are.
_STORED = (".pdf", ".xlsx", ".docx", ".zip", ".png", ".jpg", ".jpeg", ".ods", ".xls")
_SQL_TYPES: dict[str, type] = {"integer": int, "number": float, "boolean": int}


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A ZIP of (path, bytes) members, in path order, with nothing of the time it was made."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in sorted(members, key=lambda m: m[0]):
            with archive.open(_zip_info(path, len(data)), "w") as entry:
                entry.write(data)
    return buffer.getvalue()


def write_zip(members: Iterable[tuple[str, Path]], target: Path) -> None:
    """`zip_bytes` of members whose bytes are files on disk, written to `target` a member at a
    time: the same bytes, never a whole archive or a whole member in memory."""
    with zipfile.ZipFile(target, "w") as archive:
        for path, source in sorted(members, key=lambda m: m[0]):
            with (
                source.open("rb") as data,
                archive.open(_zip_info(path, source.stat().st_size), "w") as entry,
            ):
                shutil.copyfileobj(data, entry, 1 << 20)


def _zip_info(path: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
    info.create_system = 3  # Unix, on every platform
    info.external_attr = 0o100644 << 16
    info.file_size = size  # known up front, as `writestr` has it: the same headers
    stored = path.lower().endswith(_STORED)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info._compresslevel = None if stored else 6  # type: ignore[attr-defined]
    return info


def table_csv(table: Table) -> bytes:
    """The plain CSV of a table, as `write_tables` writes it."""
    return csv_bytes(table.rows, table.columns)


def write_tables(tables: Sequence[Table], folder: Path, base: str) -> None:
    """The tables' files in `folder`: a CSV a table (`csv/<stem>.csv`, `table_csv`'s bytes),
    the workbook `<base>.xlsx` and the SQLite database `<base>.db`. Each table's rows are read
    once, for the three files at a time: a set's rows are read again from its spooled file each
    time (`publishers/bulk_rows.py`), and making them three times took a fifth more time."""
    (folder / "csv").mkdir(parents=True, exist_ok=True)
    book = _Workbook(folder / f"{base}.xlsx")
    database = _Database(folder / f"{base}.db", tables)
    try:
        for table in tables:
            sheet = book.sheet(table)
            rows = database.table(table)
            with (folder / "csv" / f"{table.stem}.csv").open(
                "w", encoding="utf-8", newline=""
            ) as out:
                writer = csv.writer(out, lineterminator="\r\n")
                writer.writerow(table.columns)
                for number, row in enumerate(table.rows, start=1):
                    writer.writerow(csv_cells(row, table.columns))
                    sheet(number, row)
                    rows.add(row)
            rows.flush()
        book.close(tables)
        database.close(tables)
    finally:
        database.discard()


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """The bytes of `write_tables`' workbook."""
    with tempfile.TemporaryDirectory(prefix="gongkai-xlsx-") as folder:
        write_tables(tables, Path(folder), "book")
        return (Path(folder) / "book.xlsx").read_bytes()


def sqlite_bytes(tables: Sequence[Table]) -> bytes:
    """The bytes of `write_tables`' database."""
    with tempfile.TemporaryDirectory(prefix="gongkai-sqlite-") as folder:
        write_tables(tables, Path(folder), "data")
        return (Path(folder) / "data.db").read_bytes()


class _Workbook:
    """One sheet per table, then `字段说明`: every field's title, description and type.

    Each row goes to disk as it is written (XlsxWriter's `constant_memory` mode), so the
    builder's memory does not grow with the book. Its default holds every cell until the book
    is closed, about 115 bytes a non-empty cell: 116 MiB of a city district's year (measured
    with `python -m bench.builder`: the builder's peak 584 → 468 MiB). The price: text is
    written inline, not once in a shared strings table, which makes that book 17% larger
    (8.5 → 9.9 MB) and the town's ~30% slower to write."""

    def __init__(self, target: Path) -> None:
        options = {
            "tmpdir": str(target.parent),
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "constant_memory": True,
        }
        self.book = xlsxwriter.Workbook(str(target), options)
        self.book.set_properties({"created": FIXED_TIME, "author": "gongkai", "comments": ""})
        self.bold = self.book.add_format({"bold": True})
        self.taken: set[str] = set()

    def sheet(self, table: Table) -> Callable[[int, Mapping[str, Any]], None]:
        """A new sheet for the table, with its header row; writes its rows, numbered from 1."""
        sheet = self.book.add_worksheet(sheet_name(table.stem, self.taken))
        sheet.write_row(0, 0, dictionary.titles(table.columns), self.bold)
        sheet.freeze_panes(1, 1)
        writers = [
            (column, name, _cell_writer(sheet, table.types[name]))
            for column, name in enumerate(table.columns)
        ]

        def write(number: int, row: Mapping[str, Any]) -> None:
            for column, name, cell in writers:
                value = row.get(name)
                if value is not None and value != "":
                    cell(number, column, value)

        return write

    def close(self, tables: Sequence[Table]) -> None:
        sheet = self.book.add_worksheet(sheet_name("字段说明", self.taken))
        sheet.write_row(0, 0, ["表", "字段", "标题", "说明", "类型"], self.bold)
        for number, line in enumerate(field_rows(tables), start=1):
            sheet.write_row(number, 0, [neutralise(v) for v in line])
        self.book.close()


def _cell_writer(sheet: Any, kind: str) -> Callable[[int, int, Any], Any]:
    """How a column's cells are written: numbers as numbers (every published figure has at
    most 15 significant digits: exact as a double), booleans as booleans, text neutralised."""
    number, boolean, text = sheet.write_number, sheet.write_boolean, sheet.write_string

    def as_number(row: int, column: int, value: Any) -> Any:
        if isinstance(value, bool):
            return text(row, column, str(value).lower())
        return number(row, column, float(value))

    def as_boolean(row: int, column: int, value: Any) -> Any:
        if isinstance(value, bool):
            return boolean(row, column, value)
        return text(row, column, neutralise(str(value)))

    def as_text(row: int, column: int, value: Any) -> Any:
        return text(row, column, neutralise(value if isinstance(value, str) else str(value)))

    if kind in ("integer", "number"):
        return as_number
    return as_boolean if kind == "boolean" else as_text


def _sql_value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "boolean":
        return int(bool(value))
    if kind == "integer" and not isinstance(value, bool):
        return int(value)
    if kind == "number":
        return float(value)
    return value if isinstance(value, str) else str(value)


class _Database:
    """The tables as one SQLite database, built the same way every time and vacuumed, so the
    same tables give the same bytes. Built in a scratch file beside the target, with no journal
    and no sync (a half-built file is never published: a crash leaves scratch), then copied by
    `VACUUM INTO`: the database is never in memory (a city district's year was 44 MB, held
    twice when it was built in memory and serialised). Every table is created before any row
    goes in, what a foreign key points into first: the subjects, then the main tables."""

    def __init__(self, target: Path, tables: Sequence[Table]) -> None:
        self.target = target
        self.scratch = target.with_name(target.name + ".build")
        self.scratch.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        self.connection = sqlite3.connect(self.scratch)
        self.connection.execute("PRAGMA journal_mode = OFF")
        self.connection.execute("PRAGMA synchronous = OFF")
        self.db = sqlite_utils.Database(self.connection)
        names = {t.stem: t.sql_name for t in tables}
        for table in sorted(tables, key=lambda t: (t.stem != "subjects", t.parent is not None)):
            foreign: list[tuple[str, str, str]] = []
            if table.parent and table.parent in names:
                foreign.append(("parentKey", names[table.parent], "key"))
            if "subjectKey" in table.columns and "subjects" in names and table.stem != "subjects":
                foreign.append(("subjectKey", names["subjects"], "key"))
            columns = {c: _SQL_TYPES.get(table.types[c], str) for c in table.columns}
            self.db.table(table.sql_name).create(columns, pk="key", foreign_keys=foreign)

    def table(self, table: Table) -> _Rows:
        return _Rows(self.connection, table)

    def close(self, tables: Sequence[Table]) -> None:
        for table in tables:
            if table.searched:
                self.db[table.sql_name].enable_fts(  # type: ignore[union-attr]
                    table.searched, fts_version="FTS5", tokenize="trigram"
                )
        self.connection.commit()
        self.connection.execute("VACUUM INTO ?", (str(self.target),))

    def discard(self) -> None:
        self.connection.close()
        self.scratch.unlink(missing_ok=True)


class _Rows:
    """A table's rows going into the database, a thousand at a time.

    Through sqlite3's `executemany` rather than sqlite-utils' `insert_all`, which builds
    multi-row statements and checks every value for JSON in Python (two thirds of the
    database's build time); the values here are scalars already, of the columns' types."""

    def __init__(self, connection: sqlite3.Connection, table: Table) -> None:
        self.connection = connection
        self.kinds = [(c, table.types[c]) for c in table.columns]
        self.statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (quoted names)
            quote_identifier(table.sql_name),
            ", ".join(quote_identifier(c) for c in table.columns),
            ", ".join("?" * len(table.columns)),
        )
        self.held: list[list[Any]] = []

    def add(self, row: Mapping[str, Any]) -> None:
        self.held.append([_sql_value(row.get(c), kind) for c, kind in self.kinds])
        if len(self.held) >= 1_000:
            self.flush()

    def flush(self) -> None:
        self.connection.executemany(self.statement, self.held)
        self.held = []


def datasette_metadata(
    tables: Sequence[Table],
    database: str,
    *,
    title: str,
    description: str,
    data_license: str,
    license_url: str,
    source_url: str,
) -> bytes:
    """Datasette's `metadata.json` for the database: its title, description, licence and
    source, and each table's title, description and column descriptions."""
    document = {
        "title": title,
        "description": description,
        "license": data_license,
        "license_url": license_url,
        "source": "预算绩效信息公开（gongkai）",
        "source_url": source_url,
        "databases": {
            database: {
                "title": title,
                "tables": {
                    table.sql_name: {
                        "title": table.title,
                        "description": f"{table.title}：{table.count} 行。金额单位：元。",
                        "sort": "key",
                        "columns": {c: "：".join(dictionary.describe(c)) for c in table.columns},
                        **({"fts_table": f"{table.sql_name}_fts"} if table.searched else {}),
                    }
                    for table in tables
                },
            }
        },
    }
    return dumps(document)
