"""Invalid records are refused before anything is stored, naming the field and the rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from storage import models, records, scoring
from storage.enums import (
    Comparator,
    DepartmentTier,
    FilingReason,
    FilingScope,
    Grade,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    OrgType,
    ReleaseKind,
)
from storage.errors import InvalidRecord
from tests import factories
from tests.storage.test_scoring import PUTUO_ROWS


def indicator(l1: IndicatorL1, l2: IndicatorL2, **overrides: object) -> records.IndicatorInput:
    fields: dict = {
        "level1": l1,
        "level2": l2,
        "name": "场馆开放满意度",
        "nature": IndicatorNature.QUANTITATIVE,
        "comparator": Comparator.GE,
        "target_value_raw": "≥90%",
        "target_value_number": D(90),
        "unit": "%",
    }
    return records.IndicatorInput(**{**fields, **overrides})


async def test_indicator_level2_must_be_a_child_of_level1(db: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    good = indicator(IndicatorL1.OUTPUT, IndicatorL2.QUANTITY)
    bad = indicator(IndicatorL1.SATISFACTION, IndicatorL2.QUANTITY)
    with pytest.raises(InvalidRecord) as caught:
        await records.create_target(project, "完成结算", [good, bad])
    assert caught.value.field == "indicators[1].level2"
    assert caught.value.rule == "indicator-level2-child"
    assert "满意度指标" in caught.value.message
    assert await models.PerformanceTarget.all().count() == 0
    assert await models.Indicator.all().count() == 0


async def test_indicator_model_save_checks_too(db: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    target = await records.create_target(
        project, "完成结算", [indicator(IndicatorL1.OUTPUT, IndicatorL2.QUANTITY)]
    )
    row = await models.Indicator.get(target=target)
    row.level2 = IndicatorL2.ECONOMIC_COST
    with pytest.raises(InvalidRecord, match="indicator-level2-child"):
        await row.save()
    assert (await models.Indicator.get(id=row.id)).level2 is IndicatorL2.QUANTITY


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        (
            {"comparator": Comparator.QUALITATIVE},
            "indicators[0].comparator",
            "indicator-comparator-nature",
        ),
        (
            {"target_value_number": None},
            "indicators[0].target_value_number",
            "indicator-quantitative-value",
        ),
        ({"weight": D(101)}, "indicators[0].weight", "weight-range"),
    ],
)
async def test_other_indicator_rules(db: str, overrides: dict, field: str, rule: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    with pytest.raises(InvalidRecord) as caught:
        await records.create_target(
            project, "目标", [indicator(IndicatorL1.OUTPUT, IndicatorL2.QUANTITY, **overrides)]
        )
    assert (caught.value.field, caught.value.rule) == (field, rule)


async def test_amounts_rows_must_add_up(db: str) -> None:
    department = await factories.department(await factories.jurisdiction())
    block = factories.amounts("250000.00")
    block["full_year_carry_over"] = D("0.01")  # total stays 250000.00: rows now sum to 250000.01
    with pytest.raises(InvalidRecord) as caught:
        await factories.project(department, **block)
    assert caught.value.field == "amounts.full_year_total"
    assert caught.value.rule == "amounts-rows-add-up"
    assert "全年预算数" in caught.value.message
    assert await models.Subject.all().count() == 0


async def test_negative_amounts_are_refused(db: str) -> None:
    department = await factories.department(await factories.jurisdiction())
    block = factories.amounts("-5.00")
    with pytest.raises(InvalidRecord, match="amount-non-negative"):
        await factories.project(department, **block)


async def test_money_is_exact_decimal_yuan_stored_as_fen(db: str) -> None:
    from tortoise import connections

    department = await factories.department(await factories.jurisdiction())
    project = await factories.project(department, **factories.amounts("0.10", "0.20", "0.30"))
    fetched = await models.Subject.get(id=project.id)
    assert fetched.executed_total == D("0.30")
    assert isinstance(fetched.executed_total, D)
    raw = await connections.get("default").execute_query_dict(
        "SELECT executed_total FROM subject WHERE code = '101-0001'"
    )
    assert raw[0]["executed_total"] == 30  # 分, an integer
    assert await models.Subject.filter(executed_total__gte=D("0.30")).count() == 1
    assert await models.Subject.filter(executed_total__gt=D("0.30")).count() == 0
    with pytest.raises(TypeError, match="float"):
        await factories.project(department, code="x", **factories.amounts("1"), initial_other=0.1)
    with pytest.raises(ValueError, match="two decimal places"):
        await factories.project(department, code="y", **factories.amounts("1.005"))


async def test_self_assessment_weights_must_total_100(db: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    with pytest.raises(InvalidRecord) as caught:
        await records.create_self_assessment(
            project, PUTUO_ROWS[:-1], full_year_budget=D("250000"), executed=D("215457.60")
        )
    assert (caught.value.field, caught.value.rule) == ("rows.weight", "weights-total-100")
    assert await models.SelfAssessment.all().count() == 0
    assert await models.SelfAssessmentRow.all().count() == 0


async def test_self_assessment_is_scored_and_stored(db: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    assessment = await records.create_self_assessment(
        project, PUTUO_ROWS, full_year_budget=D("250000.00"), executed=D("215457.60")
    )
    stored = await models.SelfAssessment.get(id=assessment.id).prefetch_related("rows")
    assert stored.execution_score == D("8.62")
    assert stored.execution_rate == D("86.18")
    assert str(stored.execution_rate) == "86.18"
    assert stored.total_score == D("98.62")
    assert stored.grade is Grade.EXCELLENT
    assert sorted(r.score for r in stored.rows) == [D(10), D(10), D(20), D(20), D(30)]


async def test_zero_budget_self_assessment_is_refused(db: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    with pytest.raises(InvalidRecord, match="全年预算数"):
        await records.create_self_assessment(
            project, PUTUO_ROWS, full_year_budget=D(0), executed=D(0)
        )


async def test_project_filing_must_list_projects(db: str) -> None:
    department = await factories.department(await factories.jurisdiction())
    with pytest.raises(InvalidRecord) as caught:
        await records.file_filing(
            department,
            fiscal_year=2024,
            scope=FilingScope.PROJECTS,
            reason=FilingReason.SENSITIVE,
            reference="测备〔2024〕1号",
            filed_with="测试区财政局",
            filed_at=date(2024, 1, 5),
            projects=[],
        )
    assert (caught.value.field, caught.value.rule) == ("projects", "filing-lists-projects")
    assert await models.SensitivityFiling.all().count() == 0


async def test_filing_lists_only_own_projects_of_its_year(db: str) -> None:
    jurisdiction = await factories.jurisdiction()
    department = await factories.department(jurisdiction)
    other = await factories.department(jurisdiction, code="102", name="测试区民防办")
    foreign = await factories.project(other)
    common = {
        "scope": FilingScope.PROJECTS,
        "reason": FilingReason.CLASSIFIED,
        "reference": "测备〔2024〕2号",
        "filed_with": "测试区财政局",
        "filed_at": date(2024, 1, 5),
    }
    with pytest.raises(InvalidRecord, match="filing-own-projects"):
        await records.file_filing(department, fiscal_year=2024, projects=[foreign], **common)
    own = await factories.project(department, fiscal_year=2023)
    with pytest.raises(InvalidRecord, match="filing-fiscal-year"):
        await records.file_filing(department, fiscal_year=2024, projects=[own], **common)
    filing = await records.file_filing(department, fiscal_year=2023, projects=[own], **common)
    assert [p.id for p in await filing.projects.all()] == [own.id]


async def test_units_belong_to_a_department(db: str) -> None:
    jurisdiction = await factories.jurisdiction()
    with pytest.raises(InvalidRecord, match="unit-has-department"):
        await factories.department(
            jurisdiction,
            code="101001",
            tier=DepartmentTier.UNIT,
            org_type=OrgType.PUBLIC_INSTITUTION,
        )


async def test_evaluation_grade_follows_its_score(db: str) -> None:
    project = await factories.project(await factories.department(await factories.jurisdiction()))
    common = {
        "subject": project,
        "kind": "FINANCE_KEY",
        "fiscal_year": 2024,
        "organiser": "测试区财政局",
        "budget_book": "GENERAL_PUBLIC",
    }
    with pytest.raises(InvalidRecord, match="grade-from-score"):
        await models.Evaluation.create(score=D("89.99"), grade=Grade.EXCELLENT, **common)
    evaluation = await models.Evaluation.create(score=D("90.00"), **common)
    assert evaluation.grade is Grade.EXCELLENT


async def test_release_due_date_is_approval_plus_20_days(db: str) -> None:
    jurisdiction = await factories.jurisdiction()
    department = await factories.department(jurisdiction)
    release = await records.create_release(
        jurisdiction,
        kind=ReleaseKind.BUDGET,
        fiscal_year=2024,
        approval_date=date(2024, 1, 25),
        department=department,
    )
    assert release.due_date == date(2024, 2, 14)
    with pytest.raises(InvalidRecord, match="release-department"):
        await records.create_release(
            jurisdiction,
            kind=ReleaseKind.FINAL_ACCOUNTS,
            fiscal_year=2024,
            approval_date=date(2025, 7, 1),
        )


def test_scoring_rows_fixture_is_valid() -> None:
    assert scoring.score_self_assessment(D(1), D(1), PUTUO_ROWS).total_score == D(100)
