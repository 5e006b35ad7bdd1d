"""Importing forms (`importWorkbook`, `gongkai import`): checked forms → records, through the
steps every mutation takes (`writes`): the role check, the department through the caller's
visibility and scope, the review rules (a target changes only while DRAFT or REJECTED), the
compare-and-set on `version` and an audit entry per created or updated record.

The unit is the workbook: each is read, checked, compared with what is stored and written in
one transaction of its own — and only when none of its forms has a problem. A batch of many
workbooks (the CLI's) stores the valid ones and reports every problem of the others. The next
workbook is read in a worker thread while the current one is checked and written, so the reading
fills the time spent waiting on the database (its queries and its commit); at most two workbooks
are held at a time, so memory does not grow with their number.

A form equal to the stored records writes nothing, so importing the same workbook twice changes
nothing; a corrected one updates exactly the records it changes. New targets and
self-assessments, their indicators and rows and the audit entries of them all are written in a
few multi-row statements per workbook (`storage.inserts`), with the values and checks the ORM path
uses (`storage.records`); updates — a correction changes a few records — go one by one through
`writes.update_versioned`, as the mutations' do.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
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
from storage import inserts, models, records, validation
from storage.enums import ReviewStatus, SubjectKind, TargetHorizon
from storage.errors import InvalidRecord

#: a target's goal and indicators change only before review or after a rejection (as updateTarget)
EDITABLE_TARGETS = writes.EDITABLE_TARGETS
ACTION = "importWorkbook"
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
AMOUNT_FIELDS = tuple(
    f"{column}_{source}"
    for column in ("initial", "full_year", "executed")
    for source in ("total", *validation.AMOUNT_ROWS)
)
#: what the import reads of a subject: its identity, what the forms may change, what its own
#: rules look at
SUBJECT_READ = (
    "id",
    "kind",
    "code",
    "fiscal_year",
    "name",
    "department_id",
    "implementing_unit_id",
    "budget_book",
    "version",
    "start_date",
    "end_date",
    *AMOUNT_FIELDS,
)
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
ASSESSMENT_COMPARED = (
    "full_year_budget",
    "executed",
    "execution_rate",
    "execution_score",
    "total_score",
    "grade",
    "annual_goal_expected",
    "annual_goal_actual",
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

IndicatorKey = tuple[Any, Any, str]


@dataclass
class WorkbookOutcome:
    """What the import did with one workbook (or, checked only, would do)."""

    file: str
    forms: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stored: bool = False
    problems: list[Problem] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What an import of one or many workbooks did: the counts of the workbooks without a
    problem, and every problem of the others (none of whose records was stored)."""

    forms: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: some workbook's records were written
    stored: bool = False
    problems: list[Problem] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    workbooks: int = 0
    #: workbooks with a problem: nothing of them is stored
    refused: list[str] = field(default_factory=list)

    def add(self, book: WorkbookOutcome) -> None:
        self.workbooks += 1
        self.forms += book.forms
        self.created += book.created
        self.updated += book.updated
        self.unchanged += book.unchanged
        self.stored = self.stored or book.stored
        self.problems.extend(book.problems)
        self.ignored_sheets.extend(book.ignored_sheets)
        if book.problems:
            self.refused.append(book.file)


def _problem(form: Form, key: str, rule: str, message: str) -> Problem:
    return Problem(form.file, form.sheet, form.cell(key), rule, message)


async def import_forms(
    ctx: InternalContext,
    results: Iterable[ReadResult],
    *,
    check_only: bool = False,
    department_code: str | None = None,
    on_workbook: Callable[[WorkbookOutcome], None] | None = None,
) -> Outcome:
    """Import each workbook in turn (`results` may be a generator that reads them one at a
    time): check every form of it, then — when none has a problem and not `check_only` — write
    them in one transaction. A workbook with a problem stores nothing; the others are stored."""
    outcome = Outcome()
    batch = _Batch(ctx, await ctx.visibility(), department_code)
    await batch.load_departments()
    async with contextlib.aclosing(_read_ahead(results)) as workbooks:
        async for result in workbooks:
            book = await _Workbook(batch, result).run(check_only)
            outcome.add(book)
            if on_workbook is not None:
                on_workbook(book)
    return outcome


async def _read_ahead(results: Iterable[ReadResult]) -> AsyncGenerator[ReadResult, None]:
    """`results` one by one, the next read in a worker thread while the caller works on the
    current one. One read at a time, so a generator is never entered twice at once."""
    iterator = iter(results)
    ahead = asyncio.ensure_future(asyncio.to_thread(next, iterator, None))
    try:
        while (result := await ahead) is not None:
            ahead = asyncio.ensure_future(asyncio.to_thread(next, iterator, None))
            yield result
    finally:
        # a caller that stops early still waits for the read under way (the thread cannot be
        # cancelled) and drops its result
        await asyncio.gather(ahead, return_exceptions=True)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


class _Batch:
    """What lasts across a batch's workbooks: the caller, its visibility, the departments by
    the names and codes a form may give, and which workbook and sheet each form of the batch
    came from (a project's form twice in one batch is refused, as within one workbook)."""

    def __init__(self, ctx: InternalContext, vis: Visibility, department_code: str | None) -> None:
        self.ctx = ctx
        self.vis = vis
        self.department_code = department_code
        self.departments: dict[int, models.Department] = {}
        self.by_label: dict[str, list[models.Department]] = {}
        self.units: dict[int, list[models.Department]] = {}
        #: (form kind, department id, code) → (file, sheet) of the form first seen
        self.seen: dict[tuple[FormKind, int, str], tuple[str, str]] = {}

    async def load_departments(self) -> None:
        for d in await models.Department.all():
            self.departments[d.id] = d
            for label in dict.fromkeys((d.name, d.code, f"{d.code} {d.name}", f"{d.code}{d.name}")):
                self.by_label.setdefault(label, []).append(d)
            if d.parent_id is not None:
                self.units.setdefault(d.parent_id, []).append(d)


@dataclass
class _NewSubject:
    form: Form
    department_id: int
    unit_id: int | None
    amounts: dict[str, Decimal]
    item: form_check.Checked


@dataclass
class _New:
    """A target or self-assessment to create: its columns and its indicators' or rows'."""

    form: Form
    values: dict[str, Any]
    lines: list[dict[str, Any]]


@dataclass
class _Update:
    form: Form
    id: int
    subject_id: int
    version: int
    changes: dict[str, Any]
    lines: list[dict[str, Any]]


class _Workbook:
    """One workbook: its forms checked, compared with the stored records (read in a handful of
    queries) and, when none has a problem, written in one transaction."""

    def __init__(self, batch: _Batch, result: ReadResult) -> None:
        self.batch = batch
        self.ctx = batch.ctx
        self.vis = batch.vis
        self.result = result
        #: what `prefetch` read, as plain values: (department, year, overall?, code) → subject;
        #: subject id → its annual target, its self-assessment; their indicators and rows
        self.subjects: dict[tuple[int, int, bool, str], SimpleNamespace] = {}
        self.targets: dict[int, dict[str, Any]] = {}
        self.indicators: dict[int, list[dict[str, Any]]] = {}
        self.assessments: dict[int, dict[str, Any]] = {}
        self.rows: dict[int, list[dict[str, Any]]] = {}
        # the writes, decided before anything is written
        #: subject id → (subject as read, the changes of the workbook's forms, the first form)
        self.subject_updates: dict[int, tuple[SimpleNamespace, dict[str, Any], Form]] = {}
        self.new_subjects: list[_NewSubject] = []
        self.new_targets: list[_New] = []
        self.target_updates: list[_Update] = []
        self.new_assessments: list[_New] = []
        self.assessment_updates: list[_Update] = []
        #: forms that write something (their own record or their subject)
        self.changing: set[int] = set()

    async def run(self, check_only: bool) -> WorkbookOutcome:
        result = self.result
        book = WorkbookOutcome(result.file, forms=len(result.forms))
        book.ignored_sheets = [f"{result.file}:{name}" for name in result.ignored]
        problems = list(result.problems)
        checked = []
        for form in result.forms:
            ok, found = form_check.check(form)
            problems.extend(found)
            checked.append((form, ok))
        await self.prefetch(result.forms)
        for form, ok in checked:
            try:
                if ok is None:
                    if form.fiscal_year is not None:
                        await self.identify(form)
                    continue
                await self.plan(ok)
            except _Refused as refused:
                problems.append(refused.problem)
        if problems:
            book.problems = problems
            return book
        book.created = 2 * len(self.new_subjects) + len(self.new_targets)
        book.created += len(self.new_assessments)
        book.updated = len(self.subject_updates) + len(self.target_updates)
        book.updated += len(self.assessment_updates)
        book.unchanged = sum(1 for form in result.forms if id(form) not in self.changing)
        if check_only or not (book.created or book.updated):
            return book
        try:
            async with in_transaction() as connection:
                await self.write(connection)
        except (writes.Failed, InvalidRecord, IntegrityError) as failure:
            # Someone wrote between the check and the write (a stale version, a twin): nothing
            # of the workbook stays; importing it again compares with what is stored now.
            book.created = book.updated = book.unchanged = 0
            detail = getattr(getattr(failure, "result", None), "message", "") or str(failure)
            book.problems = [
                _problem(
                    result.forms[0],
                    "title",
                    "version-conflict",
                    f"导入过程中记录已被他人修改，该工作簿未导入任何记录；请重新导入（{detail}）",
                )
            ]
            return book
        book.stored = True
        return book

    # --- who and what a form is about ----------------------------------------------------------

    def department(self, form: Form, action: Action) -> models.Department:
        """The 主管部门 a form names (by name or code; a unit's name finds its department),
        seen and in scope for `action`."""
        batch = self.batch
        written = form.department.strip()
        matches = [d for d in batch.by_label.get(written, ()) if self.vis.can_read_department(d)]
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
            department = batch.departments[department.parent_id]
        if batch.department_code is not None and department.code != batch.department_code:
            raise _Refused(
                _problem(
                    form,
                    "department",
                    "department-mismatch",
                    f"表中的主管部门「{written}」不是本次导入指定的部门 {batch.department_code}",
                )
            )
        return department

    def unit(self, form: Form, department: models.Department, current: int | None) -> int | None:
        """The implementing unit a form names: the department or one of its units, by name or
        code. Two units may share a name: the subject's own unit wins when it is one of them,
        so that a form read back names the unit it was written from."""
        written = form.implementing_unit.strip()
        if not written:
            return None
        family = [department, *self.batch.units.get(department.id, ())]
        found = [d.id for d in sorted(family, key=lambda d: d.id) if written in (d.name, d.code)]
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
        self, form: Form
    ) -> tuple[models.Department, int | None, SimpleNamespace | None]:
        """The department, implementing unit and (stored) subject a form is about, each
        checked: run for every form, those with problems of their own too, so that a
        department sees every problem at once."""
        action = ACTIONS[form.kind]
        if not allows(self.ctx.caller, action):
            raise _Refused(
                _problem(form, "title", "forbidden", f"您的角色不能导入{KIND_NAMES[form.kind]}")
            )
        department = self.department(form, action)
        assert form.fiscal_year is not None
        key = (form.kind, department.id, form.code)
        seen = self.batch.seen
        if key in seen:
            file, sheet = seen[key]
            raise _Refused(
                _problem(
                    form,
                    "code" if "code" in form.cells else "title",
                    "form-duplicate",
                    f"同一项目的{KIND_NAMES[form.kind]}在本次导入中出现了两次"
                    f"（另见 {file} 的工作表「{sheet}」）",
                )
            )
        seen[key] = (form.file, form.sheet)
        overall = form.kind is FormKind.DEPARTMENT_SELF_ASSESSMENT
        subject = self.subjects.get((department.id, form.fiscal_year, overall, form.code))
        unit_id = self.unit(form, department, subject.implementing_unit_id if subject else None)
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

    async def plan(self, item: form_check.Checked) -> None:
        department, unit_id, subject = await self.identify(item.form)
        if item.form.kind is FormKind.TARGET:
            self._target_plan(item, department, unit_id, subject)
        else:
            assert subject is not None
            self._assessment_plan(item, subject, unit_id)

    async def prefetch(self, forms: Sequence[Form]) -> None:
        """Read, in a handful of queries, every stored record the workbook's forms may be about:
        the subjects of their departments and years, with their annual targets, indicators,
        self-assessments and rows — as plain values (a department's workbook is thousands of
        rows; building a model object apiece was most of a re-import)."""
        batch = self.batch
        named = {d.id for f in forms for d in batch.by_label.get(f.department.strip(), ())}
        ids = named | {batch.departments[i].parent_id or i for i in named}
        years = {f.fiscal_year for f in forms if f.fiscal_year is not None}
        if not ids or not years:
            return
        subjects = await models.Subject.filter(department_id__in=ids, fiscal_year__in=years).values(
            *SUBJECT_READ
        )
        for values in subjects:
            s = SimpleNamespace(**values)
            overall = s.kind is SubjectKind.DEPARTMENT_OVERALL
            self.subjects.setdefault((s.department_id, s.fiscal_year, overall, s.code), s)
            if overall:
                self.subjects.setdefault((s.department_id, s.fiscal_year, True, ""), s)
        subject_ids = [s["id"] for s in subjects]
        kinds = {f.kind for f in forms}
        if subject_ids and FormKind.TARGET in kinds:
            await self._prefetch_targets(subject_ids)
        if subject_ids and kinds - {FormKind.TARGET}:
            await self._prefetch_assessments(subject_ids)

    async def _prefetch_targets(self, subject_ids: list[int]) -> None:
        for target in await models.PerformanceTarget.filter(
            subject_id__in=subject_ids, horizon=TargetHorizon.ANNUAL
        ).values("id", "subject_id", "overall_goal", "review_status", "version"):
            self.targets[target["subject_id"]] = target
        if self.targets:
            for row in (
                await models.Indicator.filter(
                    target_id__in=[t["id"] for t in self.targets.values()]
                )
                .order_by("target_id", "position")
                .values("id", "target_id", *INDICATOR_COMPARED)
            ):
                self.indicators.setdefault(row["target_id"], []).append(row)

    async def _prefetch_assessments(self, subject_ids: list[int]) -> None:
        for assessment in await models.SelfAssessment.filter(subject_id__in=subject_ids).values(
            "id", "subject_id", "version", *ASSESSMENT_COMPARED
        ):
            self.assessments[assessment["subject_id"]] = assessment
        if self.assessments:
            for line in (
                await models.SelfAssessmentRow.filter(
                    assessment_id__in=[a["id"] for a in self.assessments.values()]
                )
                .order_by("assessment_id", "position")
                .values("assessment_id", *ROW_COMPARED)
            ):
                self.rows.setdefault(line["assessment_id"], []).append(line)

    # --- 申报表 ---------------------------------------------------------------------------------

    def _target_plan(
        self,
        item: form_check.Checked,
        department: models.Department,
        unit_id: int | None,
        subject: SimpleNamespace | None,
    ) -> None:
        form = item.form
        amounts = {
            k: v for k, v in form_check.amount_fields(form).items() if k.startswith("initial_")
        }
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
            self.new_subjects.append(_NewSubject(form, department.id, unit_id, amounts, item))
            self.changing.add(id(form))
            return
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
            values, lines = _checked(
                form, "goal", records.target_values, subject, form.goal, item.indicators
            )
            self.new_targets.append(_New(form, values, lines))
            self.changing.add(id(form))
            return
        indicators = self.indicators.get(target["id"], [])
        if target["overall_goal"] == form.goal and _same_indicators(indicators, item.indicators):
            return
        status: ReviewStatus = target["review_status"]
        if status not in EDITABLE_TARGETS:
            raise _Refused(
                _problem(
                    form,
                    "goal",
                    "target-editable",
                    f"该项目的绩效目标已是「{status.label}」状态，导入不能修改它；"
                    "如需修改，请审核部门先退回（退回后状态为 REJECTED，可重新导入）",
                )
            )
        _, lines = _checked(
            form, "goal", records.target_values, subject, form.goal, item.indicators
        )
        self.target_updates.append(
            _Update(
                form,
                target["id"],
                subject.id,
                target["version"],
                {"overall_goal": form.goal},
                lines,
            )
        )
        self.changing.add(id(form))

    def _subject_update(
        self, form: Form, subject: SimpleNamespace, changes: dict[str, Any]
    ) -> None:
        """Collect a form's changes to its subject: a 申报表 and a 自评表 of one project may
        both change it, and it is written once (one compare-and-set, one audit entry). Two
        forms of the workbook that disagree on a value are refused."""
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
        candidate = copy.copy(subject)
        for name, value in merged.items():
            setattr(candidate, name, value)
        try:
            validation.check_subject(candidate)
        except InvalidRecord as error:  # the form's checks ran the same rule on its own values
            raise _Refused(
                _problem(form, "title", error.rule, STORAGE_MESSAGES.get(error.rule, error.message))
            ) from None
        self.subject_updates[subject.id] = (subject, merged, first)
        self.changing.add(id(form))

    # --- 自评表 ---------------------------------------------------------------------------------

    def _assessment_plan(
        self, item: form_check.Checked, subject: SimpleNamespace, unit_id: int | None
    ) -> None:
        form = item.form
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
        values, lines = _checked(
            form,
            "title",
            records.self_assessment_values,
            subject,
            item.rows,
            full_year_budget=amounts["full_year_total"],
            executed=amounts["executed_total"],
            annual_goal_expected=form.goal,
            annual_goal_actual=form.goal_actual,
        )
        existing = self.assessments.get(subject.id)
        if existing is None:
            self.new_assessments.append(_New(form, values, lines))
            self.changing.add(id(form))
            return
        header = {k: values[k] for k in ASSESSMENT_COMPARED if not _same(existing[k], values[k])}
        if not header and _same_rows(self.rows.get(existing["id"], []), lines):
            return
        self.assessment_updates.append(
            _Update(form, existing["id"], subject.id, existing["version"], header, lines)
        )
        self.changing.add(id(form))

    # --- the writes -----------------------------------------------------------------------------

    async def write(self, connection: Any) -> None:
        ctx = self.ctx
        now = ctx.clock()
        entries: list[dict[str, Any]] = []
        for subject_id, (subject, changes, _) in self.subject_updates.items():
            stored = await models.Subject.get(id=subject_id)
            await writes.update_versioned(ctx, stored, subject.version, changes, ACTION)
        for added in self.new_subjects:
            full: dict[str, Any] = dict(added.amounts)
            for name in AMOUNT_FIELDS:
                full.setdefault(name, Decimal(0))
            created = await models.Subject.create(
                kind=SubjectKind.PROJECT,
                code=added.form.code,
                fiscal_year=added.form.fiscal_year or 0,
                name=added.form.name,
                department_id=added.department_id,
                implementing_unit_id=added.unit_id,
                budget_book=added.form.budget_book,
                **full,
            )
            await writes.created(ctx, ACTION, created)
            values, lines = records.target_values(created, added.form.goal, added.item.indicators)
            self.new_targets.append(_New(added.form, values, lines))
        #: subject id → its annual target's indicators by (level 1, level 2, name): a
        #: self-assessment row points at the indicator it assesses
        links: dict[int, dict[IndicatorKey, int]] = {}
        if self.new_targets:
            entries += await self._create(
                connection, now, self.new_targets, models.PerformanceTarget, models.Indicator
            )
            for target in self.new_targets:
                links[target.values["subject_id"]] = _keys_of(target.lines, "name")
        for update in self.target_updates:
            await self._update_target(update)
        # the other assessed subjects' indicators as stored (after this workbook's replacements),
        # read in one query
        assessed = [a.values["subject_id"] for a in self.new_assessments]
        assessed += [u.subject_id for u in self.assessment_updates]
        unlinked = [s for s in dict.fromkeys(assessed) if s not in links]
        if unlinked:
            for indicator in (
                await models.Indicator.filter(
                    target__subject_id__in=unlinked, target__horizon=TargetHorizon.ANNUAL
                )
                .order_by("position")
                .values("id", "target__subject_id", "level1", "level2", "name")
            ):
                keys = links.setdefault(indicator["target__subject_id"], {})
                key = (indicator["level1"], indicator["level2"], indicator["name"])
                keys.setdefault(key, indicator["id"])
        for assessment in self.new_assessments:
            self._link(assessment.values["subject_id"], assessment.lines, links)
        if self.new_assessments:
            entries += await self._create(
                connection,
                now,
                self.new_assessments,
                models.SelfAssessment,
                models.SelfAssessmentRow,
            )
        for update in self.assessment_updates:
            self._link(update.subject_id, update.lines, links)
            await self._update_assessment(update)
        if entries:
            table = inserts.table(models.AuditEntry)
            await inserts.insert(
                connection, models.AuditEntry, [table.complete(e, now) for e in entries]
            )

    @staticmethod
    def _link(
        subject_id: int,
        lines: list[dict[str, Any]],
        links: dict[int, dict[IndicatorKey, int]],
    ) -> None:
        ids = links.get(subject_id, {})
        for line in lines:
            line["indicator_id"] = ids.get((line["level1"], line["level2"], line["indicator_name"]))

    async def _create(
        self,
        connection: Any,
        now: Any,
        news: list[_New],
        model: type[models.PerformanceTarget] | type[models.SelfAssessment],
        child: type[models.Indicator] | type[models.SelfAssessmentRow],
    ) -> list[dict[str, Any]]:
        """Targets with their indicators, or self-assessments with their rows, in a few
        statements; the audit entries of them (each with its children, as `writes.created`
        records a record created with its children)."""
        ctx = self.ctx
        # (The year of each is its subject's, taken from it by `storage.records`: DR-5, which
        # the models' save() checks with a query apiece, holds by construction.)
        parents = [inserts.table(model).complete(new.values, now) for new in news]
        returned = await inserts.insert(connection, model, parents, ("id", "subject_id"))
        ids = {subject_id: id for id, subject_id in returned}
        parent_key = "target_id" if child is models.Indicator else "assessment_id"
        complete = inserts.table(child).complete
        children: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for new, values in zip(news, parents, strict=True):
            values["id"] = ids[values["subject_id"]]
            children += [
                (line, complete({**line, parent_key: values["id"]}, now)) for line in new.lines
            ]
        returned = await inserts.insert(
            connection, child, [c for _, c in children], ("id", parent_key, "position")
        )
        child_ids = {(parent, position): id for id, parent, position in returned}
        by_parent: dict[int, list[dict[str, Any]]] = {}
        for line, values in children:
            values["id"] = line["id"] = child_ids[(values[parent_key], values["position"])]
            by_parent.setdefault(values[parent_key], []).append(values)
        detail = "indicators" if child is models.Indicator else "rows"
        return [
            audit.entry(
                ctx.caller,
                ACTION,
                model.__name__,
                values["id"],
                before=None,
                after=audit.snapshot_of(model, values)
                | {detail: [audit.snapshot_of(child, c) for c in by_parent.get(values["id"], [])]},
                classified=False,
                request_id=ctx.request_id,
            )
            for values in parents
        ]

    async def _update_target(self, update: _Update) -> None:
        target = await models.PerformanceTarget.get(id=update.id)

        async def replace() -> None:
            await models.Indicator.filter(target_id=update.id).delete()
            await models.Indicator.bulk_create(
                [models.Indicator(target_id=update.id, **line) for line in update.lines]
            )

        await writes.update_versioned(
            self.ctx,
            target,
            update.version,
            update.changes,
            ACTION,
            also=replace,
            detail=_indicators_of,
        )

    async def _update_assessment(self, update: _Update) -> None:
        assessment = await models.SelfAssessment.get(id=update.id)

        async def replace() -> None:
            await models.SelfAssessmentRow.filter(assessment_id=update.id).delete()
            await models.SelfAssessmentRow.bulk_create(
                [models.SelfAssessmentRow(assessment_id=update.id, **line) for line in update.lines]
            )

        await writes.update_versioned(
            self.ctx,
            assessment,
            update.version,
            update.changes,
            ACTION,
            also=replace,
            detail=_rows_of,
        )


def _checked(form: Form, key: str, values: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Storage's own values of a record, its rules run once more (the form's checks ran them on
    the form's values): a refusal is the form's problem."""
    try:
        return values(*args, **kwargs)
    except InvalidRecord as error:
        raise _Refused(
            _problem(form, key, error.rule, STORAGE_MESSAGES.get(error.rule, error.message))
        ) from None


def _keys_of(lines: Sequence[dict[str, Any]], name: str) -> dict[IndicatorKey, int]:
    """Indicators by (level 1, level 2, name): the first of a name wins, as they are ordered."""
    found: dict[IndicatorKey, int] = {}
    for line in lines:
        if "id" in line:
            found.setdefault((line["level1"], line["level2"], line[name]), line["id"])
    return found


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


async def _indicators_of(target: models.PerformanceTarget) -> writes.Snapshot:
    rows = await models.Indicator.filter(target_id=target.id).order_by("position")
    return {"indicators": [audit.snapshot(i) for i in rows]}


async def _rows_of(assessment: models.SelfAssessment) -> writes.Snapshot:
    rows = await models.SelfAssessmentRow.filter(assessment_id=assessment.id).order_by("position")
    return {"rows": [audit.snapshot(r) for r in rows]}
