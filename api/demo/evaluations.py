"""Evaluations of a fiscal year's spending: the finance key evaluations (财政重点评价), with
their reports, findings and rectifications, and one department evaluation per department.

Key evaluations favour large subjects and always include one department-overall expenditure and
one policy (as Wujing's did, S:004). Grades follow Wujing's spread (≈45% 优, 36% 良, 18% 中,
an occasional 差) and every score lies in its grade's band (SR-1). One key evaluation per year
is of a project under a SENSITIVE filing: its report exists internally and must never be
published (DR-8), which the leak tests rely on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from api.demo import names, reports
from api.demo.context import Context, Record
from api.demo.names import SERVICES, SUBSIDY
from storage import models, scoring
from storage.enums import (
    BudgetBook,
    DocKind,
    EvaluationCategory,
    EvaluationKind,
    EvaluationStatus,
    FilingReason,
    FindingCategory,
    Grade,
    RectificationStatus,
    SubjectKind,
)

#: Score bands in hundredths of a point, per grade (SR-1).
SCORE_BANDS = {
    Grade.EXCELLENT: (9000, 9650),
    Grade.GOOD: (8000, 8999),
    Grade.AVERAGE: (6500, 7999),
    Grade.POOR: (5000, 5999),
}

#: The 决策—过程—产出—效益 framework (SR-8) with its points.
FRAMEWORK = (("决策", 15), ("过程", 20), ("产出", 35), ("效益", 30))

PARTICIPANT_LABELS = {
    "EXPERT": "行业专家",
    "NPC_DEPUTY": "人大代表",
    "NPC_BUDGET_COMMITTEE": "人大预算工委",
    "CPPCC_MEMBER": "政协委员",
    "AUDIT": "审计部门",
}

GENERAL_FINDINGS = (
    FindingCategory.TARGET_BUDGET_PLAN_MISMATCH,
    FindingCategory.INSUFFICIENT_FEASIBILITY_STUDY,
    FindingCategory.UNREASONABLE_BUDGET_ESTIMATE,
    FindingCategory.HIGH_ADJUSTMENT_RATIO,
    FindingCategory.COARSE_INDICATORS,
    FindingCategory.LOW_SELF_ASSESSMENT_QUALITY,
)
POLICY_FINDINGS = (
    FindingCategory.UNCLEAR_POLICY_GOAL,
    FindingCategory.INACCURATE_BENEFICIARY_ESTIMATE,
    FindingCategory.LOW_FUND_UTILISATION,
)
SERVICE_FINDINGS = (
    FindingCategory.NO_INCENTIVE_PENALTY_IN_SERVICE_CONTRACT,
    FindingCategory.PERFUNCTORY_ACCEPTANCE,
)
FINDING_COUNTS = {
    Grade.EXCELLENT: (2, 3),
    Grade.GOOD: (3, 4),
    Grade.AVERAGE: (4, 6),
    Grade.POOR: (5, 6),
}
#: Rectification outcomes in percent: 90% done within the 30 days (domain.md §7.2).
RECTIFICATION_MIX = (
    (RectificationStatus.VERIFIED, 55),
    (RectificationStatus.DONE, 35),
    (RectificationStatus.IN_PROGRESS, 5),
    (RectificationStatus.OVERDUE, 3),
    (RectificationStatus.OPEN, 2),
)
RESULT_USES = (
    "BUDGET_ARRANGEMENT",
    "POLICY_IMPROVEMENT",
    "MANAGEMENT_IMPROVEMENT",
    "BUDGET_ADJUSTMENT",
)
RECTIFIED = (RectificationStatus.DONE, RectificationStatus.VERIFIED)


@dataclass(frozen=True)
class KeyResult:
    record: Record
    evaluation: models.Evaluation
    findings: int
    rectified: int


def _grades(rng: random.Random, count: int) -> list[Grade]:
    excellent, good = round(count * 0.45), round(count * 0.36)
    poor = 1 if rng.randrange(4) == 0 else 0
    average = max(count - excellent - good - poor, 0)
    grades = [Grade.EXCELLENT] * excellent + [Grade.GOOD] * good
    grades += [Grade.AVERAGE] * average + [Grade.POOR] * poor
    rng.shuffle(grades)
    return grades[:count]


def _points(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(Decimal("0.01"))


def _score(rng: random.Random, grade: Grade) -> Decimal:
    low, high = SCORE_BANDS[grade]
    return _points(rng.randint(low, high))


def _category(record: Record) -> EvaluationCategory:
    if record.kind is SubjectKind.DEPARTMENT_OVERALL:
        return EvaluationCategory.DEPARTMENT_OVERALL
    if record.kind is SubjectKind.POLICY or record.purpose is SUBSIDY:
        return EvaluationCategory.POLICY_SUBSIDY
    return EvaluationCategory.OTHER


def _choose(rng: random.Random, records: Sequence[Record], count: int) -> list[Record]:
    open_ = [r for r in records if r.covered is None and r.drafts]
    chosen: list[Record] = []
    overall = [r for r in open_ if r.kind is SubjectKind.DEPARTMENT_OVERALL]
    policies = [r for r in open_ if r.kind is SubjectKind.POLICY]
    sensitive = [
        r
        for r in records
        if r.covered is FilingReason.SENSITIVE and r.project and r.project.filed and r.drafts
    ]
    chosen += [rng.choice(overall), rng.choice(policies), *sensitive[:1]]
    projects = [r for r in open_ if r.kind is SubjectKind.PROJECT]
    funds = [r for r in projects if r.subject.budget_book is BudgetBook.GOVERNMENT_FUND]
    if funds:
        chosen.append(rng.choice(funds))
    # Priority to large funds (S:002): draw the rest in proportion to their budgets.
    while len(chosen) < count:
        taken = {id(r) for r in chosen}
        pool = [r for r in projects if id(r) not in taken]
        weights = [float(r.full_year) for r in pool]
        chosen.append(rng.choices(pool, weights=weights)[0])
    return chosen[:count]


def _dimensions(rng: random.Random, score: Decimal) -> tuple[reports.Dimension, ...]:
    """Split the points lost (100 − score) over the framework, none losing more than it has."""
    lost = int((100 - score) * 100)
    shares = [weight * rng.randint(1, 10) for _, weight in FRAMEWORK]
    losses = [
        min(lost * s // sum(shares), w * 100) for s, (_, w) in zip(shares, FRAMEWORK, strict=True)
    ]
    rest = lost - sum(losses)
    for i, (_, weight) in enumerate(FRAMEWORK):
        room = weight * 100 - losses[i]
        losses[i] += min(room, rest)
        rest -= min(room, rest)
    return tuple(
        reports.Dimension(name, _points(weight * 100), _points(weight * 100 - loss))
        for (name, weight), loss in zip(FRAMEWORK, losses, strict=True)
    )


def _finding_categories(rng: random.Random, record: Record, grade: Grade) -> list[FindingCategory]:
    pool = list(GENERAL_FINDINGS)
    if (
        record.subject.full_year_total
        and record.subject.executed_total / record.subject.full_year_total < Decimal("0.9")
    ):
        pool.append(FindingCategory.LOW_EXECUTION_RATE)
    if _category(record) is EvaluationCategory.POLICY_SUBSIDY:
        pool += POLICY_FINDINGS
    if record.purpose is SERVICES:
        pool += SERVICE_FINDINGS
    return rng.sample(pool, min(rng.randint(*FINDING_COUNTS[grade]), len(pool)))


def finance_key(ctx: Context, year: int, records: Sequence[Record]) -> list[KeyResult]:
    """财政重点评价 of the year's spending, carried out in the second half of the next year."""
    rng = ctx.rng("key-evaluations", year)
    count = rng.randint(*ctx.scale.key_evaluations)
    results = []
    for record, grade in zip(_choose(rng, records, count), _grades(rng, count), strict=True):
        results.append(_key_evaluation(rng, ctx, year, record, grade))
    return results


def _key_evaluation(
    rng: random.Random, ctx: Context, year: int, record: Record, grade: Grade
) -> KeyResult:
    subject = record.subject
    score = _score(rng, grade)
    third_party = rng.choice(names.THIRD_PARTIES)
    participants = ["EXPERT", *rng.sample(names.PARTICIPANTS[1:], rng.randint(1, 3))]
    evaluation = models.Evaluation(
        id=ctx.ids.take(models.Evaluation),
        subject_id=subject.id,
        kind=EvaluationKind.FINANCE_KEY,
        fiscal_year=year,
        organiser=ctx.scale.authority,
        third_party=third_party,
        category=_category(record),
        budget_book=subject.budget_book,
        amount_evaluated=subject.full_year_total,
        score=score,
        grade=grade,
        uses_cost_benefit_analysis=year >= 2024 or rng.randrange(10) < 3,
        participants=participants,
    )
    categories = _finding_categories(rng, record, grade)
    notice = date(year + 1, 10, 1) + timedelta(days=rng.randint(0, 45))
    findings = [(c, rng.choice(names.FINDINGS[c])) for c in categories]
    statuses = []
    for category, description in findings:
        finding_id = ctx.ids.take(models.Finding)
        ctx.batch.add(
            models.Finding(
                id=finding_id,
                evaluation_id=evaluation.id,
                category=category,
                description=description,
            )
        )
        statuses.append(_rectification(rng, ctx, finding_id, notice, third_party))
    if all(s is RectificationStatus.VERIFIED for s in statuses):
        evaluation.status = EvaluationStatus.CLOSED
    elif all(s in RECTIFIED for s in statuses):
        evaluation.status = EvaluationStatus.RECTIFIED
    else:
        evaluation.status = EvaluationStatus.FEEDBACK_ISSUED
    ctx.batch.add(evaluation)

    facts = reports.EvaluationFacts(
        jurisdiction=ctx.scale.name,
        authority=ctx.scale.authority,
        third_party=third_party,
        department=record.dept.name,
        unit=record.unit.name if record.unit else None,
        subject_name=subject.name,
        subject_code=subject.code,
        kind_label=record.kind.label,
        fiscal_year=year,
        goal=record.goal,
        initial=subject.initial_total,
        full_year=subject.full_year_total,
        executed=subject.executed_total,
        score=score,
        grade_label=grade.label,
        dimensions=_dimensions(rng, score),
        indicators=tuple(
            reports.IndicatorResult(d.level2.label, d.name, d.raw, o.raw)
            for d, o in zip(record.drafts, record.outcomes, strict=True)
        ),
        findings=tuple((c.label, description) for c, description in findings),
        recommendations=tuple(rng.sample(names.RECOMMENDATIONS, 3)),
        participants=tuple(PARTICIPANT_LABELS[p] for p in participants),
        period=f"{year + 1}年4月至{year + 1}年9月",
        cost_benefit=evaluation.uses_cost_benefit_analysis,
    )
    _report(rng, ctx, year, record, evaluation, facts)
    return KeyResult(record, evaluation, len(statuses), sum(s in RECTIFIED for s in statuses))


def _rectification(
    rng: random.Random, ctx: Context, finding_id: int, notice: date, third_party: str
) -> RectificationStatus:
    status = rng.choices(
        [s for s, _ in RECTIFICATION_MIX], weights=[w for _, w in RECTIFICATION_MIX]
    )[0]
    received = notice + timedelta(days=rng.randint(1, 5))
    verified = status is RectificationStatus.VERIFIED
    ctx.batch.add(
        models.Rectification(
            id=ctx.ids.take(models.Rectification),
            finding_id=finding_id,
            notice_issued_at=notice,
            received_at=received,
            # S:000: rectification is due 30 days after the notice is received.
            due_date=received + timedelta(days=30),
            measures=rng.choice(names.MEASURES) if status in RECTIFIED else "",
            reported_at=received + timedelta(days=rng.randint(10, 30))
            if status in RECTIFIED
            else None,
            recheck_by=third_party if verified else None,
            recheck_on_site=verified and rng.randrange(10) < 7,
            recheck_result=rng.choice(names.RECHECK_RESULTS) if verified else None,
            status=status,
            result_uses=sorted(rng.sample(RESULT_USES, rng.randint(1, 2))),
        )
    )
    return status


def _report(
    rng: random.Random,
    ctx: Context,
    year: int,
    record: Record,
    evaluation: models.Evaluation,
    facts: reports.EvaluationFacts,
) -> None:
    """The report: its main text and one or two internal annexes, all real PDFs."""
    code, dept = f"{ctx.scale.code}-{year}-{record.subject.code}", record.dept.id
    main = ctx.store_file(
        reports.evaluation_main_text(facts),
        f"{code}-main.pdf",
        facts.title,
        DocKind.EVALUATION_REPORT_MAIN_TEXT,
        year,
        dept,
    )
    annexes = [
        ctx.store_file(
            reports.evaluation_score_sheet(facts),
            f"{code}-annex-1.pdf",
            f"{record.subject.name}绩效评价评分表（{reports.DEMO_LABEL}）",
            DocKind.EVALUATION_REPORT_ANNEX,
            year,
            dept,
        )
    ]
    if rng.randrange(2) == 0:
        items = [
            (q, Decimal(rng.randint(8500, 9900)) / 100)
            for q in ("服务内容", "服务质量", "总体评价")
        ]
        annexes.append(
            ctx.store_file(
                reports.evaluation_survey(facts, rng.randint(100, 600), items),
                f"{code}-annex-2.pdf",
                f"{record.subject.name}满意度调查统计分析（{reports.DEMO_LABEL}）",
                DocKind.EVALUATION_REPORT_ANNEX,
                year,
                dept,
            )
        )
    report_id = ctx.ids.take(models.EvaluationReport)
    ctx.batch.add(
        models.EvaluationReport(
            id=report_id, evaluation_id=evaluation.id, title=facts.title, main_text_id=main
        )
    )
    for annex in annexes:
        ctx.batch.link("evaluation_report_annex", report_id, annex)


def department(
    ctx: Context, year: int, records: Sequence[Record], keys: Sequence[KeyResult]
) -> list[Record]:
    """部门评价: each department evaluates at least one of its projects (S:000), by 30 June of
    the next year, without a published report. Returns the records evaluated."""
    rng = ctx.rng("department-evaluations", year)
    taken = {id(k.record) for k in keys}
    evaluated = []
    for dept in ctx.departments:
        candidates = [
            r
            for r in records
            if r.dept is dept
            and r.kind is SubjectKind.PROJECT
            and r.drafts
            and not (r.project and r.project.filed)
            and id(r) not in taken
        ]
        if not candidates:
            continue
        record = rng.choice(candidates)
        score = _points(rng.randint(7000 if rng.randrange(10) == 0 else 8000, 9700))
        ctx.batch.add(
            models.Evaluation(
                id=ctx.ids.take(models.Evaluation),
                subject_id=record.subject.id,
                kind=EvaluationKind.DEPARTMENT,
                fiscal_year=year,
                organiser=dept.name,
                third_party=rng.choice(names.THIRD_PARTIES) if rng.randrange(4) == 0 else None,
                category=_category(record),
                budget_book=record.subject.budget_book,
                amount_evaluated=record.subject.full_year_total,
                score=score,
                grade=scoring.grade_for(score),
                status=EvaluationStatus.CLOSED,
                participants=["EXPERT"] if rng.randrange(2) == 0 else [],
            )
        )
        evaluated.append(record)
    return evaluated
