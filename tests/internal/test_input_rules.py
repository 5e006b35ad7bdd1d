"""Issue 11, items 2 and 3: every input the database would refuse, or that would fail deep
inside as an unexpected error, is refused first as an `InvalidInput` naming the field and the
rule — for every text and number that any mutation takes, on both sides of each limit."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import FieldNode, OperationDefinitionNode, VariableNode, parse
from strawberry.types.base import StrawberryList, StrawberryOptional

from schema.internal.input_rules import DEFAULT, RULE
from schema.internal.mutations import Mutation
from storage import models
from storage.validation import MAX_NUMBER, Text
from tests.internal.conftest import Api, World, token
from tests.internal.ops import OPS, RESULT

ADMIN = token("admin", classified=True)
Kind = Text | str  # a text's rule, or "number"


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type inside optional and list wrappers, and whether a list wraps it."""
    listed = False
    while isinstance(type_, StrawberryOptional | StrawberryList):
        listed = listed or isinstance(type_, StrawberryList)
        type_ = type_.of_type
    return type_, listed


def _leaves(type_: Any, path: str, metadata: Any) -> Iterator[tuple[str, Kind | None, Any]]:
    """(path pattern, rule, python type) of every scalar inside an argument's type; a list's
    items are ``[]``."""
    inner, listed = _unwrap(type_)
    path = path + "[]" if listed else path
    definition = getattr(inner, "__strawberry_definition__", None)
    if definition is not None and definition.is_input:
        for field in definition.fields:
            name = field.graphql_name or strawberry.utils.str_converters.to_camel_case(
                field.python_name
            )
            yield from _leaves(field.type, f"{path}.{name}", field.metadata)
        return
    rule = (metadata or {}).get(RULE)
    if inner is Decimal:
        yield path, "number", inner
    elif inner is strawberry.ID:
        yield path, DEFAULT, inner
    elif inner is str:
        yield path, rule, inner


def schema_leaves() -> dict[str, dict[str, Kind | None]]:
    """Mutation (GraphQL name) → path pattern → rule, from the schema's own definitions."""
    found: dict[str, dict[str, Kind | None]] = {}
    for field in Mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        name = field.graphql_name or strawberry.utils.str_converters.to_camel_case(field.name)
        found[name] = {}
        for argument in field.arguments:
            arg = argument.graphql_name or strawberry.utils.str_converters.to_camel_case(
                argument.python_name
            )
            for path, rule, _ in _leaves(argument.type, arg, argument.metadata):
                found[name][path] = rule
    return found


LEAVES = schema_leaves()


def test_every_text_input_declares_its_rule() -> None:
    undeclared = [
        f"{mutation}({path})"
        for mutation, paths in LEAVES.items()
        for path, rule in paths.items()
        if rule is None
    ]
    assert undeclared == []
    assert LEAVES["createRelease"]["input.jurisdictionCode"] == Text(12)
    assert LEAVES["createDepartment"]["input.jurisdictionCode"] == Text(12)


def test_every_column_bounds_its_input() -> None:
    """A declared text is never longer than the column it is stored in."""
    columns = {
        ("createDepartment", "input.code"): models.Department._meta.fields_map["code"],
        ("createDepartment", "input.name"): models.Department._meta.fields_map["name"],
        ("createSubject", "input.code"): models.Subject._meta.fields_map["code"],
        ("createTarget", "indicators[].name"): models.Indicator._meta.fields_map["name"],
        ("createTarget", "indicators[].unit"): models.Indicator._meta.fields_map["unit"],
        (
            "recordSelfAssessment",
            "rows[].actualValueRaw",
        ): models.SelfAssessmentRow._meta.fields_map["actual_value_raw"],
        ("fileFiling", "input.reference"): models.SensitivityFiling._meta.fields_map["reference"],
        ("fileFiling", "input.filedWith"): models.SensitivityFiling._meta.fields_map["filed_with"],
        ("recordEvaluation", "input.organiser"): models.Evaluation._meta.fields_map["organiser"],
        ("createRelease", "input.jurisdictionCode"): models.Jurisdiction._meta.fields_map["code"],
    }
    for (mutation, path), column in columns.items():
        rule = LEAVES[mutation][path]
        assert isinstance(rule, Text)
        assert rule.max_length == column.max_length, (mutation, path)


def _arguments(document: str) -> dict[str, str]:
    """Variable name → argument name of the one mutation field in an ops document."""
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    field = operation.selection_set.selections[0]
    assert isinstance(field, FieldNode)
    return {
        a.value.name.value: a.name.value
        for a in field.arguments or ()
        if isinstance(a.value, VariableNode)
    }


def _sent(value: Any, path: str) -> Iterator[tuple[str, list[str | int]]]:
    """(GraphQL path, variable key path) of every string the variables hold."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _sent_item(item, f"{path}.{key}", [key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _sent_item(item, f"{path}[{index}]", [index])
    elif isinstance(value, str):
        yield path, []


def _sent_item(item: Any, path: str, key: list[str | int]) -> Iterator[tuple[str, list[str | int]]]:
    for leaf, rest in _sent(item, path):
        yield leaf, key + rest


def _replaced(variables: dict[str, Any], keys: list[str | int], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(variables)
    target: Any = changed
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return changed


def _pattern(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


#: (value, rule it breaks) for a single-line text of any length limit
CONTROL = [
    ("a\x00b", "no-control-characters"),
    ("a\x07b", "no-control-characters"),
    ("a\x1bb", "no-control-characters"),
    ("a\x7fb", "no-control-characters"),
    ("a\x85b", "no-control-characters"),
    ("a\u202eb", "no-control-characters"),
    ("a\u202ab", "no-control-characters"),
    ("a\u2066b", "no-control-characters"),
    ("a\u2069b", "no-control-characters"),
]
NUMBERS = [
    ("1e400", "number-range"),
    ("-1e400", "number-range"),
    ("1E+15", "number-range"),
    ("-1000000000000000", "number-range"),
    ("NaN", "number-finite"),
    ("Infinity", "number-finite"),
    ("-Infinity", "number-finite"),
    ("sNaN", "number-finite"),
]


async def send(api: Api, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    op = OPS[name]
    body = await api(ADMIN, op.document, variables, op.files)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["r"]
    return result


def refused_for(result: dict[str, Any], path: str) -> tuple[str, str] | None:
    if result["__typename"] == "InvalidInput" and result["field"] == path:
        return result["field"], result["rule"]
    return None


@pytest.mark.parametrize("name", sorted(OPS))
async def test_every_text_and_number_of_a_mutation_is_checked(
    api: Api, world: World, name: str
) -> None:
    op = OPS[name]
    variables = op.variables(world, "a")
    arguments = _arguments(op.document)
    checked = 0
    for variable, value in variables.items():
        if variable not in arguments:
            continue
        for path, keys in _sent(value, arguments[variable]):
            keys = [variable, *keys]
            rule = LEAVES[name].get(_pattern(path))
            if rule is None:
                continue  # an enum, a date
            checked += 1
            if rule == "number":
                for bad, broken in NUMBERS:
                    result = await send(api, name, _replaced(variables, keys, bad))
                    assert refused_for(result, path) == (path, broken), (path, bad, result)
                largest = str(MAX_NUMBER - Decimal("0.01"))
                result = await send(api, name, _replaced(variables, keys, largest))
                assert result.get("rule") not in ("number-range", "number-finite"), result
                continue
            assert isinstance(rule, Text)
            for bad, broken in CONTROL:
                result = await send(api, name, _replaced(variables, keys, bad))
                assert refused_for(result, path) == (path, broken), (path, repr(bad), result)
            too_long = "长" * (rule.max_length + 1)
            result = await send(api, name, _replaced(variables, keys, too_long))
            assert refused_for(result, path) == (path, "max-length"), (path, result)
            # At the limit, and with tabs and line breaks where free text allows them: not
            # refused for its length or its characters (other rules may still apply).
            fits = ("长\t\n" if rule.multiline else "长") * (rule.max_length // 3 or 1)
            for good in ("长" * rule.max_length, fits[: rule.max_length]):
                result = await send(api, name, _replaced(variables, keys, good))
                assert result.get("field") != path or result.get("rule") not in (
                    "max-length",
                    "no-control-characters",
                ), (path, result)
    if name not in ("flagOverdueRectifications",):
        assert checked, f"{name} sends no text or number to check"


@pytest.mark.parametrize("mutation", ["createRelease", "createDepartment"])
@pytest.mark.parametrize(
    ("code", "answer"),
    [("9" * 12, "NotFound"), ("9" * 13, "InvalidInput"), ("9" * 200, "InvalidInput")],
)
async def test_a_jurisdiction_code_longer_than_its_column_is_invalid_input(
    api: Api, world: World, mutation: str, code: str, answer: str
) -> None:
    if mutation == "createRelease":
        document = "mutation($i: ReleaseInput!) { r: createRelease(input: $i) {" + RESULT + "} }"
        variables = {
            "kind": "FINANCE_ANNUAL",
            "fiscalYear": 2024,
            "approvalDate": "2025-01-10",
            "jurisdictionCode": code,
        }
    else:
        document = (
            "mutation($i: DepartmentInput!) { r: createDepartment(input: $i) {" + RESULT + "} }"
        )
        variables = {
            "code": "909",
            "name": "新局",
            "tier": "DEPARTMENT",
            "orgType": "ADMINISTRATIVE",
            "jurisdictionCode": code,
        }
    body = await api(ADMIN, document, {"i": variables})
    result = body["data"]["r"]
    assert result["__typename"] == answer, result
    if answer == "InvalidInput":
        assert (result["field"], result["rule"]) == ("input.jurisdictionCode", "max-length")


@pytest.mark.parametrize("amount", ["1e400", "1e30", "12345678901234567890.00"])
async def test_an_amount_no_column_holds_is_invalid_input(
    api: Api, world: World, amount: str
) -> None:
    variables = OPS["recordMonitoring"].variables(world, "a")
    variables["i"]["budgetToDate"] = amount
    result = await send(api, "recordMonitoring", variables)
    assert (result["__typename"], result["field"], result["rule"]) == (
        "InvalidInput",
        "input.budgetToDate",
        "number-range",
    )


@pytest.mark.parametrize(
    ("executed", "answer"), [("99999.99", "MonitoringSuccess"), ("100000.00", "InvalidInput")]
)
async def test_an_execution_rate_beyond_its_column_is_invalid_input(
    api: Api, world: World, executed: str, answer: str
) -> None:
    variables = OPS["recordMonitoring"].variables(world, "a")
    variables["i"] |= {"budgetToDate": "100.00", "executedToDate": executed}
    result = await send(api, "recordMonitoring", variables)
    assert result["__typename"] == answer, result
    if answer == "InvalidInput":
        assert (result["field"], result["rule"]) == ("executedToDate", "execution-rate-range")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("recordSelfAssessment", "subjectId"),
        ("createTarget", "horizon"),
        ("createDepartment", "input.code"),
        ("createSubject", "input.code"),
        ("createRelease", "input.kind"),
    ],
)
async def test_a_second_record_with_the_same_identity_names_its_field(
    api: Api, world: World, name: str, field: str
) -> None:
    variables = OPS[name].variables(world, "a")
    if name == "createRelease":
        variables["i"]["fiscalYear"] = 2026  # the world has the 2024 budget release
    first = await send(api, name, variables)
    assert first["__typename"] == OPS[name].success, first
    before = await models.AuditEntry.all().count()
    second = await send(api, name, variables)
    assert (second["__typename"], second["field"], second["rule"]) == (
        "InvalidInput",
        field,
        "unique",
    )
    assert second["message"]
    assert await models.AuditEntry.all().count() == before


async def test_a_weight_no_column_holds_is_invalid_input(api: Api, world: World) -> None:
    variables = OPS["recordSelfAssessment"].variables(world, "a")
    row = variables["rows"][0]
    variables["rows"] = [row | {"weight": "1000"}, row | {"weight": "-910"}]
    result = await send(api, "recordSelfAssessment", variables)
    assert (result["field"], result["rule"]) == ("rows[0].weight", "weight-range")
