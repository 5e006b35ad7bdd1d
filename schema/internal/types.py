"""GraphQL types of the working data. Each keeps its ORM row private and is built by
`from_model`; money is `Decimal` 元 (serialised as a string, never a float, D1)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

import schema.public.types  # noqa: F401 (registers the enums both schemas share)
from schema.internal.context import Info
from schema.internal.ids import global_id, optional_global_id, pk_of
from storage import enums, models
from storage.validation import AMOUNT_COLUMNS, AMOUNT_ROWS

# strawberry.enum registers the GraphQL enum on the class itself, so annotations name the
# domain enums directly (the public schema registers the others: importing it is enough).
for _cls, _description in [
    (enums.ReviewStatus, "绩效目标审核状态."),
    (enums.ReleaseStatus, "DRAFT → SCHEDULED → PUBLISHED."),
    (enums.FilingScope, "Whole department or listed projects."),
    (enums.FilingReason, "涉密 / 敏感."),
    (enums.FilingStatus, "Active unless withdrawn or revoked (D5)."),
    (enums.QualitativeBand, "定性指标评分档次."),
    (enums.EvaluationStatus, "评价进度."),
    (enums.FindingCategory, "问题类别."),
    (enums.RectificationStatus, "整改状态."),
]:
    strawberry.enum(_cls, description=_description)

AMOUNT_FIELDS = tuple(f"{c}_{r}" for c in AMOUNT_COLUMNS.values() for r in ("total", *AMOUNT_ROWS))


@strawberry.interface(description="An object with a global ID (Relay): `node(id:)` finds it.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Global ID; every argument that names a record takes it."
    )


@strawberry.type(description="A record a release would publish.")
class SelectedRecord:
    record_type: str = strawberry.field(description="e.g. `project`, `self_assessment`.")
    key: str = strawberry.field(description="Its key in the published files.")
    name: str
    department_code: str | None


@strawberry.type(description="A department (主管部门) or one of its units (所属预算单位).")
class Department(Node):
    code: str
    name: str
    tier: enums.DepartmentTier
    org_type: enums.OrgType
    parent_id: strawberry.ID | None
    disclosure_contact: str | None
    version: int = strawberry.field(description="Pass it back to update (optimistic locking).")

    @classmethod
    def from_model(cls, row: models.Department) -> Department:
        return cls(
            id=global_id(cls.__name__, row.id),
            code=row.code,
            name=row.name,
            tier=row.tier,
            org_type=row.org_type,
            parent_id=optional_global_id("Department", row.parent_id),
            disclosure_contact=row.disclosure_contact,
            version=row.version,
        )


@strawberry.type(
    description="The amounts block in 元: 年初预算数 / 全年预算数 / 全年执行数 × 来源."
)
class Amounts:
    initial_total: Decimal
    initial_appropriation: Decimal
    initial_carry_over: Decimal
    initial_other: Decimal
    full_year_total: Decimal
    full_year_appropriation: Decimal
    full_year_carry_over: Decimal
    full_year_other: Decimal
    executed_total: Decimal
    executed_appropriation: Decimal
    executed_carry_over: Decimal
    executed_other: Decimal


@strawberry.type(description="A project, policy or department-overall expenditure of a year.")
class Subject(Node):
    kind: enums.SubjectKind
    code: str
    fiscal_year: int
    name: str
    department_id: strawberry.ID
    implementing_unit_id: strawberry.ID | None
    budget_book: enums.BudgetBook
    in_disclosure_scope: bool
    publication_selected: bool
    classified: bool = strawberry.field(
        description="A CLASSIFIED stub (D6): identity only; amounts and content are withheld."
    )
    amounts: Amounts | None = strawberry.field(description="None for a classified stub.")
    version: int

    @classmethod
    def from_model(cls, row: models.Subject, *, stub: bool) -> Subject:
        amounts = None if stub else Amounts(**{f: getattr(row, f) for f in AMOUNT_FIELDS})
        return cls(
            id=global_id(cls.__name__, row.id),
            kind=row.kind,
            code=row.code,
            fiscal_year=row.fiscal_year,
            name=row.name,
            department_id=global_id("Department", row.department_id),
            implementing_unit_id=optional_global_id("Department", row.implementing_unit_id),
            budget_book=row.budget_book,
            in_disclosure_scope=row.in_disclosure_scope,
            publication_selected=row.publication_selected,
            classified=stub,
            amounts=amounts,
            version=row.version,
        )


@strawberry.type(description="A level-3 indicator (三级指标) of a target.")
class Indicator:
    position: int
    level1: enums.IndicatorL1
    level2: enums.IndicatorL2
    name: str
    nature: enums.IndicatorNature
    comparator: enums.Comparator
    target_value_raw: str
    target_value_number: Decimal | None
    unit: str | None
    weight: Decimal | None
    is_core: bool = strawberry.field(description="核心指标.")

    @classmethod
    def from_model(cls, row: models.Indicator) -> Indicator:
        return cls(
            position=row.position,
            level1=row.level1,
            level2=row.level2,
            name=row.name,
            nature=row.nature,
            comparator=row.comparator,
            target_value_raw=row.target_value_raw,
            target_value_number=row.target_value_number,
            unit=row.unit,
            weight=row.weight,
            is_core=row.is_core,
        )


@strawberry.type(description="绩效目标 with its review status.")
class PerformanceTarget(Node):
    row: strawberry.Private[models.PerformanceTarget]
    subject_id: strawberry.ID
    fiscal_year: int
    horizon: enums.TargetHorizon
    overall_goal: str
    review_status: enums.ReviewStatus
    rejection_reason: str | None
    version: int

    @strawberry.field(description="Its indicators, in form order.")
    async def indicators(self, info: Info) -> list[Indicator]:
        rows = await info.context.indicators.load(self.row.id)
        return [Indicator.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: models.PerformanceTarget) -> PerformanceTarget:
        return cls(
            row=row,
            id=global_id(cls.__name__, row.id),
            subject_id=global_id("Subject", row.subject_id),
            fiscal_year=row.fiscal_year,
            horizon=row.horizon,
            overall_goal=row.overall_goal,
            review_status=row.review_status,
            rejection_reason=row.rejection_reason,
            version=row.version,
        )


@strawberry.type(description="One scored row of a self-assessment form.")
class SelfAssessmentRow:
    position: int
    indicator_name: str
    weight: Decimal
    score: Decimal
    actual_value_raw: str
    deviation_reason: str

    @classmethod
    def from_model(cls, row: models.SelfAssessmentRow) -> SelfAssessmentRow:
        return cls(
            position=row.position,
            indicator_name=row.indicator_name,
            weight=row.weight,
            score=row.score,
            actual_value_raw=row.actual_value_raw,
            deviation_reason=row.deviation_reason,
        )


@strawberry.type(description="绩效自评, scored by the scoring rules.")
class SelfAssessment(Node):
    row: strawberry.Private[models.SelfAssessment]
    subject_id: strawberry.ID
    fiscal_year: int
    full_year_budget: Decimal
    executed: Decimal
    execution_rate: Decimal = strawberry.field(
        description="全年执行数 / 全年预算数, percent, two places (half-up)."
    )
    execution_score: Decimal
    total_score: Decimal
    grade: enums.Grade
    version: int

    @strawberry.field(description="Its rows, in form order.")
    async def rows(self, info: Info) -> list[SelfAssessmentRow]:
        rows = await info.context.assessment_rows.load(self.row.id)
        return [SelfAssessmentRow.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: models.SelfAssessment) -> SelfAssessment:
        return cls(
            row=row,
            id=global_id(cls.__name__, row.id),
            subject_id=global_id("Subject", row.subject_id),
            fiscal_year=row.fiscal_year,
            full_year_budget=row.full_year_budget,
            executed=row.executed,
            execution_rate=row.execution_rate,
            execution_score=row.execution_score,
            total_score=row.total_score,
            grade=row.grade,
            version=row.version,
        )


@strawberry.type(description="涉密/敏感备案 of a department for a fiscal year.")
class SensitivityFiling(Node):
    fiscal_year: int
    department_id: strawberry.ID
    scope: enums.FilingScope
    reason: enums.FilingReason
    reference: str
    filed_with: str
    filed_at: date
    status: enums.FilingStatus
    project_ids: list[strawberry.ID]
    version: int

    @strawberry.field(
        description="The releases it affects: its department's of its fiscal year, which do "
        "not publish what it covers (a published one, once withdrawn and published again)."
    )
    async def releases(self, info: Info) -> list[Release]:
        from schema.internal.visible import releases_query

        department = pk_of(self.department_id, "Department")
        rows = await (
            releases_query(await info.context.visibility())
            .filter(department_id=department, fiscal_year=self.fiscal_year)
            .order_by("kind", "id")
        )
        today = info.context.today()
        return [Release.from_model(row, today) for row in rows]

    @classmethod
    def from_model(cls, row: models.SensitivityFiling, project_ids: list[int]) -> SensitivityFiling:
        return cls(
            id=global_id(cls.__name__, row.id),
            fiscal_year=row.fiscal_year,
            department_id=global_id("Department", row.department_id),
            scope=row.scope,
            reason=row.reason,
            reference=row.reference,
            filed_with=row.filed_with,
            filed_at=row.filed_at,
            status=row.status,
            project_ids=[global_id("Subject", i) for i in sorted(project_ids)],
            version=row.version,
        )


@strawberry.type(description="公开批次: a department's (or the finance authority's) release.")
class Release(Node):
    kind: enums.ReleaseKind
    fiscal_year: int
    department_id: strawberry.ID | None
    approval_date: date
    due_date: date = strawberry.field(description="Approval date + 20 calendar days.")
    publish_at: datetime | None = strawberry.field(description="Embargo: not public before.")
    status: enums.ReleaseStatus
    published_at: datetime | None
    current_version: int
    late: bool = strawberry.field(description="Published after, or still unpublished past, due.")
    version: int

    @classmethod
    def from_model(cls, row: models.Release, today: date) -> Release:
        done = row.published_at.date() if row.published_at is not None else None
        return cls(
            id=global_id(cls.__name__, row.id),
            kind=row.kind,
            fiscal_year=row.fiscal_year,
            department_id=optional_global_id("Department", row.department_id),
            approval_date=row.approval_date,
            due_date=row.due_date,
            publish_at=row.publish_at,
            status=row.status,
            published_at=row.published_at,
            current_version=row.current_version,
            late=(done or today) > row.due_date,
            version=row.version,
        )


@strawberry.type(description="绩效运行监控: execution and attainment during the year.")
class MonitoringRecord(Node):
    subject_id: strawberry.ID
    fiscal_year: int
    mode: enums.MonitoringMode
    as_of_date: date
    budget_to_date: Decimal
    executed_to_date: Decimal
    execution_rate: Decimal = strawberry.field(description="Percent, two places.")
    deviation_level: enums.DeviationLevel
    notes: str
    version: int

    @classmethod
    def from_model(cls, row: models.MonitoringRecord) -> MonitoringRecord:
        return cls(
            id=global_id(cls.__name__, row.id),
            subject_id=global_id("Subject", row.subject_id),
            fiscal_year=row.fiscal_year,
            mode=row.mode,
            as_of_date=row.as_of_date,
            budget_to_date=row.budget_to_date,
            executed_to_date=row.executed_to_date,
            execution_rate=row.execution_rate,
            deviation_level=row.deviation_level,
            notes=row.notes,
            version=row.version,
        )


@strawberry.type(description="事前绩效评估 of a new major project or policy.")
class ExAnteAssessment(Node):
    subject_id: strawberry.ID
    fiscal_year: int
    conducted_by: enums.AssessmentConductor
    conclusion: enums.ExAnteConclusion
    requested_amount: Decimal
    recommended_reduction: Decimal
    summary: str
    version: int

    @classmethod
    def from_model(cls, row: models.ExAnteAssessment) -> ExAnteAssessment:
        return cls(
            id=global_id(cls.__name__, row.id),
            subject_id=global_id("Subject", row.subject_id),
            fiscal_year=row.fiscal_year,
            conducted_by=row.conducted_by,
            conclusion=row.conclusion,
            requested_amount=row.requested_amount,
            recommended_reduction=row.recommended_reduction,
            summary=row.summary,
            version=row.version,
        )


@strawberry.type(
    description="An uploaded report or document: its metadata (the bytes stay in the database)."
)
class StoredFile(Node):
    title: str
    filename: str
    doc_kind: enums.DocKind
    media_type: str = strawberry.field(description="Recognised from the content, not the name.")
    size: int = strawberry.field(description="Bytes.")
    sha256: str
    fiscal_year: int
    department_id: strawberry.ID | None
    uploaded_by: str
    uploaded_at: datetime

    @classmethod
    def from_model(cls, row: models.StoredFile) -> StoredFile:
        return cls(
            id=global_id(cls.__name__, row.id),
            title=row.title,
            filename=row.filename,
            doc_kind=row.doc_kind,
            media_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            fiscal_year=row.fiscal_year,
            department_id=optional_global_id("Department", row.department_id),
            uploaded_by=row.uploaded_by,
            uploaded_at=row.created_at,
        )


@strawberry.type(description="评价报告: its main text (正文) and internal annexes.")
class EvaluationReport(Node):
    evaluation_id: strawberry.ID
    title: str
    main_text: StoredFile = strawberry.field(
        description="Published with the finance authority's annual release when DR-8 allows."
    )
    annexes: list[StoredFile] = strawberry.field(description="Never published (DR-8).")
    version: int

    @classmethod
    def from_model(
        cls, row: models.EvaluationReport, main_text: models.StoredFile, annexes: list[Any]
    ) -> EvaluationReport:
        return cls(
            id=global_id(cls.__name__, row.id),
            evaluation_id=global_id("Evaluation", row.evaluation_id),
            title=row.title,
            main_text=StoredFile.from_model(main_text),
            annexes=[StoredFile.from_model(a) for a in sorted(annexes, key=lambda a: a.id)],
            version=row.version,
        )


@strawberry.type(description="绩效评价 of a subject's spending.")
class Evaluation(Node):
    row: strawberry.Private[models.Evaluation]
    subject_id: strawberry.ID
    kind: enums.EvaluationKind
    fiscal_year: int
    organiser: str
    third_party: str | None
    budget_book: enums.BudgetBook
    amount_evaluated: Decimal
    score: Decimal | None
    grade: enums.Grade | None
    status: enums.EvaluationStatus
    version: int

    @strawberry.field(description="Its report, once uploaded.")
    async def report(self, info: Info) -> EvaluationReport | None:
        return await info.context.reports.load(self.row.id)

    @classmethod
    def from_model(cls, row: models.Evaluation) -> Evaluation:
        return cls(
            row=row,
            id=global_id(cls.__name__, row.id),
            subject_id=global_id("Subject", row.subject_id),
            kind=row.kind,
            fiscal_year=row.fiscal_year,
            organiser=row.organiser,
            third_party=row.third_party,
            budget_book=row.budget_book,
            amount_evaluated=row.amount_evaluated,
            score=row.score,
            grade=row.grade,
            status=row.status,
            version=row.version,
        )


@strawberry.type(description="整改: a finding's rectification, due 30 days after receipt.")
class Rectification(Node):
    finding_id: strawberry.ID
    category: enums.FindingCategory
    description: str
    notice_issued_at: date
    received_at: date
    due_date: date
    measures: str
    reported_at: date | None
    status: enums.RectificationStatus = strawberry.field(
        description="As stored, except that an open one past its due date reads OVERDUE at once "
        "(`flagOverdueRectifications` also stores it)."
    )
    overdue: bool = strawberry.field(description="Past due and not reported done.")
    version: int

    @classmethod
    def from_model(
        cls, row: models.Rectification, finding: models.Finding, today: date
    ) -> Rectification:
        overdue = is_overdue(row, today)
        return cls(
            id=global_id(cls.__name__, row.id),
            finding_id=global_id("Finding", row.finding_id),
            category=finding.category,
            description=finding.description,
            notice_issued_at=row.notice_issued_at,
            received_at=row.received_at,
            due_date=row.due_date,
            measures=row.measures,
            reported_at=row.reported_at,
            status=enums.RectificationStatus.OVERDUE if overdue else row.status,
            overdue=overdue,
            version=row.version,
        )


OPEN_RECTIFICATIONS = (
    enums.RectificationStatus.OPEN,
    enums.RectificationStatus.IN_PROGRESS,
    enums.RectificationStatus.OVERDUE,
)


def is_overdue(row: models.Rectification, today: date) -> bool:
    """S:000: a rectification not reported done within 30 days of the notice is overdue."""
    return row.status in OPEN_RECTIFICATIONS and row.due_date < today


#: Where a preview page's stylesheet may be: a path from the root, or an http(s) address.
STYLESHEET = re.compile(r"(?:/|https?://)[^\s\"'<>]+")
STYLESHEET_LENGTH = 500


@strawberry.type(description="A problem a release check found.")
class ReleaseProblem:
    rule: str
    record: str = strawberry.field(
        description="The record concerned, as `kind#number` (`subject#12`), or `(withheld)`."
    )
    message: str
    record_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The record's global ID, to look it up or link to it; null for a withheld "
        "record and for one with no type of its own here (a jurisdiction, an annual statement).",
    )


@strawberry.type(description="Who did what to which record, when (invariant 6).")
class AuditEntry(Node):
    at: datetime
    actor: str
    roles: list[str]
    department_code: str | None
    action: str
    record_type: str
    record_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the record the entry is about."
    )
    before: JSON | None
    after: JSON | None
    classified: bool
    request_id: str | None = strawberry.field(
        description="X-Request-ID of the HTTP request that made the write (in the server's logs)."
    )

    @classmethod
    def from_model(cls, row: models.AuditEntry) -> AuditEntry:
        return cls(
            id=global_id(cls.__name__, row.id),
            at=row.at,
            actor=row.actor,
            roles=list(row.roles),
            department_code=row.department_code,
            action=row.action,
            record_type=row.record_type,
            record_id=_record_node_id(row.record_type, row.record_id),
            before=row.before,
            after=row.after,
            classified=row.classified,
            request_id=row.request_id,
        )


def _record_node_id(record_type: str, record_id: str | None) -> strawberry.ID | None:
    if record_id is None or not record_id.isdigit():
        return None
    return global_id(record_type, int(record_id))


# --- mutation results ------------------------------------------------------------------------


@strawberry.type(description="The input breaks a rule: nothing was written.")
class InvalidInput:
    field: str = strawberry.field(description="Path of the offending input field.")
    rule: str = strawberry.field(description="Identifier of the rule it breaks.")
    message: str


@strawberry.type(description="No such record, or none you may see.")
class NotFound:
    message: str


@strawberry.type(description="Your roles do not allow this action on this record.")
class Forbidden:
    message: str


@strawberry.type(description="The record changed since the version you based this on.")
class Conflict:
    message: str
    current_version: int


@strawberry.type(description="Done: the department as it is now.")
class DepartmentSuccess:
    department: Department


@strawberry.type(description="Done: the subject as it is now.")
class SubjectSuccess:
    subject: Subject


@strawberry.type(description="Done: the target as it is now.")
class TargetSuccess:
    target: PerformanceTarget


@strawberry.type(description="Done: the assessment as it is now.")
class SelfAssessmentSuccess:
    assessment: SelfAssessment


@strawberry.type(description="Done: the filing as it is now.")
class FilingSuccess:
    filing: SensitivityFiling


@strawberry.type(description="Done: the monitoring record as it is now.")
class MonitoringSuccess:
    monitoring: MonitoringRecord


@strawberry.type(description="Done: the ex-ante assessment as it is now.")
class ExAnteSuccess:
    assessment: ExAnteAssessment


@strawberry.type(description="Done: the evaluation as it is now.")
class EvaluationSuccess:
    evaluation: Evaluation


@strawberry.type(description="Done: the rectification as it is now.")
class RectificationSuccess:
    rectification: Rectification


@strawberry.type(description="Done: the release as it is now.")
class ReleaseSuccess:
    release: Release


@strawberry.type(description="Done: the file is stored (metadata; the bytes are not echoed).")
class FileSuccess:
    file: StoredFile


@strawberry.type(description="Done: the report as it is now.")
class EvaluationReportSuccess:
    report: EvaluationReport


@strawberry.type(description="Done: the rectifications newly flagged OVERDUE (those you may see).")
class OverdueFlagged:
    flagged: int
    rectifications: list[Rectification]


@strawberry.type(
    description="An officer's decision that a finding of the personal-data guard is not "
    "personal data (DR-10): shown with every check of its release."
)
class PersonalDataException:
    finding: str
    location: str = strawberry.field(description="The record's key, or file#ID.")
    field: str = strawberry.field(description="The field's path, or the page of the file.")
    kind: str
    masked: str = strawberry.field(description="The datum with its middle hidden.")
    reason: str
    decided_by: str
    decided_at: datetime


@strawberry.type(description="A field published as a marked redaction (区分处理, DR-10).")
class FieldRedaction:
    record_key: str
    field: str
    redaction_basis: str
    decided_by: str
    decided_at: datetime


@strawberry.type(description="What publishing the release now would decide.")
class ReleaseCheck:
    release: Release
    ok: bool
    records: int = strawberry.field(description="How many records it would carry.")
    selected: list[SelectedRecord] = strawberry.field(
        default_factory=list,
        description="The records it would carry (a preview: nothing is written).",
    )
    files: list[str] = strawberry.field(
        default_factory=list, description="The titles of the files it would carry."
    )
    problems: list[ReleaseProblem]
    personal_data_exceptions: list[PersonalDataException] = strawberry.field(
        default_factory=list, description="Findings an officer marked as not personal data."
    )
    redactions: list[FieldRedaction] = strawberry.field(default_factory=list)
    protected_terms: int = strawberry.field(
        default=0, description="How many names and terms are registered (never echoed)."
    )
    #: renders the preview page, only when a client asks for it
    render_page: strawberry.Private[Callable[[str | None], Awaitable[bytes]] | None] = None

    @strawberry.field(
        description="The site's page of this release as publishing it now would render it "
        "(HTML, marked as a preview; its links lead nowhere until it is published). Its "
        "stylesheet link is `stylesheet`, by default the public site's own."
    )
    async def page(self, stylesheet: str | None = None) -> str | None:
        if stylesheet is not None and not (
            len(stylesheet) <= STYLESHEET_LENGTH and STYLESHEET.fullmatch(stylesheet)
        ):
            raise GraphQLError(
                "stylesheet: give a path from the root (/…) or an http(s) address, at most "
                f"500 characters, without spaces, quotes or angle brackets: {stylesheet[:60]!r}"
            )
        if self.render_page is None:
            return None
        return (await self.render_page(stylesheet)).decode()


_FAILURES = InvalidInput | NotFound | Forbidden | Conflict


def _union(name: str, success: Any) -> Any:
    return Annotated[success | _FAILURES, strawberry.union(name)]


DepartmentResult = _union("DepartmentResult", DepartmentSuccess)
SubjectResult = _union("SubjectResult", SubjectSuccess)
TargetResult = _union("TargetResult", TargetSuccess)
SelfAssessmentResult = _union("SelfAssessmentResult", SelfAssessmentSuccess)
FilingResult = _union("FilingResult", FilingSuccess)
ReleaseResult = _union("ReleaseResult", ReleaseSuccess)
EvaluationResult = _union("EvaluationResult", EvaluationSuccess)
MonitoringResult = _union("MonitoringResult", MonitoringSuccess)
ExAnteResult = _union("ExAnteResult", ExAnteSuccess)
RectificationResult = _union("RectificationResult", RectificationSuccess)
ReleaseCheckResult = _union("ReleaseCheckResult", ReleaseCheck)
FileResult = _union("FileResult", FileSuccess)
EvaluationReportResult = _union("EvaluationReportResult", EvaluationReportSuccess)
OverdueResult = _union("OverdueResult", OverdueFlagged)
