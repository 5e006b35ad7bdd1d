"""The rules every input of a mutation obeys, whatever the mutation: each text is within its
length and free of control characters, each number finite and in range (issue 11).

`InputRules` runs before a mutation's resolver and walks its arguments — input objects, lists,
scalars — so that no value the database would refuse (a name longer than its column, NUL on
PostgreSQL, an amount no BIGINT holds) or that would fail deep inside as an unexpected error
(1e400 cannot be quantized to 分) reaches the mutation: the caller gets an `InvalidInput` naming
the field, as the client sent it (``input.jurisdictionCode``, ``rows[2].deviationReason``), and
the rule. The rules of the domain (totals add up, dates in order…) stay with each mutation.

A text field declares its rule where it is declared: `text(…)` for an input field,
``Annotated[str, argument(…)]`` for an argument. An ID (or a text nothing declares) gets
`DEFAULT`; tests/internal/test_input_rules.py holds that every String input declares its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from schema.internal import types as t
from storage.errors import InvalidRecord
from storage.validation import FREE_TEXT as FREE_TEXT
from storage.validation import Text, check_number, check_text

RULE = "gongkai.text"
#: IDs (a global ID is ~20 characters) and any text without a rule of its own
DEFAULT = Text(200)
# FREE_TEXT (free text kept in a TEXT column, bounded all the same: a request body is at most
# 64 KiB) is `storage.validation.FREE_TEXT`, which the imported forms obey too.


def text(max_length: int, *, multiline: bool = False, **field: Any) -> Any:
    """An input field holding text, with its rule (`strawberry.field` arguments pass on)."""
    return strawberry.field(metadata={RULE: Text(max_length, multiline)}, **field)


def argument(max_length: int, *, multiline: bool = False, **options: Any) -> Any:
    """The rule of a text argument: ``title: Annotated[str, argument(300)]``."""
    return strawberry.argument(metadata={RULE: Text(max_length, multiline)}, **options)


def check(value: Any, path: str, rule: Text | None = None) -> None:
    """Every text and number in `value` (an argument's value), named by its path."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        check_text(path, value, rule or DEFAULT)
    elif isinstance(value, Decimal):
        check_number(path, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check(item, f"{path}[{index}]", rule)
    else:
        definition = getattr(type(value), "__strawberry_definition__", None)
        if definition is not None and definition.is_input:
            for field in definition.fields:
                name = field.graphql_name or to_camel_case(field.python_name)
                check(getattr(value, field.python_name), f"{path}.{name}", _rule(field.metadata))


def _rule(metadata: Mapping[Any, Any] | None) -> Text | None:
    rule = (metadata or {}).get(RULE)
    return rule if isinstance(rule, Text) else None


class InputRules(FieldExtension):
    """On a mutation whose result union has `InvalidInput`: check every argument first."""

    def apply(self, field: StrawberryField) -> None:
        self.arguments = [
            (
                argument.python_name,
                argument.graphql_name or to_camel_case(argument.python_name),
                _rule(argument.metadata),
            )
            for argument in field.arguments
        ]

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        try:
            for python_name, name, rule in self.arguments:
                check(kwargs.get(python_name), name, rule)
        except InvalidRecord as error:
            return t.InvalidInput(field=error.field, rule=error.rule, message=error.message)
        return await next_(source, info, **kwargs)
