"""Stored records → forms, for the internal export (a department downloads its forms filled,
corrects them and imports them again). The caller chooses the subjects (the internal API passes
only those the user may see); this module only reads them and lays their records out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from forms.layouts import FormKind
from forms.model import Amounts, Form, Line
from forms.values import WAN
from storage import models, validation
from storage.enums import Comparator, SubjectKind, TargetHorizon


def amounts_of(subject: models.Subject, columns: Sequence[str]) -> Amounts:
    return {
        column: {
            source: getattr(subject, f"{column}_{source}")
            for source in ("total", *validation.AMOUNT_ROWS)
        }
        for column in columns
    }


async def _names(subjects: Sequence[models.Subject]) -> dict[int, str]:
    ids = {s.department_id for s in subjects} | {
        s.implementing_unit_id for s in subjects if s.implementing_unit_id is not None
    }
    rows = await models.Department.filter(id__in=list(ids)).values_list("id", "name")
    return {int(i): str(n) for i, n in rows}


async def target_forms(subjects: Sequence[models.Subject]) -> list[Form]:
    """The 申报表 of each project or policy with an annual target."""
    chosen = [s for s in subjects if s.kind is not SubjectKind.DEPARTMENT_OVERALL]
    targets = await models.PerformanceTarget.filter(
        subject_id__in=[s.id for s in chosen], horizon=TargetHorizon.ANNUAL
    )
    by_subject = {t.subject_id: t for t in targets}
    indicators: dict[int, list[models.Indicator]] = defaultdict(list)
    for row in await models.Indicator.filter(target_id__in=[t.id for t in targets]).order_by(
        "target_id", "position"
    ):
        indicators[row.target_id].append(row)
    names = await _names(chosen)
    forms = []
    for subject in chosen:
        target = by_subject.get(subject.id)
        if target is None:
            continue
        form = Form(
            kind=FormKind.TARGET,
            fiscal_year=subject.fiscal_year,
            unit=WAN,
            name=subject.name,
            code=subject.code,
            department=names[subject.department_id],
            implementing_unit=names.get(subject.implementing_unit_id or 0, ""),
            budget_book=subject.budget_book,
            amounts=amounts_of(subject, ("initial",)),
            goal=target.overall_goal,
        )
        form.lines = [
            Line(
                level1=i.level1,
                level2=i.level2,
                name=i.name,
                target_raw=i.target_value_raw,
                comparator=i.comparator,
                target_number=i.target_value_number,
                unit=i.unit or "",
                weight=i.weight,
                explanation=i.explanation or "",
                is_core=i.is_core,
            )
            for i in indicators[target.id]
        ]
        forms.append(form)
    return forms


async def assessment_forms(subjects: Sequence[models.Subject]) -> list[Form]:
    """The 自评表 of each subject with a self-assessment: projects and policies on the project
    form, a department's overall expenditure on its own."""
    assessments = await models.SelfAssessment.filter(subject_id__in=[s.id for s in subjects])
    by_subject = {a.subject_id: a for a in assessments}
    rows: dict[int, list[models.SelfAssessmentRow]] = defaultdict(list)
    for row in await models.SelfAssessmentRow.filter(
        assessment_id__in=[a.id for a in assessments]
    ).order_by("assessment_id", "position"):
        rows[row.assessment_id].append(row)
    names = await _names(subjects)
    forms = []
    for subject in subjects:
        assessment = by_subject.get(subject.id)
        if assessment is None:
            continue
        overall = subject.kind is SubjectKind.DEPARTMENT_OVERALL
        form = Form(
            kind=FormKind.DEPARTMENT_SELF_ASSESSMENT
            if overall
            else FormKind.PROJECT_SELF_ASSESSMENT,
            fiscal_year=subject.fiscal_year,
            unit=WAN,
            # the 部门整体 form names the department only
            name="" if overall else subject.name,
            code=subject.code,
            department=names[subject.department_id],
            implementing_unit="" if overall else names.get(subject.implementing_unit_id or 0, ""),
            amounts=assessment_amounts(subject, assessment),
            goal=assessment.annual_goal_expected,
            goal_actual=assessment.annual_goal_actual,
            execution_rate=assessment.execution_rate,
            execution_score=assessment.execution_score,
            total_score=assessment.total_score,
            grade=assessment.grade,
        )
        form.lines = [
            Line(
                level1=r.level1,
                level2=r.level2,
                name=r.indicator_name,
                target_raw=r.target_value_raw,
                comparator=r.comparator,
                target_number=r.target_value_number,
                actual_raw=r.actual_value_raw,
                actual_number=r.actual_value_number,
                weight=r.weight,
                score=r.score,
                band=r.qualitative_band if r.comparator is Comparator.QUALITATIVE else None,
                deviation=r.deviation_reason,
            )
            for r in rows[assessment.id]
        ]
        forms.append(form)
    return forms


def assessment_amounts(subject: models.Subject, assessment: models.SelfAssessment) -> Amounts:
    """The subject's amounts block; the total row's 全年预算数 and 全年执行数 are the
    assessment's own (what it was scored on)."""
    block = amounts_of(subject, ("initial", "full_year", "executed"))
    block["full_year"]["total"] = assessment.full_year_budget
    block["executed"]["total"] = assessment.executed
    return block
