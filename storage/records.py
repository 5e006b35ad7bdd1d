"""Validated writes that span several rows: each checks everything first, then writes in one
transaction, so a refused record leaves no partial rows (architecture invariant 7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from storage import models, scoring, validation
from storage.enums import (
    Comparator,
    DepartmentTier,
    FilingReason,
    FilingScope,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    ReleaseKind,
    SubjectKind,
    TargetHorizon,
)
from storage.errors import InvalidRecord


@dataclass(frozen=True)
class IndicatorInput:
    level1: IndicatorL1
    level2: IndicatorL2
    name: str
    nature: IndicatorNature
    comparator: Comparator
    target_value_raw: str
    target_value_number: Decimal | None = None
    unit: str | None = None
    weight: Decimal | None = None
    is_core: bool = False
    explanation: str | None = None


def target_values(
    subject: models.Subject | Any,
    overall_goal: str,
    indicators: Sequence[IndicatorInput],
    horizon: TargetHorizon = TargetHorizon.ANNUAL,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A target's columns and its indicators' (each with its position), all checked: what
    `create_target` writes, and what a writer of many targets at once writes."""
    if not overall_goal.strip():
        raise InvalidRecord("overall_goal", "required", "the target needs its overall goal")
    if not indicators:
        raise InvalidRecord("indicators", "indicators-required", "a target needs indicators")
    for position, indicator in enumerate(indicators):
        validation.check_indicator(indicator, f"indicators[{position}]")
    target = {
        "subject_id": subject.id,
        "fiscal_year": subject.fiscal_year,
        "horizon": horizon,
        "overall_goal": overall_goal,
    }
    return target, [
        {"position": position, **vars(indicator)} for position, indicator in enumerate(indicators)
    ]


async def create_target(
    subject: models.Subject,
    overall_goal: str,
    indicators: Sequence[IndicatorInput],
    horizon: TargetHorizon = TargetHorizon.ANNUAL,
) -> models.PerformanceTarget:
    """A target with its indicators (绩效目标 + 三级指标), all checked before any row is written."""
    values, lines = target_values(subject, overall_goal, indicators, horizon)
    async with in_transaction():
        target = await models.PerformanceTarget.create(**values)
        await models.Indicator.bulk_create(
            [models.Indicator(target=target, **line) for line in lines]
        )
    return target


def self_assessment_values(
    subject: models.Subject | Any,
    rows: Sequence[scoring.RowInput],
    *,
    full_year_budget: Decimal,
    executed: Decimal,
    annual_goal_expected: str = "",
    annual_goal_actual: str = "",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A self-assessment's columns and its rows' (each with its position), scored by SR-2…SR-7;
    refused whole if any rule fails: what `create_self_assessment` writes, and what a writer
    of many at once writes."""
    scored = scoring.score_self_assessment(full_year_budget, executed, rows)
    assessment = {
        "subject_id": subject.id,
        "fiscal_year": subject.fiscal_year,
        "full_year_budget": full_year_budget,
        "executed": executed,
        "execution_rate": scoring.rate_percent(scored.execution_rate),
        "execution_score": scored.execution_score,
        "total_score": scored.total_score,
        "grade": scored.grade,
        "annual_goal_expected": annual_goal_expected,
        "annual_goal_actual": annual_goal_actual,
    }
    return assessment, [
        {
            "position": position,
            "indicator_id": item.row.indicator_id,
            "level1": item.row.level1,
            "level2": item.row.level2,
            "indicator_name": item.row.indicator_name,
            "comparator": item.row.comparator,
            "target_value_raw": item.row.target_value_raw,
            "target_value_number": item.row.target_value_number,
            "actual_value_raw": item.row.actual_value_raw,
            "actual_value_number": item.row.actual_value_number,
            "qualitative_band": item.row.qualitative_band,
            "weight": item.row.weight,
            "score": item.score,
            "deviation_reason": item.row.deviation_reason,
        }
        for position, item in enumerate(scored.rows)
    ]


async def create_self_assessment(
    subject: models.Subject,
    rows: Sequence[scoring.RowInput],
    *,
    full_year_budget: Decimal,
    executed: Decimal,
    annual_goal_expected: str = "",
    annual_goal_actual: str = "",
) -> models.SelfAssessment:
    """A self-assessment form scored by SR-2…SR-7; refused whole if any rule fails."""
    values, lines = self_assessment_values(
        subject,
        rows,
        full_year_budget=full_year_budget,
        executed=executed,
        annual_goal_expected=annual_goal_expected,
        annual_goal_actual=annual_goal_actual,
    )
    async with in_transaction():
        assessment = await models.SelfAssessment.create(**values)
        await models.SelfAssessmentRow.bulk_create(
            [models.SelfAssessmentRow(assessment=assessment, **line) for line in lines]
        )
    return assessment


async def file_filing(
    department: models.Department,
    *,
    fiscal_year: int,
    scope: FilingScope,
    reason: FilingReason,
    reference: str,
    filed_with: str,
    filed_at: date,
    projects: Sequence[models.Subject] = (),
) -> models.SensitivityFiling:
    """涉密/敏感备案: a whole-department filing lists no project; a project filing lists at least
    one project of the department (a unit's projects are the department's, with the unit as
    实施单位) for the same fiscal year."""
    if department.tier is not DepartmentTier.DEPARTMENT:
        raise InvalidRecord("department", "filing-by-department", "a 主管部门 files, not a unit")
    if scope is FilingScope.PROJECTS and not projects:
        raise InvalidRecord(
            "projects", "filing-lists-projects", "a project-scope filing must list its projects"
        )
    if scope is FilingScope.WHOLE_DEPARTMENT and projects:
        raise InvalidRecord(
            "projects",
            "whole-department-no-projects",
            "a whole-department filing covers everything; list no projects",
        )
    for position, project in enumerate(projects):
        if project.kind is not SubjectKind.PROJECT:
            raise InvalidRecord(f"projects[{position}]", "filing-project-kind", "not a project")
        if project.department_id != department.id:
            raise InvalidRecord(
                f"projects[{position}]",
                "filing-own-projects",
                "a department files only its own projects",
            )
        if project.fiscal_year != fiscal_year:
            raise InvalidRecord(
                f"projects[{position}]",
                "filing-fiscal-year",
                f"the project is of {project.fiscal_year}, the filing of {fiscal_year}",
            )
    async with in_transaction():
        filing = await models.SensitivityFiling.create(
            department=department,
            fiscal_year=fiscal_year,
            scope=scope,
            reason=reason,
            reference=reference,
            filed_with=filed_with,
            filed_at=filed_at,
        )
        if projects:
            await filing.projects.add(*projects)
    return filing


def due_date_for(approval_date: date) -> date:
    """DR-6: approval date + 20 calendar days."""
    return approval_date + timedelta(days=validation.DISCLOSURE_DEADLINE_DAYS)


async def create_release(
    jurisdiction: models.Jurisdiction,
    *,
    kind: ReleaseKind,
    fiscal_year: int,
    approval_date: date,
    department: models.Department | None = None,
    publish_at: datetime | None = None,
) -> models.Release:
    return await models.Release.create(
        jurisdiction=jurisdiction,
        department=department,
        kind=kind,
        fiscal_year=fiscal_year,
        approval_date=approval_date,
        due_date=due_date_for(approval_date),
        publish_at=publish_at,
    )
