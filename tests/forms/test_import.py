"""Importing the standard forms: real-shaped workbooks in all three formats, a workbook of
mistakes each reported at its cell, re-imports that change nothing, corrections through the
review rules, and the --check dry run."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from forms import from_storage
from forms.read import ReadResult, read_workbook
from forms.write import workbook_bytes
from schema.internal import audit
from schema.internal.permissions import Caller
from storage import models
from storage.enums import Comparator, Grade, IndicatorNature, ReviewStatus
from tests.forms.conftest import FormWorld, counts, fixture, run_import

#: Every mistake of mistakes.xlsx: (sheet, cell, rule). The test asserts exactly these.
MISTAKES = {
    ("申报表", "C4", "required"),  # 项目名称 left empty
    ("申报表", "C6", "budget-book-unknown"),  # 「一般预算XX」
    ("申报表", "G5", "unit-unknown"),  # 实施单位 not the department's
    ("申报表", "D7", "amounts-rows-add-up"),  # 25 ≠ 20 + 0 + 0 万元
    ("申报表", "D9", "number-format"),  # 「五万」
    ("申报表", "D10", "money-two-places"),  # 0.0000001 万元: below 1 分
    ("申报表", "B14", "indicator-level-unknown"),  # 一级指标「产出」
    ("申报表", "C15", "indicator-level2-child"),  # 质量指标 under 效益指标
    ("申报表", "G16", "weight-range"),  # 分值 120
    ("申报表", "D18", "max-length"),  # a 240-character indicator name
    ("申报表", "E20", "required"),  # 指标值 empty
    ("自评表", "B2", "fiscal-year-mismatch"),  # （2023年度） in a 2024 import
    ("自评表", "B2", "unit-declared"),  # no 单位 line
    ("自评表", "H14", "form-computed-mismatch"),  # 得分 15, the rule gives 9
    ("自评表", "I15", "deviation-reason-required"),  # 16 of 20 without a reason
    ("自评表", "H17", "qualitative-met-full-weight"),  # 规范 → 规范 scored 25 of 30
    ("自评表", "F18", "required"),  # 实际完成值 empty
    ("自评表", "F18", "quantitative-values-required"),
    ("自评表2", "F8", "amount-non-negative"),  # 全年执行数 of 财政拨款 −1
    ("自评表2", "H7", "form-computed-mismatch"),  # 执行率 90% for 86.18%
    ("自评表2", "H18", "weights-total-100"),  # 85 + 10 = 95
    ("整体自评表", "E7", "execution-rate-budget-positive"),  # 全年预算数 0
    ("整体自评表", "C4", "department-unknown"),  # 「测试区不存在局」
    ("自评表3", "H4", "form-duplicate"),  # 101-0003 a second time
    ("自评表4", "H15", "qualitative-band"),  # 27 of 30 is not 部分达成
    ("自评表4", "I16", "qualitative-band-unknown"),  # 「差不多」
    ("自评表4", "J16", "deviation-reason-required"),
}


@pytest.mark.parametrize("extension", ["xlsx", "xls", "ods"])
async def test_a_real_shaped_workbook_imports_in_every_format(
    form_world: FormWorld, extension: str
) -> None:
    outcome = await run_import(fixture(f"shaped.{extension}"))

    assert outcome.problems == []
    assert outcome.stored and outcome.forms == 3
    # the target and both self-assessments are new; the project gains its implementing unit
    assert (outcome.created, outcome.updated, outcome.unchanged) == (3, 1, 0)
    project = await models.Subject.get(id=form_world.project.id)
    assert project.implementing_unit_id == form_world.unit.id
    target = await models.PerformanceTarget.get(subject_id=project.id)
    assert target.overall_goal.startswith("按合同完成与委托运营方的费用结算")
    assert target.review_status is ReviewStatus.DRAFT
    indicators = await models.Indicator.filter(target_id=target.id).order_by("position")
    got = [
        (i.level2.value, i.name, i.comparator, i.target_value_raw, i.target_value_number, i.unit)
        for i in indicators
    ]
    assert got == [
        ("QUANTITY", "与委托运营方结算完成率", Comparator.EQ, "＝100%", Decimal(100), "%"),
        ("QUANTITY", "合同结算条款完成率", Comparator.EQ, "=100%", Decimal(100), "%"),
        ("TIMELINESS", "费用结算及时性", Comparator.QUALITATIVE, "及时", None, None),
        ("SOCIAL_BENEFIT", "与委托运营方合同完成率", Comparator.GE, "≥95％", Decimal(95), "%"),
        (
            "SUSTAINABLE_IMPACT",
            "年度运营成本",
            Comparator.LE,
            "≤58.18万元",
            Decimal("58.18"),
            "万元",
        ),
        (
            "SERVICE_RECIPIENT_SATISFACTION",
            "场馆开放满意度",
            Comparator.GE,
            "≥90%",
            Decimal(90),
            "%",
        ),
    ]
    assert [i.is_core for i in indicators] == [True, False, False, False, False, False]
    assert indicators[2].nature is IndicatorNature.QUALITATIVE
    assert indicators[1].explanation == "按合同条款"
    # the worked example of domain.md §4, declared in 元
    assessment = await models.SelfAssessment.get(subject_id=project.id)
    assert (assessment.full_year_budget, assessment.executed) == (
        Decimal("250000.00"),
        Decimal("215457.60"),
    )
    assert (assessment.execution_rate, assessment.execution_score) == (
        Decimal("86.18"),
        Decimal("8.62"),
    )
    assert (assessment.total_score, assessment.grade) == (Decimal("98.62"), Grade.EXCELLENT)
    rows = await models.SelfAssessmentRow.filter(assessment_id=assessment.id).order_by("position")
    assert [r.score for r in rows] == [Decimal(x) for x in (10, 20, 20, 30, 10)]
    # each row points at the indicator it assesses, where the target has it
    assert rows[0].indicator_id == indicators[0].id
    overall = await models.SelfAssessment.get(subject_id=form_world.overall.id)
    assert overall.total_score == Decimal("99.50")


async def test_importing_the_same_workbook_again_changes_nothing(form_world: FormWorld) -> None:
    await run_import(fixture("shaped.xlsx"))
    before = await counts()
    versions = await _versions()

    again = await run_import(fixture("shaped.ods"))

    assert again.problems == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert not again.stored
    assert await counts() == before
    assert await _versions() == versions


async def _versions() -> dict[str, list[int]]:
    return {
        "subjects": sorted(await models.Subject.all().values_list("version", flat=True)),
        "targets": sorted(await models.PerformanceTarget.all().values_list("version", flat=True)),
        "assessments": sorted(await models.SelfAssessment.all().values_list("version", flat=True)),
    }


async def test_every_mistake_is_reported_at_its_cell_and_nothing_is_stored(
    form_world: FormWorld,
) -> None:
    for code in ("101-0002", "101-0003", "101-0004"):
        await _project(form_world, code)
    before = await counts()

    outcome = await run_import(fixture("mistakes.xlsx", 2024))

    found = {(p.sheet, p.cell, p.rule) for p in outcome.problems}
    assert found == MISTAKES
    assert len({rule for _, _, rule in MISTAKES}) >= 15
    assert all(p.file == "mistakes.xlsx" for p in outcome.problems)
    # every message is Chinese, with no English rule text leaking through
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message) for p in outcome.problems)
    assert not any("lies in" in p.message for p in outcome.problems)
    assert not outcome.stored
    assert await counts() == before


async def _project(world: FormWorld, code: str) -> models.Subject:
    from tests import factories

    return await factories.project(world.department, code=code, name=f"项目{code}")


async def test_check_reports_without_storing(form_world: FormWorld) -> None:
    before = await counts()

    outcome = await run_import(fixture("shaped.xls"), check_only=True)

    assert outcome.problems == []
    assert (outcome.created, outcome.updated) == (3, 1)
    assert not outcome.stored
    assert await counts() == before


async def test_a_department_editor_may_not_import_another_departments_forms(
    form_world: FormWorld,
) -> None:
    editor = Caller(subject="b", roles=("department_editor",), department="202", classified=False)
    before = await counts()

    outcome = await run_import(fixture("shaped.xlsx"), caller=editor)

    assert {(p.sheet, p.cell, p.rule) for p in outcome.problems} == {
        ("Sheet1", "C5", "department-forbidden"),
        ("Sheet2", "C5", "department-forbidden"),
        ("Sheet3", "C4", "department-forbidden"),
    }
    assert all("测试区体育局" in p.message for p in outcome.problems)
    assert not outcome.stored
    assert await counts() == before


async def test_the_departments_own_editor_imports_them(form_world: FormWorld) -> None:
    editor = Caller(subject="a", roles=("department_editor",), department="101", classified=False)

    outcome = await run_import(fixture("shaped.xlsx"), caller=editor)

    assert outcome.problems == [] and outcome.stored
    entries = await models.AuditEntry.filter(action="importWorkbook").values_list(
        "actor", "record_type"
    )
    # one entry per created or updated record, each by the importing user
    assert sorted(entries) == sorted(
        [
            ("a", "Subject"),
            ("a", "PerformanceTarget"),
            ("a", "SelfAssessment"),
            ("a", "SelfAssessment"),
        ]
    )


async def test_department_option_refuses_forms_of_another_department(
    form_world: FormWorld,
) -> None:
    outcome = await run_import(fixture("shaped.xlsx"), department="202")

    assert {p.rule for p in outcome.problems} == {"department-mismatch"}
    assert not outcome.stored


async def _corrected(form_world: FormWorld, goal: str) -> bytes:
    """The project's forms as the export gives them, with the target's goal changed."""
    subjects = [await models.Subject.get(id=form_world.project.id)]
    forms = await from_storage.target_forms(subjects)
    return workbook_bytes([dataclasses.replace(forms[0], goal=goal)])


async def test_a_corrected_target_is_updated_while_a_draft(form_world: FormWorld) -> None:
    await run_import(fixture("shaped.xlsx"))
    target = await models.PerformanceTarget.get(subject_id=form_world.project.id)
    data = await _corrected(form_world, "新的年度总体目标")

    outcome = await run_import(read_workbook(data, "corrected.xlsx"))

    assert outcome.problems == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 0)
    fresh = await models.PerformanceTarget.get(id=target.id)
    assert fresh.overall_goal == "新的年度总体目标"
    assert fresh.version == target.version + 1
    entry = (
        await models.AuditEntry.filter(action="importWorkbook", record_type="PerformanceTarget")
        .order_by("-id")
        .first()
    )
    assert entry is not None and entry.before is not None and entry.after is not None
    assert entry.after["overall_goal"] == "新的年度总体目标"


async def test_an_approved_target_is_refused_with_the_reason(form_world: FormWorld) -> None:
    await run_import(fixture("shaped.xlsx"))
    await models.PerformanceTarget.filter(subject_id=form_world.project.id).update(
        review_status=ReviewStatus.FINANCE_APPROVED
    )
    before = await counts()
    data = await _corrected(form_world, "悄悄改掉的目标")

    outcome = await run_import(read_workbook(data, "corrected.xlsx"))

    assert [(p.cell, p.rule) for p in outcome.problems] == [("B12", "target-editable")]
    assert "财政审核通过" in outcome.problems[0].message
    assert not outcome.stored
    target = await models.PerformanceTarget.get(subject_id=form_world.project.id)
    assert target.overall_goal.startswith("按合同完成")
    assert await counts() == before


async def test_an_approved_target_imported_unchanged_is_no_problem(form_world: FormWorld) -> None:
    await run_import(fixture("shaped.xlsx"))
    await models.PerformanceTarget.filter(subject_id=form_world.project.id).update(
        review_status=ReviewStatus.FINANCE_APPROVED
    )

    outcome = await run_import(fixture("shaped.xlsx"))

    assert outcome.problems == [] and outcome.unchanged == 3


async def test_a_workbook_without_a_form_says_so(form_world: FormWorld) -> None:
    data = workbook_bytes([])  # XlsxWriter adds one empty sheet
    outcome = await run_import(read_workbook(data, "empty.xlsx"))

    assert [(p.file, p.rule) for p in outcome.problems] == [("empty.xlsx", "form-unrecognised")]


async def test_a_new_project_is_created_from_its_target_form(form_world: FormWorld) -> None:
    subjects = [await models.Subject.get(id=form_world.project.id)]
    await run_import(fixture("shaped.xlsx"))
    forms = await from_storage.target_forms(subjects)
    new = dataclasses.replace(forms[0], code="101-0099", name="新项目")

    outcome = await run_import(read_workbook(workbook_bytes([new]), "new.xlsx"))

    assert outcome.problems == [] and outcome.created == 2
    created = await models.Subject.get(code="101-0099")
    assert created.initial_total == Decimal("250000.00")
    assert await models.PerformanceTarget.filter(subject_id=created.id).count() == 1


def test_a_blank_level_with_nothing_above_to_inherit_is_reported() -> None:
    form = fixture("shaped.xlsx").forms[0]
    form.lines[0].level1 = None  # the first row: no merged cell above covers it
    form.lines[0].level2 = None

    got = read_workbook(workbook_bytes([form]), "levels.xlsx")

    assert {(p.cell, p.rule) for p in got.problems} >= {("A14", "required"), ("B14", "required")}


# --- a batch of workbooks: each its own unit ------------------------------------------------


def _new_project_workbook(code: str) -> ReadResult:
    form = dataclasses.replace(fixture("shaped.xlsx").forms[0], code=code, name=f"新项目{code}")
    return read_workbook(workbook_bytes([form]), f"{code}.xlsx")


async def test_a_batch_stores_each_valid_workbook_and_nothing_of_an_invalid_one(
    form_world: FormWorld,
) -> None:
    for code in ("101-0002", "101-0003", "101-0004"):
        await _project(form_world, code)
    before = await counts()

    outcome = await run_import(
        _new_project_workbook("101-0097"),
        fixture("mistakes.xlsx", 2024),
        _new_project_workbook("101-0098"),
    )

    assert outcome.workbooks == 3 and outcome.refused == ["mistakes.xlsx"]
    assert {p.file for p in outcome.problems} == {"mistakes.xlsx"}
    assert {(p.sheet, p.cell, p.rule) for p in outcome.problems} == MISTAKES
    assert outcome.stored
    # the first and the third workbook are stored whole: each a new project with its target …
    assert (outcome.created, outcome.updated, outcome.unchanged) == (2 + 2, 0, 0)
    for code in ("101-0097", "101-0098"):
        created = await models.Subject.get(code=code)
        assert await models.PerformanceTarget.filter(subject_id=created.id).count() == 1
    # … and nothing of the second: the projects it names have no target nor assessment
    after = await counts()
    assert after["Subject"] - before["Subject"] == 2
    assert after["PerformanceTarget"] - before["PerformanceTarget"] == 2
    assert after["SelfAssessment"] == before["SelfAssessment"]
    assert after["AuditEntry"] - before["AuditEntry"] == 4
    for code in ("101-0001", "101-0002", "101-0003", "101-0004"):
        subject = await models.Subject.get(code=code)
        assert not await models.PerformanceTarget.filter(subject_id=subject.id).exists()
        assert not await models.SelfAssessment.filter(subject_id=subject.id).exists()


async def test_a_batch_without_a_problem_stores_every_workbook(form_world: FormWorld) -> None:
    outcome = await run_import(fixture("shaped.xlsx"), _new_project_workbook("101-0099"))

    assert outcome.problems == [] and outcome.refused == [] and outcome.workbooks == 2
    assert (outcome.created, outcome.updated) == (3 + 2, 1)


async def test_the_same_form_twice_in_a_batch_refuses_the_second_workbook(
    form_world: FormWorld,
) -> None:
    outcome = await run_import(fixture("shaped.xlsx"), fixture("shaped.ods"))

    assert outcome.refused == ["shaped.ods"]
    assert {(p.file, p.rule) for p in outcome.problems} == {("shaped.ods", "form-duplicate")}
    assert all("shaped.xlsx" in p.message for p in outcome.problems)
    # the first is stored; the second, though the same, is not imported over it
    assert outcome.created == 3
    assert await models.PerformanceTarget.filter(subject_id=form_world.project.id).count() == 1


async def test_check_of_a_batch_reports_each_workbook_and_stores_none(
    form_world: FormWorld,
) -> None:
    before = await counts()

    outcome = await run_import(
        fixture("shaped.xlsx"), _new_project_workbook("101-0098"), check_only=True
    )

    assert outcome.problems == [] and not outcome.stored
    assert (outcome.created, outcome.updated) == (3 + 2, 1)
    assert await counts() == before


async def test_each_created_record_has_one_audit_entry_with_what_was_stored(
    form_world: FormWorld,
) -> None:
    outcome = await run_import(fixture("shaped.xlsx"))
    assert outcome.stored

    entries = await models.AuditEntry.filter(action="importWorkbook").order_by("id")
    by_record = {(e.record_type, e.record_id): e for e in entries}
    # one entry per created or updated record, no more: 1 subject update, 1 target, 2 assessments
    assert len(entries) == len(by_record) == 4
    target = await models.PerformanceTarget.get(subject_id=form_world.project.id)
    entry = by_record[("PerformanceTarget", str(target.id))]
    indicators = await models.Indicator.filter(target_id=target.id).order_by("position")
    # the entry holds the record and its indicators exactly as they read back from the database
    assert entry.before is None and entry.after == audit.snapshot(target) | {
        "indicators": [audit.snapshot(i) for i in indicators]
    }
    for subject_id in (form_world.project.id, form_world.overall.id):
        assessment = await models.SelfAssessment.get(subject_id=subject_id)
        rows = await models.SelfAssessmentRow.filter(assessment_id=assessment.id).order_by(
            "position"
        )
        entry = by_record[("SelfAssessment", str(assessment.id))]
        assert entry.after == audit.snapshot(assessment) | {
            "rows": [audit.snapshot(r) for r in rows]
        }
        assert entry.actor == "tester" and entry.roles == ["admin"]
    update = by_record[("Subject", str(form_world.project.id))]
    assert update.before is not None and update.after is not None
    assert update.before["implementing_unit_id"] is None
    assert update.after["implementing_unit_id"] == form_world.unit.id


async def test_a_new_target_and_self_assessment_in_one_workbook_are_linked(
    form_world: FormWorld,
) -> None:
    """The rows of a self-assessment point at the indicators a target of the same workbook
    creates (written in the same transaction, ids from the database)."""
    await run_import(fixture("shaped.xlsx"))
    target = await models.PerformanceTarget.get(subject_id=form_world.project.id)
    indicators = await models.Indicator.filter(target_id=target.id).order_by("position")
    assessment = await models.SelfAssessment.get(subject_id=form_world.project.id)
    rows = await models.SelfAssessmentRow.filter(assessment_id=assessment.id).order_by("position")

    assert rows[0].indicator_id == indicators[0].id
    named = {(i.level1, i.level2, i.name): i.id for i in indicators}
    assert [r.indicator_id for r in rows] == [
        named.get((r.level1, r.level2, r.indicator_name)) for r in rows
    ]
