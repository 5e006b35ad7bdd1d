"""The public root queries: lists as Relay connections with filters and ordering, `node(id:)`,
and the statistics journalists ask for. All of it reads published snapshot rows only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from publishers import search
from schema import rows
from schema.context import Context
from schema.pagination import Page, PageRequest, page
from schema.public import types as t
from schema.rows import Where
from storage.enums import RecordType

N = TypeVar("N")


def _f(description: str) -> Any:
    return strawberry.field(description=description)


@strawberry.type(description="Relay page information.")
class PageInfo:
    hasNextPage: bool = _f("More rows follow this page.")
    hasPreviousPage: bool = _f("Rows precede this page.")
    startCursor: str | None = _f("Cursor of the first row.")
    endCursor: str | None = _f("Cursor of the last row.")


@strawberry.type(description="A row of a connection and its cursor.")
class Edge(Generic[N]):
    cursor: str = _f("Opaque cursor; stays valid when rows are added.")
    node: N = _f("The row.")


@strawberry.type(description="A page of a list (Relay cursor connection).")
class Connection(Generic[N]):
    edges: list[Edge[N]] = _f("The rows with their cursors.")
    nodes: list[N] = _f("The rows.")
    pageInfo: PageInfo = _f("Where this page sits.")

    @strawberry.field(description="How many rows match, across all pages.")
    async def totalCount(self) -> int:
        result: Page = self["_page"]
        return await result.total()


def connection(result: Page) -> dict[str, Any]:
    return {
        "_page": result,
        "edges": [
            {"cursor": c, "node": n} for c, n in zip(result.cursors, result.nodes, strict=True)
        ],
        "nodes": result.nodes,
        "pageInfo": {
            "hasNextPage": result.has_next,
            "hasPreviousPage": result.has_previous,
            "startCursor": result.cursors[0] if result.cursors else None,
            "endCursor": result.cursors[-1] if result.cursors else None,
        },
    }


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(description="How to sort subjects.")
class SubjectOrderField(Enum):
    KEY = "d.record_key"
    NAME = "d.name"
    FISCAL_YEAR = "d.fiscal_year"
    BUDGET = "COALESCE(d.budget_fen, -1)"
    EXECUTED = "COALESCE(d.executed_fen, -1)"


@strawberry.input(description="Sort order of subjects.")
class SubjectOrder:
    field: SubjectOrderField = _f("Sort by this.")
    direction: Direction = strawberry.field(default=Direction.ASC, description="Direction.")


@strawberry.enum(description="How to sort assessments and evaluations.")
class ScoreOrderField(Enum):
    KEY = "d.record_key"
    SCORE = "COALESCE(d.score_hundredths, -1)"
    FISCAL_YEAR = "d.fiscal_year"


@strawberry.input(description="Sort order of assessments and evaluations.")
class ScoreOrder:
    field: ScoreOrderField = _f("Sort by this.")
    direction: Direction = strawberry.field(default=Direction.ASC, description="Direction.")


@strawberry.input(description="Which published records: every given condition must hold.")
class CommonFilter:
    fiscalYear: int | None = strawberry.field(default=None, description="Fiscal year.")
    jurisdictionCode: str | None = strawberry.field(default=None, description="Jurisdiction.")
    departmentCode: str | None = strawberry.field(default=None, description="主管部门 code.")


@strawberry.input(description="Which subjects: every given condition must hold.")
class SubjectFilter(CommonFilter):
    kind: t.SubjectKind | None = strawberry.field(default=None, description="Subject kind.")
    code: str | None = strawberry.field(
        default=None, description="Project code, as the budget system gives it."
    )
    budgetBook: t.BudgetBook | None = strawberry.field(default=None, description="Budget book.")
    fundingPurpose: t.FundingPurpose | None = strawberry.field(
        default=None, description="资金用途."
    )
    transferType: t.TransferType | None = strawberry.field(default=None, description="转移支付.")
    budgetMin: Decimal | None = strawberry.field(
        default=None, description="全年预算数 (or 年初预算数) at least, 元."
    )
    budgetMax: Decimal | None = strawberry.field(default=None, description="Budget at most, 元.")
    executedMin: Decimal | None = strawberry.field(default=None, description="全年执行数 ≥, 元.")
    executedMax: Decimal | None = strawberry.field(default=None, description="全年执行数 ≤, 元.")
    grade: t.Grade | None = strawberry.field(
        default=None, description="Its self-assessment earned this grade."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Chinese full-text search over names and goals (e.g. 绿化): every "
        "character pair of the query must occur.",
    )


@strawberry.input(description="Which assessments or evaluations: every condition must hold.")
class ScoreFilter(CommonFilter):
    grade: t.Grade | None = strawberry.field(default=None, description="Grade.")
    scoreMin: Decimal | None = strawberry.field(default=None, description="Score at least.")
    scoreMax: Decimal | None = strawberry.field(default=None, description="Score at most.")


@strawberry.input(description="Which releases.")
class ReleaseFilter(CommonFilter):
    kind: t.ReleaseKind | None = strawberry.field(default=None, description="Release kind.")


def _fen(value: Decimal) -> int:
    return int(value * 100)


def _common(where: Where, f: CommonFilter | None) -> None:
    if f is None:
        return
    if f.fiscalYear is not None:
        where.add("d.fiscal_year = ?", f.fiscalYear)
    if f.jurisdictionCode is not None:
        where.add("d.jurisdiction_code = ?", f.jurisdictionCode)
    if f.departmentCode is not None:
        where.add("d.department_code = ?", f.departmentCode)


def _search(where: Where, query: str) -> None:
    """D14: a subject matches when it, or its target, holds every bigram of the query."""
    bigrams, singles = search.query_grams(query)
    if not bigrams and not singles:
        raise rows.BadInput("`search` needs at least one letter, digit or Chinese character")
    matches = Where()
    for gram in sorted(bigrams):
        matches.add("m.id IN (SELECT g.disclosure_id FROM search_gram g WHERE g.gram = ?)", gram)
    for char in sorted(singles):
        # A one-character query: any bigram (or lone character) containing it.
        matches.add(
            "m.id IN (SELECT g.disclosure_id FROM search_gram g"
            " WHERE g.gram = ? OR g.gram LIKE ? OR g.gram LIKE ?)",
            char,
            f"{char}_",
            f"_{char}",
        )
    where.add(
        f"d.record_key IN (SELECT m.subject_key FROM disclosure m WHERE {matches.sql()}"
        " AND m.subject_key IS NOT NULL)",
        *matches.params,
    )


def subject_where(f: SubjectFilter | None) -> Where:
    where = Where()
    _common(where, f)
    if f is None:
        return where
    for column, value in (
        ("subject_kind", f.kind),
        ("budget_book", f.budgetBook),
        ("funding_purpose", f.fundingPurpose),
        ("transfer_type", f.transferType),
    ):
        if value is not None:
            where.add(f"d.{column} = ?", value.value)
    for column, low, high in (
        ("budget_fen", f.budgetMin, f.budgetMax),
        ("executed_fen", f.executedMin, f.executedMax),
    ):
        if low is not None:
            where.add(f"d.{column} >= ?", _fen(low))
        if high is not None:
            where.add(f"d.{column} <= ?", _fen(high))
    if f.code is not None:
        escaped = f.code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.add("d.record_key LIKE ? ESCAPE '\\'", f"%/{escaped}/%")
    if f.grade is not None:
        where.add(
            "d.record_key IN (SELECT a.subject_key FROM disclosure a"
            " WHERE a.record_type = 'SELF_ASSESSMENT' AND a.grade = ?)",
            f.grade.value,
        )
    if f.search is not None:
        _search(where, f.search)
    return where


def score_where(f: ScoreFilter | None) -> Where:
    where = Where()
    _common(where, f)
    if f is None:
        return where
    if f.grade is not None:
        where.add("d.grade = ?", f.grade.value)
    if f.scoreMin is not None:
        where.add("d.score_hundredths >= ?", _fen(f.scoreMin))
    if f.scoreMax is not None:
        where.add("d.score_hundredths <= ?", _fen(f.scoreMax))
    return where


def _request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest(first=first, after=after, last=last, before=before)


First = Annotated[int | None, strawberry.argument(description="Page size from the start (1–100).")]
After = Annotated[str | None, strawberry.argument(description="Rows after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (1–100).")]
Before = Annotated[str | None, strawberry.argument(description="Rows before this cursor.")]


# The root lists as plain functions of their arguments: the strawberry resolvers below and the
# compiled fast path (schema/public/fastpath.py) both call these, so both run the same SQL.


async def jurisdiction_page(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    result = await page(
        RecordType.JURISDICTION,
        Where(),
        "d.record_key",
        False,
        _request(first, after, last, before),
    )
    return connection(result)


async def department_page(
    filter: CommonFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    where = Where()
    if filter is not None and filter.fiscalYear is not None:
        # A department's current row may be of a later year: "published that year" it is.
        where.add(
            "d.record_key IN (SELECT y.record_key FROM disclosure y"
            " WHERE y.record_type = 'DEPARTMENT' AND y.fiscal_year = ?)",
            filter.fiscalYear,
        )
        filter = CommonFilter(
            jurisdictionCode=filter.jurisdictionCode, departmentCode=filter.departmentCode
        )
    _common(where, filter)
    result = await page(
        RecordType.DEPARTMENT,
        where,
        "d.record_key",
        False,
        _request(first, after, last, before),
    )
    return connection(result)


async def subject_page(
    filter: SubjectFilter | None = None,
    orderBy: SubjectOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    order = orderBy or SubjectOrder(field=SubjectOrderField.KEY)
    result = await page(
        RecordType.SUBJECT,
        subject_where(filter),
        order.field.value,
        order.direction is Direction.DESC,
        _request(first, after, last, before),
    )
    return connection(result)


async def target_page(
    filter: CommonFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    where = Where()
    _common(where, filter)
    result = await page(
        RecordType.TARGET, where, "d.record_key", False, _request(first, after, last, before)
    )
    return connection(result)


async def _score_page(
    record_type: RecordType,
    filter: ScoreFilter | None,
    orderBy: ScoreOrder | None,
    request: PageRequest,
) -> dict[str, Any]:
    order = orderBy or ScoreOrder(field=ScoreOrderField.KEY)
    result = await page(
        record_type,
        score_where(filter),
        order.field.value,
        order.direction is Direction.DESC,
        request,
    )
    return connection(result)


async def self_assessment_page(
    filter: ScoreFilter | None = None,
    orderBy: ScoreOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    request = _request(first, after, last, before)
    return await _score_page(RecordType.SELF_ASSESSMENT, filter, orderBy, request)


async def evaluation_page(
    filter: ScoreFilter | None = None,
    orderBy: ScoreOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    request = _request(first, after, last, before)
    return await _score_page(RecordType.EVALUATION, filter, orderBy, request)


async def release_page(
    filter: ReleaseFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    where = Where()
    _common(where, filter)
    if filter is not None and filter.kind is not None:
        where.add("d.release_kind = ?", filter.kind.value)
    result = await page(
        RecordType.RELEASE, where, "d.record_key", False, _request(first, after, last, before)
    )
    return connection(result)


async def annual_statement_page(
    filter: CommonFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    where = Where()
    _common(where, filter)
    result = await page(
        RecordType.ANNUAL_STATEMENT,
        where,
        "d.record_key",
        False,
        _request(first, after, last, before),
    )
    return connection(result)


#: The root lists by field name; their keyword arguments are the fields' arguments.
LISTS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "jurisdictions": jurisdiction_page,
    "departments": department_page,
    "subjects": subject_page,
    "targets": target_page,
    "selfAssessments": self_assessment_page,
    "evaluations": evaluation_page,
    "releases": release_page,
    "annualStatements": annual_statement_page,
}


@strawberry.type(description="Published budget-performance information (预算绩效信息公开).")
class Query:
    @strawberry.field(description="Any published record by its global ID.")
    async def node(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
    ) -> t.Node | None:
        record_type, key = rows.parse_node_id(str(id))
        return await info.context.loaders.record(record_type).load(key)

    @strawberry.field(description="Jurisdictions with published records.")
    async def jurisdictions(
        self,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.Jurisdiction]:
        return await jurisdiction_page(first, after, last, before)

    @strawberry.field(description="Published departments and units.")
    async def departments(
        self,
        filter: CommonFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.Department]:
        return await department_page(filter, first, after, last, before)

    @strawberry.field(description="Published projects, policies and department-overall subjects.")
    async def subjects(
        self,
        filter: SubjectFilter | None = None,
        orderBy: SubjectOrder | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.Subject]:
        return await subject_page(filter, orderBy, first, after, last, before)

    @strawberry.field(description="Published performance targets (with the budget).")
    async def targets(
        self,
        filter: CommonFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.PerformanceTarget]:
        return await target_page(filter, first, after, last, before)

    @strawberry.field(description="Published self-assessments (with the final accounts).")
    async def selfAssessments(
        self,
        filter: ScoreFilter | None = None,
        orderBy: ScoreOrder | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.SelfAssessment]:
        return await self_assessment_page(filter, orderBy, first, after, last, before)

    @strawberry.field(description="Published evaluation results.")
    async def evaluations(
        self,
        filter: ScoreFilter | None = None,
        orderBy: ScoreOrder | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.Evaluation]:
        return await evaluation_page(filter, orderBy, first, after, last, before)

    @strawberry.field(description="Published releases with their versions and correction notes.")
    async def releases(
        self,
        filter: ReleaseFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.Release]:
        return await release_page(filter, first, after, last, before)

    @strawberry.field(description="Annual statements of the finance authorities.")
    async def annualStatements(
        self,
        filter: CommonFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[t.AnnualStatement]:
        return await annual_statement_page(filter, first, after, last, before)
