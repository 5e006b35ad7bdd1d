"""A fiscal year's subjects: its projects, one overall expenditure per department and the
fiscal policies, with their amounts blocks. Subjects under a CLASSIFIED filing are identity stubs
(decisions.md D6)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from api.demo import indicators, names
from api.demo.context import Context, Dept, Project, Record
from api.demo.draws import execution_rate, round_fen, wan
from api.demo.names import CAPITAL, INFO, SUBSIDY
from storage import models
from storage.enums import (
    BudgetBook,
    FilingReason,
    InvestmentKind,
    ProjectAttribute,
    ProjectType,
    SubjectKind,
)
from storage.money import from_fen

#: When a department filing and a project filing both cover a project, the stricter counts.
PRECEDENCE = {FilingReason.SENSITIVE: 1, FilingReason.CLASSIFIED: 2}


def _covered_departments(ctx: Context, year: int) -> dict[str, FilingReason]:
    index = ctx.year_index(year)
    return {
        d.code: d.filed.reason
        for d in ctx.departments
        if d.filed is not None and index >= d.filed.since
    }


def _amounts(rng: random.Random, initial_fen: int, rate_bp: int, carry: bool) -> dict[str, Decimal]:
    """The amounts block (three columns × appropriation, carry-over, other), each column's
    total the sum of its rows. `rate_bp` is the execution rate in 1/10000 of 全年预算数."""
    other = (
        initial_fen * rng.randint(5, 30) // 100 // 10_000 * 10_000 if rng.randrange(10) == 0 else 0
    )
    initial = (initial_fen - other, 0, other)
    appropriation = initial[0]
    if rng.randrange(100) < 30:
        appropriation = appropriation * rng.randint(70, 130) // 100 // 10_000 * 10_000
    carry_over = initial_fen * rng.randint(5, 40) // 100 // 100 * 100 if carry else 0
    full = (appropriation, carry_over, other)
    executed = tuple(part * rate_bp // 10_000 for part in full)
    block: dict[str, Decimal] = {}
    for prefix, parts in (("initial", initial), ("full_year", full), ("executed", executed)):
        for row, fen in zip(("appropriation", "carry_over", "other"), parts, strict=True):
            block[f"{prefix}_{row}"] = from_fen(fen)
        block[f"{prefix}_total"] = from_fen(sum(parts))
    return block


def of_year(ctx: Context, year: int, running: Sequence[Project]) -> list[Record]:
    """The year's projects, one overall expenditure per department and the fiscal policies."""
    rng = ctx.rng("subjects", year)
    whole = _covered_departments(ctx, year)
    index = ctx.year_index(year)
    records: list[Record] = []
    for project in running:
        reasons = [whole.get(project.dept.code)]
        if project.filed and index >= project.filed.since:
            reasons.append(project.filed.reason)
        covered = max((r for r in reasons if r), key=PRECEDENCE.__getitem__, default=None)
        records.append(_project_record(rng, ctx, year, project, covered))
    by_dept: dict[str, list[Record]] = {d.code: [] for d in ctx.departments}
    for record in records:
        by_dept[record.dept.code].append(record)
    for dept in ctx.departments:
        records.append(
            _overall_record(rng, ctx, year, dept, by_dept[dept.code], whole.get(dept.code))
        )
    selected = index % len(ctx.scale.policies)
    for number, spec in enumerate(ctx.scale.policies):
        records.append(_policy_record(rng, ctx, year, spec, number, number == selected))
    for record in records:
        ctx.batch.add(record.subject)
    return records


def _stub(
    ctx: Context, year: int, kind: SubjectKind, code: str, name: str, dept: Dept
) -> models.Subject:
    """D6: code, name, department and year, nothing else."""
    return models.Subject(
        id=ctx.ids.take(models.Subject),
        kind=kind,
        code=code,
        fiscal_year=year,
        name=name,
        department_id=dept.id,
        budget_book=BudgetBook.GENERAL_PUBLIC,
        in_disclosure_scope=False,
    )


def _project_record(
    rng: random.Random, ctx: Context, year: int, project: Project, covered: FilingReason | None
) -> Record:
    kind, dept, topic = SubjectKind.PROJECT, project.dept, project.topic
    if covered is FilingReason.CLASSIFIED:
        subject = _stub(ctx, year, kind, project.code, project.name, dept)
        return Record(subject, kind, dept, None, None, None, "", covered, project)
    if year > project.first_year and year > ctx.first_year:
        project.base_fen = round_fen(project.base_fen / 100 * rng.randint(92, 112) / 100)
    rate = execution_rate(rng)
    new = project.first_year == year
    multi_year = project.last_year is not None and project.last_year > project.first_year
    if new:
        attribute = ProjectAttribute.NEW
        project_type = (
            ProjectType.NEW_MANDATED if rng.randrange(5) == 0 else ProjectType.OTHER_ONE_OFF
        )
    else:
        attribute = ProjectAttribute.CONTINUING
        if multi_year:
            project_type = ProjectType.CARRY_OVER
        elif rng.randrange(10) < 6:
            project_type = ProjectType.RECURRING_SPECIAL_OPS
        else:
            project_type = ProjectType.OTHER_RECURRING
    carry = project_type is ProjectType.CARRY_OVER or rng.randrange(100) < 8
    flags = []
    if topic.purpose is CAPITAL:
        flags.append("CAPITAL_CONSTRUCTION")
    if topic.purpose is INFO:
        flags.append("INFORMATIZATION")
    if project.book is BudgetBook.GOVERNMENT_FUND:
        flags.append("GOV_FUND")
    if project.fiscal_settlement:
        flags.append("FISCAL_SETTLEMENT")
    investment = None
    if topic.purpose is CAPITAL:
        investment = InvestmentKind.INVESTMENT_CONSTRUCTION
    elif topic.maintenance:
        investment = InvestmentKind.RECURRING_OPS_MAINTENANCE
    if multi_year:
        assert project.last_year is not None
        start, end = date(project.first_year, 3, 1), date(project.last_year, 12, 31)
        term = project.last_year - project.first_year + 1
    else:
        start, end, term = date(year, 1, 1), date(year, 12, 31), 1
    goal = rng.choice(names.GOALS[topic.purpose]).format(name=project.name, people=topic.people)
    subject = models.Subject(
        id=ctx.ids.take(models.Subject),
        kind=kind,
        code=project.code,
        fiscal_year=year,
        name=project.name,
        department_id=dept.id,
        implementing_unit_id=project.unit.id if project.unit else None,
        budget_book=project.book,
        funding_purpose=topic.purpose,
        project_type=project_type,
        attribute=attribute,
        investment_kind=investment,
        transfer_type=project.transfer,
        extra_flags=flags,
        start_date=start,
        end_date=end,
        term_years=term,
        basis=rng.choice(names.BASIS),
        necessity=rng.choice(names.NECESSITY),
        summary=f"{project.name}：{goal}",
        functional_class_code=project.functional_code,
        in_disclosure_scope=project.in_scope,
        **_amounts(rng, project.base_fen, rate, carry),
    )
    target = indicators.Subject(
        indicators.PURPOSE_POOLS[topic.purpose],
        indicators.SECTOR_BENEFITS[dept.spec.sector],
        topic.measure,
        topic.obj,
        topic.people,
        wan(subject.initial_total),
    )
    return Record(
        subject,
        kind,
        dept,
        project.unit,
        topic.purpose,
        target,
        goal,
        covered,
        project,
        low_execution=rate < 6000,
    )


def _overall_record(
    rng: random.Random,
    ctx: Context,
    year: int,
    dept: Dept,
    projects: Sequence[Record],
    covered: FilingReason | None,
) -> Record:
    kind = SubjectKind.DEPARTMENT_OVERALL
    code, name = f"{dept.code}-ZT", f"{dept.name}部门整体支出"
    if covered is FilingReason.CLASSIFIED:
        return Record(
            _stub(ctx, year, kind, code, name, dept), kind, dept, None, None, None, "", covered
        )
    # Basic expenditure (salaries, running costs) comes on top of the project budgets.
    project_fen = sum(int(r.subject.initial_total * 100) for r in projects)
    initial_fen = round_fen(max(project_fen, 1_000_000) / 100 * rng.randint(130, 180) / 100)
    goal = rng.choice(names.OVERALL_GOALS)
    subject = models.Subject(
        id=ctx.ids.take(models.Subject),
        kind=kind,
        code=code,
        fiscal_year=year,
        name=name,
        department_id=dept.id,
        budget_book=BudgetBook.GENERAL_PUBLIC,
        start_date=date(year, 1, 1),
        end_date=date(year, 12, 31),
        term_years=1,
        summary=rng.choice(names.OVERALL_DUTIES),
        in_disclosure_scope=True,
        **_amounts(rng, initial_fen, rng.randint(9000, 9950), rng.randrange(4) == 0),
    )
    target = indicators.Subject(
        indicators.OVERALL_POOL, (), None, "部门履职", "服务对象", wan(subject.initial_total)
    )
    return Record(subject, kind, dept, None, None, target, goal, covered)


def _policy_record(
    rng: random.Random,
    ctx: Context,
    year: int,
    spec: names.PolicySpec,
    number: int,
    selected: bool,
) -> Record:
    kind, dept = SubjectKind.POLICY, ctx.dept(spec.department)
    name = ctx.scale.local(spec.name)
    median = ctx.scale.median_project * 12
    yuan = rng.lognormvariate(math.log(median), 0.6)
    goal = rng.choice(names.POLICY_GOALS).format(name=name, people=spec.people)
    subject = models.Subject(
        id=ctx.ids.take(models.Subject),
        kind=kind,
        code=f"{dept.code}-ZC{number + 1:02d}",
        fiscal_year=year,
        name=name,
        department_id=dept.id,
        budget_book=BudgetBook.GENERAL_PUBLIC,
        funding_purpose=SUBSIDY,
        start_date=date(year, 1, 1),
        end_date=date(year, 12, 31),
        term_years=1,
        basis=rng.choice(names.BASIS),
        necessity=rng.choice(names.NECESSITY),
        summary=goal,
        in_disclosure_scope=True,
        publication_selected=selected,
        policy_period=f"{ctx.first_year - 1}—{ctx.first_year + 3}年",
        **_amounts(rng, round_fen(yuan), execution_rate(rng), False),
    )
    target = indicators.Subject(
        indicators.POLICY_POOL, (), spec.measure, "政策", spec.people, wan(subject.initial_total)
    )
    return Record(subject, kind, dept, None, SUBSIDY, target, goal, None)
