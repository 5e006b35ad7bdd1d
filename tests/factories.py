"""Plain async factories with explicit defaults: each builds one valid record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from storage import models
from storage.enums import (
    BudgetBook,
    DepartmentTier,
    FinanceAuthorityRole,
    FiscalLevel,
    OrgType,
    SubjectKind,
)


async def jurisdiction(**overrides: Any) -> models.Jurisdiction:
    fields: dict[str, Any] = {
        "code": "990101",
        "name": "测试区",
        "level": FiscalLevel.DISTRICT,
        "finance_authority_name": "测试区财政局",
        "finance_authority_role": FinanceAuthorityRole.FINANCE_BUREAU,
    }
    return await models.Jurisdiction.create(**{**fields, **overrides})


async def department(jurisdiction: models.Jurisdiction, **overrides: Any) -> models.Department:
    fields: dict[str, Any] = {
        "jurisdiction": jurisdiction,
        "code": "101",
        "name": "测试区体育局",
        "tier": DepartmentTier.DEPARTMENT,
        "org_type": OrgType.ADMINISTRATIVE,
    }
    return await models.Department.create(**{**fields, **overrides})


def amounts(initial: str, full_year: str | None = None, executed: str = "0") -> dict[str, Decimal]:
    """An amounts block funded wholly by the current-year appropriation."""
    values = {"initial": initial, "full_year": full_year or initial, "executed": executed}
    block: dict[str, Decimal] = {}
    for column, value in values.items():
        block[f"{column}_total"] = block[f"{column}_appropriation"] = Decimal(value)
    return block


async def project(department: models.Department, **overrides: Any) -> models.Subject:
    fields: dict[str, Any] = {
        "kind": SubjectKind.PROJECT,
        "code": "101-0001",
        "fiscal_year": 2024,
        "name": "体育中心与委托运营方结算费用",
        "department": department,
        "budget_book": BudgetBook.GENERAL_PUBLIC,
        **amounts("250000.00", executed="215457.60"),
    }
    return await models.Subject.create(**{**fields, **overrides})
