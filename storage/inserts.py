"""Many new rows of one table in one statement, for writers that create thousands of records at
once (the forms import): on PostgreSQL an INSERT … SELECT FROM unnest(one array per column), on
SQLite a multi-row INSERT … VALUES per chunk; both … RETURNING. Every value goes through its
field's own `to_db_value`, as the ORM's `create` sends it (its validators run: a too-long text is
refused the same way), and every column is written, defaults filled in here as the model
declares them, so a row written here reads back exactly as one the ORM created.

Rows are matched to their new ids by the columns `returning` names (a natural key such as
`subject_id` or `target_id, position`), never by the order the database returns them in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.validators import MaxLengthValidator

#: rows per SQLite statement (its limit is 32,766 parameters)
CHUNK = 250


class Table:
    """How rows of `model` are written: its columns (all but the generated key), their
    defaults and their conversions to database values."""

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        self.model = model
        self.table = meta.db_table
        self.names = [name for name in meta.fields_db_projection if name != meta.pk_attr]
        self.columns = [meta.fields_db_projection[name] for name in self.names]
        self.fields = [meta.fields_map[name] for name in self.names]
        #: the time columns the ORM fills itself (auto_now / auto_now_add)
        self.clocked = [
            f.model_field_name
            for f in self.fields
            if isinstance(f, fields.DatetimeField) and (f.auto_now or f.auto_now_add)
        ]
        self.convert = [_converter(field, model) for field in self.fields]
        #: each column as a PostgreSQL array type, for `unnest`
        self.arrays = [f"{f.get_for_dialect('postgres', 'SQL_TYPE')}[]" for f in self.fields]

    def complete(self, values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """`values` with every other column at its declared default (and the clocked ones at
        `now`), decimals as the database gives them back (to their declared places)."""
        out: dict[str, Any] = {}
        for name, field in zip(self.names, self.fields, strict=True):
            if name in values:
                value = values[name]
            elif name in self.clocked:
                value = now
            elif field.default is not None:
                value = field.default() if callable(field.default) else field.default
            else:
                value = None
            if isinstance(value, Decimal) and isinstance(field, fields.DecimalField):
                value = value.quantize(field.quant)
            out[name] = value
        return out

    def database_values(self, row: Mapping[str, Any]) -> list[Any]:
        return [convert(row[name]) for name, convert in zip(self.names, self.convert, strict=True)]


def _converter(field: fields.Field[Any], model: type[Model]) -> Callable[[Any], Any]:
    """The field's `to_db_value`, skipped for the values it would hand over unchanged (a text
    within its length, an int, a bool, an enum member's value): a district's forms are ~10^6
    values, and the call with its validators was a third of writing them."""

    def full(value: Any) -> Any:
        return field.to_db_value(value, model)

    if any(not isinstance(v, MaxLengthValidator) for v in field.validators):
        return full
    if isinstance(field, fields.data.CharEnumFieldInstance):
        return lambda v: v.value if isinstance(v, Enum) else full(v)
    if isinstance(field, fields.CharField):
        longest = field.max_length
        return lambda v: v if v is None or (type(v) is str and len(v) <= longest) else full(v)
    if isinstance(field, fields.TextField):
        return lambda v: v if v is None or type(v) is str else full(v)
    if isinstance(field, fields.BooleanField):
        return lambda v: v if v is None or type(v) is bool else full(v)
    if type(field) in (fields.IntField, fields.BigIntField, fields.SmallIntField):
        return lambda v: v if v is None or type(v) is int else full(v)
    return full


@functools.cache
def table(model: type[Model]) -> Table:
    return Table(model)


def _placeholders(rows: int, width: int) -> str:
    one = "(" + ",".join("?" * width) + ")"
    return ",".join([one] * rows)


async def insert(
    connection: BaseDBAsyncClient,
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (complete: see `Table.complete`); the `returning` columns of every new row,
    in no particular order."""
    if not rows:
        return []
    spec = table(model)
    columns = ",".join(f'"{c}"' for c in spec.columns)
    back = (" RETURNING " + ",".join(f'"{c}"' for c in returning)) if returning else ""
    batches: list[tuple[str, list[Any]]] = []
    if connection.capabilities.dialect == "postgres":
        # One statement text whatever the number of rows, so asyncpg prepares it once per
        # connection (multi-row VALUES made a new statement for every count of rows: a fifth
        # of the import's time went to preparing them).
        arrays = ",".join(f"${n}::{kind}" for n, kind in enumerate(spec.arrays, 1))
        sql = f'INSERT INTO "{spec.table}" ({columns}) SELECT * FROM unnest({arrays}){back}'  # noqa: S608
        values = [spec.database_values(row) for row in rows]
        batches.append((sql, [list(column) for column in zip(*values, strict=True)]))
    else:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params: list[Any] = []
            for row in chunk:
                params.extend(spec.database_values(row))
            # names from the model's own metadata, values as parameters
            values_sql = _placeholders(len(chunk), len(spec.columns))
            batches.append(
                (f'INSERT INTO "{spec.table}" ({columns}) VALUES {values_sql}{back}', params)  # noqa: S608
            )
    out: list[tuple[Any, ...]] = []
    for sql, params in batches:
        if returning:
            found = await connection.execute_query_dict(sql, params)
            out.extend(tuple(r[c] for c in returning) for r in found)
        else:
            await connection.execute_query(sql, params)
    return out
