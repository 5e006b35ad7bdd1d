"""Queries over the working data: Relay-style connections (`first` ≤ 100, keyset cursors on the
id), lookups by id and the finance bureau's dashboard. Every resolver filters through the
caller's `Visibility`: role scope first, then the CLASSIFIED rule (D6), so lists, counts and
lookups agree on what exists for the caller."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from publishers.coverage import check_year
from publishers.rules import SHANGHAI
from schema.internal import nodes as lookup
from schema.internal import types as t
from schema.internal.context import Info
from schema.internal.ids import parse, pk_of
from schema.internal.permissions import Action, Scope, Visibility, requires, scope_of
from schema.internal.visible import (
    audit_query,
    content_subject_filter,
    content_subject_ids,
    content_subjects,
    departments_query,
    documents_query,
    filings_query,
    releases_query,
    subjects_query,
)
from storage import enums, models

MAX_PAGE = 100
N = TypeVar("N")
M = TypeVar("M", bound=models.Model)

READ = [requires(Action.READ)]
READ_AUDIT = [requires(Action.READ_AUDIT)]


@strawberry.type(description="Where a page ends.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A node with its cursor.")
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type(description="A page of records (Relay connection).")
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="All matching records you may see.")

    @strawberry.field(description="The page's records without their cursors, as in `edges`.")
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]


def _cursor(id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{id}".encode()).decode()


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "id":
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise GraphQLError("`after` is not a cursor of this list", extensions={"code": "BAD_INPUT"})


async def paginate(
    query: QuerySet[M], first: int, after: str | None, build: Callable[[M], N]
) -> Connection[N]:
    if not 1 <= first <= MAX_PAGE:
        raise GraphQLError(
            f"`first` must be between 1 and {MAX_PAGE}, not {first}",
            extensions={"code": "BAD_INPUT"},
        )
    total = await query.count()
    start = _after(after)
    page = query.filter(id__gt=start) if start is not None else query
    rows = await page.order_by("id").limit(first + 1)
    more = len(rows) > first
    rows = rows[:first]
    edges = [Edge(cursor=_cursor(r.pk), node=build(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )


# --- filters ---------------------------------------------------------------------------------


@strawberry.input(description="Filter subjects.")
class SubjectFilter:
    department_id: strawberry.ID | None = None
    fiscal_year: int | None = None
    kind: enums.SubjectKind | None = None


@strawberry.input(description="Filter targets.")
class TargetFilter:
    subject_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="The department (主管部门) of the targets' subjects."
    )
    fiscal_year: int | None = None
    review_status: enums.ReviewStatus | None = None


@strawberry.input(description="Filter department documents.")
class DocumentFilter:
    department_id: strawberry.ID | None = None
    fiscal_year: int | None = None
    doc_kind: enums.DocKind | None = None


@strawberry.input(description="Filter releases.")
class ReleaseFilter:
    fiscal_year: int | None = None
    kind: enums.ReleaseKind | None = None
    status: enums.ReleaseStatus | None = None


def _pk(value: strawberry.ID, type_name: str) -> int:
    """A filter's global ID as a database id; one that names no such record matches nothing."""
    pk = pk_of(value, type_name)
    return -1 if pk is None else pk


@strawberry.type(description="Share of in-scope subjects with approved targets / assessments.")
class Coverage:
    fiscal_year: int
    in_scope_subjects: int
    with_approved_targets: int
    with_self_assessments: int
    approved_target_share: Decimal = strawberry.field(description="0–1, four places.")
    self_assessment_share: Decimal = strawberry.field(description="0–1, four places.")


@strawberry.type(
    description="应公开尽公开: a jurisdiction's disclosure obligation for a fiscal year (DR-3). "
    "Due: departments and in-scope subjects no filing covers; published: public in both their "
    "BUDGET and FINAL_ACCOUNTS releases; missing: not (yet) public in one of them."
)
class DisclosureCoverage:
    jurisdiction_code: str
    fiscal_year: int
    departments_due: int
    departments_published: int
    departments_missing: int
    subjects_due: int
    subjects_published: int
    subjects_missing: int
    departments_exempt: int | None = strawberry.field(
        description="Under a whole-department filing; shown to holders of the classified "
        "clearance only, since a count of filed departments says that they exist."
    )
    subjects_exempt: int | None = strawberry.field(
        description="In scope but under a filing; classified clearance only."
    )
    problems: int = strawberry.field(description="What `gongkai check --year` reports.")


@strawberry.type(description="The finance bureau's dashboard, limited to what you may see.")
class Dashboard:
    releases_due: list[t.Release] = strawberry.field(
        description="Unpublished releases, by due date (at most 100)."
    )
    releases_late: list[t.Release] = strawberry.field(
        description="Releases past their due date unpublished, or published late (at most 100)."
    )
    targets_awaiting_review: int = strawberry.field(description="SUBMITTED or DEPT_REVIEWED.")
    rectifications_overdue: int = strawberry.field(description="Open past their due date.")
    coverage: Coverage
    _vis: strawberry.Private[Visibility]
    _fiscal_year: strawberry.Private[int]

    @strawberry.field(
        description="Each jurisdiction's disclosure coverage for the year; empty unless you "
        "read all departments (a department sees only its own releases)."
    )
    async def disclosure(self) -> list[DisclosureCoverage]:
        # Computed only when asked for: it checks each jurisdiction's whole year.
        return await _disclosure(self._vis, self._fiscal_year)


def _share(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@strawberry.type(description="Working data for finance bureau and department staff.")
class WorkingQueries:
    @strawberry.field(description="Departments and units.", permission_classes=READ)
    async def departments(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[t.Department]:
        vis = await info.context.visibility()
        return await paginate(departments_query(vis), first, after, t.Department.from_model)

    @strawberry.field(description="A department by id.", permission_classes=READ)
    async def department(self, info: Info, id: strawberry.ID) -> t.Department | None:
        return await lookup.one(info.context, t.Department, id)

    @strawberry.field(
        description="Projects, policies, department-overall.", permission_classes=READ
    )
    async def subjects(
        self, info: Info, first: int, after: str | None = None, filter: SubjectFilter | None = None
    ) -> Connection[t.Subject]:
        vis = await info.context.visibility()
        query = subjects_query(vis)
        if filter is not None:
            if filter.department_id is not None:
                query = query.filter(department_id=_pk(filter.department_id, "Department"))
            if filter.fiscal_year is not None:
                query = query.filter(fiscal_year=filter.fiscal_year)
            if filter.kind is not None:
                query = query.filter(kind=filter.kind)
        return await paginate(
            query, first, after, lambda r: t.Subject.from_model(r, stub=vis.is_stub(r.id))
        )

    @strawberry.field(description="A subject by id.", permission_classes=READ)
    async def subject(self, info: Info, id: strawberry.ID) -> t.Subject | None:
        return await lookup.one(info.context, t.Subject, id)

    @strawberry.field(description="Performance targets.", permission_classes=READ)
    async def targets(
        self, info: Info, first: int, after: str | None = None, filter: TargetFilter | None = None
    ) -> Connection[t.PerformanceTarget]:
        vis = await info.context.visibility()
        query = models.PerformanceTarget.filter(subject_id__in=content_subject_filter(vis))
        if filter is not None:
            if filter.subject_id is not None:
                query = query.filter(subject_id=_pk(filter.subject_id, "Subject"))
            if filter.department_id is not None:
                department = _pk(filter.department_id, "Department")
                query = query.filter(subject__department_id=department)
            if filter.fiscal_year is not None:
                query = query.filter(fiscal_year=filter.fiscal_year)
            if filter.review_status is not None:
                query = query.filter(review_status=filter.review_status)
        return await paginate(query, first, after, t.PerformanceTarget.from_model)

    @strawberry.field(description="A target by id.", permission_classes=READ)
    async def target(self, info: Info, id: strawberry.ID) -> t.PerformanceTarget | None:
        return await lookup.one(info.context, t.PerformanceTarget, id)

    @strawberry.field(description="Self-assessments.", permission_classes=READ)
    async def self_assessments(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        fiscal_year: int | None = None,
        subject_id: strawberry.ID | None = None,
    ) -> Connection[t.SelfAssessment]:
        vis = await info.context.visibility()
        query = models.SelfAssessment.filter(subject_id__in=content_subject_filter(vis))
        if fiscal_year is not None:
            query = query.filter(fiscal_year=fiscal_year)
        if subject_id is not None:
            query = query.filter(subject_id=_pk(subject_id, "Subject"))
        return await paginate(query, first, after, t.SelfAssessment.from_model)

    @strawberry.field(description="A self-assessment by id.", permission_classes=READ)
    async def self_assessment(self, info: Info, id: strawberry.ID) -> t.SelfAssessment | None:
        return await lookup.one(info.context, t.SelfAssessment, id)

    @strawberry.field(description="In-year monitoring records.", permission_classes=READ)
    async def monitoring_records(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[t.MonitoringRecord]:
        vis = await info.context.visibility()
        query = models.MonitoringRecord.filter(subject_id__in=await content_subject_ids(vis))
        return await paginate(query, first, after, t.MonitoringRecord.from_model)

    @strawberry.field(description="Ex-ante assessments.", permission_classes=READ)
    async def ex_ante_assessments(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[t.ExAnteAssessment]:
        vis = await info.context.visibility()
        query = models.ExAnteAssessment.filter(subject_id__in=await content_subject_ids(vis))
        return await paginate(query, first, after, t.ExAnteAssessment.from_model)

    @strawberry.field(description="Evaluations.", permission_classes=READ)
    async def evaluations(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[t.Evaluation]:
        vis = await info.context.visibility()
        query = models.Evaluation.filter(subject_id__in=await content_subject_ids(vis))
        return await paginate(query, first, after, t.Evaluation.from_model)

    @strawberry.field(description="Rectifications of findings.", permission_classes=READ)
    async def rectifications(
        self, info: Info, first: int, after: str | None = None, overdue_only: bool = False
    ) -> Connection[t.Rectification]:
        vis = await info.context.visibility()
        today = info.context.today()
        query = models.Rectification.filter(
            finding__evaluation__subject_id__in=await content_subject_ids(vis)
        )
        if overdue_only:
            query = query.filter(due_date__lt=today, status__in=list(t.OPEN_RECTIFICATIONS))
        page = await paginate(query, first, after, lambda r: r)
        findings = {
            f.id: f
            for f in await models.Finding.filter(id__in=[e.node.finding_id for e in page.edges])
        }
        return Connection(
            edges=[
                Edge(
                    cursor=e.cursor,
                    node=t.Rectification.from_model(e.node, findings[e.node.finding_id], today),
                )
                for e in page.edges
            ],
            page_info=page.page_info,
            total_count=page.total_count,
        )

    @strawberry.field(description="Sensitivity filings.", permission_classes=READ)
    async def filings(
        self, info: Info, first: int, after: str | None = None, fiscal_year: int | None = None
    ) -> Connection[t.SensitivityFiling]:
        vis = await info.context.visibility()
        query = await filings_query(vis)
        if fiscal_year is not None:
            query = query.filter(fiscal_year=fiscal_year)
        connection = await paginate(query, first, after, lambda r: r)
        projects = await lookup.project_ids([edge.node.id for edge in connection.edges])
        return Connection(
            edges=[
                Edge(
                    cursor=e.cursor,
                    node=t.SensitivityFiling.from_model(e.node, projects[e.node.id]),
                )
                for e in connection.edges
            ],
            page_info=connection.page_info,
            total_count=connection.total_count,
        )

    @strawberry.field(description="Releases.", permission_classes=READ)
    async def releases(
        self, info: Info, first: int, after: str | None = None, filter: ReleaseFilter | None = None
    ) -> Connection[t.Release]:
        vis = await info.context.visibility()
        today = info.context.today()
        query = releases_query(vis)
        if filter is not None:
            if filter.fiscal_year is not None:
                query = query.filter(fiscal_year=filter.fiscal_year)
            if filter.kind is not None:
                query = query.filter(kind=filter.kind)
            if filter.status is not None:
                query = query.filter(status=filter.status)
        return await paginate(query, first, after, lambda r: t.Release.from_model(r, today))

    @strawberry.field(description="A release by id.", permission_classes=READ)
    async def release(self, info: Info, id: strawberry.ID) -> t.Release | None:
        return await lookup.one(info.context, t.Release, id)

    @strawberry.field(
        description="The audit log, newest last (auditors, admins).", permission_classes=READ_AUDIT
    )
    async def audit_log(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        record_type: str | None = None,
        record_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The global ID of a record: its entries only."),
        ] = None,
        actor: Annotated[
            str | None, strawberry.argument(description="Entries by this actor (subject) only.")
        ] = None,
        since: Annotated[
            date | None,
            strawberry.argument(description="Entries on or after this day (Asia/Shanghai)."),
        ] = None,
        until: Annotated[
            date | None,
            strawberry.argument(description="Entries on or before this day (Asia/Shanghai)."),
        ] = None,
    ) -> Connection[t.AuditEntry]:
        vis = await info.context.visibility()
        query = await audit_query(vis)
        if record_type is not None:
            query = query.filter(record_type=record_type)
        if record_id is not None:
            about = parse(record_id) or ("", 0)
            query = query.filter(record_type=about[0], record_id=str(about[1]))
        if actor is not None:
            query = query.filter(actor=actor)
        if since is not None:
            # in UTC: SQLite compares the stored text
            start = datetime.combine(since, time(), SHANGHAI).astimezone(UTC)
            query = query.filter(at__gte=start)
        if until is not None:
            end = datetime.combine(until + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
            query = query.filter(at__lt=end)
        return await paginate(query, first, after, t.AuditEntry.from_model)

    @strawberry.field(
        description="Department documents (budget, final accounts …): metadata, not bytes.",
        permission_classes=READ,
    )
    async def documents(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        filter: DocumentFilter | None = None,
    ) -> Connection[t.StoredFile]:
        vis = await info.context.visibility()
        query = await documents_query(vis)
        if filter is not None:
            if filter.department_id is not None:
                query = query.filter(department_id=_pk(filter.department_id, "Department"))
            if filter.fiscal_year is not None:
                query = query.filter(fiscal_year=filter.fiscal_year)
            if filter.doc_kind is not None:
                query = query.filter(doc_kind=filter.doc_kind)
        return await paginate(query, first, after, t.StoredFile.from_model)

    @strawberry.field(
        description="Any record by its global ID; null when there is none you may see.",
        permission_classes=READ,
    )
    async def node(self, info: Info, id: strawberry.ID) -> t.Node | None:
        return (await lookup.resolve(info.context, [id]))[0]

    @strawberry.field(
        description=f"Records by their global IDs (at most {MAX_PAGE}), in order; null for each "
        "one there is none you may see.",
        permission_classes=READ,
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[t.Node | None]:
        if len(ids) > MAX_PAGE:
            raise GraphQLError(
                f"ask for at most {MAX_PAGE} ids, not {len(ids)}", extensions={"code": "BAD_INPUT"}
            )
        return await lookup.resolve(info.context, ids)

    @strawberry.field(description="The finance bureau's dashboard.", permission_classes=READ)
    async def dashboard(self, info: Info, fiscal_year: int) -> Dashboard:
        vis = await info.context.visibility()
        today = info.context.today()
        releases = releases_query(vis)
        due = (
            await releases.exclude(status=enums.ReleaseStatus.PUBLISHED)
            .order_by("due_date", "id")
            .limit(MAX_PAGE)
        )
        late = await _late(releases, today)
        awaiting = await models.PerformanceTarget.filter(
            subject_id__in=content_subject_filter(vis),
            review_status__in=[enums.ReviewStatus.SUBMITTED, enums.ReviewStatus.DEPT_REVIEWED],
        ).count()
        overdue = await models.Rectification.filter(
            finding__evaluation__subject_id__in=content_subject_filter(vis),
            due_date__lt=today,
            status__in=list(t.OPEN_RECTIFICATIONS),
        ).count()
        return Dashboard(
            releases_due=[t.Release.from_model(r, today) for r in due],
            releases_late=[t.Release.from_model(r, today) for r in late],
            targets_awaiting_review=awaiting,
            rectifications_overdue=overdue,
            coverage=await _coverage(vis, fiscal_year),
            _vis=vis,
            _fiscal_year=fiscal_year,
        )


async def _disclosure(vis: Visibility, fiscal_year: int) -> list[DisclosureCoverage]:
    if scope_of(vis.caller, Action.READ) is not Scope.ALL:
        return []
    found = []
    for jurisdiction in await models.Jurisdiction.all().order_by("code"):
        year = await check_year(jurisdiction, fiscal_year)
        d, s = year.departments, year.subjects
        cleared = vis.caller.classified
        found.append(
            DisclosureCoverage(
                jurisdiction_code=jurisdiction.code,
                fiscal_year=fiscal_year,
                departments_due=d.due,
                departments_published=d.published,
                departments_missing=d.missing,
                subjects_due=s.due,
                subjects_published=s.published,
                subjects_missing=s.missing,
                departments_exempt=d.exempt if cleared else None,
                subjects_exempt=s.exempt if cleared else None,
                problems=len(year.problems),
            )
        )
    return found


async def _late(releases: QuerySet[models.Release], today: date) -> list[models.Release]:
    unpublished = (
        await releases.exclude(status=enums.ReleaseStatus.PUBLISHED)
        .filter(due_date__lt=today)
        .order_by("due_date", "id")
        .limit(MAX_PAGE)
    )
    published = [
        r
        for r in await releases.filter(status=enums.ReleaseStatus.PUBLISHED).order_by("id")
        if r.published_at is not None and r.published_at.date() > r.due_date
    ]
    return (unpublished + published)[:MAX_PAGE]


async def _coverage(vis: Visibility, fiscal_year: int) -> Coverage:
    def in_scope() -> QuerySet[models.Subject]:
        return content_subjects(vis).filter(fiscal_year=fiscal_year, in_disclosure_scope=True)

    # Subqueries: the database reads the subjects, rather than a list of every id in each query.
    subjects = await in_scope().count()
    approved = await models.PerformanceTarget.filter(
        subject_id__in=Subquery(in_scope().values("id")),
        review_status=enums.ReviewStatus.FINANCE_APPROVED,
    ).values_list("subject_id", flat=True)
    assessed = await models.SelfAssessment.filter(
        subject_id__in=Subquery(in_scope().values("id"))
    ).values_list("subject_id", flat=True)
    with_targets, with_assessments = len(set(approved)), len(set(assessed))
    return Coverage(
        fiscal_year=fiscal_year,
        in_scope_subjects=subjects,
        with_approved_targets=with_targets,
        with_self_assessments=with_assessments,
        approved_target_share=_share(with_targets, subjects),
        self_assessment_share=_share(with_assessments, subjects),
    )
