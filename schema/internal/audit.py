"""The audit trail of internal writes (architecture invariant 6): every mutation that writes
calls `record` inside the transaction of its write, so an entry exists exactly when the write
does."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise.models import Model

from schema.internal.permissions import Caller
from storage import models

JsonValue = Any


def _json(value: Any) -> JsonValue:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(row: Model) -> dict[str, JsonValue]:
    """The row's stored columns as JSON values (money as 元 strings, enums as their values)."""
    fields = row._meta.fields_db_projection
    return {name: _json(getattr(row, name)) for name in fields if name not in ("created_at",)}


def snapshot_of(model: type[Model], values: Mapping[str, Any]) -> dict[str, JsonValue]:
    """`snapshot` of a row known by its column values (written in bulk, never loaded)."""
    out = {}
    for name in _snapshot_fields(model):
        value = values[name]
        out[name] = value if type(value) in _PLAIN else _json(value)
    return out


_PLAIN = frozenset({str, int, bool, type(None)})


@functools.cache
def _snapshot_fields(model: type[Model]) -> tuple[str, ...]:
    return tuple(name for name in model._meta.fields_db_projection if name != "created_at")


def entry(
    caller: Caller,
    action: str,
    record_type: str,
    record_id: object,
    *,
    before: dict[str, JsonValue] | None,
    after: dict[str, JsonValue] | None,
    classified: bool,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An audit entry's values: what `record` stores, for a writer that stores many at once."""
    return {
        "request_id": request_id,
        "actor": caller.subject,
        "roles": list(caller.roles),
        "department_code": caller.department,
        "action": action,
        "record_type": record_type,
        "record_id": str(record_id),
        "before": before,
        "after": after,
        "classified": classified,
    }


async def record(
    caller: Caller,
    action: str,
    row: Model,
    *,
    before: dict[str, JsonValue] | None,
    after: dict[str, JsonValue] | None,
    classified: bool,
    request_id: str | None = None,
) -> models.AuditEntry:
    return await models.AuditEntry.create(
        **entry(
            caller,
            action,
            type(row).__name__,
            row.pk,
            before=before,
            after=after,
            classified=classified,
            request_id=request_id,
        )
    )
