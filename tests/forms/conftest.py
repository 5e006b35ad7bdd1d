"""A small world the committed fixtures (tests/forms/fixtures/) are filled in for: department
101 测试区体育局 with its unit 101001 测试区体育中心, FY 2024, its project 101-0001 and its
department-overall expenditure; and department 202 乙局 beside it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from forms.read import ReadResult, read_workbook
from schema.internal.context import InternalContext
from schema.internal.imports import Outcome, import_forms
from schema.internal.permissions import Caller
from storage import models
from storage.enums import DepartmentTier, OrgType, SubjectKind
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
ADMIN = Caller(subject="tester", roles=("admin",), department=None, classified=False)


@dataclass
class FormWorld:
    department: models.Department
    unit: models.Department
    other: models.Department
    project: models.Subject
    overall: models.Subject


@pytest.fixture
async def form_world(db: str) -> FormWorld:
    j = await factories.jurisdiction()
    department = await factories.department(j)
    unit = await factories.department(
        j,
        code="101001",
        name="测试区体育中心",
        tier=DepartmentTier.UNIT,
        org_type=OrgType.PUBLIC_INSTITUTION,
        parent=department,
    )
    other = await factories.department(j, code="202", name="乙局")
    project = await factories.project(department)
    overall = await factories.project(
        department,
        kind=SubjectKind.DEPARTMENT_OVERALL,
        code="101-ZT",
        name="测试区体育局部门整体支出",
        **factories.amounts("1200000.00", executed="1140000.00"),
    )
    return FormWorld(department, unit, other, project, overall)


def fixture(name: str, year: int | None = None) -> ReadResult:
    return read_workbook((FIXTURES / name).read_bytes(), name, year)


async def run_import(
    *results: ReadResult,
    caller: Caller = ADMIN,
    check_only: bool = False,
    department: str | None = None,
) -> Outcome:
    return await import_forms(
        InternalContext(caller=caller),
        list(results),
        check_only=check_only,
        department_code=department,
    )


async def counts() -> dict[str, int]:
    """Rows of every table an import writes to."""
    tables = (
        models.Subject,
        models.PerformanceTarget,
        models.Indicator,
        models.SelfAssessment,
        models.SelfAssessmentRow,
        models.AuditEntry,
    )
    return {table.__name__: await table.all().count() for table in tables}


def money(value: str) -> Decimal:
    return Decimal(value)
