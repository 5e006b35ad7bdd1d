"""The public root queries: lists as Relay connections with filters and ordering, `node(id:)`,
and the statistics journalists ask for. All of it reads published snapshot rows only."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from publishers import search
from publishers.records import KEY_SEPARATOR as SEP
from schema import rows
from schema.context import Context
from schema.pagination import COUNT_LIMIT, Page, PageRequest, page
from schema.public import notices
from schema.public import types as t
from schema.rows import Where
from storage import database
from storage.enums import RecordType
from storage.errors import InvalidRecord
from storage.validation import Text, check_number, check_text

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

    @strawberry.field(
        description=f"How many rows match, across all pages, counted up to {COUNT_LIMIT:,}: when"
        f" more match it is {COUNT_LIMIT:,} and `totalCountIsExact` is false. `statistics`"
        " counts published subjects exactly, by year, department, budget book or purpose."
    )
    async def totalCount(self) -> int:
        result: Page = self["_page"]
        return await result.total()

    @strawberry.field(
        description=f"Whether `totalCount` is the exact number of rows (at most {COUNT_LIMIT:,})."
    )
    async def totalCountIsExact(self) -> bool:
        result: Page = self["_page"]
        return await result.exact()


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
        description="Chinese full-text search over names and goals (e.g. 绿化): every word "
        "of the query (its letters, digits and Chinese characters between spaces or "
        "punctuation) must occur as written, ignoring case and full-width forms, either in the "
        "subject's name and department or in its target's goal and indicators.",
    )


@strawberry.input(description="Which assessments or evaluations: every condition must hold.")
class ScoreFilter(CommonFilter):
    grade: t.Grade | None = strawberry.field(default=None, description="Grade.")
    scoreMin: Decimal | None = strawberry.field(default=None, description="Score at least.")
    scoreMax: Decimal | None = strawberry.field(default=None, description="Score at most.")


@strawberry.input(description="Which releases.")
class ReleaseFilter(CommonFilter):
    kind: t.ReleaseKind | None = strawberry.field(default=None, description="Release kind.")


@strawberry.input(description="Which correction notices: every given condition must hold.")
class CorrectionNoticeFilter:
    fiscalYear: int | None = strawberry.field(default=None, description="Fiscal year.")
    jurisdictionCode: str | None = strawberry.field(default=None, description="Jurisdiction.")


def _fen(value: Decimal) -> int:
    return int(value * 100)


#: a filter's text: codes, a search query (the request body bounds it too)
FILTER_TEXT = Text(200)


def check_filter(f: Any) -> None:
    """A filter's texts hold no control characters (PostgreSQL cannot even compare NUL) and its
    numbers are finite and in range (1e400 元 is no BIGINT of 分): a `BadInput` naming the field,
    not an unexpected error from the database."""
    for field in dataclasses.fields(f):
        value = getattr(f, field.name)
        try:
            if isinstance(value, str):
                check_text(f"filter.{field.name}", value, FILTER_TEXT)
            elif isinstance(value, Decimal):
                check_number(f"filter.{field.name}", value)
        except InvalidRecord as error:
            raise rows.BadInput(f"`{error.field}`: {error.message}") from None


def _common(where: Where, f: CommonFilter | None) -> None:
    if f is None:
        return
    check_filter(f)
    if f.fiscalYear is not None:
        where.add("d.fiscal_year = ?", f.fiscalYear)
    if f.jurisdictionCode is not None:
        where.add("d.jurisdiction_code = ?", f.jurisdictionCode)
    if f.departmentCode is not None:
        where.add("d.department_code = ?", f.departmentCode)


#: Runs this long or longer are found in the records' text (`disclosure.search_text`), on
#: PostgreSQL through its trigram index: a trigram index needs three characters to narrow.
LONG_RUN = 3


def _search(where: Where, query: str) -> None:
    """D14, D28: a subject matches when it, or its target, holds every run of the query as
    written (`publishers/search.py`).

    On PostgreSQL, a query with a run of three characters or more is answered from the
    records' text: the pg_trgm index finds the records holding the long runs, and the short
    runs are checked on those (`search_text || ''` is not the indexed expression, so the
    planner cannot choose to scan the whole index for a two-character run, which holds no
    trigram). Otherwise the bigram postings are intersected and the long runs, if any, checked
    on what remains.

    The postings are one INTERSECT of each gram's postings, not one IN (…) per gram:
    PostgreSQL plans IN (…) subqueries as joins and orders them, and seven grams (a project's
    name) took 80 ms to plan for 3 ms of work (bench/scale.py, town); a set operation is
    planned branch by branch."""
    runs = search.query_runs(query)
    if not runs:
        raise rows.BadInput("`search` needs at least one letter, digit or Chinese character")
    long = [run for run in runs if len(run) >= LONG_RUN]
    matches = Where()
    if long and database.dialect() == "postgres":
        for run in long:
            matches.add("m.search_text LIKE ?", f"%{run}%")
        for run in runs:
            if len(run) < LONG_RUN:
                matches.add("(m.search_text || '') LIKE ?", f"%{run}%")
    else:
        bigrams, singles = search.query_grams(query)
        postings = Where()
        for gram in sorted(bigrams):
            postings.add("SELECT g.disclosure_id FROM search_gram g WHERE g.gram = ?", gram)
        for char in sorted(singles):
            # A one-character run: any bigram (or lone character) containing it.
            postings.add(
                "SELECT g.disclosure_id FROM search_gram g"
                " WHERE g.gram = ? OR g.gram LIKE ? OR g.gram LIKE ?",
                char,
                f"{char}_",
                f"_{char}",
            )
        matches.add(f"m.id IN ({' INTERSECT '.join(postings.parts)})", *postings.params)
        for run in long:  # holding its bigrams, a record may still not hold the run
            matches.add("m.search_text LIKE ?", f"%{run}%")
    # A run holds only letters, digits and CJK characters (`_` is read as a space): no LIKE
    # wildcard to escape.
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
        # A subject's key ends <code>/<four-digit year> (`subject_key`): anchored there, the
        # code cannot match the department segment, or a record of another kind.
        where.add("d.record_key LIKE ? ESCAPE '\\'", f"%{SEP}{escaped}{SEP}____")
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


First = Annotated[int | None, strawberry.argument(description="Page size from the start (1–100).")]
After = Annotated[str | None, strawberry.argument(description="Rows after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (1–100).")]
Before = Annotated[str | None, strawberry.argument(description="Rows before this cursor.")]
#: The Relay arguments of every root list, declared once: `relay` adds them to each list.
PAGE_ARGUMENTS = tuple(
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (("first", First), ("after", After), ("last", Last), ("before", Before))
)

Lister = Callable[..., Awaitable[Page]]
#: A root list's resolver. It answers a connection as a dict (the schema reads dicts with
#: `getitem`), typed Any so that it fits the field's annotation, `Connection[…]`.
RootList = Callable[..., Coroutine[Any, Any, Any]]


def relay(lister: Lister) -> RootList:
    """A root list as its resolver: `lister` takes its filters and a `request: PageRequest`;
    the resolver takes the same filters (names, types, defaults, order unchanged) followed by
    `PAGE_ARGUMENTS`, and answers the page as a connection. Strawberry reads the arguments from
    the resolver's signature, so the schema shows them exactly as if written out by hand."""
    own = [p for p in inspect.signature(lister).parameters.values() if p.name != "request"]

    async def resolver(**arguments: Any) -> dict[str, Any]:
        request = PageRequest(**{p.name: arguments.pop(p.name, None) for p in PAGE_ARGUMENTS})
        return connection(await lister(**arguments, request=request))

    resolver.__signature__ = inspect.Signature([*own, *PAGE_ARGUMENTS])  # type: ignore[attr-defined]
    # Its own name and module: strawberry resolves the filters' annotations in that module, and
    # the fast path (schema/public/fastpath.py) recognises root lists by qualified name.
    resolver.__module__, resolver.__name__ = lister.__module__, lister.__name__
    resolver.__qualname__, resolver.__doc__ = lister.__qualname__, lister.__doc__
    return resolver


# The root lists: what each one selects (`ListSpec`, from its arguments), and its resolver, a
# plain function of the same arguments that the compiled fast path (schema/public/fastpath.py)
# calls too, so both run the same SQL. The SQL compiler (schema/public/sqlpath.py) builds its one
# statement from the same specs.


@dataclasses.dataclass(frozen=True)
class ListSpec:
    """The current rows of `record_type` matching `where`, sorted by the SQL expression `order`
    (then the record key), ascending unless `descending`."""

    record_type: RecordType
    where: Where
    order: str = "d.record_key"
    descending: bool = False


async def _page(spec: ListSpec, request: PageRequest) -> Page:
    return await page(spec.record_type, spec.where, spec.order, spec.descending, request)


def jurisdiction_spec() -> ListSpec:
    return ListSpec(RecordType.JURISDICTION, Where())


@relay
async def jurisdiction_page(request: PageRequest) -> Page:
    return await _page(jurisdiction_spec(), request)


def department_spec(filter: CommonFilter | None = None) -> ListSpec:
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
    return ListSpec(RecordType.DEPARTMENT, where)


@relay
async def department_page(filter: CommonFilter | None = None, *, request: PageRequest) -> Page:
    return await _page(department_spec(filter), request)


def subject_spec(
    filter: SubjectFilter | None = None, orderBy: SubjectOrder | None = None
) -> ListSpec:
    order = orderBy or SubjectOrder(field=SubjectOrderField.KEY)
    descending = order.direction is Direction.DESC
    return ListSpec(RecordType.SUBJECT, subject_where(filter), order.field.value, descending)


@relay
async def subject_page(
    filter: SubjectFilter | None = None,
    orderBy: SubjectOrder | None = None,
    *,
    request: PageRequest,
) -> Page:
    return await _page(subject_spec(filter, orderBy), request)


def target_spec(filter: CommonFilter | None = None) -> ListSpec:
    where = Where()
    _common(where, filter)
    return ListSpec(RecordType.TARGET, where)


@relay
async def target_page(filter: CommonFilter | None = None, *, request: PageRequest) -> Page:
    return await _page(target_spec(filter), request)


def _score_spec(
    record_type: RecordType, filter: ScoreFilter | None, orderBy: ScoreOrder | None
) -> ListSpec:
    order = orderBy or ScoreOrder(field=ScoreOrderField.KEY)
    descending = order.direction is Direction.DESC
    return ListSpec(record_type, score_where(filter), order.field.value, descending)


def self_assessment_spec(
    filter: ScoreFilter | None = None, orderBy: ScoreOrder | None = None
) -> ListSpec:
    return _score_spec(RecordType.SELF_ASSESSMENT, filter, orderBy)


@relay
async def self_assessment_page(
    filter: ScoreFilter | None = None,
    orderBy: ScoreOrder | None = None,
    *,
    request: PageRequest,
) -> Page:
    return await _page(self_assessment_spec(filter, orderBy), request)


def evaluation_spec(
    filter: ScoreFilter | None = None, orderBy: ScoreOrder | None = None
) -> ListSpec:
    return _score_spec(RecordType.EVALUATION, filter, orderBy)


@relay
async def evaluation_page(
    filter: ScoreFilter | None = None,
    orderBy: ScoreOrder | None = None,
    *,
    request: PageRequest,
) -> Page:
    return await _page(evaluation_spec(filter, orderBy), request)


def release_spec(filter: ReleaseFilter | None = None) -> ListSpec:
    where = Where()
    _common(where, filter)
    if filter is not None and filter.kind is not None:
        where.add("d.release_kind = ?", filter.kind.value)
    return ListSpec(RecordType.RELEASE, where)


@relay
async def release_page(filter: ReleaseFilter | None = None, *, request: PageRequest) -> Page:
    return await _page(release_spec(filter), request)


def annual_statement_spec(filter: CommonFilter | None = None) -> ListSpec:
    where = Where()
    _common(where, filter)
    return ListSpec(RecordType.ANNUAL_STATEMENT, where)


@relay
async def annual_statement_page(
    filter: CommonFilter | None = None, *, request: PageRequest
) -> Page:
    return await _page(annual_statement_spec(filter), request)


@relay
async def correction_notice_page(
    filter: CorrectionNoticeFilter | None = None, *, request: PageRequest
) -> Page:
    f = filter or CorrectionNoticeFilter()
    check_filter(f)
    return await notices.notice_page(f.fiscalYear, f.jurisdictionCode, request)


#: The root lists by field name; their keyword arguments are the fields' arguments.
LISTS: dict[str, RootList] = {
    "jurisdictions": jurisdiction_page,
    "departments": department_page,
    "subjects": subject_page,
    "targets": target_page,
    "selfAssessments": self_assessment_page,
    "evaluations": evaluation_page,
    "releases": release_page,
    "annualStatements": annual_statement_page,
    "correctionNotices": correction_notice_page,
}
#: What the snapshot lists select, by field name, from the field's arguments less the Relay ones
#: (correction notices are read from their own table: not here).
SPECS: dict[str, Callable[..., ListSpec]] = {
    "jurisdictions": jurisdiction_spec,
    "departments": department_spec,
    "subjects": subject_spec,
    "targets": target_spec,
    "selfAssessments": self_assessment_spec,
    "evaluations": evaluation_spec,
    "releases": release_spec,
    "annualStatements": annual_statement_spec,
}


async def find_node(info: Info[Context, None], id: strawberry.ID) -> t.Node | None:
    record_type, key = rows.parse_node_id(str(id))
    return await info.context.loaders.record(record_type).load(key)


@strawberry.type(description="Published budget-performance information (预算绩效信息公开).")
class Query:
    # Fields as attributes, `node` too: strawberry lists attribute fields before method fields,
    # and the SDL keeps `node` first.
    node: t.Node | None = strawberry.field(
        resolver=find_node, description="Any published record by its global ID."
    )
    jurisdictions: Connection[t.Jurisdiction] = strawberry.field(
        resolver=jurisdiction_page, description="Jurisdictions with published records."
    )
    departments: Connection[t.Department] = strawberry.field(
        resolver=department_page, description="Published departments and units."
    )
    subjects: Connection[t.Subject] = strawberry.field(
        resolver=subject_page,
        description="Published projects, policies and department-overall subjects.",
    )
    targets: Connection[t.PerformanceTarget] = strawberry.field(
        resolver=target_page, description="Published performance targets (with the budget)."
    )
    selfAssessments: Connection[t.SelfAssessment] = strawberry.field(
        resolver=self_assessment_page,
        description="Published self-assessments (with the final accounts).",
    )
    evaluations: Connection[t.Evaluation] = strawberry.field(
        resolver=evaluation_page, description="Published evaluation results."
    )
    releases: Connection[t.Release] = strawberry.field(
        resolver=release_page,
        description="Published releases with their versions and correction notes.",
    )
    annualStatements: Connection[t.AnnualStatement] = strawberry.field(
        resolver=annual_statement_page,
        description="Annual statements of the finance authorities.",
    )
    correctionNotices: Connection[t.CorrectionNotice] = strawberry.field(
        resolver=correction_notice_page,
        description="Correction and withdrawal notices (更正/撤回公告), oldest first: the date "
        "and the kind of each, never what was withdrawn or how much (D7).",
    )
