"""The internal schema. So far it answers who the caller is; the workflow's queries and
mutations (records, review, filings, releases) are still to come (issue 5)."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from schema import limits


@dataclass(frozen=True)
class Caller:
    """The verified caller, as the API layer hands it in (schema imports nothing from api)."""

    subject: str
    roles: tuple[str, ...]
    department: str | None
    classified: bool


@dataclass
class InternalContext:
    caller: Caller


@strawberry.type(description="The authenticated caller.")
class Me:
    subject: str = strawberry.field(description="The token's subject (`sub`).")
    roles: list[str] = strawberry.field(description="Roles granted by the token.")
    department: str | None = strawberry.field(description="Department code (`dept`), if any.")
    classified: bool = strawberry.field(description="Holds the classified clearance.")


@strawberry.type(description="Working data for finance bureau and department staff.")
class Query:
    @strawberry.field(description="Who the token says you are.")
    def me(self, info: Info[InternalContext, None]) -> Me:
        caller = info.context.caller
        return Me(
            subject=caller.subject,
            roles=list(caller.roles),
            department=caller.department,
            classified=caller.classified,
        )


def build() -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=limits.extensions())
