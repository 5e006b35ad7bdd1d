"""A digest of everything the demo writes, for the determinism test.

Ids and timestamps differ between runs, so each row is reduced to its content with every
foreign key replaced by the digest of the row it points at; a table's digest is the sorted list
of its rows' digests. Two databases holding the same data therefore hash alike whatever order
or ids their rows were written with.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise import connections
from tortoise.models import Model

from api.demo.store import LINKS, TABLES, table_name

SKIPPED = frozenset({"id", "created_at", "updated_at"})


def _canonical(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return value


def _references(model: type[Model]) -> dict[str, type[Model]]:
    """Foreign-key columns (``department_id``) and the model each points at."""
    meta = model._meta
    references: dict[str, type[Model]] = {}
    for name in sorted(meta.fk_fields | meta.o2o_fields):
        field = meta.fields_map[name]
        references[str(field.source_field)] = field.related_model  # type: ignore[attr-defined]
    return references


async def _table(model: type[Model], digests: dict[type[Model], dict[Any, str]]) -> str:
    rows = {row[model._meta.pk_attr]: row for row in await model.all().values()}
    references = _references(model)
    own: dict[Any, str] = {}
    digests[model] = own

    def digest(pk: Any) -> str:
        # Recursive because a row may point at another row of its own table (a unit's parent).
        if pk not in own:
            content = {}
            for column, value in rows[pk].items():
                if column in SKIPPED:
                    continue
                target = references.get(column)
                if target is not None and value is not None:
                    value = digest(value) if target is model else digests[target][value]
                content[column] = _canonical(value)
            text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
            own[pk] = hashlib.sha256(text.encode()).hexdigest()
        return own[pk]

    return "\n".join(sorted(digest(pk) for pk in rows))


async def fingerprint() -> str:
    """SHA-256 over the content of every table the demo writes (all rows, demo or not)."""
    digests: dict[type[Model], dict[Any, str]] = {}
    total = hashlib.sha256()
    for model in TABLES:
        total.update(f"{table_name(model)}\n{await _table(model, digests)}\n".encode())
    conn = connections.get("default")
    for table, ((left, left_model), (right, right_model)) in LINKS.items():
        rows = await conn.execute_query_dict(f'SELECT "{left}", "{right}" FROM "{table}"')  # noqa: S608
        pairs = sorted(
            f"{digests[left_model][row[left]]} {digests[right_model][row[right]]}" for row in rows
        )
        total.update((f"{table}\n" + "\n".join(pairs) + "\n").encode())
    return total.hexdigest()
