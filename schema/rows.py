"""Reading published snapshot rows: the public API's data access (invariant 1), beside the
correction notices, which the publisher writes as it publishes (`schema/public/notices.py`).

Every query here reads `disclosure` (and its `search_gram` index), nothing else: what was never
published, or was withdrawn, has no row, so no filter can forget it. A read of the past
(`Source` with a day) reads every version's rows, `disclosure_version`, in the same SQL: a
withdrawn record has no row there either. A record that rides several
releases (a department, a subject with its budget and again with its final accounts) is answered
from its *current* row: the highest precedence, then the latest published.

The SQL is plain and identical on SQLite and PostgreSQL; only the placeholders differ.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from tortoise import connections

from publishers import history
from storage.database import numbered
from storage.enums import RecordType

#: GraphQL type of each record type, for global Node IDs and type resolution.
TYPE_NAMES: dict[RecordType, str] = {
    RecordType.JURISDICTION: "Jurisdiction",
    RecordType.DEPARTMENT: "Department",
    RecordType.SUBJECT: "Subject",
    RecordType.TARGET: "PerformanceTarget",
    RecordType.EX_ANTE_ASSESSMENT: "ExAnteAssessment",
    RecordType.MONITORING: "MonitoringRecord",
    RecordType.SELF_ASSESSMENT: "SelfAssessment",
    RecordType.EVALUATION: "Evaluation",
    RecordType.ANNUAL_STATEMENT: "AnnualStatement",
    RecordType.FILE: "PublishedFile",
    RecordType.RELEASE: "Release",
}
RECORD_TYPES = {name: record_type for record_type, name in TYPE_NAMES.items()}


def current(alias: str = "d") -> str:
    """ "Is there no better row for the same record?" — the current-row rule as SQL."""
    return (
        f"NOT EXISTS (SELECT 1 FROM disclosure h WHERE h.record_type = {alias}.record_type"
        f" AND h.record_key = {alias}.record_key AND (h.precedence > {alias}.precedence"
        f" OR (h.precedence = {alias}.precedence AND h.id > {alias}.id)))"
    )


CURRENT = current()


class BadInput(ValueError):
    """A cursor or ID that this API did not hand out."""


@dataclass(frozen=True)
class Source:
    """Which published rows a read sees: the current ones (`disclosure`), or, with `day`
    (YYYYMMDD, Asia/Shanghai), those public at the end of that day — every version's rows
    (`disclosure_version`) whose version was published by then and not yet followed by the
    next. A past read runs the same SQL text as a current one: a common table expression
    named `disclosure` stands in for the table, so no query needs a second form."""

    day: int | None = None

    def wrap(self, sql: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
        if self.day is None:
            return sql, list(params)
        # NOT MATERIALIZED: the filters of the query reach into the history's indexes.
        past = (
            f"disclosure AS NOT MATERIALIZED (SELECT id, {history.COLUMNS} FROM disclosure_version"
            " WHERE published_day <= ? AND (superseded_day IS NULL OR superseded_day > ?))"
        )
        if sql.startswith("WITH "):
            return f"WITH {past}, {sql[len('WITH ') :]}", [self.day, self.day, *params]
        return f"WITH {past} {sql}", [self.day, self.day, *params]


CURRENT_ROWS = Source()


def source_of(node: Any) -> Source:
    """The rows a node was read from, for its relations: a past node carries its day."""
    day = node.get("_day") if isinstance(node, dict) else None
    return CURRENT_ROWS if day is None else Source(day)


def node_id(record_type: RecordType, key: str) -> str:
    raw = f"{TYPE_NAMES[record_type]}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_node_id(value: str) -> tuple[RecordType, str]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, key = raw.split(":", 1)
        return RECORD_TYPES[type_name], key
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError):
        raise BadInput(f"not a node ID of this API: {value!r}") from None


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # not base64 (non-ASCII text included: make fuzz found it), not JSON
        raise BadInput(f"not a cursor of this API: {cursor!r}") from None
    if not isinstance(values, list) or len(values) != 2:
        raise BadInput(f"not a cursor of this API: {cursor!r}")
    return values


def as_node(
    record_type: RecordType, row_data: Any, source: Source = CURRENT_ROWS
) -> dict[str, Any]:
    """A snapshot row's record, ready for the schema: its global ID and GraphQL type added,
    and, when read from the past, its day (its relations are read as of the same day)."""
    data: dict[str, Any] = (
        orjson.loads(row_data) if isinstance(row_data, str | bytes) else dict(row_data)
    )
    data["id"] = node_id(record_type, data["key"])
    data["_type"] = TYPE_NAMES[record_type]
    if source.day is not None:
        data["_day"] = source.day
    return data


@dataclass
class Where:
    """A WHERE clause built from parts, with its parameters in order."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, sql: str, *params: Any) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1 = 1"


async def fetch(
    sql: str, params: Sequence[Any], source: Source = CURRENT_ROWS
) -> list[dict[str, Any]]:
    """Run one query with ``?`` placeholders on whichever database is connected, over the
    rows of `source`."""
    sql, params = source.wrap(sql, params)
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        sql = numbered(sql)
    return list(await connection.execute_query_dict(sql, list(params)))


async def current_by_keys(
    record_type: RecordType, keys: Sequence[str], source: Source = CURRENT_ROWS
) -> dict[str, dict[str, Any]]:
    if not keys:
        return {}
    marks = ", ".join("?" * len(keys))
    rows = await fetch(
        f"SELECT d.record_key, d.data FROM disclosure d WHERE d.record_type = ?"
        f" AND d.record_key IN ({marks}) AND {CURRENT}",
        [record_type.value, *keys],
        source,
    )
    return {row["record_key"]: as_node(record_type, row["data"], source) for row in rows}


async def current_by_subject(
    record_type: RecordType, subject_keys: Sequence[str], source: Source = CURRENT_ROWS
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {key: [] for key in subject_keys}
    if not subject_keys:
        return found
    marks = ", ".join("?" * len(subject_keys))
    rows = await fetch(
        f"SELECT d.subject_key, d.data FROM disclosure d WHERE d.record_type = ?"
        f" AND d.subject_key IN ({marks}) AND {CURRENT} ORDER BY d.record_key",
        [record_type.value, *subject_keys],
        source,
    )
    for row in rows:
        found[row["subject_key"]].append(as_node(record_type, row["data"], source))
    return found


async def history_by_keys(
    keys: Sequence[tuple[RecordType, str]], source: Source = CURRENT_ROWS
) -> dict[tuple[RecordType, str], list[dict[str, Any]]]:
    """Every version's row of these records, oldest first (as published, then by release and
    version), each with its data parsed and its publication time as a `datetime`; of a past
    source, the versions published by its day."""
    found: dict[tuple[RecordType, str], list[dict[str, Any]]] = {}
    by_type: dict[RecordType, list[str]] = {}
    for record_type, key in keys:
        by_type.setdefault(record_type, []).append(key)
    where = Where()
    for record_type, type_keys in by_type.items():
        marks = ", ".join("?" * len(type_keys))
        where.add(f"(record_type = ? AND record_key IN ({marks}))", record_type.value, *type_keys)
    either = " OR ".join(where.parts) or "1 = 0"
    day, params = "", list(where.params)
    if source.day is not None:
        day = " AND published_day <= ?"
        params.append(source.day)
    found_rows = await fetch(
        "SELECT id, record_type, record_key, release_id, release_key, release_version, change,"
        " published_at, published_day, superseded_day, precedence, data"
        f" FROM disclosure_version WHERE ({either}){day}"
        " ORDER BY published_at, release_id, release_version",
        params,
    )
    for row in found_rows:
        data = row["data"]
        moment = row["published_at"]
        row = dict(row)
        row["data"] = orjson.loads(data) if isinstance(data, str | bytes) else dict(data)
        row["published_at"] = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        found.setdefault((RecordType(row["record_type"]), str(row["record_key"])), []).append(row)
    return found
