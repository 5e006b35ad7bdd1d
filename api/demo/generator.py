"""The demo data generator: one fictitious jurisdiction with its departments and units and, for
every fiscal year, its subjects, targets, ex-ante assessments, monitoring, self-assessments,
evaluations, filings, releases and annual statement (domain.md §3, proportions of §7).

Each stage draws from its own `random.Random` seeded with the run's seed, the stage and the
year, so the same seed always gives the same rows. A year is written in one transaction.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from api.demo import evaluations, indicators, names, reports, statements, subjects
from api.demo.context import Context, Dept, Record, Unit
from api.demo.draws import wan
from api.demo.library import Projects
from api.demo.store import reset_sequences
from api.demo.subjects import PRECEDENCE
from storage import models, scoring
from storage.enums import (
    AssessmentConductor,
    DepartmentTier,
    DeviationLevel,
    DocKind,
    EvaluationCategory,
    ExAnteConclusion,
    FilingReason,
    FilingScope,
    FilingStatus,
    Grade,
    MonitoringMode,
    OrgType,
    ProjectAttribute,
    ReleaseKind,
    ReleaseStatus,
    ReviewStatus,
    SubjectKind,
)
from storage.money import from_fen, half_up
from storage.records import due_date_for

Progress = Callable[[str], None]

EX_ANTE_PERCENT = (5, 10)
#: Monitoring dates (by 31 August) with the share of the year elapsed, in percent.
MONITORING_DATES = ((6, 30, 50), (7, 31, 58), (8, 31, 67))

# --- organisation ---------------------------------------------------------------------------


def organise(ctx: Context) -> None:
    """The jurisdiction, its departments (codes 101, 102, …) and their units (101001, …)."""
    scale = ctx.scale
    rng = ctx.rng("organisation")
    ctx.jurisdiction_id = ctx.ids.take(models.Jurisdiction)
    ctx.batch.add(
        models.Jurisdiction(
            id=ctx.jurisdiction_id,
            code=scale.code,
            name=scale.name,
            level=scale.level,
            finance_authority_name=scale.authority,
            finance_authority_role=scale.authority_role,
            parent_id=ctx.parent_id,
            has_own_budget=True,
            is_demo=True,
        )
    )
    filed = {f.department: f for f in scale.filed_departments}
    for number, spec in enumerate(scale.departments, start=101):
        dept = Dept(
            id=ctx.ids.take(models.Department),
            code=str(number),
            name=scale.local(spec.name),
            spec=spec,
            weight=spec.weight * rng.randint(80, 125) / 100,
            filed=filed.get(spec.name),
        )
        ctx.departments.append(dept)
        ctx.batch.add(_department(ctx, dept.id, dept.code, dept.name, spec.org_type, None))
    for dept in ctx.departments:
        for position, name in enumerate(_unit_names(rng, ctx, dept), start=1):
            unit = Unit(ctx.ids.take(models.Department), f"{dept.code}{position:03d}", name)
            dept.units.append(unit)
            enforcing = name.endswith(("大队", "执法队"))
            org = OrgType.ADMINISTRATIVE if enforcing else OrgType.PUBLIC_INSTITUTION
            ctx.batch.add(_department(ctx, unit.id, unit.code, unit.name, org, dept.id))


def _department(
    ctx: Context, id_: int, code: str, name: str, org: OrgType, parent: int | None
) -> models.Department:
    return models.Department(
        id=id_,
        jurisdiction_id=ctx.jurisdiction_id,
        code=code,
        name=name,
        tier=DepartmentTier.UNIT if parent else DepartmentTier.DEPARTMENT,
        org_type=org,
        parent_id=parent,
    )


def _unit_names(rng: random.Random, ctx: Context, dept: Dept) -> list[str]:
    spec, bounds = dept.spec, ctx.scale.units_per_department
    if bounds is None:
        return [ctx.scale.local(unit) for unit in spec.units]
    count = rng.randint(*bounds)
    own = list(spec.units)
    if len(own) > count:
        own = [own[i] for i in sorted(rng.sample(range(len(own)), count))]
    generic = [spec.core + suffix for suffix in names.UNIT_SUFFIXES]
    return [ctx.scale.local(unit) for unit in (own + generic)[:count]]


# --- subjects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approvals:
    """Budget and final-accounts approval dates (批复) of each department, and the finance
    authority's, for one fiscal year."""

    budget: dict[str, date]
    final_accounts: dict[str, date]
    finance_annual: date


def _congress(ctx: Context, year: int) -> date:
    """When the People's Congress approves year `year`'s budget (January)."""
    return date(year, 1, ctx.rng("congress", year).randint(6, 15))


def approvals(ctx: Context, year: int) -> Approvals:
    rng = ctx.rng("approvals", year)
    congress = _congress(ctx, year)
    # The standing committee approves the final accounts of `year` in July of the next year.
    committee = date(year + 1, 7, rng.randint(8, 25))
    budget, final = {}, {}
    for dept in ctx.departments:
        budget[dept.code] = congress + timedelta(days=rng.randint(8, 20))
        final[dept.code] = committee + timedelta(days=rng.randint(5, 20))
    return Approvals(budget, final, _congress(ctx, year + 1) + timedelta(days=rng.randint(10, 30)))


# --- targets, self-assessments, monitoring, ex-ante ------------------------------------------


def targets(ctx: Context, year: int, records: Sequence[Record], dates: Approvals) -> None:
    """One approved annual target per subject (T1: no target, no budget), with its indicators."""
    rng = ctx.rng("targets", year)
    for record in records:
        if record.stub or record.indicator_subject is None:
            continue
        target_id = ctx.ids.take(models.PerformanceTarget)
        ctx.batch.add(
            models.PerformanceTarget(
                id=target_id,
                subject_id=record.subject.id,
                fiscal_year=year,
                overall_goal=record.goal,
                review_status=ReviewStatus.FINANCE_APPROVED,
                approved_with_budget_on=dates.budget[record.dept.code],
                spot_checked=rng.randrange(100) < 5,
            )
        )
        record.drafts = indicators.draw_indicators(rng, record.indicator_subject)
        for position, draft in enumerate(record.drafts):
            indicator_id = ctx.ids.take(models.Indicator)
            record.indicator_ids.append(indicator_id)
            ctx.batch.add(
                models.Indicator(
                    id=indicator_id,
                    target_id=target_id,
                    position=position,
                    level1=draft.level1,
                    level2=draft.level2,
                    name=draft.name,
                    nature=draft.nature,
                    comparator=draft.comparator,
                    target_value_raw=draft.raw,
                    target_value_number=draft.number,
                    unit=draft.unit,
                    weight=draft.weight,
                    is_core=draft.is_core,
                )
            )


def self_assessments(ctx: Context, year: int, records: Sequence[Record]) -> None:
    """The year-end forms, scored by `storage.scoring` exactly as a department's would be."""
    rng = ctx.rng("self-assessments", year)
    for record in records:
        if not record.drafts:
            continue
        subject = record.subject
        executed_wan = wan(subject.executed_total)
        met_percent = 70 if record.low_execution else 92
        rows: list[scoring.RowInput] = []
        for position, (draft, indicator_id) in enumerate(
            zip(record.drafts, record.indicator_ids, strict=True)
        ):
            outcome = indicators.draw_outcome(
                rng, draft, met=rng.randrange(100) < met_percent, executed_wan=executed_wan
            )
            record.outcomes.append(outcome)
            row = scoring.RowInput(
                level1=draft.level1,
                level2=draft.level2,
                indicator_name=draft.name,
                comparator=draft.comparator,
                target_value_raw=draft.raw,
                actual_value_raw=outcome.raw,
                weight=draft.weight,
                target_value_number=draft.number,
                actual_value_number=outcome.number,
                qualitative_band=outcome.band,
                qualitative_score=outcome.qualitative_score,
                indicator_id=indicator_id,
            )
            if scoring.score_row(position, row) < draft.weight:
                reason = rng.choice(names.DEVIATION_REASONS[draft.level1])
                row = dataclasses.replace(row, deviation_reason=reason)
            rows.append(row)
        scored = scoring.score_self_assessment(
            subject.full_year_total, subject.executed_total, rows
        )
        actual = names.GOAL_ACTUALS_LOW if record.low_execution else names.GOAL_ACTUALS
        assessment = models.SelfAssessment(
            id=ctx.ids.take(models.SelfAssessment),
            subject_id=subject.id,
            fiscal_year=year,
            full_year_budget=subject.full_year_total,
            executed=subject.executed_total,
            execution_rate=scoring.rate_percent(scored.execution_rate),
            execution_score=scored.execution_score,
            annual_goal_expected=record.goal,
            annual_goal_actual=rng.choice(actual),
            total_score=scored.total_score,
            grade=scored.grade,
        )
        record.assessment = assessment
        ctx.batch.add(assessment)
        for position, scored_row in enumerate(scored.rows):
            row = scored_row.row
            ctx.batch.add(
                models.SelfAssessmentRow(
                    id=ctx.ids.take(models.SelfAssessmentRow),
                    assessment_id=assessment.id,
                    position=position,
                    indicator_id=row.indicator_id,
                    level1=row.level1,
                    level2=row.level2,
                    indicator_name=row.indicator_name,
                    comparator=row.comparator,
                    target_value_raw=row.target_value_raw,
                    target_value_number=row.target_value_number,
                    actual_value_raw=row.actual_value_raw,
                    actual_value_number=row.actual_value_number,
                    qualitative_band=row.qualitative_band,
                    weight=row.weight,
                    score=scored_row.score,
                    deviation_reason=row.deviation_reason,
                )
            )


def monitoring(
    ctx: Context, year: int, records: Sequence[Record]
) -> list[tuple[Record, MonitoringMode]]:
    """绩效运行监控 ("双监控") of every project and policy by 31 August: about 30% key
    tracking (Wujing: 76 of 262, S:004), mostly the largest fifth, the rest simple tracking."""
    rng = ctx.rng("monitoring", year)
    monitored = [r for r in records if r.drafts and r.kind is not SubjectKind.DEPARTMENT_OVERALL]
    done: list[tuple[Record, MonitoringMode]] = []
    amounts = sorted(r.full_year for r in monitored)
    large = amounts[len(amounts) * 4 // 5] if amounts else Decimal(0)
    for record in monitored:
        key_percent = 80 if record.full_year >= large else 17  # 0.2 × 80 + 0.8 × 17 ≈ 30
        mode = MonitoringMode.KEY if rng.randrange(100) < key_percent else MonitoringMode.SIMPLE
        month, day, elapsed = rng.choice(
            MONITORING_DATES if mode is MonitoringMode.KEY else MONITORING_DATES[1:]
        )
        budget = record.subject.full_year_total
        share = (
            rng.randint(10, 35) if record.low_execution else rng.randint(elapsed - 15, elapsed + 15)
        )
        executed = from_fen(int(record.subject.executed_total * 100) * share // 100)
        rate = half_up(executed / budget * 100) if budget else Decimal("0.00")
        gap = elapsed - rate
        level = (
            DeviationLevel.MAJOR
            if gap > 25
            else DeviationLevel.MINOR
            if gap > 10
            else DeviationLevel.NONE
        )
        actions = {
            DeviationLevel.NONE: [],
            DeviationLevel.MINOR: ["MANAGEMENT_MEASURE"],
            DeviationLevel.MAJOR: ["MANAGEMENT_MEASURE", "ADJUST_BUDGET"],
        }[level]
        progress = []
        for position, draft in enumerate(record.drafts):
            value, on_track = indicators.progress(rng, draft, share)
            progress.append(
                {
                    "position": position,
                    "indicator": draft.name,
                    "target": draft.raw,
                    "value_to_date": value,
                    "on_track": on_track,
                    "deviation_reason": "" if on_track else rng.choice(names.MONITORING_DEVIATIONS),
                }
            )
        ctx.batch.add(
            models.MonitoringRecord(
                id=ctx.ids.take(models.MonitoringRecord),
                subject_id=record.subject.id,
                fiscal_year=year,
                mode=mode,
                as_of_date=date(year, month, day),
                budget_to_date=budget,
                executed_to_date=executed,
                execution_rate=rate,
                deviation_level=level,
                corrective_actions=actions,
                indicator_progress=progress,
                notes=names.MONITORING_NOTES[list(DeviationLevel).index(level)],
            )
        )
        done.append((record, mode))
    return done


def ex_ante(
    ctx: Context, year: int, records: Sequence[Record]
) -> list[tuple[Record, models.ExAnteAssessment]]:
    """事前绩效评估 of 5–10% of the year's projects, all of them new ones."""
    rng = ctx.rng("ex-ante", year)
    projects = [r for r in records if r.kind is SubjectKind.PROJECT]
    new = [r for r in projects if r.drafts and r.subject.attribute is ProjectAttribute.NEW]
    wanted = len(projects) * rng.randint(*EX_ANTE_PERCENT) // 100
    chosen = sorted(rng.sample(range(len(new)), min(wanted, len(new))))
    done = []
    for record in (new[i] for i in chosen):
        budget = record.subject.initial_total
        reduce = rng.randrange(100) < 40
        reduction = half_up(budget * rng.randint(5, 25) / 100, "1") if reduce else Decimal(0)
        conclusion = ExAnteConclusion.SUPPORT_WITH_REDUCTION if reduce else ExAnteConclusion.SUPPORT
        cost_benefit = year >= 2024 or rng.randrange(100) < 25
        assessment = models.ExAnteAssessment(
            id=ctx.ids.take(models.ExAnteAssessment),
            subject_id=record.subject.id,
            fiscal_year=year,
            conducted_by=AssessmentConductor.FINANCE
            if rng.randrange(10) < 3
            else AssessmentConductor.DEPARTMENT,
            conclusion=conclusion,
            requested_amount=budget + reduction,
            recommended_reduction=reduction,
            dimensions=[
                {"name": name, "score": rng.randint(70, 98), "comment": comment}
                for name, comment in zip(
                    names.EX_ANTE_DIMENSIONS, names.EX_ANTE_COMMENTS, strict=True
                )
            ],
            methodology=["COST_BENEFIT_ANALYSIS"] if cost_benefit else [],
            summary=f"经评估，{record.subject.name}立项依据较为充分，绩效目标基本明确，"
            f"评估结论为“{conclusion.label}”。",
        )
        ctx.batch.add(assessment)
        done.append((record, assessment))
    return done


# --- filings, releases, statements ----------------------------------------------------------


def filings(ctx: Context, year: int, records: Sequence[Record]) -> None:
    """The 涉密/敏感 filings of the year: whole departments first, then one filing per
    department listing its filed projects. Filed in December before the budget year."""
    rng = ctx.rng("filings", year)
    index = ctx.year_index(year)
    last = year == ctx.last_year
    filed_projects: dict[str, list[Record]] = {}
    for record in records:
        if record.project and record.project.filed and index >= record.project.filed.since:
            filed_projects.setdefault(record.dept.code, []).append(record)
    whole = [d for d in ctx.departments if d.filed and index >= d.filed.since]
    entries: list[tuple[Dept, FilingScope, FilingReason, list[Record]]] = [
        (d, FilingScope.WHOLE_DEPARTMENT, d.filed.reason, []) for d in whole if d.filed
    ]
    for dept in ctx.departments:
        listed = filed_projects.get(dept.code, [])
        if listed and not any(d is dept for d in whole):
            reason = max(
                (r.project.filed.reason for r in listed if r.project and r.project.filed),
                key=PRECEDENCE.__getitem__,
            )
            entries.append((dept, FilingScope.PROJECTS, reason, listed))
    for number, (dept, scope, reason, listed) in enumerate(entries, start=1):
        status = FilingStatus.FILED if last and rng.randrange(10) < 4 else FilingStatus.ACCEPTED
        filing = models.SensitivityFiling(
            id=ctx.ids.take(models.SensitivityFiling),
            fiscal_year=year,
            department_id=dept.id,
            scope=scope,
            reason=reason,
            reference=f"{ctx.scale.filing_prefix}〔{year}〕{number}号",
            filed_with=ctx.scale.authority,
            filed_at=date(year - 1, 12, rng.randint(1, 20)),
            status=status,
        )
        ctx.batch.add(filing)
        for record in listed:
            ctx.batch.link("sensitivity_filing_project", filing.id, record.subject.id)


def releases(ctx: Context, year: int, dates: Approvals) -> None:
    """D8: every department's BUDGET and FINAL_ACCOUNTS release, and the finance authority's
    FINANCE_ANNUAL one; each due 20 days after its approval (DR-6). All SCHEDULED with no
    publish-at time (DR-12): the demo is there to be published at once."""
    for dept in ctx.departments:
        for kind, approved in (
            (ReleaseKind.BUDGET, dates.budget[dept.code]),
            (ReleaseKind.FINAL_ACCOUNTS, dates.final_accounts[dept.code]),
        ):
            ctx.batch.add(_release(ctx, year, kind, dept.id, approved))
    ctx.batch.add(_release(ctx, year, ReleaseKind.FINANCE_ANNUAL, None, dates.finance_annual))


def _release(
    ctx: Context, year: int, kind: ReleaseKind, dept: int | None, approved: date
) -> models.Release:
    return models.Release(
        id=ctx.ids.take(models.Release),
        jurisdiction_id=ctx.jurisdiction_id,
        department_id=dept,
        kind=kind,
        fiscal_year=year,
        approval_date=approved,
        due_date=due_date_for(approved),
        status=ReleaseStatus.SCHEDULED,
    )


def statement(
    ctx: Context,
    year: int,
    records: Sequence[Record],
    assessed_ex_ante: Sequence[tuple[Record, models.ExAnteAssessment]],
    monitored: Sequence[tuple[Record, MonitoringMode]],
    keys: Sequence[evaluations.KeyResult],
    department_evaluations: Sequence[Record],
) -> None:
    """The finance authority's annual statement, its figures from the records no filing covers."""
    mine = [r for r in records if r.covered is None]
    projects = [r for r in mine if r.kind is SubjectKind.PROJECT]
    ex_ante_open = [a for r, a in assessed_ex_ante if r.covered is None]
    watched = [(r, mode) for r, mode in monitored if r.covered is None]
    key_watched = [r for r, mode in watched if mode is MonitoringMode.KEY]
    assessed = [r.assessment for r in mine if r.assessment is not None]
    keys_open = [k for k in keys if k.record.covered is None]
    grades = [k.evaluation.grade for k in keys_open]
    categories = [k.evaluation.category for k in keys_open]
    zero = Decimal(0)
    figures = statements.Figures(
        year=year,
        departments=sum(1 for r in mine if r.kind is SubjectKind.DEPARTMENT_OVERALL),
        projects=len(projects),
        project_amount=sum((r.subject.initial_total for r in projects), zero),
        policies=sum(1 for r in mine if r.kind is SubjectKind.POLICY),
        ex_ante=len(ex_ante_open),
        ex_ante_requested=sum((a.requested_amount for a in ex_ante_open), zero),
        ex_ante_reduction=sum((a.recommended_reduction for a in ex_ante_open), zero),
        monitored=len(watched),
        monitored_amount=sum((r.full_year for r, _ in watched), zero),
        monitored_departments=len({r.dept.code for r, _ in watched}),
        monitored_units=len({r.unit.code for r, _ in watched if r.unit}),
        key_monitored=len(key_watched),
        key_monitored_amount=sum((r.full_year for r in key_watched), zero),
        self_assessed=len(assessed),
        self_assessed_amount=sum((a.full_year_budget for a in assessed), zero),
        self_assessed_average=half_up(
            sum((a.total_score for a in assessed), zero) / max(len(assessed), 1)
        ),
        key_evaluations=len(keys_open),
        key_policy_subsidy=categories.count(EvaluationCategory.POLICY_SUBSIDY),
        key_overall=categories.count(EvaluationCategory.DEPARTMENT_OVERALL),
        key_amount=sum((k.evaluation.amount_evaluated for k in keys_open), zero),
        key_departments=len({k.record.dept.code for k in keys_open}),
        key_units=len({k.record.unit.code for k in keys_open if k.record.unit}),
        grades=(
            grades.count(Grade.EXCELLENT),
            grades.count(Grade.GOOD),
            grades.count(Grade.AVERAGE),
            grades.count(Grade.POOR),
        ),
        department_evaluations=sum(1 for r in department_evaluations if r.covered is None),
        findings=sum(k.findings for k in keys_open),
        rectified=sum(k.rectified for k in keys_open),
    )
    scale = ctx.scale
    title = statements.title(scale.name, year)
    rng = ctx.rng("statement", year)
    text = statements.paragraphs(rng, scale.name, scale.authority, scale.we, figures)
    file_id = ctx.store_file(
        reports.statement(title, scale.authority, text),
        f"{scale.code}-{year}-annual-statement.pdf",
        title,
        DocKind.ANNUAL_PM_STATEMENT,
        year,
        None,
    )
    ctx.batch.add(
        models.AnnualStatement(
            id=ctx.ids.take(models.AnnualStatement),
            jurisdiction_id=ctx.jurisdiction_id,
            year=year,
            title=title,
            text="\n".join(text),
            file_id=file_id,
        )
    )


# --- the run --------------------------------------------------------------------------------


async def run(ctx: Context, progress: Progress) -> None:
    """Generate and write the whole data set, one transaction for the organisation and one
    per fiscal year."""
    scale = ctx.scale
    organise(ctx)
    units = sum(len(d.units) for d in ctx.departments)
    progress(f"{scale.name}: {len(ctx.departments)} departments, {units} units")
    await ctx.batch.flush()
    library = Projects(ctx)
    for year in range(ctx.first_year, ctx.last_year + 1):
        dates = approvals(ctx, year)
        records = subjects.of_year(ctx, year, library.for_year(year))
        projects = sum(1 for r in records if r.kind is SubjectKind.PROJECT)
        progress(f"{year}: {projects} projects, targets and self-assessments")
        targets(ctx, year, records, dates)
        self_assessments(ctx, year, records)
        progress(f"{year}: monitoring, ex-ante assessments, evaluations and reports")
        watched = monitoring(ctx, year, records)
        assessed = ex_ante(ctx, year, records)
        keys = evaluations.finance_key(ctx, year, records)
        by_departments = evaluations.department(ctx, year, records, keys)
        filings(ctx, year, records)
        releases(ctx, year, dates)
        statement(ctx, year, records, assessed, watched, keys, by_departments)
        progress(f"{year}: writing")
        await ctx.batch.flush()
    await reset_sequences()
