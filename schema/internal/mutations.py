"""Mutations of the working records: departments, subjects, targets, self-assessments,
monitoring, ex-ante assessments, evaluations, findings and rectifications. Filings, releases and
file uploads have modules of their own; `Mutation` joins them into the schema's one type.

Each mutation returns a typed result — success, invalid input (field and rule), not found,
forbidden or conflict — and never raises for an expected failure. The steps are always the
same (`writes`): the role check, the record lookup through the caller's visibility (what it may
not see is "not found"), the scope check, the domain rules, then one transaction holding the
write and its audit entry. Updates go through `writes.update_versioned`, a compare-and-set on
`version`: a stale version is a conflict, never a silent overwrite.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from tortoise.transactions import in_transaction

from schema.internal import audit, writes
from schema.internal import types as t
from schema.internal.context import Info, InternalContext
from schema.internal.filings import FilingMutations
from schema.internal.forms_api import FormMutations
from schema.internal.input_rules import FREE_TEXT, argument
from schema.internal.inputs import (
    AssessmentRowInput,
    DepartmentInput,
    DepartmentPatch,
    EvaluationInput,
    EvaluationPatch,
    ExAnteInput,
    ExAntePatch,
    FindingInput,
    IndicatorInput,
    MonitoringInput,
    MonitoringPatch,
    SubjectInput,
    SubjectPatch,
    TargetPatch,
)
from schema.internal.overdue import OverdueMutations
from schema.internal.permissions import Action
from schema.internal.privacy import PrivacyMutations
from schema.internal.releases import ReleaseMutations
from schema.internal.uploads import UploadMutations
from schema.internal.writes import STUB_MESSAGE, Snapshot, need
from storage import enums, models, records, scoring, validation
from storage.errors import InvalidRecord

#: S:000: a department rectifies within 30 days of receiving the notice.
RECTIFICATION_PERIOD = timedelta(days=30)
#: a target's indicators change only before review, or after a rejection sent it back
EDITABLE_TARGETS = writes.EDITABLE_TARGETS
EVALUATION_ORDER = list(enums.EvaluationStatus)
FREE = FREE_TEXT.max_length


@strawberry.type(description="Writes to the working records; each returns a typed result.")
class RecordMutations:
    # --- departments --------------------------------------------------------------------------

    @strawberry.mutation(description="Create a department (finance, admin) or a unit.")
    async def create_department(self, info: Info, input: DepartmentInput) -> t.DepartmentResult:
        ctx = info.context

        async def work() -> t.DepartmentSuccess:
            need(ctx, Action.EDIT_DEPARTMENT)
            vis = await ctx.visibility()
            parent = None
            if input.parent_id is not None:
                parent, _ = await writes.department(ctx, input.parent_id, Action.EDIT_DEPARTMENT)
                jurisdiction_id = parent.jurisdiction_id
            else:
                jurisdiction_id = (
                    await writes.jurisdiction(ctx, input.jurisdiction_code, Action.EDIT_DEPARTMENT)
                ).id
            await writes.refuse_duplicate(
                models.Department,
                "input.code",
                f"the jurisdiction has a department or unit with code {input.code!r} already",
                jurisdiction_id=jurisdiction_id,
                code=input.code,
            )
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
                await writes.created(ctx, "createDepartment", row, classified=hidden)
            return t.DepartmentSuccess(department=t.Department.from_model(row))

        return await writes.guarded(work)

    @strawberry.mutation(description="Update a department or unit, based on its `version`.")
    async def update_department(
        self, info: Info, id: strawberry.ID, version: int, patch: DepartmentPatch
    ) -> t.DepartmentResult:
        ctx = info.context

        async def work() -> t.DepartmentSuccess:
            need(ctx, Action.EDIT_DEPARTMENT)
            row, vis = await writes.department(ctx, id, Action.EDIT_DEPARTMENT)
            changes = writes.patch_changes(
                {
                    "name": patch.name,
                    "org_type": patch.org_type,
                    "disclosure_contact": patch.disclosure_contact,
                }
            )
            if "name" in changes and not str(changes["name"]).strip():
                raise InvalidRecord("patch.name", "required", "the name must not be empty")
            classified = row.id in vis.classified_departments
            fresh = await writes.update_versioned(
                ctx, row, version, changes, "updateDepartment", classified=classified
            )
            return t.DepartmentSuccess(department=t.Department.from_model(fresh))

        return await writes.guarded(work)

    # --- subjects ----------------------------------------------------------------------------

    @strawberry.mutation(description="Create a project, policy or department-overall subject.")
    async def create_subject(self, info: Info, input: SubjectInput) -> t.SubjectResult:
        ctx = info.context

        async def work() -> t.SubjectSuccess:
            need(ctx, Action.EDIT_SUBJECT)
            department, vis = await writes.department(ctx, input.department_id, Action.EDIT_SUBJECT)
            unit_id = None
            if input.implementing_unit_id is not None:
                unit, _ = await writes.department(
                    ctx, input.implementing_unit_id, Action.EDIT_SUBJECT
                )
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
            await writes.refuse_duplicate(
                models.Subject,
                "input.code",
                f"the department has a {input.kind.value} with code {input.code!r} for "
                f"{input.fiscal_year} already",
                department_id=department.id,
                kind=input.kind,
                code=input.code,
                fiscal_year=input.fiscal_year,
            )
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
                await writes.created(ctx, "createSubject", row, classified=stub)
            return t.SubjectSuccess(subject=t.Subject.from_model(row, stub=stub))

        return await writes.guarded(work)

    @strawberry.mutation(description="Update a subject, based on its `version`.")
    async def update_subject(
        self, info: Info, id: strawberry.ID, version: int, patch: SubjectPatch
    ) -> t.SubjectResult:
        ctx = info.context

        async def work() -> t.SubjectSuccess:
            need(ctx, Action.EDIT_SUBJECT)
            row, vis = await writes.subject(ctx, id, Action.EDIT_SUBJECT)
            stub = vis.is_stub(row.id)
            if stub and patch.amounts is not None:
                raise InvalidRecord("patch.amounts", "classified-stub-only", STUB_MESSAGE)
            changes = writes.patch_changes(
                {
                    "name": patch.name,
                    "in_disclosure_scope": patch.in_disclosure_scope,
                    "publication_selected": patch.publication_selected,
                    "summary": patch.summary,
                }
            )
            if patch.amounts is not None:
                changes.update(patch.amounts.values())
            validation.check_subject(_applied(row, changes))  # update() bypasses save()
            fresh = await writes.update_versioned(
                ctx, row, version, changes, "updateSubject", classified=stub
            )
            return t.SubjectSuccess(subject=t.Subject.from_model(fresh, stub=stub))

        return await writes.guarded(work)

    # --- targets -------------------------------------------------------------------------------

    @strawberry.mutation(description="Create a performance target with its indicators (DRAFT).")
    async def create_target(
        self,
        info: Info,
        subject_id: strawberry.ID,
        overall_goal: Annotated[str, argument(FREE, multiline=True)],
        indicators: list[IndicatorInput],
        horizon: enums.TargetHorizon = enums.TargetHorizon.ANNUAL,
    ) -> t.TargetResult:
        ctx = info.context

        async def work() -> t.TargetSuccess:
            need(ctx, Action.EDIT_TARGET)
            subject = await writes.subject_for_content(ctx, subject_id, Action.EDIT_TARGET)
            items = [records.IndicatorInput(**vars(i)) for i in indicators]
            await writes.refuse_duplicate(
                models.PerformanceTarget,
                "horizon",
                f"the subject has a {horizon.value} target already: edit it (updateTarget)",
                subject_id=subject.id,
                horizon=horizon,
            )
            async with in_transaction():
                row = await records.create_target(subject, overall_goal, items, horizon)
                extra = await _indicators_of(row)
                await writes.created(ctx, "createTarget", row, extra=extra)
            return t.TargetSuccess(target=t.PerformanceTarget.from_model(row))

        return await writes.guarded(work)

    @strawberry.mutation(
        description="Edit a DRAFT or REJECTED target: its goal and the whole list of indicators."
    )
    async def update_target(
        self, info: Info, id: strawberry.ID, version: int, patch: TargetPatch
    ) -> t.TargetResult:
        ctx = info.context

        async def work() -> t.TargetSuccess:
            need(ctx, Action.EDIT_TARGET)
            row, _ = await writes.subject_content(
                ctx, models.PerformanceTarget, id, Action.EDIT_TARGET, "target"
            )
            if row.review_status not in EDITABLE_TARGETS:
                raise InvalidRecord(
                    "reviewStatus",
                    "target-editable",
                    f"a target changes only while DRAFT or REJECTED, not "
                    f"{row.review_status.value}: ask the reviewer to reject it first",
                )
            changes = writes.patch_changes({"overall_goal": patch.overall_goal})
            if "overall_goal" in changes and not changes["overall_goal"].strip():
                raise InvalidRecord("patch.overallGoal", "required", "the goal must not be empty")
            replace = None
            if patch.indicators is not None:
                replace = _indicator_replacement(row, patch.indicators)
            fresh = await writes.update_versioned(
                ctx, row, version, changes, "updateTarget", also=replace, detail=_indicators_of
            )
            return t.TargetSuccess(target=t.PerformanceTarget.from_model(fresh))

        return await writes.guarded(work)

    @strawberry.mutation(description="Submit a draft (or rejected) target for review.")
    async def submit_target(self, info: Info, id: strawberry.ID, version: int) -> t.TargetResult:
        return await _transition(
            info.context,
            id,
            version,
            Action.EDIT_TARGET,
            "submitTarget",
            EDITABLE_TARGETS,
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
        self,
        info: Info,
        id: strawberry.ID,
        version: int,
        reason: Annotated[str, argument(FREE, multiline=True)],
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
        annual_goal_expected: Annotated[str, argument(FREE, multiline=True)] = "",
        annual_goal_actual: Annotated[str, argument(FREE, multiline=True)] = "",
    ) -> t.SelfAssessmentResult:
        ctx = info.context

        async def work() -> t.SelfAssessmentSuccess:
            need(ctx, Action.RECORD_ASSESSMENT)
            subject = await writes.subject_for_content(ctx, subject_id, Action.RECORD_ASSESSMENT)
            budget = writes.money("fullYearBudget", full_year_budget)
            spent = writes.money("executed", executed)
            inputs = [scoring.RowInput(**vars(r)) for r in rows]
            await writes.refuse_duplicate(
                models.SelfAssessment,
                "subjectId",
                f"the subject has its self-assessment of {subject.fiscal_year} already",
                subject_id=subject.id,
                fiscal_year=subject.fiscal_year,
            )
            async with in_transaction():
                row = await records.create_self_assessment(
                    subject,
                    inputs,
                    full_year_budget=budget,
                    executed=spent,
                    annual_goal_expected=annual_goal_expected,
                    annual_goal_actual=annual_goal_actual,
                )
                form = await models.SelfAssessmentRow.filter(assessment=row)
                extra = {"rows": [audit.snapshot(r) for r in form]}
                await writes.created(ctx, "recordSelfAssessment", row, extra=extra)
            return t.SelfAssessmentSuccess(assessment=t.SelfAssessment.from_model(row))

        return await writes.guarded(work)

    # --- monitoring and ex-ante assessments --------------------------------------------------

    @strawberry.mutation(description="Record in-year monitoring; the execution rate is computed.")
    async def record_monitoring(self, info: Info, input: MonitoringInput) -> t.MonitoringResult:
        ctx = info.context

        async def work() -> t.MonitoringSuccess:
            need(ctx, Action.RECORD_MONITORING)
            subject = await writes.subject_for_content(
                ctx, input.subject_id, Action.RECORD_MONITORING
            )
            amounts = _monitoring_amounts(input.budget_to_date, input.executed_to_date, "")
            async with in_transaction():
                row = await models.MonitoringRecord.create(
                    subject=subject,
                    fiscal_year=subject.fiscal_year,
                    mode=input.mode,
                    as_of_date=input.as_of_date,
                    deviation_level=input.deviation_level,
                    notes=input.notes,
                    **amounts,
                )
                await writes.created(ctx, "recordMonitoring", row)
            return t.MonitoringSuccess(monitoring=t.MonitoringRecord.from_model(row))

        return await writes.guarded(work)

    @strawberry.mutation(description="Update a monitoring record, based on its `version`.")
    async def update_monitoring(
        self, info: Info, id: strawberry.ID, version: int, patch: MonitoringPatch
    ) -> t.MonitoringResult:
        ctx = info.context

        async def work() -> t.MonitoringSuccess:
            need(ctx, Action.RECORD_MONITORING)
            row, _ = await writes.subject_content(
                ctx, models.MonitoringRecord, id, Action.RECORD_MONITORING, "monitoring record"
            )
            budget = _or(patch.budget_to_date, row.budget_to_date)
            spent = _or(patch.executed_to_date, row.executed_to_date)
            changes = writes.patch_changes(
                {
                    "mode": patch.mode,
                    "as_of_date": patch.as_of_date,
                    "deviation_level": patch.deviation_level,
                    "notes": patch.notes,
                }
            ) | _monitoring_amounts(budget, spent, "patch.")
            fresh = await writes.update_versioned(ctx, row, version, changes, "updateMonitoring")
            return t.MonitoringSuccess(monitoring=t.MonitoringRecord.from_model(fresh))

        return await writes.guarded(work)

    @strawberry.mutation(description="Record an ex-ante assessment of a subject.")
    async def record_ex_ante_assessment(self, info: Info, input: ExAnteInput) -> t.ExAnteResult:
        ctx = info.context

        async def work() -> t.ExAnteSuccess:
            need(ctx, Action.RECORD_EX_ANTE)
            subject = await writes.subject_for_content(ctx, input.subject_id, Action.RECORD_EX_ANTE)
            amounts = _ex_ante_amounts(
                input.conclusion, input.requested_amount, input.recommended_reduction, ""
            )
            async with in_transaction():
                row = await models.ExAnteAssessment.create(
                    subject=subject,
                    fiscal_year=subject.fiscal_year,
                    conducted_by=input.conducted_by,
                    conclusion=input.conclusion,
                    summary=input.summary,
                    **amounts,
                )
                await writes.created(ctx, "recordExAnteAssessment", row)
            return t.ExAnteSuccess(assessment=t.ExAnteAssessment.from_model(row))

        return await writes.guarded(work)

    @strawberry.mutation(description="Update an ex-ante assessment, based on its `version`.")
    async def update_ex_ante_assessment(
        self, info: Info, id: strawberry.ID, version: int, patch: ExAntePatch
    ) -> t.ExAnteResult:
        ctx = info.context

        async def work() -> t.ExAnteSuccess:
            need(ctx, Action.RECORD_EX_ANTE)
            row, _ = await writes.subject_content(
                ctx, models.ExAnteAssessment, id, Action.RECORD_EX_ANTE, "ex-ante assessment"
            )
            conclusion = patch.conclusion or row.conclusion
            requested = _or(patch.requested_amount, row.requested_amount)
            reduction = _or(patch.recommended_reduction, row.recommended_reduction)
            changes = writes.patch_changes(
                {
                    "conducted_by": patch.conducted_by,
                    "conclusion": patch.conclusion,
                    "summary": patch.summary,
                }
            ) | _ex_ante_amounts(conclusion, requested, reduction, "patch.")
            fresh = await writes.update_versioned(
                ctx, row, version, changes, "updateExAnteAssessment"
            )
            return t.ExAnteSuccess(assessment=t.ExAnteAssessment.from_model(fresh))

        return await writes.guarded(work)

    # --- evaluations, findings, rectifications ----------------------------------------------

    @strawberry.mutation(description="Record an evaluation (finance); the grade follows the score.")
    async def record_evaluation(self, info: Info, input: EvaluationInput) -> t.EvaluationResult:
        ctx = info.context

        async def work() -> t.EvaluationSuccess:
            need(ctx, Action.RECORD_EVALUATION)
            subject = await writes.subject_for_content(
                ctx, input.subject_id, Action.RECORD_EVALUATION
            )
            _check_organiser(input.organiser, "organiser")
            validation.check_subject_year(input.fiscal_year, subject.fiscal_year, "fiscalYear")
            async with in_transaction():
                row = await models.Evaluation.create(
                    subject=subject,
                    kind=input.kind,
                    fiscal_year=input.fiscal_year,
                    organiser=input.organiser,
                    third_party=input.third_party,
                    budget_book=input.budget_book,
                    amount_evaluated=_amount("amountEvaluated", input.amount_evaluated),
                    score=writes.score(input.score),
                )
                await writes.created(ctx, "recordEvaluation", row)
            return t.EvaluationSuccess(evaluation=t.Evaluation.from_model(row))

        return await writes.guarded(work)

    @strawberry.mutation(
        description="Update an evaluation, based on its `version`; its status only moves forward."
    )
    async def update_evaluation(
        self, info: Info, id: strawberry.ID, version: int, patch: EvaluationPatch
    ) -> t.EvaluationResult:
        ctx = info.context

        async def work() -> t.EvaluationSuccess:
            need(ctx, Action.RECORD_EVALUATION)
            row, _ = await writes.subject_content(
                ctx, models.Evaluation, id, Action.RECORD_EVALUATION, "evaluation"
            )
            changes = _evaluation_changes(row, patch)
            fresh = await writes.update_versioned(ctx, row, version, changes, "updateEvaluation")
            return t.EvaluationSuccess(evaluation=t.Evaluation.from_model(fresh))

        return await writes.guarded(work)

    @strawberry.mutation(description="Record a finding and its rectification (due in 30 days).")
    async def record_finding(self, info: Info, input: FindingInput) -> t.RectificationResult:
        ctx = info.context

        async def work() -> t.RectificationSuccess:
            need(ctx, Action.RECORD_EVALUATION)
            evaluation, _ = await writes.subject_content(
                ctx, models.Evaluation, input.evaluation_id, Action.RECORD_EVALUATION, "evaluation"
            )
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
                extra = {"finding": audit.snapshot(finding)}
                await writes.created(ctx, "recordFinding", row, extra=extra)
            view = t.Rectification.from_model(row, finding, ctx.today())
            return t.RectificationSuccess(rectification=view)

        return await writes.guarded(work)

    @strawberry.mutation(description="The department reports its rectification measures (done).")
    async def report_rectification(
        self,
        info: Info,
        id: strawberry.ID,
        version: int,
        measures: Annotated[str, argument(FREE, multiline=True)],
        reported_at: date,
    ) -> t.RectificationResult:
        ctx = info.context

        async def work() -> t.RectificationSuccess:
            need(ctx, Action.REPORT_RECTIFICATION)
            row, finding = await writes.rectification(ctx, id, Action.REPORT_RECTIFICATION)
            if not measures.strip():
                raise InvalidRecord("measures", "required", "say what was done")
            if reported_at < row.received_at:
                raise InvalidRecord("reportedAt", "date-order", "reported before the notice")
            changes = {
                "measures": measures.strip(),
                "reported_at": reported_at,
                "status": enums.RectificationStatus.DONE,
            }
            fresh = await writes.update_versioned(ctx, row, version, changes, "reportRectification")
            view = t.Rectification.from_model(fresh, finding, ctx.today())
            return t.RectificationSuccess(rectification=view)

        return await writes.guarded(work)


@strawberry.type(description="Writes to the working data; each returns a typed result.")
class Mutation(
    RecordMutations,
    FilingMutations,
    ReleaseMutations,
    UploadMutations,
    OverdueMutations,
    FormMutations,
    PrivacyMutations,
):
    pass


# --- rules shared by a record's create and update ----------------------------------------------


def _or(value: Decimal | None, current: Decimal) -> Decimal:
    return current if value is None else value


def _applied(row: models.Subject, changes: dict[str, Any]) -> models.Subject:
    """A copy of the row with the changes applied, for the single-record checks (the row itself
    stays as loaded: it is the audit's "before")."""
    candidate = copy.copy(row)
    for name, value in changes.items():
        setattr(candidate, name, value)
    return candidate


def _amount(field: str, value: Decimal) -> Decimal:
    amount = writes.money(field, value)
    if amount < 0:
        raise InvalidRecord(field, "amount-non-negative", "must not be below zero")
    return amount


def _monitoring_amounts(budget: Decimal, spent: Decimal, prefix: str) -> dict[str, Any]:
    """Budget and spending to date, with the execution rate (percent, half-up) they give."""
    budget = writes.money(f"{prefix}budgetToDate", budget)
    spent = _amount(f"{prefix}executedToDate", spent)
    if budget <= 0:
        raise InvalidRecord(
            f"{prefix}budgetToDate", "budget-positive", "the rate needs a budget above zero"
        )
    rate = scoring.half_up(spent / budget * 100)
    scoring.check_rate_percent(f"{prefix}executedToDate", rate)
    return {"budget_to_date": budget, "executed_to_date": spent, "execution_rate": rate}


def _ex_ante_amounts(
    conclusion: enums.ExAnteConclusion, requested: Decimal, reduction: Decimal, prefix: str
) -> dict[str, Any]:
    """The amount requested and the reduction, which only 核减后支持 has and which lies between
    zero and the request."""
    requested = _amount(f"{prefix}requestedAmount", requested)
    reduction = writes.money(f"{prefix}recommendedReduction", reduction)
    if not 0 <= reduction <= requested:
        raise InvalidRecord(
            f"{prefix}recommendedReduction",
            "reduction-within-request",
            "the reduction lies between zero and the amount requested",
        )
    reducing = conclusion is enums.ExAnteConclusion.SUPPORT_WITH_REDUCTION
    if reducing != (reduction > 0):
        raise InvalidRecord(
            f"{prefix}recommendedReduction",
            "reduction-matches-conclusion",
            "核减后支持 needs a reduction; the other conclusions have none",
        )
    return {"requested_amount": requested, "recommended_reduction": reduction}


def _check_organiser(organiser: str, field: str) -> None:
    if not organiser.strip():
        raise InvalidRecord(field, "required", "name who organised the evaluation")


def _evaluation_changes(row: models.Evaluation, patch: EvaluationPatch) -> dict[str, Any]:
    if patch.organiser is not None:
        _check_organiser(patch.organiser, "patch.organiser")
    changes = writes.patch_changes(
        {
            "organiser": patch.organiser,
            "third_party": patch.third_party,
            "budget_book": patch.budget_book,
            "status": patch.status,
        }
    )
    if patch.amount_evaluated is not None:
        changes["amount_evaluated"] = _amount("patch.amountEvaluated", patch.amount_evaluated)
    new_score = writes.score(patch.score, "patch.score")
    if new_score is not None:
        # update() bypasses Evaluation.save(), which derives the grade (SR-1): derive it here.
        changes |= {"score": new_score, "grade": scoring.grade_for(new_score)}
    if patch.status is not None and EVALUATION_ORDER.index(patch.status) < EVALUATION_ORDER.index(
        row.status
    ):
        raise InvalidRecord(
            "patch.status",
            "evaluation-status-order",
            f"an evaluation moves forward only: it is {row.status.value} already",
        )
    return changes


def _indicator_replacement(
    target: models.PerformanceTarget, indicators: Sequence[IndicatorInput]
) -> Any:
    """Check a new indicator list whole, and return the write that swaps it in."""
    items = [records.IndicatorInput(**vars(i)) for i in indicators]
    if not items:
        raise InvalidRecord("patch.indicators", "indicators-required", "a target needs indicators")
    for position, item in enumerate(items):
        validation.check_indicator(item, f"patch.indicators[{position}]")

    async def replace() -> None:
        await models.Indicator.filter(target_id=target.id).delete()
        await models.Indicator.bulk_create(
            [
                models.Indicator(target_id=target.id, position=position, **vars(item))
                for position, item in enumerate(items)
            ]
        )

    return replace


async def _indicators_of(target: models.PerformanceTarget) -> Snapshot:
    rows = await models.Indicator.filter(target_id=target.id).order_by("position")
    return {"indicators": [audit.snapshot(i) for i in rows]}


async def _transition(
    ctx: InternalContext,
    id: strawberry.ID,
    version: int,
    action: Action,
    name: str,
    from_states: frozenset[enums.ReviewStatus] | set[enums.ReviewStatus],
    changes: dict[str, Any],
    *,
    require_reason: str | None = None,
) -> Any:
    """A review step of a target: allowed from `from_states` only, compare-and-set on version."""

    async def work() -> t.TargetSuccess:
        need(ctx, action)
        row, _ = await writes.subject_content(ctx, models.PerformanceTarget, id, action, "target")
        writes.check_version(row, version)
        if require_reason is not None and not require_reason.strip():
            raise InvalidRecord("reason", "required", "a rejection gives its reason")
        if row.review_status not in from_states:
            allowed = ", ".join(sorted(s.value for s in from_states))
            raise InvalidRecord(
                "reviewStatus",
                "review-order",
                f"{name} applies to a target in {allowed}, not {row.review_status.value}",
            )
        fresh = await writes.update_versioned(ctx, row, version, changes, name)
        return t.TargetSuccess(target=t.PerformanceTarget.from_model(fresh))

    return await writes.guarded(work)
