"""The public endpoint's limits, each on both sides of its bound: depth, aliases, tokens, cost.

Documents are validated against the public schema with the endpoint's rules, or executed when they
need no database (refused documents never reach a resolver; `__typename` needs none).
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, parse, specified_rules, validate
from strawberry.extensions import MaskErrors

from schema import limits
from schema.context import Context
from schema.public.schema import build
from schema.rows import BadInput

SCHEMA = build()


def errors(query: str) -> list[str]:
    """The messages of validating `query` with the endpoint's rules; [] when it is accepted."""
    document = parse(query)
    return [
        e.message for e in validate(SCHEMA._schema, document, [*specified_rules, *limits.RULES])
    ]


async def execute(query: str) -> Any:
    return await SCHEMA.execute(query, context_value=Context())


def deep(depth: int) -> str:
    """A query of exactly `depth`, counted as strawberry does: `{ a { b } }` has depth 1."""
    # subjects (0) › nodes (1) › department (2) › parent … › name (depth)
    parents = depth - 3
    return (
        "{ subjects(first: 1) { nodes { department "
        + "{ parent " * parents
        + "{ name }"
        + " }" * parents
        + " } } }"
    )


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


def test_depth_10_is_accepted_and_11_refused() -> None:
    assert errors(deep(10)) == []
    assert errors(deep(11)) == ["'anonymous' exceeds maximum operation depth of 10"]


async def test_the_endpoint_applies_the_depth_limit() -> None:
    result = await execute(deep(11))
    assert result.data is None
    assert [e.message for e in result.errors] == [
        "'anonymous' exceeds maximum operation depth of 10"
    ]


async def test_15_aliases_are_accepted_and_16_refused() -> None:
    assert errors(aliased(15)) == []
    assert errors(aliased(16)) == ["16 aliases found. Allowed: 15"]
    result = await execute(aliased(15))
    assert result.errors is None
    assert result.data == {f"a{i}": "Query" for i in range(15)}
    result = await execute(aliased(16))
    assert [e.message for e in result.errors] == ["16 aliases found. Allowed: 15"]


def with_tokens(count: int) -> str:
    """A valid document of exactly `count` tokens: `{ __typename }` is three; strawberry's
    token limit counts each comment as one."""
    return "{ __typename }" + "\n#" * (count - 3)


async def test_2000_tokens_are_accepted_and_2001_refused() -> None:
    result = await execute(with_tokens(2000))
    assert result.errors is None
    assert result.data == {"__typename": "Query"}
    result = await execute(with_tokens(2001))
    assert result.data is None
    assert "more than 2000 tokens" in result.errors[0].message


INDICATORS = "indicators { name level1 level2 weight }"


def page(size: int) -> str:
    return f"subjects(first: {size}) {{ nodes {{ target {{ {INDICATORS} }} }} }}"


def costing(size: int, extra: int) -> str:
    """Nine full pages of 5101 (1 + 100 × (nodes 1 + target 1 + indicators 1 + 12 × 4 fields)),
    one page of `size`, and `extra` fields of cost 1."""
    pages = [f"p{i}: " + page(100) for i in range(9)]
    pages.append("last: " + page(size))
    return "{ " + " ".join(pages) + " __typename" * extra + " }"


def test_cost_50000_is_accepted_and_50001_refused() -> None:
    at_limit = costing(80, 10)  # 9 × 5101 + (1 + 80 × 51) + 10 = 50000
    assert limits.document_cost(parse(at_limit)) == 50_000
    assert errors(at_limit) == []
    over = costing(80, 11)
    assert limits.document_cost(parse(over)) == 50_001
    assert errors(over) == [
        "query cost 50001 exceeds the maximum of 50000: ask for smaller pages or fewer fields"
    ]


def cost(query: str) -> int:
    return limits.document_cost(parse(query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ __typename }", 1),
        # A page costs 1 plus its size times what each element costs.
        ("{ subjects(first: 7) { nodes { key name } } }", 1 + 7 * (1 + 2)),
        ("{ subjects(last: 7) { nodes { key } } }", 1 + 7 * 2),
        # Page sizes are clamped to 1–100, as the resolvers clamp them.
        ("{ subjects(first: 0) { nodes { key } } }", 1 + 1 * 2),
        ("{ subjects(first: 1000) { nodes { key } } }", 1 + 100 * 2),
        ("{ subjects(first: 100) { nodes { key } } }", 1 + 100 * 2),
        # A variable may ask for the largest page.
        ("query($n: Int) { subjects(first: $n) { nodes { key } } }", 1 + 100 * 2),
        # Other arguments are not page sizes.
        ('{ subject(key: "x") { name } }', 2),
        # A list inside a record counts 12 elements; a single record counts once.
        (
            "{ subjects(first: 1) { nodes { target { indicators { name } } } } }",
            1 + (1 + 1 + 1 + 12),
        ),
        ("{ subjects(first: 1) { nodes { rows { name } } } }", 1 + (1 + 1 + 12)),
        ("{ subjects(first: 1) { nodes { department { name code } } } }", 1 + (1 + 1 + 2)),
        # A list field name with no selection is a scalar: it costs 1.
        ("{ subjects(first: 1) { nodes { versions } } }", 1 + (1 + 1)),
        # Fragments count where they are spread; inline fragments likewise.
        ("{ subjects(first: 2) { nodes { ...F } } } fragment F on Subject { key name }", 1 + 2 * 3),
        ("{ subjects(first: 2) { nodes { ... on Subject { key name } } } }", 1 + 2 * 3),
        # A spread of an unknown fragment costs nothing (validation refuses it anyway).
        ("{ subjects(first: 2) { nodes { key ...Missing } } }", 1 + 2 * 2),
        # The largest operation of the document, not their sum.
        ("query A { __typename } query B { a: __typename b: __typename }", 2),
        ("fragment F on Query { __typename }", 0),
    ],
)
def test_document_cost(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_a_cycle_of_fragments_ends() -> None:
    query = (
        "{ subjects(first: 1) { nodes { ...A } } }"
        " fragment A on Subject { key ...B } fragment B on Subject { name ...A }"
    )
    assert cost(query) == 1 + (1 + 2)


async def test_the_cost_is_reported() -> None:
    result = await execute("{ a: __typename b: __typename }")
    assert result.extensions == {"cost": {"requested": 2, "maximum": 50_000}}


def test_only_unexpected_errors_are_masked() -> None:
    assert limits._mask(GraphQLError("boom", original_error=RuntimeError("secret")))
    assert not limits._mask(GraphQLError("bad", original_error=BadInput("first", "too large")))
    assert not limits._mask(GraphQLError("syntax"))


def test_errors_are_masked_unless_asked_not_to() -> None:
    masked = [type(factory()) for factory in limits.extensions()]
    unmasked = [type(factory()) for factory in limits.extensions(mask=False)]
    assert MaskErrors in masked
    assert MaskErrors not in unmasked
    assert masked[: len(unmasked)] == unmasked
