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
from starlette.applications import Starlette
from tortoise.models import Model

from api.app import create_app
from api.auth import Role, mint
from api.settings import Settings
from schema.internal.ids import global_id
from storage import database, files, models, records
from storage.enums import (
    AssessmentConductor,
    BudgetBook,
    Comparator,
    DepartmentTier,
    DeviationLevel,
    DocKind,
    EvaluationKind,
    ExAnteConclusion,
    FilingReason,
    FilingScope,
    FindingCategory,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    MonitoringMode,
    OrgType,
    ReleaseKind,
)
from tests import factories
from tests.internal import samples

SECRET = "development-secret-of-at-least-32-bytes!"
#: The instant every test token is issued at and checked against: no test reads the wall clock.
NOW = 1_900_000_000
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
        now=NOW,
    )


def app_at_now(settings: Settings) -> Starlette:
    """The app, its tokens checked against `NOW`."""
    return create_app(settings, clock=lambda: NOW)


def gid(row: Model) -> str:
    """The global ID the internal API gives a record (its model name is its GraphQL type)."""
    return str(global_id(type(row).__name__, row.pk))


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
    a_monitoring: models.MonitoringRecord
    b_monitoring: models.MonitoringRecord
    a_ex_ante: models.ExAnteAssessment
    b_ex_ante: models.ExAnteAssessment
    a_report: models.EvaluationReport
    b_report: models.EvaluationReport
    #: SENSITIVE project filings (敏感, not classified) of 甲项目 and 乙项目
    a_filing: models.SensitivityFiling
    b_filing: models.SensitivityFiling


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
    content = [
        await _content(p, e) for p, e in zip((a_project, b_project), evaluations, strict=True)
    ]
    sensitive = [
        await records.file_filing(
            department,
            fiscal_year=YEAR,
            scope=FilingScope.PROJECTS,
            reason=FilingReason.SENSITIVE,
            reference=f"敏备-{department.code}",
            filed_with="测试区财政局",
            filed_at=date(YEAR, 1, 6),
            projects=[project],
        )
        for department, project in ((a, a_project), (b, b_project))
    ]
    return World(
        jurisdiction=j,
        a=a,
        a_unit=a_unit,
        b=b,
        b_unit=b_unit,
        s=s,
        a_project=a_project,
        b_project=b_project,
        b_secret=b_secret,
        s_project=s_project,
        a_target=a_target,
        b_target=b_target,
        a_release=a_release,
        b_release=b_release,
        s_release=s_release,
        filings=filings,
        a_evaluation=evaluations[0],
        b_evaluation=evaluations[1],
        a_rectification=rectifications[0],
        b_rectification=rectifications[1],
        a_monitoring=content[0][0],
        b_monitoring=content[1][0],
        a_ex_ante=content[0][1],
        b_ex_ante=content[1][1],
        a_report=content[0][2],
        b_report=content[1][2],
        a_filing=sensitive[0],
        b_filing=sensitive[1],
    )


async def _content(
    project: models.Subject, evaluation: models.Evaluation
) -> tuple[models.MonitoringRecord, models.ExAnteAssessment, models.EvaluationReport]:
    """A monitoring record, an ex-ante assessment and an evaluation report (PDF main text)."""
    monitoring = await models.MonitoringRecord.create(
        subject=project,
        fiscal_year=YEAR,
        mode=MonitoringMode.KEY,
        as_of_date=date(YEAR, 7, 31),
        budget_to_date=Decimal("100000.00"),
        executed_to_date=Decimal("50000.00"),
        execution_rate=Decimal("50.00"),
        deviation_level=DeviationLevel.MINOR,
    )
    ex_ante = await models.ExAnteAssessment.create(
        subject=project,
        fiscal_year=YEAR,
        conducted_by=AssessmentConductor.FINANCE,
        conclusion=ExAnteConclusion.SUPPORT,
        requested_amount=Decimal("300000.00"),
    )
    department = await models.Department.get(id=project.department_id)
    main_text = await files.store(
        files.Upload(f"{project.code}-report.pdf", samples.pdf(project.code)),
        title=f"{project.name}绩效评价报告",
        doc_kind=DocKind.EVALUATION_REPORT_MAIN_TEXT,
        jurisdiction_id=department.jurisdiction_id,
        department_id=department.id,
        fiscal_year=YEAR,
        uploaded_by="fixture",
    )
    report = await models.EvaluationReport.create(
        evaluation=evaluation, title=main_text.title, main_text=main_text
    )
    return monitoring, ex_ante, report


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
        self,
        bearer: str,
        query: str,
        variables: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> dict[str, Any]:
        if files:
            response = await self.upload(bearer, query, variables or {}, files)
        else:
            response = await self.raw(bearer, query, variables)
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = orjson.loads(response.content)
        return body

    async def upload(
        self,
        bearer: str,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
    ) -> httpx.Response:
        """A GraphQL multipart request: `files` maps a variable name to (file name, bytes)."""
        operations = {"query": query, "variables": {**variables, **dict.fromkeys(files)}}
        names = list(files)
        mapping = {str(i): [f"variables.{name}"] for i, name in enumerate(names)}
        parts = {
            str(i): (files[name][0], files[name][1], "application/octet-stream")
            for i, name in enumerate(names)
        }
        return await self.client.post(
            "/internal/graphql",
            data={
                "operations": orjson.dumps(operations).decode(),
                "map": orjson.dumps(mapping).decode(),
            },
            files=parts,
            headers={"Authorization": f"Bearer {bearer}"},
        )


@pytest.fixture
async def world(db: str) -> World:
    return await build_world()


@pytest.fixture
async def api(world: World, db: str, tmp_path: Path) -> AsyncIterator[Api]:
    await database.close()  # the app connects by itself, in its lifespan
    app = app_at_now(settings(db, tmp_path / "store"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client)
    await database.init(db, global_fallback=True)
