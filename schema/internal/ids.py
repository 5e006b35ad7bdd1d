"""Global IDs of the internal schema (Relay): ``base64url("<Type>:<database id>")``.

Every internal object type carries one as its `id`, every argument that names a record takes
one, and `node(id:)` resolves any of them. The type name inside is the GraphQL type (which is also
the model's class name), so an ID handed to the wrong argument finds nothing instead of a record
of another kind that happens to share the number.
"""

from __future__ import annotations

import base64
import binascii

import strawberry


def global_id(type_name: str, pk: int) -> strawberry.ID:
    raw = f"{type_name}:{pk}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def optional_global_id(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else global_id(type_name, pk)


def parse(value: str | None) -> tuple[str, int] | None:
    """(type name, database id), or None for anything this API did not hand out."""
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, _, number = raw.partition(":")
        pk = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    # int() accepts signs, blanks and underscores: only the canonical form round-trips.
    if str(pk) != number or pk <= 0:
        return None
    return type_name, pk


def pk_of(value: str | None, type_name: str) -> int | None:
    """The database id inside a global ID of `type_name`; None when it is of another type or
    malformed (callers answer "not found", as for a missing record)."""
    parsed = parse(value)
    if parsed is None or parsed[0] != type_name:
        return None
    return parsed[1]
