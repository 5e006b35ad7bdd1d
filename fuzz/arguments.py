"""Valid arguments for generated queries: a page asks for `first` OR `last`, 1–100 of them,
with a cursor this list gave out or none, and a fiscal year near the data. schemathesis draws
each optional argument independently, so without this most public list queries ask for both
`first` and `last` or neither, and stop at the argument check before any resolver runs.

`steer` rewrites a generated document; a share (`KEEP`) of the draws keeps its arguments as
drawn, so the checks themselves are still fuzzed.
"""

from __future__ import annotations

from random import Random

import graphql
from graphql import language as ast

#: the share of documents left exactly as generated
KEEP = 0.15
PAGE = ("first", "last")
CURSORS = ("after", "before")
YEARS = ("fiscalYear", "year")


def steer(query: str, schema: graphql.GraphQLSchema, cursors: set[str], rng: Random) -> str:
    if rng.random() < KEEP:
        return query
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError:
        return query
    info = graphql.TypeInfo(schema)

    class Steer(graphql.Visitor):
        def enter_field(self, node: ast.FieldNode, *_: object) -> ast.FieldNode | None:
            definition = info.get_field_def()
            if definition is None:
                return None
            return _field(node, definition, cursors, rng)

    steered = graphql.visit(document, graphql.TypeInfoVisitor(info, Steer()))
    return graphql.print_ast(steered)


def _field(
    node: ast.FieldNode, definition: graphql.GraphQLField, cursors: set[str], rng: Random
) -> ast.FieldNode | None:
    if not definition.args:
        return None
    arguments = {a.name.value: a for a in node.arguments or ()}
    paged = all(name in definition.args for name in PAGE)
    if paged:
        present = [name for name in PAGE if name in arguments]
        keep = present[0] if len(present) == 1 else ("first" if rng.random() < 0.8 else "last")
        for name in PAGE:
            if name != keep:
                arguments.pop(name, None)
        arguments[keep] = _argument(keep, ast.IntValueNode(value=str(rng.randint(1, 100))))
    elif "first" in definition.args and "first" in arguments:
        arguments["first"] = _argument("first", ast.IntValueNode(value=str(rng.randint(1, 100))))
    for name in CURSORS:
        value = arguments.get(name)
        if value is not None and not (
            isinstance(value.value, ast.StringValueNode) and value.value.value in cursors
        ):
            arguments.pop(name)
    for name in YEARS:
        if name in arguments and isinstance(arguments[name].value, ast.IntValueNode):
            arguments[name] = _argument(name, ast.IntValueNode(value=str(rng.randint(2022, 2025))))
    if list(arguments.values()) == list(node.arguments or ()):
        return None
    return ast.FieldNode(
        alias=node.alias,
        name=node.name,
        arguments=tuple(arguments.values()),
        directives=node.directives,
        selection_set=node.selection_set,
    )


def _argument(name: str, value: ast.ValueNode) -> ast.ArgumentNode:
    return ast.ArgumentNode(name=ast.NameNode(value=name), value=value)
