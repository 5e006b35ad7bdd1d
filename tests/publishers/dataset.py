"""A small, fully valid data set for publishing tests, with filings placed at will.

Every name and code of a record carries a unique marker (`SECRET…` for what a test will file),
so a leak scan can look for exact strings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal as D

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from publishers.releases import Publisher
from publishers.signing import Signer
from storage import models, records, scoring
from storage.enums import (
    BudgetBook,
    Comparator,
    DepartmentTier,
    DocKind,
    EvaluationKind,
    FilingReason,
    FilingScope,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    OrgType,
    QualitativeBand,
    ReleaseKind,
    ReleaseStatus,
    ReviewStatus,
    SubjectKind,
)
from storage.objects import ObjectStore
from tests import factories
from tests.internal import samples

#: the tests' publisher key: fixed, so that a test's processes (tests/publishers/crash.py) sign
#: with the key its bucket already holds
SIGNER = Signer(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"gongkai tests").digest()))
YEAR = 2024


@dataclass
class Plan:
    """What to build: departments × projects, and which of them to file."""

    departments: int = 2
    projects: int = 2
    whole_department_filings: dict[int, FilingReason] = field(default_factory=dict)
    project_filings: dict[tuple[int, int], FilingReason] = field(default_factory=dict)
    #: DR-4(e): department 0 carries a fiscal policy selected for publication, with an
    #: approved target (no budget of its own, so no self-assessment is due).
    policy: bool = False
    #: departments that get no BUDGET and FINAL_ACCOUNTS releases (DR-3 at the year level)
    without_releases: frozenset[int] = frozenset()
    #: a second jurisdiction in one database needs a code of its own
    jurisdiction_code: str = "990101"


@dataclass
class Built:
    jurisdiction: models.Jurisdiction
    releases: list[models.Release]
    filed_markers: set[str]
    public_markers: set[str]


def _indicators() -> list[records.IndicatorInput]:
    def quantitative(l1: IndicatorL1, l2: IndicatorL2, name: str, w: str) -> records.IndicatorInput:
        return records.IndicatorInput(
            level1=l1,
            level2=l2,
            name=name,
            nature=IndicatorNature.QUANTITATIVE,
            comparator=Comparator.GE,
            target_value_raw="≥90%",
            target_value_number=D(90),
            unit="%",
            weight=D(w),
        )

    return [
        quantitative(IndicatorL1.OUTPUT, IndicatorL2.QUANTITY, "完成率", "30"),
        records.IndicatorInput(
            level1=IndicatorL1.OUTPUT,
            level2=IndicatorL2.TIMELINESS,
            name="=及时性",
            nature=IndicatorNature.QUALITATIVE,
            comparator=Comparator.QUALITATIVE,
            target_value_raw="及时",
            weight=D(20),
        ),
        quantitative(IndicatorL1.BENEFIT, IndicatorL2.SOCIAL_BENEFIT, "覆盖率", "30"),
        quantitative(
            IndicatorL1.SATISFACTION, IndicatorL2.SERVICE_RECIPIENT_SATISFACTION, "满意度", "10"
        ),
    ]


def _rows(
    target: models.PerformanceTarget, indicators: list[models.Indicator]
) -> list[scoring.RowInput]:
    rows = []
    for indicator in sorted(indicators, key=lambda i: i.position):
        qualitative = indicator.comparator is Comparator.QUALITATIVE
        rows.append(
            scoring.RowInput(
                level1=indicator.level1,
                level2=indicator.level2,
                indicator_name=indicator.name,
                comparator=indicator.comparator,
                target_value_raw=indicator.target_value_raw,
                actual_value_raw="及时" if qualitative else "95%",
                weight=indicator.weight or D(0),
                target_value_number=indicator.target_value_number,
                actual_value_number=None if qualitative else D(95),
                qualitative_band=QualitativeBand.ACHIEVED if qualitative else None,
                qualitative_score=indicator.weight if qualitative else None,
                indicator_id=indicator.id,
            )
        )
    return rows


async def _pdf(
    jurisdiction: models.Jurisdiction, department: models.Department, title: str
) -> models.StoredFile:
    # A real PDF with a text layer: the personal-data guard (DR-10) reads every file it publishes.
    data = samples.pdf(title)
    digest = hashlib.sha256(data).hexdigest()
    await models.FileContent.get_or_create(sha256=digest, defaults={"data": data})
    return await models.StoredFile.create(
        sha256=digest,
        size=len(data),
        content_type="application/pdf",
        filename=f"{digest[:8]}.pdf",
        title=title,
        doc_kind=DocKind.EVALUATION_REPORT_MAIN_TEXT,
        department=department,
        jurisdiction=jurisdiction,
        fiscal_year=YEAR,
    )


async def build(plan: Plan) -> Built:
    jurisdiction = await factories.jurisdiction(
        code=plan.jurisdiction_code, name="测试区", is_demo=True
    )
    filed: set[str] = set()
    public: set[str] = set()
    releases = []
    for d in range(plan.departments):
        dept_filed = d in plan.whole_department_filings
        tag = "SECRETD" if dept_filed else "PUBD"
        department = await factories.department(
            jurisdiction, code=f"{tag}{d}X", name=f"{tag}{d}部门"
        )
        unit = await factories.department(
            jurisdiction,
            code=f"{tag}{d}U",
            name=f"{tag}{d}单位",
            tier=DepartmentTier.UNIT,
            org_type=OrgType.PUBLIC_INSTITUTION,
            parent=department,
        )
        (filed if dept_filed else public).update(
            {department.code, department.name, unit.code, unit.name}
        )
        filed_projects = []
        for p in range(plan.projects):
            project_filed = dept_filed or (d, p) in plan.project_filings
            tag = "SECRETP" if project_filed else "PUBP"
            project = await factories.project(
                department,
                code=f"{tag}{d}-{p}Q",
                name=f"{tag}{d}-{p}项目",
                implementing_unit=unit,
                fiscal_year=YEAR,
                **factories.amounts("100000.00", "100000.00", "95000.00"),
            )
            (filed if project_filed else public).update({project.code, project.name})
            if (d, p) in plan.project_filings and not dept_filed:
                filed_projects.append((project, plan.project_filings[(d, p)]))
            target = await records.create_target(project, f"{tag}{d}-{p}目标", _indicators())
            target.review_status = ReviewStatus.FINANCE_APPROVED
            await target.save()
            indicators = await models.Indicator.filter(target=target)
            await records.create_self_assessment(
                project,
                _rows(target, indicators),
                full_year_budget=D("100000.00"),
                executed=D("95000.00"),
            )
            evaluation = await models.Evaluation.create(
                subject=project,
                kind=EvaluationKind.FINANCE_KEY,
                fiscal_year=YEAR,
                organiser="测试区财政局",
                budget_book=BudgetBook.GENERAL_PUBLIC,
                score=D("91.50"),
            )
            main_text = await _pdf(jurisdiction, department, f"{tag}{d}-{p}评价报告")
            await models.EvaluationReport.create(
                evaluation=evaluation, title=f"{tag}{d}-{p}评价报告", main_text=main_text
            )
            (filed if project_filed else public).add(f"{tag}{d}-{p}评价报告")
        overall = await factories.project(
            department,
            kind=SubjectKind.DEPARTMENT_OVERALL,
            code=f"{department.code}-OV",
            name=f"{department.name}整体支出",
            fiscal_year=YEAR,
            **factories.amounts("0.00"),
        )
        (filed if dept_filed else public).add(overall.name)
        if plan.policy and d == 0:
            policy = await factories.project(
                department,
                kind=SubjectKind.POLICY,
                code=f"{department.code}-PL",
                name=f"{department.name}政策",
                fiscal_year=YEAR,
                publication_selected=True,
                **factories.amounts("0.00"),
            )
            (filed if dept_filed else public).add(policy.name)
            target = await records.create_target(
                policy, f"{department.name}政策目标", _indicators()
            )
            target.review_status = ReviewStatus.FINANCE_APPROVED
            await target.save()
        if dept_filed:
            await records.file_filing(
                department,
                fiscal_year=YEAR,
                scope=FilingScope.WHOLE_DEPARTMENT,
                reason=plan.whole_department_filings[d],
                reference=f"测备{d}",
                filed_with="测试区财政局",
                filed_at=date(YEAR, 1, 5),
            )
        for project, reason in filed_projects:
            await records.file_filing(
                department,
                fiscal_year=YEAR,
                scope=FilingScope.PROJECTS,
                reason=reason,
                reference=f"测备{d}P",
                filed_with="测试区财政局",
                filed_at=date(YEAR, 1, 5),
                projects=[project],
            )
        for kind, approved in (
            (ReleaseKind.BUDGET, date(YEAR, 1, 25)),
            (ReleaseKind.FINAL_ACCOUNTS, date(YEAR + 1, 7, 10)),
        ):
            if d in plan.without_releases:
                break
            releases.append(
                await records.create_release(
                    jurisdiction,
                    kind=kind,
                    fiscal_year=YEAR,
                    approval_date=approved,
                    department=department,
                )
            )
    await models.AnnualStatement.create(
        jurisdiction=jurisdiction,
        year=YEAR + 1,
        title="测试区情况说明",
        text="全面实施预算绩效管理。",
    )
    releases.append(
        await records.create_release(
            jurisdiction,
            kind=ReleaseKind.FINANCE_ANNUAL,
            fiscal_year=YEAR + 1,
            approval_date=date(YEAR + 2, 2, 1),
        )
    )
    # DR-12: a release is scheduled before it is published.
    await models.Release.filter(id__in=[r.id for r in releases]).update(
        status=ReleaseStatus.SCHEDULED
    )
    for release in releases:
        release.status = ReleaseStatus.SCHEDULED
    return Built(jurisdiction, releases, filed, public)


#: What `withdraw_whole_department` withdraws: the department's and its project's codes and
#: names, which nothing public may hold afterwards.
WITHDRAWN_MARKERS = frozenset({"PUBD0X", "PUBD0部门", "PUBP0-0Q", "PUBP0-0项目"})


@dataclass
class Withdrawal:
    built: Built
    department: models.Department  # the one filed whole after publication
    published: set[str]  # the keys in the store before the withdrawal


async def withdraw_whole_department(store: ObjectStore, now: datetime) -> Withdrawal:
    """Two departments of one project each, published at `now`; then department PUBD0X is
    filed whole (CLASSIFIED) after publication, and the filing is enforced two days later
    (D12): the scenario of the withdrawal tests of the store, the site and the public API."""
    built = await build(Plan(departments=2, projects=1))
    await _publisher(store, now).publish_many([r.id for r in built.releases])
    published = {info.key for info in await store.list()}
    department = await models.Department.get(code="PUBD0X")
    await records.file_filing(
        department,
        fiscal_year=YEAR,
        scope=FilingScope.WHOLE_DEPARTMENT,
        reason=FilingReason.CLASSIFIED,
        reference="补备0",
        filed_with="测试区财政局",
        filed_at=now.date(),
    )
    await _publisher(store, now + timedelta(days=2)).withdraw()
    return Withdrawal(built, department, published)


async def file_project(code: str, filed_at: date) -> None:
    """A SENSITIVE filing of one project, added after publication (D12)."""
    project = await models.Subject.get(code=code)
    department = await models.Department.get(id=project.department_id)
    await records.file_filing(
        department,
        fiscal_year=YEAR,
        scope=FilingScope.PROJECTS,
        reason=FilingReason.SENSITIVE,
        reference="补备1",
        filed_with="测试区财政局",
        filed_at=filed_at,
        projects=[project],
    )


def _publisher(store: ObjectStore, now: datetime) -> Publisher:
    return Publisher(store, worker="test", clock=lambda: now, signer=SIGNER)
