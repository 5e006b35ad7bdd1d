"""Protection of a public endpoint: depth, aliases, tokens, cost, and an execution timeout.

The validation rules are built once, here, and handed to strawberry through a single
`AddValidationRules` factory: strawberry's `ValidationCache` keys on the tuple of rule classes,
and `QueryDepthLimiter` / `MaxAliasesLimiter` build new classes per request, which defeats it
(strawberry issue #4635). A regression test keeps the cache hitting.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from schema.operations import OperationChoice

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 50_000
#: A list without `first`/`last` (indicators inside a target, rows inside a form) is bounded by
#: the form, not by a page: this many is what the cost assumes.
INLINE_LIST_SIZE = 12
PAGE_ARGUMENTS = ("first", "last")
#: The HTTP layer stops an execution after this long (api/graphql_http.py).
EXECUTION_TIMEOUT_SECONDS = 10.0


def _page_size(field: FieldNode) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), 100))
            return 100  # a variable: assume the largest page it may ask for
    return None


def _selection_cost(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> int:
    if selections is None:
        return 0
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            inner = _selection_cost(selection.selection_set, fragments, seen)
            size = _page_size(selection)
            if size is not None:
                total += 1 + size * inner
            elif selection.selection_set is not None and selection.name.value in _LIST_FIELDS:
                total += 1 + INLINE_LIST_SIZE * inner
            else:
                total += 1 + inner
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                total += _selection_cost(fragments[name].selection_set, fragments, seen | {name})
    return total


#: Lists inside a record, bounded by the record. (A page's `edges`/`nodes` are counted once:
#: the page size already multiplies them.)
_LIST_FIELDS = frozenset(
    {"indicators", "rows", "evaluations", "monitoring", "exAnteAssessments", "versions"}
)


@lru_cache(maxsize=512)
def document_cost(document: DocumentNode) -> int:
    """Fields the operation may resolve, with pages at their requested size (the largest
    operation in the document)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs = [
        _selection_cost(d.selection_set, fragments)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return max(costs, default=0)


class CostRule(ValidationRule):
    """Refuse documents whose cost exceeds `MAX_COST`."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        cost = document_cost(context.document)
        if cost > MAX_COST:
            context.report_error(
                GraphQLError(
                    f"query cost {cost} exceeds the maximum of {MAX_COST}: ask for smaller pages "
                    "or fewer fields"
                )
            )


RULES = [depth_validator(MAX_DEPTH, None), aliases_validator(MAX_ALIASES), CostRule]


class ReportCost(SchemaExtension):
    """Puts the cost of the operation into the response's `extensions`."""

    def get_results(self) -> dict[str, Any]:
        document = self.execution_context.graphql_document
        if document is None:
            return {}
        return {"cost": {"requested": document_cost(document), "maximum": MAX_COST}}


def _mask(error: GraphQLError) -> bool:
    """Unexpected errors are masked; errors we raise on purpose (bad input) are not."""
    from schema.rows import BadInput

    return error.original_error is not None and not isinstance(error.original_error, BadInput)


def extensions(*, mask: bool = True) -> list[Callable[[], SchemaExtension]]:
    """Factories (strawberry builds extensions per request); the rule list is shared."""
    factories: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=512),
        OperationChoice,
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(RULES),
        ReportCost,
    ]
    if mask:
        factories.append(
            lambda: MaskErrors(should_mask_error=_mask, error_message="Unexpected error.")
        )
    return factories
