"""Every published version's snapshot rows (`DisclosureVersion`): written in the flip that
makes a version public, removed for a record a filing withdraws, and compared field by field.

A version's rows are public from the Shanghai day it was published until the day the release's
next version was: `asOf(date:)` in the public API answers the end of that day. A record that a
filing covers keeps no history at all (issue 16): its rows go from every version in the
transaction that publishes the release without it.
"""

# The SQL text is built from constants only; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from storage import database, models
from storage.enums import VersionKind

#: The days of the calendar the law counts in (decisions D3), as `rules.SHANGHAI`: not imported
#: from there, because the site is rendered with this module and its fingerprint
#: (`site_sync.RENDERER`) should not cover the disclosure rules.
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: The columns a history row copies from its current snapshot row.
COLUMNS = (
    "release_id, release_version, record_type, record_key, fiscal_year, jurisdiction_code,"
    " department_code, name, data, release_kind, precedence, subject_key, subject_kind,"
    " budget_book, funding_purpose, transfer_type, grade, score_hundredths, budget_fen,"
    " executed_fen"
)


def day_number(value: date) -> int:
    """A day as the number YYYYMMDD: compared alike by SQLite and PostgreSQL."""
    return value.year * 10000 + value.month * 100 + value.day


def shanghai_day(moment: datetime) -> int:
    return day_number(moment.astimezone(SHANGHAI).date())


def version_kind(number: int, withdrawing: bool) -> VersionKind:
    if number == 1:
        return VersionKind.FIRST
    return VersionKind.WITHDRAWAL_OF_OTHERS if withdrawing else VersionKind.CORRECTION


async def record_version(
    connection: BaseDBAsyncClient,
    release_id: int,
    release_key: str,
    kind: VersionKind,
    published_at: datetime,
) -> None:
    """Inside the flip, after the new version's snapshot rows are written: the previous version's
    rows end the day this one is published, and this version's rows are copied from the
    snapshot (one statement, in the database)."""
    today = shanghai_day(published_at)
    await (
        models.DisclosureVersion.filter(release_id=release_id, superseded_day__isnull=True)
        .using_db(connection)
        .update(superseded_day=today)
    )
    sql = (
        f"INSERT INTO disclosure_version ({COLUMNS}, release_key, change, published_at,"
        f" published_day) SELECT {COLUMNS}, ?, ?, ?, ? FROM disclosure WHERE release_id = ?"
    )
    if database.dialect() == "postgres":
        sql = database.numbered(sql)
    await connection.execute_query(
        sql, [release_key, kind.value, _as_stored(published_at), today, release_id]
    )


def _as_stored(moment: datetime) -> Any:
    """A time as Tortoise stores it (text on SQLite), for a statement of our own."""
    field = models.DisclosureVersion._meta.fields_map["published_at"]
    return field.to_db_value(moment, models.DisclosureVersion)


async def forget(connection: BaseDBAsyncClient, release_id: int, keys: Iterable[str]) -> None:
    """Withdrawn records leave every version of the release."""
    doomed = sorted(set(keys))
    for start in range(0, len(doomed), 500):
        await (
            models.DisclosureVersion.filter(
                release_id=release_id, record_key__in=doomed[start : start + 500]
            )
            .using_db(connection)
            .delete()
        )


@dataclass(frozen=True)
class Change:
    """One field of a record that differs between two versions: a dotted path into the
    published record (list items by position from 0), with its old and new JSON values."""

    field: str
    old: Any
    new: Any


def _leaves(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _leaves(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _leaves(item, f"{path}[{i}]", out)
        if not value:
            out[path] = []
    else:
        out[path] = value


def leaves(record: Mapping[str, Any]) -> dict[str, Any]:
    """Every leaf of a published record by its dotted path."""
    out: dict[str, Any] = {}
    _leaves(record, "", out)
    return out


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Field-level differences, in the new record's field order, then fields it lost. A field
    present on one side only has null on the other."""
    before, after = leaves(old), leaves(new)
    found = [
        Change(path, before.get(path), value)
        for path, value in after.items()
        if path not in before or before[path] != value
    ]
    found += [Change(path, value, None) for path, value in before.items() if path not in after]
    return found
