"""The SQL path against the fast path: for generated queries over the published demo (the
district on PostgreSQL, the town on SQLite, D18) the response body the database writes is byte
for byte the one orjson writes from the fast path's answer; whatever the fast path hands back to
graphql-core (`Fallback`: errors, shapes it does not cover), the SQL path hands back too."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from graphql import GraphQLError, parse, specified_rules, validate
from hypothesis import HealthCheck, assume, given, settings
from tortoise import connections

from schema import limits
from schema.context import Context
from schema.public import sqlpath
from schema.public.fastpath import Fallback, FastPath
from schema.rows import fetch
from storage import database
from tests.conftest import PublishedDemo
from tests.publishers import dataset
from tests.schema import test_fastpath as fp
from tests.schema.test_fastpath import (
    SCHEMA,
    SUBJECT_FIELDS,
    Case,
    cases,
    db,
    prebuilt,
    published,
)

# The fixtures, for the examples over test_fastpath's data set (`db` is a copy of it here too).
__all__ = ["db", "prebuilt", "published"]

FAST = FastPath(SCHEMA)
BASE = "http://x/open"


class Tally:
    """How many generated requests each path answered."""

    sql = 0
    fallback = 0


async def compare(
    query: str, variables: dict[str, Any] | None = None, operation: str | None = None
) -> bytes | None:
    """The SQL path's body, after checking it against the fast path; None when the SQL path fell
    back (then the fast path's answer, if any, stands)."""
    try:
        document = parse(query, max_tokens=limits.MAX_TOKENS)
    except GraphQLError:
        return None
    if validate(SCHEMA._schema, document, [*specified_rules, *limits.RULES]):
        return None
    FAST.learn(query, operation)
    compiled = FAST.compiled(query, operation)
    assert compiled is not None
    context = Context(public_base_url=BASE)
    try:
        fast: bytes | None = orjson.dumps(await compiled.execute(variables, context), default=str)
    except Fallback:
        fast = None
    try:
        body: bytes | None = await sqlpath.answer(compiled, variables, context)
    except Fallback:
        body = None
    if fast is None:
        assert body is None, "the SQL path answered what the fast path leaves to graphql-core"
        return None
    if body is None:
        Tally.fallback += 1
        return None
    Tally.sql += 1
    assert body == fast
    return body


# -- the published demo ---------------------------------------------------------------------------


@pytest.fixture
async def demo(
    published_demo: PublishedDemo, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[str]]:
    """Connected to the published demo, with filter values that find something in it (and
    some that find nothing); yields node IDs to ask for."""
    await database.init(published_demo.url, global_fallback=True)
    try:

        async def values(sql: str) -> list[Any]:
            return [next(iter(r.values())) for r in await fetch(sql, [])]

        subjects = "FROM disclosure WHERE record_type = 'SUBJECT'"
        years = await values(f"SELECT DISTINCT fiscal_year {subjects} ORDER BY 1")
        jurisdictions = await values(f"SELECT DISTINCT jurisdiction_code {subjects} ORDER BY 1")
        departments = await values(f"SELECT DISTINCT department_code {subjects} ORDER BY 1")
        codes = await values(f"SELECT data {subjects} ORDER BY record_key LIMIT 3")
        names = await values(f"SELECT name {subjects} ORDER BY record_key LIMIT 3")
        codes = [orjson.loads(c)["code"] if isinstance(c, str) else c["code"] for c in codes]
        monkeypatch.setattr(
            fp,
            "FILTER_VALUES",
            {
                **fp.FILTER_VALUES,
                "fiscalYear": [years[0], years[-1], 1999],
                "jurisdictionCode": [jurisdictions[0], "000000"],
                "departmentCode": [*departments[:3], departments[-1], "NOPE"],
                "code": [*codes, "P_"],
                "budgetMin": ["0", "100000.00", "1000000.01"],
                "budgetMax": ["99999.99", "5000000"],
                # Two characters and more: a one-character search scans every search gram,
                # which costs seconds on the demo (test_fastpath covers it on a small data set).
                "search": [names[0][:2], names[1][-2:], names[2][:3], "绩效"],
            },
        )
        found = await SCHEMA.execute(
            "{ jurisdictions(first: 3) { nodes { id } } departments(first: 5) { nodes { id } }"
            " subjects(first: 8, filter: {kind: PROJECT}) { nodes { id target { id }"
            " selfAssessment { id } monitoring { id } exAnteAssessments { id }"
            " evaluations { id report { id } } } }"
            " releases(first: 4) { nodes { id } } annualStatements(first: 2) { nodes { id } } }",
            context_value=Context(),
        )
        assert found.errors is None and found.data is not None
        yield [*sorted(set(fp._ids(found.data))), "not-an-id"]
    finally:
        await database.close()


EXAMPLES = settings(
    # 500 took 200 s of `make test`'s SQLite run (and 240 s on the district) on a loaded
    # machine; SQLPATH_EXAMPLES=2000 searches longer.
    max_examples=int(os.environ.get("SQLPATH_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,  # the same documents every run: a bounded, repeatable cost
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@EXAMPLES
@given(case=cases())
async def test_generated_queries_answer_as_the_fast_path_does(demo: list[str], case: Case) -> None:
    variables = dict(case.variables)
    for name in case.node_ids:
        variables[name] = demo[variables[name] % len(demo)]
    if case.cursor is not None and isinstance(variables[case.cursor], int):
        page = await SCHEMA.execute(case.cursor_query, context_value=Context())
        edges = (
            [] if page.errors or page.data is None else page.data[next(iter(page.data))]["edges"]
        )
        assume(edges)
        variables[case.cursor] = edges[variables[case.cursor] % len(edges)]["cursor"]
    await compare(case.query, variables, case.operation)


def test_the_sql_path_answered_most_generated_queries() -> None:
    """Runs after the generated queries (same module, file order): the compiler covers the
    common shapes, not only the trivial ones."""
    if Tally.sql + Tally.fallback == 0:
        pytest.skip("the generated queries did not run in this session")
    assert Tally.sql >= 2 * Tally.fallback, (Tally.sql, Tally.fallback)


# -- examples over test_fastpath's data set (every public type has rows) -----------------------


async def test_every_field_of_every_type(published: dataset.Built) -> None:
    for order in ("KEY", "NAME", "BUDGET", "EXECUTED", "FISCAL_YEAR"):
        for direction in ("ASC", "DESC"):
            body = await compare(
                f"""query($o: SubjectOrder) {{
                  subjects(first: 10, orderBy: $o) {{
                    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
                    edges {{ cursor node {{ {SUBJECT_FIELDS} }} }} }}
                  releases(first: 20) {{ totalCount nodes {{ id key title kind kindLabel
                    fiscalYear jurisdictionCode departmentCode departmentName approvalDate
                    dueDate publishedAt onTime currentVersion manifest datapackage manifestUrl
                    datapackageUrl demo
                    versions {{ number publishedAt manifest manifestUrl correctionNote kind
                      kindLabel }}
                    department {{ code }}
                    jurisdiction {{ code level levelLabel financeAuthority demo }} }} }}
                  annualStatements(first: 5) {{ nodes {{ id key jurisdictionCode year title
                    text }} }}
                }}""",
                {"o": {"field": order, "direction": direction}},
            )
            assert body is not None
    assert body is not None and b"monitoring" in body and b"versions" in body


async def test_pages_walk_forwards_and_backwards(published: dataset.Built) -> None:
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
      subjects(first: $first, after: $after, last: $last, before: $before,
               orderBy: {field: NAME, direction: DESC}) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { name }
        edges { cursor } totalCount } }"""
    after = None
    while True:
        body = await compare(query, {"first": 2, "after": after})
        assert body is not None
        info = orjson.loads(body)["data"]["subjects"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    before = None
    while True:
        body = await compare(query, {"last": 2, "before": before})
        assert body is not None
        info = orjson.loads(body)["data"]["subjects"]["pageInfo"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    for bad in ({"first": 2, "after": "bad"}, {"first": 0}, {}, {"first": 1, "last": 1}):
        assert await compare(query, bad) is None


async def test_node_of_every_type(published: dataset.Built) -> None:
    ids = await fp.node_ids()
    query = """
      query($id: ID!) {
        node(id: $id) { __typename ...N ... on Subject { name target { key indicators { name } } }
          ... on Evaluation { score report { title } subject { ...N } } }
        again: node(id: $id) { id }
        __typename
      }
      fragment N on Node { id ... on Release { key versions { number manifestUrl } } }
    """
    answered = 0
    for node_id in ids[:-1]:
        answered += await compare(query, {"id": node_id}) is not None
    assert answered == len(ids) - 1
    assert await compare(query, {"id": "not-an-id"}) is None  # BadInput


async def test_what_it_does_not_cover_falls_back(published: dataset.Built) -> None:
    for query in (
        "{ correctionNotices(last: 5) { nodes { date } } }",
        "{ statistics(groupBy: YEAR) { label subjects } }",
        "{ subjects(first: 1) { nodes { name } } statistics(groupBy: YEAR) { label } }",
        "{ __typename }",
    ):
        assert await compare(query) is None
    dialect = str(connections.get("default").capabilities.dialect)
    assert dialect in sqlpath.DIALECTS
