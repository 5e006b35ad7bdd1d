"""The annual statement's counts against what is public (D7, D12): authored text is never
rewritten, but `check` names a count that a late whole-department filing made untrue."""

from __future__ import annotations

from datetime import date

import pytest

from publishers.releases import Publisher
from publishers.rules import check_statement_counts
from storage import models, records
from storage.enums import FilingReason, FilingScope, ReleaseKind
from storage.objects.memory import MemoryObjectStore
from tests.publishers import dataset
from tests.publishers.test_releases import NOW

TEXT = "62个预算部门编报部门整体支出绩效目标；运行监控涉及10个预算部门、30个预算单位。"


@pytest.mark.parametrize(
    ("departments", "units", "problems"),
    [
        (62, 30, []),
        (62, 31, []),
        (61, 30, ["says 62 departments were covered, but 61 are public"]),
        (63, 30, ["says 62 departments were covered, but 63 are public"]),
        (62, 29, ["names 30 units, but only 29 are public"]),
    ],
)
def test_stated_counts_against_the_public_ones(
    departments: int, units: int, problems: list[str]
) -> None:
    found = check_statement_counts("annual_statement#1", TEXT, departments, units)
    assert [p.rule for p in found] == ["DR-4g"] * len(problems)
    assert all(p.record == "annual_statement#1" for p in found)
    for problem, expected in zip(found, problems, strict=True):
        assert expected in problem.message


def test_a_statement_without_counts_is_not_checked() -> None:
    assert check_statement_counts("s", "全面实施预算绩效管理。", 0, 0) == []
    assert check_statement_counts("s", "各部门开展了部门评价。", 5, 5) == []


async def test_check_flags_the_statement_after_a_whole_department_filing(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=2, projects=1))
    statement = await models.AnnualStatement.create(
        jurisdiction=built.jurisdiction,
        year=dataset.YEAR,
        title="测试区情况说明",
        text="2个预算部门编报部门整体支出绩效目标，涉及2个预算单位。",
    )
    annual = await records.create_release(
        built.jurisdiction,
        kind=ReleaseKind.FINANCE_ANNUAL,
        fiscal_year=dataset.YEAR,
        approval_date=date(dataset.YEAR + 1, 2, 1),
    )
    publisher = Publisher(MemoryObjectStore(), worker="t", clock=lambda: NOW)
    assert [p for p in (await publisher.check(annual.id)).problems if p.rule == "DR-4g"] == []

    await records.file_filing(
        await models.Department.get(code="PUBD0X"),
        fiscal_year=dataset.YEAR,
        scope=FilingScope.WHOLE_DEPARTMENT,
        reason=FilingReason.SENSITIVE,
        reference="补备",
        filed_with="测试区财政局",
        filed_at=NOW.date(),
    )
    problems = (await Publisher(MemoryObjectStore(), worker="t").check(annual.id)).problems
    messages = [p.message for p in problems if p.rule == "DR-4g"]
    assert len(messages) == 2
    assert "says 2 departments were covered, but 1 are public" in messages[0]
    assert "names 2 units, but only 1 are public" in messages[1]

    statement.text = "1个预算部门编报部门整体支出绩效目标，涉及1个预算单位。"
    await statement.save()
    problems = (await Publisher(MemoryObjectStore(), worker="t").check(annual.id)).problems
    assert [p for p in problems if p.rule == "DR-4g"] == []
