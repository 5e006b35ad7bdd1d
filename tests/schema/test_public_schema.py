"""The public schema through `schema.execute`: published records only, field for field."""

from __future__ import annotations

import base64
import importlib
import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from graphql import GraphQLError, parse, specified_rules, validate
from tortoise import connections
from tortoise.transactions import in_transaction

from schema import limits, pagination
from schema.context import Context
from schema.public import sqlpath
from schema.public import types as t
from schema.public.fastpath import Fallback, FastPath
from schema.public.queries import SubjectFilter, subject_where
from schema.public.schema import build
from schema.rows import node_id
from storage import models
from storage.enums import FilingReason, RecordType, ReleaseKind
from storage.objects.memory import MemoryObjectStore
from tests.conftest import Prebuilt, prebuilt_database
from tests.publishers import dataset
from tests.publishers.test_releases import NOW, publisher

SCHEMA = build()
SDL = Path(__file__).resolve().parents[2] / "schema" / "public.graphql"


FAST = FastPath(SCHEMA)


async def run(query: str, **variables: Any) -> dict[str, Any]:
    """graphql-core's answer, after checking that the SQL path (schema/public/sqlpath.py) gives
    the same bytes whenever it answers: every check of these tests holds for both."""
    result = await SCHEMA.execute(query, variable_values=variables, context_value=Context())
    assert result.errors is None, result.errors
    assert result.data is not None
    body = await _sql_path(query, variables)
    if body is not None:
        assert body == orjson.dumps({"data": result.data, "extensions": result.extensions})
    return result.data


async def fails(query: str, **variables: Any) -> str:
    result = await SCHEMA.execute(query, variable_values=variables, context_value=Context())
    assert result.errors
    message = " ".join(error.message for error in result.errors)
    # A document refused before execution is never learned; a fault injected into code the SQL
    # path does not run (a masked "Unexpected error.") says nothing about it.
    if _valid(query) and message != "Unexpected error.":
        assert await _sql_path(query, variables) is None  # graphql-core's error stands
    return message


def _valid(query: str) -> bool:
    try:
        document = parse(query, max_tokens=limits.MAX_TOKENS)
    except GraphQLError:
        return False
    return not validate(SCHEMA._schema, document, [*specified_rules, *limits.RULES])


async def _sql_path(query: str, variables: dict[str, Any]) -> bytes | None:
    FAST.learn(query, None)
    compiled = FAST.compiled(query, None)
    if compiled is None:
        return None
    try:
        return await sqlpath.answer(compiled, variables, Context())
    except Fallback:
        return None


async def _publish() -> dataset.Built:
    plan = dataset.Plan(
        departments=3,
        projects=2,
        whole_department_filings={0: FilingReason.CLASSIFIED},
        project_filings={(1, 0): FilingReason.SENSITIVE},
    )
    built = await dataset.build(plan)
    await models.Subject.filter(code="PUBP2-1Q").update(name="街道绿化养护项目")
    await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
    return built


prebuilt, db = prebuilt_database(_publish)


@pytest.fixture
def published(db: str, prebuilt: Prebuilt[dataset.Built]) -> dataset.Built:
    return prebuilt.value()


SUBJECTS = """
query($first: Int, $after: String, $filter: SubjectFilter) {
  subjects(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id key name kind code fiscalYear departmentCode
      amounts { initial { total } fullYear { total } executed { total } }
      department { name code }
      target { overallGoal indicators { name level1 level2 targetValue weight } }
      selfAssessment { totalScore grade rows { indicatorName score } }
      evaluations { score grade report { title sha256 } } } }
  }
}
"""


async def test_subjects_are_the_published_records_and_nothing_filed(
    published: dataset.Built,
) -> None:
    data = await run(SUBJECTS, first=100)
    nodes = [edge["node"] for edge in data["subjects"]["edges"]]
    text = orjson.dumps(data).decode()
    assert not [m for m in published.filed_markers if m in text]
    codes = {n["code"] for n in nodes}
    assert codes == {"PUBP1-1Q", "PUBP2-0Q", "PUBP2-1Q", "PUBD1X-OV", "PUBD2X-OV"}
    assert data["subjects"]["totalCount"] == 5
    # Field for field what the final-accounts release published.
    for node in nodes:
        row = await models.Disclosure.get(
            record_type="SUBJECT", record_key=node["key"], release_kind="FINAL_ACCOUNTS"
        )
        assert node["name"] == row.data["name"]
        assert node["amounts"]["executed"]["total"] == row.data["amounts"]["executed"]["total"]
    project = next(n for n in nodes if n["code"] == "PUBP2-0Q")
    assert project["amounts"]["executed"]["total"] == "95000.00"
    assert project["department"] == {"name": "PUBD2部门", "code": "PUBD2X"}
    assert len(project["target"]["indicators"]) == 4
    assert project["selfAssessment"]["grade"] == "EXCELLENT"
    # The report's main text rode the finance authority's release (D9); the result links to it.
    assert project["evaluations"][0]["report"]["title"] == "PUBP2-0评价报告"


async def test_an_edit_after_publication_changes_nothing_public(
    published: dataset.Built,
) -> None:
    await models.Subject.filter(code="PUBP2-0Q").update(name="改过的名字")
    await models.SelfAssessment.all().update(annual_goal_actual="改过")
    data = await run(SUBJECTS, first=100, filter={"search": "改过"})
    assert data["subjects"]["totalCount"] == 0
    data = await run(SUBJECTS, first=100)
    assert "改过" not in orjson.dumps(data).decode()


async def test_node_answers_published_records_only(published: dataset.Built) -> None:
    data = await run(SUBJECTS, first=1)
    node = data["subjects"]["edges"][0]["node"]
    found = await run(
        "query($id: ID!) { node(id: $id) { __typename id ... on Subject { name } } }",
        id=node["id"],
    )
    assert found["node"] == {"__typename": "Subject", "id": node["id"], "name": node["name"]}
    # A filed project's ID, forged from its key, answers null: there is no row to find.
    filed = await models.Subject.get(code="SECRETP1-0Q")
    key = f"{published.jurisdiction.code}/PUBD1X/PROJECT/{filed.code}/{dataset.YEAR}"
    result = await run(
        "query($id: ID!) { node(id: $id) { id } }", id=node_id(RecordType.SUBJECT, key)
    )
    assert result == {"node": None}
    message = await fails('{ node(id: "not-an-id") { id } }')
    assert "not a node ID" in message


async def test_search_finds_two_character_words(published: dataset.Built) -> None:
    found = await run(SUBJECTS, first=10, filter={"search": "绿化"})
    assert [e["node"]["name"] for e in found["subjects"]["edges"]] == ["街道绿化养护项目"]
    assert (await run(SUBJECTS, first=10, filter={"search": "化绿"}))["subjects"]["totalCount"] == 0
    # Every bigram of a longer query, in one record: the name whole matches, its words
    # reordered (化项, 目养 are in no record) do not.
    whole = await run(SUBJECTS, first=10, filter={"search": "绿化养护项目"})
    assert [e["node"]["name"] for e in whole["subjects"]["edges"]] == ["街道绿化养护项目"]
    reordered = await run(SUBJECTS, first=10, filter={"search": "绿化项目养护"})
    assert reordered["subjects"]["totalCount"] == 0
    one = await run(SUBJECTS, first=10, filter={"search": "绿"})
    assert one["subjects"]["totalCount"] == 1
    # Goals are searched too: every target's goal says 目标.
    goals = await run(SUBJECTS, first=10, filter={"search": "目标"})
    assert goals["subjects"]["totalCount"] == 3
    assert "SECRET" not in orjson.dumps(goals).decode()


async def test_search_finds_each_run_of_the_query_as_written(empty_db: str) -> None:
    """D28: a run of three characters or more is found as written, not as its bigrams anywhere
    in the record; the runs of a query may lie apart; the same answers on both databases,
    whichever index serves them (on PostgreSQL the trigram index for the long runs)."""
    built = await dataset.build(dataset.Plan(departments=1, projects=3))
    for code, name in (
        ("PUBP0-0Q", "街道绿化养护项目"),
        ("PUBP0-1Q", "绿化与化养护"),
        ("PUBP0-2Q", "ＡＢＣ智慧平台"),
    ):
        await models.Subject.filter(code=code).update(name=name)
    await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])

    async def names(query: str) -> list[str]:
        found = await run(SUBJECTS, first=10, filter={"search": query})
        return sorted(e["node"]["name"] for e in found["subjects"]["edges"])

    # 绿化养's bigrams 绿化 and 化养 are both in 绿化与化养护, but not the run.
    assert await names("绿化养") == ["街道绿化养护项目"]
    assert await names("化养") == ["绿化与化养护", "街道绿化养护项目"]  # a two-character run
    assert await names("与化养护") == ["绿化与化养护"]
    assert await names("绿化 养护项目") == ["街道绿化养护项目"]  # runs apart: each is there
    assert await names("与 养护项目") == []  # each run is there, but not in one record
    assert await names("养护项目 绿") == ["街道绿化养护项目"]  # with a one-character run
    assert await names("绿化养护项目街道") == []
    # The text is normalised as the query is: full-width letters and capitals are the same.
    assert await names("abc智慧") == ["ＡＢＣ智慧平台"]
    assert await names("bc智") == ["ＡＢＣ智慧平台"]


@pytest.mark.skipif(os.environ.get("GONGKAI_TEST_DB") != "postgres", reason="PostgreSQL's index")
async def test_on_postgresql_long_runs_are_looked_up_in_the_trigram_index(
    published: dataset.Built,
) -> None:
    """A query with a run of three characters or more reads the records' text, whose trigram
    index (migration 0013) serves its LIKE; the shorter runs beside it are checked on what the
    long ones found, never looked up in that index (a two-character run holds no trigram: the
    index would be read whole); a query of short runs reads the bigram table."""
    long = subject_where(SubjectFilter(search="绿化养 护"))
    assert "search_gram" not in long.sql()
    assert "m.search_text LIKE ?" in long.sql()
    assert long.params == ["%绿化养%", "%护%"]
    assert "(m.search_text || '') LIKE ?" in long.sql()  # 护: not the indexed expression
    short = subject_where(SubjectFilter(search="绿化 护"))
    assert "search_gram" in short.sql() and "search_text" not in short.sql()
    sql = "EXPLAIN SELECT m.id FROM disclosure m WHERE m.search_text LIKE $1"
    async with in_transaction() as tx:
        await tx.execute_script("SET LOCAL enable_seqscan = off")  # as a city's sizes would
        found = await tx.execute_query_dict(sql, ["%绿化养%"])
    assert "disclosure_search_text_trgm" in "\n".join(str(r["QUERY PLAN"]) for r in found)


async def test_the_migration_gives_the_rows_published_before_it_their_search_text(
    published: dataset.Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = sorted(await models.Disclosure.all().values_list("id", "search_text"))
    assert sum(text is not None for _, text in written) > 10
    await models.Disclosure.all().update(search_text=None)
    migration = importlib.import_module("storage.migrations.0013_search_text")
    monkeypatch.setattr(migration, "BATCH", 7)  # several batches
    await migration.forward(None, SimpleNamespace(client=connections.get("default")))
    assert sorted(await models.Disclosure.all().values_list("id", "search_text")) == written
    found = await run(SUBJECTS, first=10, filter={"search": "绿化养护"})
    assert [e["node"]["name"] for e in found["subjects"]["edges"]] == ["街道绿化养护项目"]


async def test_filters(published: dataset.Built) -> None:
    async def count(**f: Any) -> int:
        return int((await run(SUBJECTS, first=100, filter=f))["subjects"]["totalCount"])

    assert await count(kind="DEPARTMENT_OVERALL") == 2
    assert await count(departmentCode="PUBD2X") == 3
    assert await count(budgetMin="100000.00", kind="PROJECT") == 3
    assert await count(budgetMin="100000.01") == 0
    assert await count(executedMax="94999.99", kind="PROJECT") == 0
    assert await count(grade="EXCELLENT") == 3
    assert await count(fiscalYear=dataset.YEAR + 1) == 0
    assert await count(budgetBook="GENERAL_PUBLIC", transferType="NONE") == 5
    # `code` is the subject's own code, not any segment of its key: not its department's.
    assert await count(code="PUBP2-0Q") == 1
    assert await count(code="PUBD2X-OV") == 1
    assert await count(code="PUBD2X") == 0


async def test_pagination_walks_forwards_and_backwards(published: dataset.Built) -> None:
    seen, after = [], None
    while True:
        data = await run(SUBJECTS, first=2, after=after)
        page = data["subjects"]
        seen += [edge["node"]["key"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen) and len(seen) == 5
    back = await run(
        "query($b: String) { subjects(last: 2, before: $b) { edges { node { key } } "
        "pageInfo { hasPreviousPage } } }",
        b=(await run(SUBJECTS, first=5))["subjects"]["edges"][4]["cursor"],
    )
    assert [e["node"]["key"] for e in back["subjects"]["edges"]] == seen[2:4]
    assert back["subjects"]["pageInfo"]["hasPreviousPage"]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("", "exactly one of `first` or `last`"),
        ("first: 101", "between 1 and 100"),
        ("first: 0", "between 1 and 100"),
        ('first: 1, after: "bad"', "not a cursor"),
        ('first: 1, after: "2\\udb9a\\udcd3"', "not a cursor"),  # non-ASCII, not base64
        ('first: 1, after: "é"', "not a cursor"),
    ],
)
async def test_page_bounds_are_required(
    published: dataset.Built, arguments: str, says: str
) -> None:
    query = f"{{ subjects{f'({arguments})' if arguments else ''} {{ nodes {{ key }} }} }}"
    assert says in await fails(query)


def forged(value: Any) -> str:
    """A cursor with this sort value, written with the standard library (orjson writes no
    integer beyond 64 bits)."""
    text = json.dumps([value, "990101/x"]).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


async def test_a_cursor_of_another_order_is_refused_by_name(published: dataset.Built) -> None:
    """Each order's cursors carry its kind of sort value: text for the key and the name, an
    integer for the others. Another order's cursor is refused, never an "Unexpected error."
    (fuzzing found PostgreSQL failing to compare a text cursor with the scores)."""
    by_key = (await run(SUBJECTS, first=1))["subjects"]["edges"][0]["cursor"]
    by_budget = (
        await run(
            "{ subjects(first: 2, orderBy: {field: BUDGET}) { edges { cursor node { key } } } }"
        )
    )["subjects"]["edges"]
    budget_page = "query($c: String) { subjects(first: 1, orderBy: {field: BUDGET}, after: $c)"
    for query, cursor in (
        (budget_page + " { totalCount } }", by_key),
        (
            "query($c: String) { evaluations(last: 2, orderBy: {field: SCORE}, before: $c)"
            " { totalCount } }",
            by_key,
        ),
        (
            "query($c: String) { subjects(first: 2, orderBy: {field: NAME}, after: $c)"
            " { totalCount } }",
            by_budget[0]["cursor"],
        ),
    ):
        assert "not a cursor of this list and order" in await fails(query, c=cursor)
    for value in (2**63, -(2**63) - 1, True, 1.5, [1]):
        query = budget_page + " { totalCount } }"
        assert "not a cursor of this list and order" in await fails(query, c=forged(value))
    # At the ends of the range, and the order's own cursors, a page answers.
    for value in (2**63 - 1, -(2**63), None):
        await run(budget_page + " { totalCount } }", c=forged(value))
    after = await run(budget_page + " { edges { node { key } } } }", c=by_budget[0]["cursor"])
    assert after["subjects"]["edges"][0]["node"]["key"] == by_budget[1]["node"]["key"]


async def test_statistics_count_published_rows_only(published: dataset.Built) -> None:
    data = await run(
        "{ statistics(groupBy: DEPARTMENT) { key label subjects budget executed executionRate "
        "assessed grades { EXCELLENT GOOD AVERAGE POOR } } }"
    )
    buckets = {b["label"]: b for b in data["statistics"]}
    assert set(buckets) == {"PUBD1部门", "PUBD2部门"}
    assert buckets["PUBD2部门"]["subjects"] == 3
    assert Decimal(buckets["PUBD2部门"]["budget"]) == Decimal("200000.00")
    assert Decimal(buckets["PUBD2部门"]["executed"]) == Decimal("190000.00")
    assert buckets["PUBD2部门"]["executionRate"] == "95.00"
    assert buckets["PUBD1部门"]["subjects"] == 2  # its filed project is in no count
    assert buckets["PUBD1部门"]["grades"]["EXCELLENT"] == 1
    years = await run("{ statistics(groupBy: YEAR) { key label subjects } }")
    assert years["statistics"] == [{"key": "2024", "label": "2024年", "subjects": 5}]


async def test_releases_and_versions(published: dataset.Built) -> None:
    data = await run(
        "{ releases(first: 20) { totalCount nodes { key kind onTime currentVersion "
        "manifestUrl versions { number correctionNote } department { code } } } }"
    )
    releases = data["releases"]["nodes"]
    assert data["releases"]["totalCount"] == len(published.releases) - 2
    assert all("SECRET" not in r["key"] for r in releases)
    assert all(
        r["manifestUrl"].startswith("http://127.0.0.1:8000/open/releases/") for r in releases
    )
    finance = next(r for r in releases if r["kind"] == "FINANCE_ANNUAL")
    assert finance["department"] is None


NOTICES = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: CorrectionNoticeFilter) {
  correctionNotices(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { date kind kindLabel jurisdictionCode fiscalYear releaseKey releaseKind note
      release { key } }
  }
}
"""


async def test_correction_notices_name_their_release_only_while_it_is_published(
    empty_db: str,
) -> None:
    store = MemoryObjectStore()
    withdrawal = await dataset.withdraw_whole_department(store, NOW)
    budget = next(
        r
        for r in withdrawal.built.releases
        if r.kind is ReleaseKind.BUDGET and r.department_id != withdrawal.department.id
    )
    await models.Subject.filter(code="PUBP1-0Q").update(name="PUBP1-0项目（更正）")
    await publisher(store, NOW + timedelta(days=3)).publish(budget.id, note="更正项目名称")
    data = await run(NOTICES, first=100)
    notices = data["correctionNotices"]
    assert notices["totalCount"] == 4
    nodes = notices["nodes"]
    # Oldest first: the two releases of the department filed whole name nothing; the finance
    # authority's release lost the department's report and stays published; then a correction.
    assert [(n["date"], n["kind"], n["releaseKind"]) for n in nodes] == [
        ("2026-03-03", "WITHDRAWAL", None),
        ("2026-03-03", "WITHDRAWAL", None),
        ("2026-03-03", "WITHDRAWAL", "FINANCE_ANNUAL"),
        ("2026-03-04", "CORRECTION", "BUDGET"),
    ]
    assert all(n["release"] is None and n["releaseKey"] is None for n in nodes[:2])
    correction = nodes[-1]
    assert correction["releaseKey"] == f"990101/{dataset.YEAR}/budget/PUBD1X"
    assert correction["release"] == {"key": correction["releaseKey"]}
    assert correction["note"] == "更正项目名称"
    assert not [m for m in dataset.WITHDRAWN_MARKERS if m in orjson.dumps(data).decode()]
    # Pages of one, both ways; three notices share a moment, and the id orders them.
    seen, after = [], None
    while True:
        page = (await run(NOTICES, first=1, after=after))["correctionNotices"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    back, before = [], None
    while True:
        page = (await run(NOTICES, last=1, before=before))["correctionNotices"]
        back = page["nodes"] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == nodes and back == nodes

    async def count(**f: Any) -> int:
        found = await run(NOTICES, first=100, filter=f)
        return int(found["correctionNotices"]["totalCount"])

    assert await count(fiscalYear=dataset.YEAR + 1) == 1
    assert await count(fiscalYear=dataset.YEAR, jurisdictionCode="990101") == 3
    assert await count(jurisdictionCode="000000") == 0
    assert await count(jurisdictionCode="9" * 12) == 0  # as long as a code may be
    assert await count(jurisdictionCode="9" * 13) == 0  # longer: matches nothing, no error
    assert "not a cursor" in await fails(NOTICES, first=1, after="bad")
    forged = "WyJub3QgYSB0aW1lIiwxXQ"  # ["not a time",1]
    assert "not a cursor" in await fails(NOTICES, first=1, after=forged)


TOTALS = """
query($f: SubjectFilter) {
  subjects(first: 2, filter: $f) { totalCount totalCountIsExact nodes { key } }
  releases(first: 1) { totalCountIsExact }
}
"""
NOTICE_TOTALS = "{ correctionNotices(first: 1) { totalCount totalCountIsExact } }"


async def _every_path(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """graphql-core's data, checked against the SQL path (`run`) and the fast path."""
    data = await run(query, **variables)
    FAST.learn(query, None)
    compiled = FAST.compiled(query, None)
    assert compiled is not None
    assert (await compiled.execute(variables, Context()))["data"] == data
    return data


@pytest.mark.parametrize("search", [None, "目标"])
async def test_a_total_is_counted_up_to_the_limit_and_says_whether_it_is_exact(
    published: dataset.Built, monkeypatch: pytest.MonkeyPatch, search: str | None
) -> None:
    """D30: at the limit a total is exact; one row more and it is the limit, not exact. Each
    path (graphql-core, the fast path, the SQL path) counts alike, with or without a search."""
    variables = {"f": {"search": search}} if search else {}
    releases = (await run("{ releases(first: 1) { totalCount } }"))["releases"]["totalCount"]
    whole = await _every_path(TOTALS, variables)
    subjects = whole["subjects"]["totalCount"]
    assert subjects == (3 if search else 5) and whole["subjects"]["totalCountIsExact"]
    for limit in (subjects, subjects - 1, releases, releases - 1):
        monkeypatch.setattr(pagination, "COUNT_LIMIT", limit)
        counted = await _every_path(TOTALS, variables)
        assert counted == {
            "subjects": {
                **whole["subjects"],  # the page is whole
                "totalCount": min(subjects, limit),
                "totalCountIsExact": subjects <= limit,
            },
            "releases": {"totalCountIsExact": releases <= limit},
        }


async def test_a_total_of_correction_notices_is_counted_up_to_the_limit(
    empty_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await dataset.withdraw_whole_department(MemoryObjectStore(), NOW)
    whole = (await _every_path(NOTICE_TOTALS, {}))["correctionNotices"]
    assert whole == {"totalCount": 3, "totalCountIsExact": True}
    for limit, exact in ((3, True), (2, False)):
        monkeypatch.setattr(pagination, "COUNT_LIMIT", limit)
        counted = (await _every_path(NOTICE_TOTALS, {}))["correctionNotices"]
        assert counted == {"totalCount": limit, "totalCountIsExact": exact}


async def test_a_total_counts_a_thousand_rows_and_stops(published: dataset.Built) -> None:
    """The limit itself, on both sides: a thousand published subjects are counted exactly, and
    a list of one more answers a thousand, not exact."""
    query = "{ subjects(first: 1) { totalCount totalCountIsExact } }"
    before = (await run(query))["subjects"]
    assert before == {"totalCount": 5, "totalCountIsExact": True}
    row = await models.Disclosure.filter(record_type=RecordType.SUBJECT).first()
    assert row is not None  # copied with new keys: each copy is a published subject of its own
    copied = {
        f: getattr(row, f)
        for f in models.Disclosure._meta.db_fields
        if f not in ("id", "record_key", "release_id")
    }

    async def copies(start: int, count: int) -> None:
        await models.Disclosure.bulk_create(
            [
                models.Disclosure(
                    **copied, release_id=row.release_id, record_key=f"{row.record_key}/{i}"
                )
                for i in range(start, start + count)
            ],
            batch_size=1000,
        )

    await copies(0, 995)
    assert (await run(query))["subjects"] == {"totalCount": 1_000, "totalCountIsExact": True}
    await copies(995, 1)
    assert (await run(query))["subjects"] == {"totalCount": 1_000, "totalCountIsExact": False}


async def test_the_number_of_queries_does_not_grow_with_the_page_size(
    published: dataset.Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = connections.get("default")
    calls: list[str] = []
    original = connection.execute_query_dict

    async def counted(query: str, values: Any = None) -> Any:
        calls.append(query)
        return await original(query, values)

    monkeypatch.setattr(connection, "execute_query_dict", counted)
    counts = []
    for size in (2, 5):  # both pages hold projects with every relation filled
        calls.clear()
        await run(SUBJECTS, first=size)
        counts.append(len(calls))
    assert counts[0] == counts[1], counts


def test_sdl_is_exported_and_current() -> None:
    assert SDL.read_text(encoding="utf-8") == SCHEMA.as_str() + "\n", (
        "regenerate with: .venv/bin/python -m schema.public.export"
    )


def test_every_type_and_field_has_a_description() -> None:
    missing = []
    for name, graphql_type in SCHEMA._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []


def test_no_mutations_and_no_working_data_types() -> None:
    assert SCHEMA._schema.mutation_type is None
    names = set(SCHEMA._schema.type_map)
    assert not names & {"SensitivityFiling", "AuditEntry", "Finding", "Rectification"}


async def test_validation_and_parsing_are_cached(
    published: dataset.Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    import strawberry.schema.schema as strawberry_schema

    validations = 0
    original = strawberry_schema.validate

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal validations
        validations += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counted)
    query = "{ subjects(first: 3) { nodes { key name } } }  # cache regression"
    for _ in range(5):
        await run(query)
    assert validations == 1  # strawberry #4635: the limiters must not defeat the cache


async def test_limits_depth_aliases_and_cost(published: dataset.Built) -> None:
    deep = "{ subjects(first: 1) { nodes { department " + "{ parent " * 8 + "{ name }"
    deep += " }" * 8 + " } } }"
    assert "exceeds maximum operation depth" in await fails(deep)
    aliases = (
        "{ "
        + " ".join(f"a{i}: jurisdictions(first: 1) {{ nodes {{ code }} }}" for i in range(20))
        + " }"
    )
    assert "aliases" in await fails(aliases)
    page = "subjects(first: 100) { nodes { target { indicators { name level1 level2 weight } } } }"
    costly = "{ " + " ".join(f"s{i}: {page}" for i in range(10)) + " }"
    assert "query cost" in await fails(costly)
    result = await SCHEMA.execute(
        "{ jurisdictions(first: 1) { nodes { code } } }", context_value=Context()
    )
    assert result.extensions == {"cost": {"requested": 3, "maximum": 50000}}


async def test_unexpected_errors_are_masked(
    published: dataset.Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    import schema.pagination

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail PUBD1X")

    monkeypatch.setattr(schema.pagination, "fetch", broken)
    message = await fails("{ subjects(first: 1) { nodes { key } } }")
    assert message == "Unexpected error."


def test_introspection_is_off_in_production() -> None:
    query = "{ __schema { queryType { name } } }"
    production = build(production=True)
    result = production.execute_sync(query)
    assert result.data is None
    assert result.errors is not None
    disabled = "GraphQL introspection has been disabled, but the requested query contained"
    assert [e.message for e in result.errors] == [
        f"{disabled} the field '__schema'.",
        f"{disabled} the field 'queryType'.",
    ]
    # The same query is answered in development: it is the production switch that refuses it.
    assert build(production=False).execute_sync(query).data == {
        "__schema": {"queryType": {"name": "Query"}}
    }


OUTCOMES = """
query($filter: SubjectFilter) {
  subjects(first: 10, filter: $filter) {
    nodes {
      target { indicators { name level1 targetValue unit } }
      selfAssessment { rows { indicatorName targetValue actualValue score deviationReason } }
      targetsAgainstActuals {
        level1 level1Label level2 name budgetTarget unit assessedTarget actualValue weight score
        deviationReason source
      }
    }
  }
}
"""


async def test_targets_against_actuals_pair_the_budget_with_the_final_accounts(
    published: dataset.Built,
) -> None:
    data = await run(OUTCOMES, filter={"code": "PUBP2-0Q"})
    [subject] = data["subjects"]["nodes"]
    indicators = subject["target"]["indicators"]
    rows = subject["selfAssessment"]["rows"]
    paired = subject["targetsAgainstActuals"]
    assert len(paired) == len(indicators) == len(rows) == 4
    for pair, indicator, row in zip(paired, indicators, rows, strict=True):
        assert pair["source"] == "BOTH"
        assert (pair["name"], pair["level1"]) == (indicator["name"], indicator["level1"])
        assert (pair["budgetTarget"], pair["unit"]) == (indicator["targetValue"], indicator["unit"])
        assert (pair["assessedTarget"], pair["actualValue"], pair["score"]) == (
            row["targetValue"],
            row["actualValue"],
            row["score"],
        )


def test_outcomes_match_by_indicator_and_keep_what_either_side_alone_has() -> None:
    def indicator(name: str, level2: str = "QUANTITY") -> dict[str, Any]:
        return {
            "level1": "OUTPUT",
            "level1Label": "产出指标",
            "level2": level2,
            "level2Label": "数量指标",
            "name": name,
            "targetValue": f"≥{name}",
            "unit": "个",
            "weight": "10.00",
        }

    def row(name: str, level2: str = "QUANTITY") -> dict[str, Any]:
        return {
            "level1": "OUTPUT",
            "level1Label": "产出指标",
            "level2": level2,
            "level2Label": "数量指标",
            "indicatorName": name,
            "targetValue": f"≥{name}",
            "actualValue": f"={name}",
            "weight": "10.00",
            "score": "9.00",
            "deviationReason": "",
        }

    target = {"indicators": [indicator("甲"), indicator("乙"), indicator("乙"), indicator("丙")]}
    # 乙 twice on each side, the second row of 乙 by position; 丙 only budgeted; 丁 only
    # assessed; 甲 assessed under another 二级指标 is another indicator
    assessment = {"rows": [row("乙"), row("甲", "QUALITY"), row("乙"), row("丁")]}
    got = [
        (o["name"], o["level2"], o["source"].value, o["actualValue"])
        for o in t.outcomes(target, assessment)
    ]
    assert got == [
        ("甲", "QUANTITY", "TARGET_ONLY", None),
        ("乙", "QUANTITY", "BOTH", "=乙"),
        ("乙", "QUANTITY", "BOTH", "=乙"),
        ("丙", "QUANTITY", "TARGET_ONLY", None),
        ("甲", "QUALITY", "ASSESSMENT_ONLY", "=甲"),
        ("丁", "QUANTITY", "ASSESSMENT_ONLY", "=丁"),
    ]
    assert [o["source"].value for o in t.outcomes(None, None)] == []
    budget_only = t.outcomes(target, None)
    assert {o["source"].value for o in budget_only} == {"TARGET_ONLY"}
    assert budget_only[0]["weight"] == "10.00" and budget_only[0]["actualValue"] is None
