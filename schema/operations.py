"""Which operation of a document runs: GraphQL-over-HTTP's `operationName` rules, checked once
the document is parsed and before strawberry picks an operation itself.

Strawberry runs the first operation of a document that has several when no `operationName` is
given, and fails with an internal error (an HTTP 500) when the name matches no operation. The
GraphQL spec (GetOperation) and GraphQL over HTTP call both a request error: the client gets a
4xx naming what is wrong, and nothing runs. An empty `operationName` is a name like any other:
it matches no operation, since an operation's name is never empty.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

#: the error's `extensions.code`: the HTTP layer answers it with a 400 whatever the media type,
#: since it is the request's parameters that are wrong (api/graphql_transport.py)
CODE = "OPERATION_NOT_CHOSEN"


class OperationChoice(SchemaExtension):
    """Refuses a document whose operation cannot be chosen: none at all, several and no
    `operationName`, or an `operationName` that names none of them."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        if document is None:  # a syntax error: reported as such
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        names = [o.name.value for o in operations if o.name is not None]
        # `operation_name` falls back to the first operation's name: the name the client sent
        # is kept apart (strawberry 0.341, ExecutionContext).
        wanted = context._provided_operation_name
        if not operations:
            raise _error("the document has no operation to run")
        if wanted is None:
            if len(operations) > 1:
                listed = ", ".join(names) or "unnamed"
                raise _error(
                    f"the document has {len(operations)} operations ({listed}): "
                    "choose one with `operationName`"
                )
        elif wanted not in names:
            offered = ", ".join(names) if names else "none is named"
            raise _error(
                f"the document has no operation named {wanted!r} (its operations: {offered})"
            )


def _error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": CODE})
