"""The internal schema: working data behind a verified JWT (issue 5). Queries and mutations live
in `queries.py` and `mutations.py`; who may do what is `permissions.MATRIX`."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from schema import limits
from schema.internal.context import Info, InternalContext
from schema.internal.forms_api import FormQueries
from schema.internal.input_rules import InputRules
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
class Query(WorkingQueries, FormQueries):
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


def _with_input_rules(mutation: type) -> type:
    """Every mutation checks its inputs' texts and numbers first (input_rules.py): added here,
    once, rather than on each of some thirty decorators, so that no new mutation can miss it."""
    for field in mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if not any(isinstance(e, InputRules) for e in field.extensions):
            field.extensions.append(InputRules())
    return mutation


def build() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=_with_input_rules(Mutation),
        extensions=[
            *limits.extensions(mask=False),
            lambda: MaskErrors(should_mask_error=_mask, error_message="Unexpected error."),
        ],
    )
