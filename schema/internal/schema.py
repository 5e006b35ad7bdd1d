"""The internal schema: working data behind a verified JWT (issue 5). Queries and mutations live
in `queries.py` and `mutations.py`; who may do what is `permissions.MATRIX`."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from schema import limits
from schema.internal.context import Info, InternalContext
from schema.internal.mutations import Mutation
from schema.internal.permissions import Caller
from schema.internal.queries import WorkingQueries

__all__ = ["Caller", "InternalContext", "build"]


@strawberry.type(description="The authenticated caller.")
class Me:
    subject: str = strawberry.field(description="The token's subject (`sub`).")
    roles: list[str] = strawberry.field(description="Roles granted by the token.")
    department: str | None = strawberry.field(description="Department code (`dept`), if any.")
    classified: bool = strawberry.field(description="Holds the classified clearance.")


@strawberry.type(description="Working data for finance bureau and department staff.")
class Query(WorkingQueries):
    @strawberry.field(description="Who the token says you are.")
    def me(self, info: Info) -> Me:
        caller = info.context.caller
        return Me(
            subject=caller.subject,
            roles=list(caller.roles),
            department=caller.department,
            classified=caller.classified,
        )


def _mask(error: GraphQLError) -> bool:
    """Errors raised on purpose are GraphQLErrors (permissions, bad page arguments); anything
    else is unexpected and masked."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def build() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            *limits.extensions(mask=False),
            lambda: MaskErrors(should_mask_error=_mask, error_message="Unexpected error."),
        ],
    )
