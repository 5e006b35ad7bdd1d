"""Mutations of the working data. Each one returns a typed result — success, invalid input (field
and rule), not found, forbidden or conflict — and never raises for an expected failure.

Every mutation runs the same steps: the role check (`permissions`), the record lookup through
the caller's visibility (what it may not see is "not found"), the scope check, the domain rules
(`storage.validation`, `storage.records`, `storage.scoring`), then one transaction holding the
write and its audit entry. Updates are compare-and-set on `version`: a stale version is a
conflict, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from publishers import rules
from publishers.releases import Claimed, Embargoed, ReleaseError, ReleaseRefused
from schema.internal import audit
from schema.internal import types as t
from schema.internal.context import Info, InternalContext
from schema.internal.permissions import Action, Visibility, allows
from storage import enums, models, records, scoring, validation
from storage.errors import InvalidRecord
from storage.money import yuan

R = TypeVar("R")
#: S:000: a department rectifies within 30 days of receiving the notice.
RECTIFICATION_PERIOD = timedelta(days=30)
M = TypeVar("M", bound=models.VersionedModel)

STUB_MESSAGE = (
    "this subject is under a CLASSIFIED filing (涉密): gongkai keeps only its identity stub and "
    "refuses its content — targets, amounts, assessments and files (decisions.md D6)"
)


class _Failed(Exception):
    """Carries a failure result out of a transaction, which it rolls back."""

    def __init__(self, result: Any) -> None:
        super().__init__(type(result).__name__)
        self.result = result


def _forbidden(action: Action) -> t.Forbidden:
    return t.Forbidden(message=f"forbidden: your roles do not allow `{action.value}` here")


def _not_found(kind: str, id: object) -> t.NotFound:
    return t.NotFound(message=f"no {kind} with id {id} that you may see")


def _id(value: strawberry.ID | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


async def _guarded(work: Callable[[], Awaitable[R]]) -> R | t.InvalidInput | t.Conflict | Any:
    """Run a write; turn the expected failures into results (the transaction rolled back)."""
    try:
        return await work()
    except _Failed as failure:
        return failure.result
    except InvalidRecord as error:
        return t.InvalidInput(field=error.field, rule=error.rule, message=error.message)
    except IntegrityError:
        return t.InvalidInput(
            field="code", rule="unique", message="a record with these identifiers already exists"
        )


async def _compare_and_set(
    row: M, version: int, changes: dict[str, Any], ctx: InternalContext
) -> None:
    """UPDATE … WHERE id = ? AND version = ?: zero rows means someone wrote first."""
    count = (
        await type(row)
        .filter(id=row.id, version=version)
        .update(**changes, version=version + 1, updated_at=ctx.clock())
    )
    if count == 0:
        current = await type(row).get_or_none(id=row.id)
        raise _Failed(
            t.Conflict(
                message=f"stale version {version}: reload the record and apply your change again",
                current_version=current.version if current else 0,
            )
        )


async def _write(
    ctx: InternalContext,
    action: str,
    row: M,
    version: int,
    changes: dict[str, Any],
    *,
    classified: bool,
) -> M:
    """A versioned update with its audit entry, in one transaction; returns the row as stored."""
    before = audit.snapshot(row)
    async with in_transaction():
        await _compare_and_set(row, version, changes, ctx)
        fresh = await type(row).get(id=row.id)
        await audit.record(
            ctx.caller,
            action,
            fresh,
            before=before,
            after=audit.snapshot(fresh),
            classified=classified,
        )
    return fresh


async def _created(ctx: InternalContext, action: str, row: Model, *, classified: bool) -> None:
    await audit.record(
        ctx.caller, action, row, before=None, after=audit.snapshot(row), classified=classified
    )


# --- lookups through the caller's visibility ---------------------------------------------------


async def _department(
    ctx: InternalContext, id: strawberry.ID | None, action: Action
) -> tuple[models.Department, Visibility]:
    vis = await ctx.visibility()
    row = await models.Department.get_or_none(id=_id(id)) if _id(id) is not None else None
    if row is None or not vis.can_read_department(row):
        raise _Failed(_not_found("department", id))
    if not vis.in_scope(action, row.id):
        raise _Failed(_forbidden(action))
    return row, vis


async def _subject(
    ctx: InternalContext, id: strawberry.ID | None, action: Action
) -> tuple[models.Subject, Visibility]:
    vis = await ctx.visibility()
    row = await models.Subject.get_or_none(id=_id(id)) if _id(id) is not None else None
    if row is None or not vis.can_read_subject(row):
        raise _Failed(_not_found("subject", id))
    if not vis.in_scope(action, row.department_id):
        raise _Failed(_forbidden(action))
    return row, vis


async def _target(
    ctx: InternalContext, id: strawberry.ID, action: Action
) -> tuple[models.PerformanceTarget, models.Subject]:
    row = await models.PerformanceTarget.get_or_none(id=_id(id)) if _id(id) is not None else None
    if row is None:
        raise _Failed(_not_found("target", id))
    try:
        subject, vis = await _subject(ctx, strawberry.ID(str(row.subject_id)), action)
    except _Failed as failure:
        if isinstance(failure.result, t.NotFound):
            raise _Failed(_not_found("target", id)) from None
        raise
    if vis.is_stub(subject.id):
        raise _Failed(_not_found("target", id))
    return row, subject


async def _evaluation(ctx: InternalContext, id: strawberry.ID, action: Action) -> models.Evaluation:
    """An evaluation, visible when its subject is and the subject is no stub."""
    row = await models.Evaluation.get_or_none(id=_id(id)) if _id(id) is not None else None
    if row is None:
        raise _Failed(_not_found("evaluation", id))
    try:
        subject, vis = await _subject(ctx, strawberry.ID(str(row.subject_id)), action)
    except _Failed as failure:
        if isinstance(failure.result, t.NotFound):
            raise _Failed(_not_found("evaluation", id)) from None
        raise
    if vis.is_stub(subject.id):
        raise _Failed(_not_found("evaluation", id))
    return row


async def _release(
    ctx: InternalContext, id: strawberry.ID, action: Action
) -> tuple[models.Release, Visibility]:
    vis = await ctx.visibility()
    row = await models.Release.get_or_none(id=_id(id)) if _id(id) is not None else None
    if row is None or row.department_id in vis.hidden_departments():
        raise _Failed(_not_found("release", id))
    if not vis.in_scope(Action.READ, row.department_id):
        raise _Failed(_not_found("release", id))
    if not vis.in_scope(action, row.department_id):
        raise _Failed(_forbidden(action))
    return row, vis


def _need(ctx: InternalContext, action: Action) -> None:
    if not allows(ctx.caller, action):
        raise _Failed(_forbidden(action))


# --- inputs ----------------------------------------------------------------------------------


@strawberry.input(description="The amounts block in 元 (Decimal strings, two places at most).")
class AmountsInput:
    initial_total: Decimal = Decimal(0)
    initial_appropriation: Decimal = Decimal(0)
    initial_carry_over: Decimal = Decimal(0)
    initial_other: Decimal = Decimal(0)
    full_year_total: Decimal = Decimal(0)
    full_year_appropriation: Decimal = Decimal(0)
    full_year_carry_over: Decimal = Decimal(0)
    full_year_other: Decimal = Decimal(0)
    executed_total: Decimal = Decimal(0)
    executed_appropriation: Decimal = Decimal(0)
    executed_carry_over: Decimal = Decimal(0)
    executed_other: Decimal = Decimal(0)

    def values(self) -> dict[str, Decimal]:
        out = {}
        for name in t.AMOUNT_FIELDS:
            try:
                out[name] = yuan(getattr(self, name))
            except ValueError as error:
                raise InvalidRecord(f"amounts.{name}", "money-two-places", str(error)) from None
        return out


@strawberry.input(description="A new department (no parent) or unit (parent = its department).")
class DepartmentInput:
    code: str
    name: str
    tier: enums.DepartmentTier
    org_type: enums.OrgType
    parent_id: strawberry.ID | None = None
    jurisdiction_code: str | None = strawberry.field(
        default=None, description="Required for a department; a unit takes its parent's."
    )
    disclosure_contact: str | None = None


@strawberry.input(description="Changes to a department; omitted fields stay as they are.")
class DepartmentPatch:
    name: str | None = None
    org_type: enums.OrgType | None = None
    disclosure_contact: str | None = None


@strawberry.input(description="A new project, policy or department-overall subject.")
class SubjectInput:
    kind: enums.SubjectKind
    code: str
    fiscal_year: int
    name: str
    department_id: strawberry.ID
    budget_book: enums.BudgetBook
    implementing_unit_id: strawberry.ID | None = None
    in_disclosure_scope: bool = True
    publication_selected: bool = False
    summary: str = ""
    amounts: AmountsInput | None = None


@strawberry.input(description="Changes to a subject; omitted fields stay as they are.")
class SubjectPatch:
    name: str | None = None
    in_disclosure_scope: bool | None = None
    publication_selected: bool | None = None
    summary: str | None = None
    amounts: AmountsInput | None = None


@strawberry.input(description="A level-3 indicator (三级指标).")
class IndicatorInput:
    level1: enums.IndicatorL1
    level2: enums.IndicatorL2
    name: str
    nature: enums.IndicatorNature
    comparator: enums.Comparator
    target_value_raw: str
    target_value_number: Decimal | None = None
    unit: str | None = None
    weight: Decimal | None = None
    is_core: bool = False


@strawberry.input(description="One row of a self-assessment form.")
class AssessmentRowInput:
    level1: enums.IndicatorL1
    level2: enums.IndicatorL2
    indicator_name: str
    comparator: enums.Comparator
    target_value_raw: str
    actual_value_raw: str
    weight: Decimal
    target_value_number: Decimal | None = None
    actual_value_number: Decimal | None = None
    qualitative_band: enums.QualitativeBand | None = None
    qualitative_score: Decimal | None = None
    deviation_reason: str = ""


@strawberry.input(description="In-year monitoring (绩效运行监控) of a subject.")
class MonitoringInput:
    subject_id: strawberry.ID
    mode: enums.MonitoringMode
    as_of_date: date
    budget_to_date: Decimal
    executed_to_date: Decimal
    deviation_level: enums.DeviationLevel
    notes: str = ""


@strawberry.input(description="An ex-ante assessment (事前绩效评估) of a subject.")
class ExAnteInput:
    subject_id: strawberry.ID
    conducted_by: enums.AssessmentConductor
    conclusion: enums.ExAnteConclusion
    requested_amount: Decimal
    recommended_reduction: Decimal = Decimal(0)
    summary: str = ""


@strawberry.input(description="A performance evaluation (绩效评价) of a subject.")
class EvaluationInput:
    subject_id: strawberry.ID
    kind: enums.EvaluationKind
    fiscal_year: int
    organiser: str
    budget_book: enums.BudgetBook
    amount_evaluated: Decimal = Decimal(0)
    score: Decimal | None = None
    third_party: str | None = None


@strawberry.input(description="A finding (问题) of an evaluation, with its rectification notice.")
class FindingInput:
    evaluation_id: strawberry.ID
    category: enums.FindingCategory
    description: str
    notice_issued_at: date
    received_at: date


@strawberry.input(description="A sensitivity filing (涉密/敏感备案).")
class FilingInput:
    department_id: strawberry.ID
    fiscal_year: int
    scope: enums.FilingScope
    reason: enums.FilingReason
    reference: str
    filed_with: str
    filed_at: date
    project_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="A release: approval date given, due date = approval + 20 days.")
class ReleaseInput:
    kind: enums.ReleaseKind
    fiscal_year: int
    approval_date: date
    department_id: strawberry.ID | None = None
    jurisdiction_code: str | None = strawberry.field(
        default=None, description="For a FINANCE_ANNUAL release (no department)."
    )


# --- the mutations ---------------------------------------------------------------------------


def _release_view(ctx: InternalContext, row: models.Release) -> t.Release:
    return t.Release.from_model(row, ctx.clock().date())


@strawberry.type(description="Writes to the working data; each returns a typed result.")
class Mutation:
    # --- departments --------------------------------------------------------------------------

    @strawberry.mutation(description="Create a department (finance, admin) or a unit.")
    async def create_department(self, info: Info, input: DepartmentInput) -> t.DepartmentResult:
        ctx = info.context

        async def work() -> t.DepartmentSuccess:
            _need(ctx, Action.EDIT_DEPARTMENT)
            vis = await ctx.visibility()
            parent = None
            if input.parent_id is not None:
                parent, _ = await _department(ctx, input.parent_id, Action.EDIT_DEPARTMENT)
                jurisdiction_id = parent.jurisdiction_id
            else:
                if not vis.in_scope(Action.EDIT_DEPARTMENT, None):
                    raise _Failed(_forbidden(Action.EDIT_DEPARTMENT))
                jurisdiction = await models.Jurisdiction.get_or_none(code=input.jurisdiction_code)
                if jurisdiction is None:
                    raise _Failed(_not_found("jurisdiction", input.jurisdiction_code))
                jurisdiction_id = jurisdiction.id
            async with in_transaction():
                row = await models.Department.create(
                    jurisdiction_id=jurisdiction_id,
                    code=input.code,
                    name=input.name,
                    tier=input.tier,
                    org_type=input.org_type,
                    parent=parent,
                    disclosure_contact=input.disclosure_contact,
                )
                hidden = parent is not None and parent.id in vis.classified_departments
                await _created(ctx, "createDepartment", row, classified=hidden)
            return t.DepartmentSuccess(department=t.Department.from_model(row))

        return await _guarded(work)

    @strawberry.mutation(description="Update a department or unit, based on its `version`.")
    async def update_department(
        self, info: Info, id: strawberry.ID, version: int, patch: DepartmentPatch
    ) -> t.DepartmentResult:
        ctx = info.context

        async def work() -> t.DepartmentSuccess:
            _need(ctx, Action.EDIT_DEPARTMENT)
            row, vis = await _department(ctx, id, Action.EDIT_DEPARTMENT)
            changes = {
                k: v
                for k, v in {
                    "name": patch.name,
                    "org_type": patch.org_type,
                    "disclosure_contact": patch.disclosure_contact,
                }.items()
                if v is not None
            }
            if "name" in changes and not str(changes["name"]).strip():
                raise InvalidRecord("patch.name", "required", "the name must not be empty")
            classified = row.id in vis.classified_departments
            fresh = await _write(
                ctx, "updateDepartment", row, version, changes, classified=classified
            )
            return t.DepartmentSuccess(department=t.Department.from_model(fresh))

        return await _guarded(work)

    # --- subjects ----------------------------------------------------------------------------

    @strawberry.mutation(description="Create a project, policy or department-overall subject.")
    async def create_subject(self, info: Info, input: SubjectInput) -> t.SubjectResult:
        ctx = info.context

        async def work() -> t.SubjectSuccess:
            _need(ctx, Action.EDIT_SUBJECT)
            department, vis = await _department(ctx, input.department_id, Action.EDIT_SUBJECT)
            unit_id = None
            if input.implementing_unit_id is not None:
                unit, _ = await _department(ctx, input.implementing_unit_id, Action.EDIT_SUBJECT)
                if unit.id != department.id and unit.parent_id != department.id:
                    raise InvalidRecord(
                        "implementingUnitId",
                        "implementing-unit-of-department",
                        "the implementing unit must be the department or one of its units",
                    )
                unit_id = unit.id
            amounts: dict[str, Any] = input.amounts.values() if input.amounts else {}
            stub = vis.would_be_stub(input.fiscal_year, department.id, unit_id)
            if stub and any(amounts.values()):
                raise InvalidRecord("amounts", "classified-stub-only", STUB_MESSAGE)
            async with in_transaction():
                row = await models.Subject.create(
                    kind=input.kind,
                    code=input.code,
                    fiscal_year=input.fiscal_year,
                    name=input.name,
                    department=department,
                    implementing_unit_id=unit_id,
                    budget_book=input.budget_book,
                    in_disclosure_scope=input.in_disclosure_scope,
                    publication_selected=input.publication_selected,
                    summary=input.summary,
                    **amounts,
                )
                await _created(ctx, "createSubject", row, classified=stub)
            return t.SubjectSuccess(subject=t.Subject.from_model(row, stub=stub))

        return await _guarded(work)

    @strawberry.mutation(description="Update a subject, based on its `version`.")
    async def update_subject(
        self, info: Info, id: strawberry.ID, version: int, patch: SubjectPatch
    ) -> t.SubjectResult:
        ctx = info.context

        async def work() -> t.SubjectSuccess:
            _need(ctx, Action.EDIT_SUBJECT)
            row, vis = await _subject(ctx, id, Action.EDIT_SUBJECT)
            stub = vis.is_stub(row.id)
            if stub and patch.amounts is not None:
                raise InvalidRecord("patch.amounts", "classified-stub-only", STUB_MESSAGE)
            changes: dict[str, Any] = {
                k: v
                for k, v in {
                    "name": patch.name,
                    "in_disclosure_scope": patch.in_disclosure_scope,
                    "publication_selected": patch.publication_selected,
                    "summary": patch.summary,
                }.items()
                if v is not None
            }
            if patch.amounts is not None:
                changes.update(patch.amounts.values())
            candidate = await models.Subject.get(id=row.id)
            for name, value in changes.items():
                setattr(candidate, name, value)
            validation.check_subject(candidate)  # update() bypasses save(): check here
            fresh = await _write(ctx, "updateSubject", row, version, changes, classified=stub)
            return t.SubjectSuccess(subject=t.Subject.from_model(fresh, stub=stub))

        return await _guarded(work)

    # --- targets -------------------------------------------------------------------------------

    @strawberry.mutation(description="Create a performance target with its indicators (DRAFT).")
    async def create_target(
        self,
        info: Info,
        subject_id: strawberry.ID,
        overall_goal: str,
        indicators: list[IndicatorInput],
        horizon: enums.TargetHorizon = enums.TargetHorizon.ANNUAL,
    ) -> t.TargetResult:
        ctx = info.context

        async def work() -> t.TargetSuccess:
            _need(ctx, Action.EDIT_TARGET)
            subject, vis = await _subject(ctx, subject_id, Action.EDIT_TARGET)
            if vis.is_stub(subject.id):
                raise InvalidRecord("subjectId", "classified-stub-only", STUB_MESSAGE)
            items = [records.IndicatorInput(**vars(i)) for i in indicators]
            async with in_transaction():
                row = await records.create_target(subject, overall_goal, items, horizon)
                after = audit.snapshot(row)
                after["indicators"] = [
                    audit.snapshot(i) for i in await models.Indicator.filter(target=row)
                ]
                await audit.record(
                    ctx.caller, "createTarget", row, before=None, after=after, classified=False
                )
            return t.TargetSuccess(target=t.PerformanceTarget.from_model(row))

        return await _guarded(work)

    @strawberry.mutation(description="Submit a draft (or rejected) target for review.")
    async def submit_target(self, info: Info, id: strawberry.ID, version: int) -> t.TargetResult:
        return await _transition(
            info.context,
            id,
            version,
            Action.EDIT_TARGET,
            "submitTarget",
            {enums.ReviewStatus.DRAFT, enums.ReviewStatus.REJECTED},
            {"review_status": enums.ReviewStatus.SUBMITTED, "rejection_reason": None},
        )

    @strawberry.mutation(description="主管部门审核: the department passes a submitted target.")
    async def review_target(self, info: Info, id: strawberry.ID, version: int) -> t.TargetResult:
        return await _transition(
            info.context,
            id,
            version,
            Action.REVIEW_TARGET,
            "reviewTarget",
            {enums.ReviewStatus.SUBMITTED},
            {"review_status": enums.ReviewStatus.DEPT_REVIEWED},
        )

    @strawberry.mutation(description="财政审核通过: the finance bureau approves a reviewed target.")
    async def approve_target(
        self, info: Info, id: strawberry.ID, version: int, approved_on: date | None = None
    ) -> t.TargetResult:
        return await _transition(
            info.context,
            id,
            version,
            Action.APPROVE_TARGET,
            "approveTarget",
            {enums.ReviewStatus.DEPT_REVIEWED, enums.ReviewStatus.THIRD_PARTY_REVIEWED},
            {
                "review_status": enums.ReviewStatus.FINANCE_APPROVED,
                "approved_with_budget_on": approved_on,
            },
        )

    @strawberry.mutation(description="退回: the finance bureau rejects a target, with a reason.")
    async def reject_target(
        self, info: Info, id: strawberry.ID, version: int, reason: str
    ) -> t.TargetResult:
        return await _transition(
            info.context,
            id,
            version,
            Action.APPROVE_TARGET,
            "rejectTarget",
            {
                enums.ReviewStatus.SUBMITTED,
                enums.ReviewStatus.DEPT_REVIEWED,
                enums.ReviewStatus.THIRD_PARTY_REVIEWED,
            },
            {"review_status": enums.ReviewStatus.REJECTED, "rejection_reason": reason.strip()},
            require_reason=reason,
        )

    # --- self-assessments ----------------------------------------------------------------------

    @strawberry.mutation(description="Record a self-assessment (绩效自评), scored by the rules.")
    async def record_self_assessment(
        self,
        info: Info,
        subject_id: strawberry.ID,
        full_year_budget: Decimal,
        executed: Decimal,
        rows: list[AssessmentRowInput],
        annual_goal_expected: str = "",
        annual_goal_actual: str = "",
    ) -> t.SelfAssessmentResult:
        ctx = info.context

        async def work() -> t.SelfAssessmentSuccess:
            _need(ctx, Action.RECORD_ASSESSMENT)
            subject, vis = await _subject(ctx, subject_id, Action.RECORD_ASSESSMENT)
            if vis.is_stub(subject.id):
                raise InvalidRecord("subjectId", "classified-stub-only", STUB_MESSAGE)
            budget, spent = _money("fullYearBudget", full_year_budget), _money("executed", executed)
            inputs = [scoring.RowInput(**vars(r)) for r in rows]
            async with in_transaction():
                row = await records.create_self_assessment(
                    subject,
                    inputs,
                    full_year_budget=budget,
                    executed=spent,
                    annual_goal_expected=annual_goal_expected,
                    annual_goal_actual=annual_goal_actual,
                )
                after = audit.snapshot(row)
                after["rows"] = [
                    audit.snapshot(r) for r in await models.SelfAssessmentRow.filter(assessment=row)
                ]
                await audit.record(
                    ctx.caller,
                    "recordSelfAssessment",
                    row,
                    before=None,
                    after=after,
                    classified=False,
                )
            return t.SelfAssessmentSuccess(assessment=t.SelfAssessment.from_model(row))

        return await _guarded(work)

    # --- monitoring and ex-ante assessments --------------------------------------------------

    @strawberry.mutation(description="Record in-year monitoring; the execution rate is computed.")
    async def record_monitoring(self, info: Info, input: MonitoringInput) -> t.MonitoringResult:
        ctx = info.context

        async def work() -> t.MonitoringSuccess:
            _need(ctx, Action.RECORD_MONITORING)
            subject, vis = await _subject(ctx, input.subject_id, Action.RECORD_MONITORING)
            if vis.is_stub(subject.id):
                raise InvalidRecord("subjectId", "classified-stub-only", STUB_MESSAGE)
            budget = _money("budgetToDate", input.budget_to_date)
            spent = _money("executedToDate", input.executed_to_date)
            if budget <= 0:
                raise InvalidRecord(
                    "budgetToDate", "budget-positive", "the rate needs a budget above zero"
                )
            if spent < 0:
                raise InvalidRecord("executedToDate", "amount-non-negative", "must not be < 0")
            async with in_transaction():
                row = await models.MonitoringRecord.create(
                    subject=subject,
                    fiscal_year=subject.fiscal_year,
                    mode=input.mode,
                    as_of_date=input.as_of_date,
                    budget_to_date=budget,
                    executed_to_date=spent,
                    execution_rate=scoring.half_up(spent / budget * 100),
                    deviation_level=input.deviation_level,
                    notes=input.notes,
                )
                await _created(ctx, "recordMonitoring", row, classified=False)
            return t.MonitoringSuccess(monitoring=t.MonitoringRecord.from_model(row))

        return await _guarded(work)

    @strawberry.mutation(description="Record an ex-ante assessment of a subject.")
    async def record_ex_ante_assessment(self, info: Info, input: ExAnteInput) -> t.ExAnteResult:
        ctx = info.context

        async def work() -> t.ExAnteSuccess:
            _need(ctx, Action.RECORD_EX_ANTE)
            subject, vis = await _subject(ctx, input.subject_id, Action.RECORD_EX_ANTE)
            if vis.is_stub(subject.id):
                raise InvalidRecord("subjectId", "classified-stub-only", STUB_MESSAGE)
            requested = _money("requestedAmount", input.requested_amount)
            reduction = _money("recommendedReduction", input.recommended_reduction)
            if not 0 <= reduction <= requested:
                raise InvalidRecord(
                    "recommendedReduction",
                    "reduction-within-request",
                    "the reduction lies between zero and the amount requested",
                )
            reducing = input.conclusion is enums.ExAnteConclusion.SUPPORT_WITH_REDUCTION
            if reducing != (reduction > 0):
                raise InvalidRecord(
                    "recommendedReduction",
                    "reduction-matches-conclusion",
                    "核减后支持 needs a reduction; the other conclusions have none",
                )
            async with in_transaction():
                row = await models.ExAnteAssessment.create(
                    subject=subject,
                    fiscal_year=subject.fiscal_year,
                    conducted_by=input.conducted_by,
                    conclusion=input.conclusion,
                    requested_amount=requested,
                    recommended_reduction=reduction,
                    summary=input.summary,
                )
                await _created(ctx, "recordExAnteAssessment", row, classified=False)
            return t.ExAnteSuccess(assessment=t.ExAnteAssessment.from_model(row))

        return await _guarded(work)

    # --- evaluations, findings, rectifications ----------------------------------------------

    @strawberry.mutation(description="Record an evaluation (finance); the grade follows the score.")
    async def record_evaluation(self, info: Info, input: EvaluationInput) -> t.EvaluationResult:
        ctx = info.context

        async def work() -> t.EvaluationSuccess:
            _need(ctx, Action.RECORD_EVALUATION)
            subject, vis = await _subject(ctx, input.subject_id, Action.RECORD_EVALUATION)
            if vis.is_stub(subject.id):
                raise InvalidRecord("subjectId", "classified-stub-only", STUB_MESSAGE)
            if not input.organiser.strip():
                raise InvalidRecord("organiser", "required", "name who organised the evaluation")
            async with in_transaction():
                row = await models.Evaluation.create(
                    subject=subject,
                    kind=input.kind,
                    fiscal_year=input.fiscal_year,
                    organiser=input.organiser,
                    third_party=input.third_party,
                    budget_book=input.budget_book,
                    amount_evaluated=_money("amountEvaluated", input.amount_evaluated),
                    score=_score(input.score),
                )
                await _created(ctx, "recordEvaluation", row, classified=False)
            return t.EvaluationSuccess(evaluation=t.Evaluation.from_model(row))

        return await _guarded(work)

    @strawberry.mutation(description="Record a finding and its rectification (due in 30 days).")
    async def record_finding(self, info: Info, input: FindingInput) -> t.RectificationResult:
        ctx = info.context

        async def work() -> t.RectificationSuccess:
            _need(ctx, Action.RECORD_EVALUATION)
            evaluation = await _evaluation(ctx, input.evaluation_id, Action.RECORD_EVALUATION)
            if not input.description.strip():
                raise InvalidRecord("description", "required", "describe the problem found")
            if input.received_at < input.notice_issued_at:
                raise InvalidRecord(
                    "receivedAt", "date-order", "the notice is received after it is issued"
                )
            async with in_transaction():
                finding = await models.Finding.create(
                    evaluation=evaluation, category=input.category, description=input.description
                )
                row = await models.Rectification.create(
                    finding=finding,
                    notice_issued_at=input.notice_issued_at,
                    received_at=input.received_at,
                    due_date=input.received_at + RECTIFICATION_PERIOD,
                )
                after = {**audit.snapshot(row), "finding": audit.snapshot(finding)}
                await audit.record(
                    ctx.caller, "recordFinding", row, before=None, after=after, classified=False
                )
            view = t.Rectification.from_model(row, finding, ctx.clock().date())
            return t.RectificationSuccess(rectification=view)

        return await _guarded(work)

    @strawberry.mutation(description="The department reports its rectification measures (done).")
    async def report_rectification(
        self, info: Info, id: strawberry.ID, version: int, measures: str, reported_at: date
    ) -> t.RectificationResult:
        ctx = info.context

        async def work() -> t.RectificationSuccess:
            _need(ctx, Action.REPORT_RECTIFICATION)
            row = await models.Rectification.get_or_none(id=_id(id)) if _id(id) else None
            if row is None:
                raise _Failed(_not_found("rectification", id))
            finding = await models.Finding.get(id=row.finding_id)
            try:
                await _evaluation(
                    ctx, strawberry.ID(str(finding.evaluation_id)), Action.REPORT_RECTIFICATION
                )
            except _Failed as failure:
                if isinstance(failure.result, t.NotFound):
                    raise _Failed(_not_found("rectification", id)) from None
                raise
            if not measures.strip():
                raise InvalidRecord("measures", "required", "say what was done")
            if reported_at < row.received_at:
                raise InvalidRecord("reportedAt", "date-order", "reported before the notice")
            changes = {
                "measures": measures.strip(),
                "reported_at": reported_at,
                "status": enums.RectificationStatus.DONE,
            }
            fresh = await _write(
                ctx, "reportRectification", row, version, changes, classified=False
            )
            view = t.Rectification.from_model(fresh, finding, ctx.clock().date())
            return t.RectificationSuccess(rectification=view)

        return await _guarded(work)

    # --- filings -----------------------------------------------------------------------------

    @strawberry.mutation(description="File a sensitivity filing (finance officer).")
    async def file_filing(self, info: Info, input: FilingInput) -> t.FilingResult:
        ctx = info.context

        async def work() -> t.FilingSuccess:
            _need(ctx, Action.FILE_FILING)
            classified = input.reason is enums.FilingReason.CLASSIFIED
            if classified and not ctx.caller.classified:
                raise _Failed(
                    t.Forbidden(message="a CLASSIFIED filing needs the classified clearance")
                )
            department, _ = await _department(ctx, input.department_id, Action.FILE_FILING)
            projects = [(await _subject(ctx, p, Action.FILE_FILING))[0] for p in input.project_ids]
            async with in_transaction():
                row = await records.file_filing(
                    department,
                    fiscal_year=input.fiscal_year,
                    scope=input.scope,
                    reason=input.reason,
                    reference=input.reference,
                    filed_with=input.filed_with,
                    filed_at=input.filed_at,
                    projects=projects,
                )
                after = audit.snapshot(row)
                after["projects"] = [p.id for p in projects]
                await audit.record(
                    ctx.caller, "fileFiling", row, before=None, after=after, classified=classified
                )
            await ctx.visibility(fresh=True)
            view = t.SensitivityFiling.from_model(row, [p.id for p in projects])
            return t.FilingSuccess(filing=view)

        return await _guarded(work)

    # --- releases ----------------------------------------------------------------------------

    @strawberry.mutation(description="Create a release; its due date is approval + 20 days.")
    async def create_release(self, info: Info, input: ReleaseInput) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            _need(ctx, Action.MANAGE_RELEASE)
            department = None
            if input.department_id is not None:
                department, _ = await _department(ctx, input.department_id, Action.MANAGE_RELEASE)
                jurisdiction = await models.Jurisdiction.get(id=department.jurisdiction_id)
            else:
                vis = await ctx.visibility()
                if not vis.in_scope(Action.MANAGE_RELEASE, None):
                    raise _Failed(_forbidden(Action.MANAGE_RELEASE))
                found = await models.Jurisdiction.get_or_none(code=input.jurisdiction_code)
                if found is None:
                    raise _Failed(_not_found("jurisdiction", input.jurisdiction_code))
                jurisdiction = found
            async with in_transaction():
                row = await records.create_release(
                    jurisdiction,
                    kind=input.kind,
                    fiscal_year=input.fiscal_year,
                    approval_date=input.approval_date,
                    department=department,
                )
                await _created(ctx, "createRelease", row, classified=False)
            return t.ReleaseSuccess(release=_release_view(ctx, row))

        return await _guarded(work)

    @strawberry.mutation(description="Schedule a release: not public before `publishAt`.")
    async def schedule_release(
        self, info: Info, id: strawberry.ID, version: int, publish_at: datetime
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            _need(ctx, Action.MANAGE_RELEASE)
            row, _ = await _release(ctx, id, Action.MANAGE_RELEASE)
            if row.status is enums.ReleaseStatus.PUBLISHED:
                raise InvalidRecord("id", "release-not-published", "it is published already")
            if publish_at.tzinfo is None:
                raise InvalidRecord("publishAt", "timezone-required", "give a UTC offset")
            changes = {"publish_at": publish_at, "status": enums.ReleaseStatus.SCHEDULED}
            fresh = await _write(ctx, "scheduleRelease", row, version, changes, classified=False)
            return t.ReleaseSuccess(release=_release_view(ctx, fresh))

        return await _guarded(work)

    @strawberry.mutation(description="Check a release: what a publish would carry and refuse.")
    async def check_release(self, info: Info, id: strawberry.ID) -> t.ReleaseCheckResult:
        ctx = info.context

        async def work() -> t.ReleaseCheck:
            _need(ctx, Action.MANAGE_RELEASE)
            row, vis = await _release(ctx, id, Action.MANAGE_RELEASE)
            publisher = _publisher(ctx)
            selection = await publisher.check(row.id)
            problems = _problems(selection.problems, vis)
            return t.ReleaseCheck(
                release=_release_view(ctx, row),
                ok=not problems,
                records=len(selection.records),
                problems=problems,
            )

        return await _guarded(work)

    @strawberry.mutation(description="Publish a release now (through the publisher).")
    async def publish_release(self, info: Info, id: strawberry.ID, version: int) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            _need(ctx, Action.PUBLISH_RELEASE)
            row, vis = await _release(ctx, id, Action.PUBLISH_RELEASE)
            if row.version != version:
                raise _Failed(
                    t.Conflict(message=f"stale version {version}", current_version=row.version)
                )
            publisher = _publisher(ctx)
            try:
                result = await publisher.publish(row.id)
            except ReleaseRefused as error:
                problems = _problems(error.problems, vis)
                message = "; ".join(f"{p.rule} {p.record}: {p.message}" for p in problems[:20])
                raise InvalidRecord("id", problems[0].rule, message) from None
            except Embargoed:
                raise InvalidRecord(
                    "id", "embargoed", f"the release is embargoed until {row.publish_at}"
                ) from None
            except Claimed:
                raise _Failed(
                    t.Conflict(message="another worker is publishing it", current_version=version)
                ) from None
            except ReleaseError as error:
                raise InvalidRecord("id", "release-refused", str(error)) from None
            # The publish wrote its own transactions (objects first, then the flip, D10); the
            # version bump and the audit entry are recorded together once it succeeded.
            fresh = await _write(
                ctx, f"publishRelease:{result.outcome}", row, version, {}, classified=False
            )
            return t.ReleaseSuccess(release=_release_view(ctx, fresh))

        return await _guarded(work)

    @strawberry.mutation(description="Withdraw what late filings now cover from a release.")
    async def withdraw_release(
        self, info: Info, id: strawberry.ID, version: int
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            _need(ctx, Action.PUBLISH_RELEASE)
            row, _ = await _release(ctx, id, Action.PUBLISH_RELEASE)
            if row.version != version:
                raise _Failed(
                    t.Conflict(message=f"stale version {version}", current_version=row.version)
                )
            if row.status is not enums.ReleaseStatus.PUBLISHED:
                raise InvalidRecord("id", "release-published", "only a published release")
            await _publisher(ctx).withdraw([row.id])
            fresh = await _write(ctx, "withdrawRelease", row, version, {}, classified=False)
            return t.ReleaseSuccess(release=_release_view(ctx, fresh))

        return await _guarded(work)


def _problems(problems: Sequence[rules.Problem], vis: Visibility) -> list[t.ReleaseProblem]:
    """A check's problems, with references to records hidden from the caller withheld."""
    hidden = {f"subject#{i}" for i in vis.hidden_subjects()}
    return [
        t.ReleaseProblem(
            rule=p.rule, record="(withheld)" if p.record in hidden else p.record, message=p.message
        )
        for p in problems
    ]


def _publisher(ctx: InternalContext) -> Any:
    if ctx.publisher is None:
        raise InvalidRecord("id", "no-object-store", "this server has no object store to publish")
    return ctx.publisher


def _score(value: Decimal | None) -> Decimal | None:
    """A score out of 100 with at most two decimal places."""
    if value is None:
        return None
    if not (0 <= value <= 100) or value != value.quantize(Decimal("0.01")):
        raise InvalidRecord("score", "score-range", "a score lies in 0–100 with two places")
    return value.quantize(Decimal("0.01"))


def _money(field: str, value: Decimal) -> Decimal:
    try:
        return yuan(value)
    except ValueError as error:
        raise InvalidRecord(field, "money-two-places", str(error)) from None


async def _transition(
    ctx: InternalContext,
    id: strawberry.ID,
    version: int,
    action: Action,
    name: str,
    from_states: set[enums.ReviewStatus],
    changes: dict[str, Any],
    *,
    require_reason: str | None = None,
) -> Any:
    """A review step of a target: allowed from `from_states` only, compare-and-set on version."""

    async def work() -> t.TargetSuccess:
        _need(ctx, action)
        row, _ = await _target(ctx, id, action)
        if row.version != version:  # the compare-and-set below guards the race as well
            raise _Failed(
                t.Conflict(message=f"stale version {version}", current_version=row.version)
            )
        if require_reason is not None and not require_reason.strip():
            raise InvalidRecord("reason", "required", "a rejection gives its reason")
        if row.review_status not in from_states:
            allowed = ", ".join(sorted(s.value for s in from_states))
            raise InvalidRecord(
                "reviewStatus",
                "review-order",
                f"{name} applies to a target in {allowed}, not {row.review_status.value}",
            )
        fresh = await _write(ctx, name, row, version, changes, classified=False)
        return t.TargetSuccess(target=t.PerformanceTarget.from_model(fresh))

    return await _guarded(work)
