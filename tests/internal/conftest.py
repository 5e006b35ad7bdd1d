"""The internal API through its HTTP endpoint: an app on a fresh database, tokens minted with
the development HS secret, and a small world of departments with classified stubs in it.

Everything a CLASSIFIED filing covers carries the marker ``SECRET`` in its code, name or
reference, so a leak check is a plain substring test of the response body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.auth import Role, mint
from api.settings import Settings
from storage import database, models, records
from storage.enums import (
    BudgetBook,
    Comparator,
    DepartmentTier,
    EvaluationKind,
    FilingReason,
    FilingScope,
    FindingCategory,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    OrgType,
    ReleaseKind,
)
from tests import factories

SECRET = "development-secret-of-at-least-32-bytes!"
MARKER = "SECRET"
YEAR = 2024


def settings(db: str, store: Path) -> Settings:
    return Settings(
        database_url=db, store_url=f"file://{store}", jwt_algorithms=("HS256",), jwt_key=SECRET
    )


def token(
    role: str | Role, dept: str | None = None, *, classified: bool = False, sub: str = "tester"
) -> str:
    return mint(
        settings("sqlite://:memory:", Path(".")),
        subject=sub,
        roles=[Role(role)],
        department=dept,
        classified=classified,
    )


def indicator(**overrides: Any) -> records.IndicatorInput:
    fields: dict[str, Any] = {
        "level1": IndicatorL1.OUTPUT,
        "level2": IndicatorL2.QUANTITY,
        "name": "完成率",
        "nature": IndicatorNature.QUANTITATIVE,
        "comparator": Comparator.GE,
        "target_value_raw": "≥90%",
        "target_value_number": Decimal(90),
        "unit": "%",
        "weight": Decimal(50),
    }
    return records.IndicatorInput(**{**fields, **overrides})


@dataclass
class World:
    """Department A (code 101, with a unit) and B (202, with a unit); S (SECRET303) under a
    CLASSIFIED whole-department filing; in B a project under a CLASSIFIED project filing."""

    jurisdiction: models.Jurisdiction
    a: models.Department
    a_unit: models.Department
    b: models.Department
    b_unit: models.Department
    s: models.Department
    a_project: models.Subject
    b_project: models.Subject
    b_secret: models.Subject
    s_project: models.Subject
    a_target: models.PerformanceTarget
    b_target: models.PerformanceTarget
    a_release: models.Release
    b_release: models.Release
    s_release: models.Release
    filings: list[models.SensitivityFiling]
    a_evaluation: models.Evaluation
    b_evaluation: models.Evaluation
    a_rectification: models.Rectification
    b_rectification: models.Rectification


async def build_world() -> World:
    j = await factories.jurisdiction()

    async def dept(code: str, name: str) -> tuple[models.Department, models.Department]:
        top = await factories.department(j, code=code, name=name)
        unit = await factories.department(
            j,
            code=f"{code}001",
            name=f"{name}所属单位",
            tier=DepartmentTier.UNIT,
            org_type=OrgType.PUBLIC_INSTITUTION,
            parent=top,
        )
        return top, unit

    a, a_unit = await dept("101", "甲局")
    b, b_unit = await dept("202", "乙局")
    s, _ = await dept("SECRET303", "SECRET机密局")
    a_project = await factories.project(a, code="101-P1", name="甲项目", implementing_unit=a_unit)
    b_project = await factories.project(b, code="202-P1", name="乙项目")
    b_secret = await factories.project(b, code="SECRET-202-P2", name="SECRET乙涉密项目")
    s_project = await factories.project(
        s, code="SECRET303-P1", name="SECRET机密项目", **factories.amounts("0")
    )
    a_target = await records.create_target(a_project, "甲目标", [indicator()])
    b_target = await records.create_target(b_project, "乙目标", [indicator()])
    filings = [
        await records.file_filing(
            s,
            fiscal_year=YEAR,
            scope=FilingScope.WHOLE_DEPARTMENT,
            reason=FilingReason.CLASSIFIED,
            reference="SECRET-REF-1",
            filed_with="测试区保密局",
            filed_at=date(YEAR, 1, 5),
        ),
        await records.file_filing(
            b,
            fiscal_year=YEAR,
            scope=FilingScope.PROJECTS,
            reason=FilingReason.CLASSIFIED,
            reference="SECRET-REF-2",
            filed_with="测试区保密局",
            filed_at=date(YEAR, 1, 5),
            projects=[b_secret],
        ),
    ]
    a_release, b_release, s_release = [
        await records.create_release(
            j,
            kind=ReleaseKind.BUDGET,
            fiscal_year=YEAR,
            approval_date=date(YEAR, 1, 25),
            department=d,
        )
        for d in (a, b, s)
    ]
    evaluations: list[models.Evaluation] = []
    rectifications: list[models.Rectification] = []
    for project in (a_project, b_project):
        evaluation = await models.Evaluation.create(
            subject=project,
            kind=EvaluationKind.FINANCE_KEY,
            fiscal_year=YEAR,
            organiser="测试区财政局",
            budget_book=BudgetBook.GENERAL_PUBLIC,
            score=Decimal("85.00"),
        )
        finding = await models.Finding.create(
            evaluation=evaluation,
            category=FindingCategory.LOW_EXECUTION_RATE,
            description="预算执行率偏低",
        )
        rectifications.append(
            await models.Rectification.create(
                finding=finding,
                notice_issued_at=date(2025, 5, 1),
                received_at=date(2025, 5, 6),
                due_date=date(2025, 6, 5),
            )
        )
        evaluations.append(evaluation)
    return World(
        j,
        a,
        a_unit,
        b,
        b_unit,
        s,
        a_project,
        b_project,
        b_secret,
        s_project,
        a_target,
        b_target,
        a_release,
        b_release,
        s_release,
        filings,
        evaluations[0],
        evaluations[1],
        rectifications[0],
        rectifications[1],
    )


@dataclass
class Api:
    client: httpx.AsyncClient

    async def raw(
        self, bearer: str, query: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/internal/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {bearer}"},
        )

    async def __call__(
        self, bearer: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.raw(bearer, query, variables)
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = orjson.loads(response.content)
        return body


@pytest.fixture
async def world(db: str) -> World:
    return await build_world()


@pytest.fixture
async def api(world: World, db: str, tmp_path: Path) -> AsyncIterator[Api]:
    await database.close()  # the app connects by itself, in its lifespan
    app = create_app(settings(db, tmp_path / "store"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client)
    await database.init(db, global_fallback=True)
