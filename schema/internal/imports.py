"""Importing forms (`importWorkbook`, `gongkai import`): checked forms → records, through the
steps every mutation takes (`writes`): the role check, the department through the caller's
visibility and scope, the review rules (a target changes only while DRAFT or REJECTED), the
compare-and-set on `version` and an audit entry per created or updated record — all of a batch
in one transaction, and only when no form of it has a problem.

A form equal to the stored records writes nothing, so importing the same workbook twice changes
nothing; a corrected one updates exactly the records it changes.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forms import check as form_check
from forms.layouts import FormKind
from forms.model import Form
from forms.problems import STORAGE_MESSAGES, Problem
from forms.read import ReadResult
from schema.internal import audit, writes
from schema.internal.context import InternalContext
from schema.internal.permissions import Action, Visibility, allows
from storage import models, records, scoring, validation
from storage.enums import ReviewStatus, SubjectKind, TargetHorizon
from storage.errors import InvalidRecord

#: a target's goal and indicators change only before review or after a rejection (as updateTarget)
EDITABLE_TARGETS = frozenset({ReviewStatus.DRAFT, ReviewStatus.REJECTED})
ACTIONS = {
    FormKind.TARGET: Action.EDIT_TARGET,
    FormKind.PROJECT_SELF_ASSESSMENT: Action.RECORD_ASSESSMENT,
    FormKind.DEPARTMENT_SELF_ASSESSMENT: Action.RECORD_ASSESSMENT,
}
KIND_NAMES = {
    FormKind.TARGET: "绩效目标申报表",
    FormKind.PROJECT_SELF_ASSESSMENT: "项目支出绩效自评表",
    FormKind.DEPARTMENT_SELF_ASSESSMENT: "部门整体支出绩效自评表",
}

Write = Callable[[], Awaitable[None]]


@dataclass
class Outcome:
    """What an import did (or, checked only, would do)."""

    forms: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stored: bool = False
    problems: list[Problem] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """The writes of one form, decided before anything is written."""

    form: Form
    writes: list[tuple[str, Write]] = field(default_factory=list)


def _problem(form: Form, key: str, rule: str, message: str) -> Problem:
    return Problem(form.file, form.sheet, form.cell(key), rule, message)


async def import_forms(
    ctx: InternalContext,
    results: Sequence[ReadResult],
    *,
    check_only: bool = False,
    department_code: str | None = None,
) -> Outcome:
    """Check every form of every workbook, then — when none has a problem and not
    `check_only` — write them all in one transaction."""
    outcome = Outcome()
    vis = await ctx.visibility()
    resolver = _Resolver(ctx, vis, department_code)
    await resolver.prefetch([form for result in results for form in result.forms])
    plans: list[_Plan] = []
    seen: dict[tuple[FormKind, int, str], Form] = {}
    for result in results:
        outcome.problems.extend(result.problems)
        outcome.ignored_sheets.extend(f"{result.file}:{name}" for name in result.ignored)
        for form in result.forms:
            outcome.forms += 1
            ok, problems = form_check.check(form)
            outcome.problems.extend(problems)
            try:
                if ok is None:
                    if form.fiscal_year is not None:
                        await resolver.identify(form, seen)
                    continue
                plans.append(await resolver.plan(ok, seen))
            except _Refused as refused:
                outcome.problems.append(refused.problem)
    if outcome.problems:
        return outcome
    changed_forms = {id(f) for f in resolver.changing_forms}
    for plan in plans:
        for kind, _ in plan.writes:
            if kind == "create":
                outcome.created += 1
            else:
                outcome.updated += 1
        if not plan.writes and id(plan.form) not in changed_forms:
            outcome.unchanged += 1
    subject_writes = resolver.subject_writes()
    outcome.updated += len(subject_writes)
    if subject_writes:
        # the subjects first: a form's own records are written after
        plans.insert(0, _Plan(plans[0].form, [("update", w) for w in subject_writes]))
    if check_only or not any(p.writes for p in plans):
        return outcome
    try:
        async with in_transaction():
            for plan in plans:
                for _, write in plan.writes:
                    await write()
    except (writes.Failed, InvalidRecord, IntegrityError) as failure:
        # Someone wrote between the check and the write (a stale version, a twin): nothing of
        # the batch stays; importing again compares with what is stored now.
        outcome.created = outcome.updated = outcome.unchanged = 0
        detail = getattr(getattr(failure, "result", None), "message", "") or str(failure)
        form = plans[0].form
        outcome.problems.append(
            _problem(
                form,
                "title",
                "version-conflict",
                f"导入过程中记录已被他人修改，未导入任何记录；请重新导入（{detail}）",
            )
        )
        return outcome
    outcome.stored = True
    return outcome


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


class _Resolver:
    def __init__(self, ctx: InternalContext, vis: Visibility, department_code: str | None) -> None:
        self.ctx = ctx
        self.vis = vis
        self.department_code = department_code
        self._departments: list[models.Department] | None = None
        #: what `prefetch` read: (department, year, overall?, code) → subject; subject id → its
        #: annual target and its self-assessment; their indicators and rows by their id
        self.subjects: dict[tuple[int, int, bool, str], models.Subject] = {}
        self.targets: dict[int, models.PerformanceTarget] = {}
        self.indicators: dict[int, list[dict[str, Any]]] = {}
        self.assessments: dict[int, models.SelfAssessment] = {}
        self.rows: dict[int, list[dict[str, Any]]] = {}
        #: subject id → (subject as read, the changes of the batch's forms, the first form)
        self.subject_updates: dict[int, tuple[models.Subject, dict[str, Any], Form]] = {}
        self.changing_forms: list[Form] = []

    async def departments(self) -> list[models.Department]:
        if self._departments is None:
            self._departments = list(await models.Department.all())
        return self._departments

    async def department(self, form: Form, action: Action) -> models.Department:
        """The 主管部门 a form names (by name or code; a unit's name finds its department),
        seen and in scope for `action`."""
        written = form.department.strip()
        matches = [
            d
            for d in await self.departments()
            if written in (d.name, d.code, f"{d.code} {d.name}", f"{d.code}{d.name}")
            and self.vis.can_read_department(d)
        ]
        found = [d for d in matches if d.parent_id is None] or matches
        if len(found) != 1 or not self.vis.in_scope(action, found[0].id):
            own = self.ctx.caller.department
            mine = f"（您的账号属于部门 {own}）" if own else ""
            reason = "不是您可以导入的部门" if len(found) == 1 or own else "在系统中找不到"
            raise _Refused(
                _problem(
                    form,
                    "department",
                    "department-forbidden" if reason.startswith("不是") else "department-unknown",
                    f"表中的主管部门「{written}」{reason}{mine}；未导入任何记录",
                )
            )
        department = found[0]
        if department.parent_id is not None:
            department = next(d for d in await self.departments() if d.id == department.parent_id)
        if self.department_code is not None and department.code != self.department_code:
            raise _Refused(
                _problem(
                    form,
                    "department",
                    "department-mismatch",
                    f"表中的主管部门「{written}」不是本次导入指定的部门 {self.department_code}",
                )
            )
        return department

    async def unit(
        self, form: Form, department: models.Department, current: int | None
    ) -> int | None:
        """The implementing unit a form names: the department or one of its units, by name or
        code. Two units may share a name: the subject's own unit wins when it is one of them,
        so that a form read back names the unit it was written from."""
        written = form.implementing_unit.strip()
        if not written:
            return None
        found = [
            d.id
            for d in await self.departments()
            if (d.id == department.id or d.parent_id == department.id)
            and written in (d.name, d.code)
        ]
        if found:
            return current if current in found else found[0]
        raise _Refused(
            _problem(
                form,
                "unit",
                "unit-unknown",
                f"实施单位「{written}」不是「{department.name}」或其所属单位",
            )
        )

    async def identify(
        self, form: Form, seen: dict[tuple[FormKind, int, str], Form]
    ) -> tuple[models.Department, int | None, models.Subject | None]:
        """The department, implementing unit and (stored) subject a form is about, each
        checked: run for every form, those with problems of their own too, so that a
        department sees every problem at once."""
        action = ACTIONS[form.kind]
        if not allows(self.ctx.caller, action):
            raise _Refused(
                _problem(form, "title", "forbidden", f"您的角色不能导入{KIND_NAMES[form.kind]}")
            )
        department = await self.department(form, action)
        assert form.fiscal_year is not None
        key = (form.kind, department.id, form.code)
        if key in seen:
            first = seen[key]
            raise _Refused(
                _problem(
                    form,
                    "code" if "code" in form.cells else "title",
                    "form-duplicate",
                    f"同一项目的{KIND_NAMES[form.kind]}在本次导入中出现了两次"
                    f"（另见 {first.file} 的工作表「{first.sheet}」）",
                )
            )
        seen[key] = form
        subject = await self._subject(form, department)
        unit_id = await self.unit(
            form, department, subject.implementing_unit_id if subject else None
        )
        if subject is not None and self.vis.is_stub(subject.id):
            raise _Refused(
                _problem(
                    form,
                    "title",
                    "classified-stub-only",
                    STORAGE_MESSAGES["classified-stub-only"],
                )
            )
        if subject is None and form.kind is not FormKind.TARGET:
            what = "部门整体支出" if form.kind is FormKind.DEPARTMENT_SELF_ASSESSMENT else "项目"
            raise _Refused(
                _problem(
                    form,
                    "code" if form.code else "department",
                    "subject-unknown",
                    f"找不到{form.fiscal_year}年度的{what}「{form.code or form.department}」；"
                    "请先导入其绩效目标申报表",
                )
            )
        return department, unit_id, subject

    async def plan(
        self, item: form_check.Checked, seen: dict[tuple[FormKind, int, str], Form]
    ) -> _Plan:
        department, unit_id, subject = await self.identify(item.form, seen)
        if item.form.kind is FormKind.TARGET:
            return await self._target_plan(item, department, unit_id, subject)
        assert subject is not None
        return await self._assessment_plan(item, subject, unit_id)

    async def prefetch(self, forms: Sequence[Form]) -> None:
        """Read, in a handful of queries, every stored record the batch's forms may be about:
        the subjects of their departments and years, with their annual targets, indicators,
        self-assessments and rows (a district's batch is thousands of forms)."""
        departments = await self.departments()
        written = {f.department.strip() for f in forms}
        named = {d.id for d in departments if {d.name, d.code} & written}
        ids = named | {d.parent_id for d in departments if d.id in named and d.parent_id}
        years = {f.fiscal_year for f in forms if f.fiscal_year is not None}
        subjects = await models.Subject.filter(department_id__in=ids, fiscal_year__in=years)
        for s in subjects:
            overall = s.kind is SubjectKind.DEPARTMENT_OVERALL
            self.subjects.setdefault((s.department_id, s.fiscal_year, overall, s.code), s)
            if overall:
                self.subjects.setdefault((s.department_id, s.fiscal_year, True, ""), s)
        subject_ids = [s.id for s in subjects]
        for target in await models.PerformanceTarget.filter(
            subject_id__in=subject_ids, horizon=TargetHorizon.ANNUAL
        ):
            self.targets[target.subject_id] = target
        # Child rows as plain values, not model objects: a district's batch has ~90,000 of
        # them, and building an object apiece (its timestamps parsed) was most of a re-import.
        for row in (
            await models.Indicator.filter(target_id__in=[t.id for t in self.targets.values()])
            .order_by("target_id", "position")
            .values("target_id", *INDICATOR_COMPARED)
        ):
            self.indicators.setdefault(row["target_id"], []).append(row)
        for assessment in await models.SelfAssessment.filter(subject_id__in=subject_ids):
            self.assessments[assessment.subject_id] = assessment
        for line in (
            await models.SelfAssessmentRow.filter(
                assessment_id__in=[a.id for a in self.assessments.values()]
            )
            .order_by("assessment_id", "position")
            .values("assessment_id", *ROW_COMPARED)
        ):
            self.rows.setdefault(line["assessment_id"], []).append(line)

    async def _subject(self, form: Form, department: models.Department) -> models.Subject | None:
        overall = form.kind is FormKind.DEPARTMENT_SELF_ASSESSMENT
        return self.subjects.get((department.id, form.fiscal_year or 0, overall, form.code))

    # --- 申报表 ---------------------------------------------------------------------------------

    async def _target_plan(
        self,
        item: form_check.Checked,
        department: models.Department,
        unit_id: int | None,
        subject: models.Subject | None,
    ) -> _Plan:
        form = item.form
        plan = _Plan(form)
        amounts = {
            k: v for k, v in form_check.amount_fields(form).items() if k.startswith("initial_")
        }
        ctx = self.ctx
        if subject is None:
            if not self.vis.in_scope(Action.EDIT_SUBJECT, department.id):
                raise _Refused(_problem(form, "code", "forbidden", "您的角色不能新建项目"))
            if self.vis.would_be_stub(form.fiscal_year or 0, department.id, unit_id):
                raise _Refused(
                    _problem(
                        form,
                        "title",
                        "classified-stub-only",
                        STORAGE_MESSAGES["classified-stub-only"],
                    )
                )
            fiscal_year = form.fiscal_year or 0

            async def create_all() -> None:
                full: dict[str, Any] = dict(amounts)
                for column in ("full_year", "executed"):
                    for source in ("total", *validation.AMOUNT_ROWS):
                        full[f"{column}_{source}"] = Decimal(0)
                new = await models.Subject.create(
                    kind=SubjectKind.PROJECT,
                    code=form.code,
                    fiscal_year=fiscal_year,
                    name=form.name,
                    department=department,
                    implementing_unit_id=unit_id,
                    budget_book=form.budget_book,
                    **full,
                )
                await writes.created(ctx, "importWorkbook", new)
                await self._create_target(new, item)

            plan.writes.append(("create", create_all))
            plan.writes.append(("create", _noop))  # the target, created with its subject
            return plan
        changes: dict[str, Any] = {}
        if subject.name != form.name:
            changes["name"] = form.name
        if subject.implementing_unit_id != unit_id:
            changes["implementing_unit_id"] = unit_id
        if form.budget_book is not None and subject.budget_book is not form.budget_book:
            changes["budget_book"] = form.budget_book
        for name, value in amounts.items():
            if not _same(getattr(subject, name), value):
                changes[name] = value
        if changes:
            self._subject_update(form, subject, changes)
        target = self.targets.get(subject.id)
        if target is None:
            current = subject

            async def create() -> None:
                await self._create_target(current, item)

            plan.writes.append(("create", create))
            return plan
        indicators = self.indicators.get(target.id, [])
        if target.overall_goal == form.goal and _same_indicators(indicators, item.indicators):
            return plan
        if target.review_status not in EDITABLE_TARGETS:
            raise _Refused(
                _problem(
                    form,
                    "goal",
                    "target-editable",
                    f"该项目的绩效目标已是「{target.review_status.label}」状态，导入不能修改它；"
                    "如需修改，请审核部门先退回（退回后状态为 REJECTED，可重新导入）",
                )
            )
        version = target.version

        async def update() -> None:
            async def replace() -> None:
                await models.Indicator.filter(target_id=target.id).delete()
                await models.Indicator.bulk_create(
                    [
                        models.Indicator(target_id=target.id, position=p, **vars(i))
                        for p, i in enumerate(item.indicators)
                    ]
                )

            await writes.update_versioned(
                ctx,
                target,
                version,
                {"overall_goal": form.goal},
                "importWorkbook",
                also=replace,
                detail=_indicators_of,
            )

        plan.writes.append(("update", update))
        return plan

    async def _create_target(self, subject: models.Subject, item: form_check.Checked) -> None:
        row = await records.create_target(subject, item.form.goal, item.indicators)
        await writes.created(self.ctx, "importWorkbook", row, extra=await _indicators_of(row))

    def _subject_update(self, form: Form, subject: models.Subject, changes: dict[str, Any]) -> None:
        """Collect a form's changes to its subject: a 申报表 and a 自评表 of one project may
        both change it, and it is written once (one compare-and-set, one audit entry). Two
        forms of the batch that disagree on a value are refused."""
        if not self.vis.in_scope(Action.EDIT_SUBJECT, subject.department_id):
            raise _Refused(_problem(form, "title", "forbidden", "您的角色不能修改项目信息"))
        _, pending, first = self.subject_updates.get(subject.id, (subject, {}, form))
        for name, value in changes.items():
            if name in pending and not _same(pending[name], value):
                raise _Refused(
                    _problem(
                        form,
                        "title",
                        "forms-disagree",
                        f"本表与工作表「{first.sheet}」（{first.file}）对同一项目的"
                        f"信息（{name}）填写不一致",
                    )
                )
        merged = pending | changes
        try:
            validation.check_subject(_applied(subject, merged))
        except InvalidRecord as error:  # the form's checks ran the same rule on its own values
            raise _Refused(
                _problem(form, "title", error.rule, STORAGE_MESSAGES.get(error.rule, error.message))
            ) from None
        self.subject_updates[subject.id] = (subject, merged, first)
        self.changing_forms.append(form)

    def subject_writes(self) -> list[Write]:
        ctx = self.ctx
        out: list[Write] = []
        for subject, changes, _ in self.subject_updates.values():

            async def update(
                subject: models.Subject = subject, changes: dict[str, Any] = changes
            ) -> None:
                await writes.update_versioned(
                    ctx, subject, subject.version, changes, "importWorkbook"
                )

            out.append(update)
        return out

    # --- 自评表 ---------------------------------------------------------------------------------

    async def _assessment_plan(
        self, item: form_check.Checked, subject: models.Subject, unit_id: int | None
    ) -> _Plan:
        form = item.form
        plan = _Plan(form)
        ctx = self.ctx
        if not self.vis.in_scope(Action.RECORD_ASSESSMENT, subject.department_id):
            raise _Refused(_problem(form, "department", "forbidden", "您不能导入该部门的自评表"))
        amounts = form_check.amount_fields(form)
        changes: dict[str, Any] = {
            k: v for k, v in amounts.items() if not _same(getattr(subject, k), v)
        }
        if form.kind is FormKind.PROJECT_SELF_ASSESSMENT:
            if subject.name != form.name:
                changes["name"] = form.name
            if subject.implementing_unit_id != unit_id:
                changes["implementing_unit_id"] = unit_id
        if changes:
            self._subject_update(form, subject, changes)
        budget, executed = amounts["full_year_total"], amounts["executed_total"]
        scored = scoring.score_self_assessment(budget, executed, item.rows)

        async def linked() -> list[scoring.RowInput]:
            # Looked up when written: the target may be created by the same batch.
            ids = await _indicator_ids(subject)
            return [
                dataclasses.replace(r, indicator_id=ids.get((r.level1, r.level2, r.indicator_name)))
                for r in item.rows
            ]

        rows = [
            {
                "level1": s.row.level1,
                "level2": s.row.level2,
                "indicator_name": s.row.indicator_name,
                "comparator": s.row.comparator,
                "target_value_raw": s.row.target_value_raw,
                "target_value_number": s.row.target_value_number,
                "actual_value_raw": s.row.actual_value_raw,
                "actual_value_number": s.row.actual_value_number,
                "qualitative_band": s.row.qualitative_band,
                "weight": s.row.weight,
                "score": s.score,
                "deviation_reason": s.row.deviation_reason,
            }
            for s in scored.rows
        ]
        existing = self.assessments.get(subject.id)
        values = {
            "full_year_budget": budget,
            "executed": executed,
            "execution_rate": scoring.rate_percent(scored.execution_rate),
            "execution_score": scored.execution_score,
            "total_score": scored.total_score,
            "grade": scored.grade,
            "annual_goal_expected": form.goal,
            "annual_goal_actual": form.goal_actual,
        }
        if existing is None:

            async def create() -> None:
                row = await records.create_self_assessment(
                    subject,
                    await linked(),
                    full_year_budget=budget,
                    executed=executed,
                    annual_goal_expected=form.goal,
                    annual_goal_actual=form.goal_actual,
                )
                form_rows = await models.SelfAssessmentRow.filter(assessment=row)
                extra = {"rows": [audit.snapshot(r) for r in form_rows]}
                await writes.created(ctx, "importWorkbook", row, extra=extra)

            plan.writes.append(("create", create))
            return plan
        stored_rows = self.rows.get(existing.id, [])
        header_same = all(_same(getattr(existing, k), v) for k, v in values.items())
        if header_same and _same_rows(stored_rows, rows):
            return plan
        header = {k: v for k, v in values.items() if not _same(getattr(existing, k), v)}
        version = existing.version

        async def update() -> None:
            async def replace() -> None:
                await models.SelfAssessmentRow.filter(assessment_id=existing.id).delete()
                await models.SelfAssessmentRow.bulk_create(
                    [
                        models.SelfAssessmentRow(
                            assessment_id=existing.id,
                            position=position,
                            indicator_id=linked_row.indicator_id,
                            **row,
                        )
                        for position, (row, linked_row) in enumerate(
                            zip(rows, await linked(), strict=True)
                        )
                    ]
                )

            await writes.update_versioned(
                ctx, existing, version, header, "importWorkbook", also=replace, detail=_rows_of
            )

        plan.writes.append(("update", update))
        return plan


async def _noop() -> None:
    return None


def _applied(row: models.Subject, changes: dict[str, Any]) -> models.Subject:
    candidate = copy.copy(row)
    for name, value in changes.items():
        setattr(candidate, name, value)
    return candidate


INDICATOR_COMPARED = (
    "level1",
    "level2",
    "name",
    "nature",
    "comparator",
    "target_value_raw",
    "target_value_number",
    "unit",
    "weight",
    "is_core",
    "explanation",
)
ROW_COMPARED = (
    "level1",
    "level2",
    "indicator_name",
    "comparator",
    "target_value_raw",
    "target_value_number",
    "actual_value_raw",
    "actual_value_number",
    "qualitative_band",
    "weight",
    "score",
    "deviation_reason",
)


def _same_indicators(
    stored: Sequence[dict[str, Any]], new: Sequence[records.IndicatorInput]
) -> bool:
    return len(stored) == len(new) and all(
        _same(a[f], getattr(b, f))
        for a, b in zip(stored, new, strict=True)
        for f in INDICATOR_COMPARED
    )


def _same_rows(stored: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> bool:
    return len(stored) == len(new) and all(
        _same(a[f], b[f]) for a, b in zip(stored, new, strict=True) for f in ROW_COMPARED
    )


async def _indicator_ids(subject: models.Subject) -> dict[tuple[Any, Any, str], int]:
    """The annual target's indicators by (level 1, level 2, name): a self-assessment row points
    at the indicator it assesses."""
    found: dict[tuple[Any, Any, str], int] = {}
    rows = await models.Indicator.filter(
        target__subject_id=subject.id, target__horizon=TargetHorizon.ANNUAL
    ).order_by("position")
    for row in rows:
        found.setdefault((row.level1, row.level2, row.name), row.id)
    return found


async def _indicators_of(target: models.PerformanceTarget) -> writes.Snapshot:
    rows = await models.Indicator.filter(target_id=target.id).order_by("position")
    return {"indicators": [audit.snapshot(i) for i in rows]}


async def _rows_of(assessment: models.SelfAssessment) -> writes.Snapshot:
    rows = await models.SelfAssessmentRow.filter(assessment_id=assessment.id).order_by("position")
    return {"rows": [audit.snapshot(r) for r in rows]}
