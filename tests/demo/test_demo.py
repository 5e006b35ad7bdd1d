"""The demo data set at town scale: proportions, scoring, filings, files, releases, determinism.

The town is generated once per module into its own database; each test reconnects to it.
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader

from api import demo
from storage import database, models, validation
from storage.enums import (
    INDICATOR_CHILDREN,
    Comparator,
    DepartmentTier,
    EvaluationKind,
    FilingReason,
    FilingScope,
    Grade,
    IndicatorL1,
    QualitativeBand,
    ReleaseKind,
    ReleaseStatus,
    SubjectKind,
)
from tests.conftest import Databases

YEARS = (2022, 2023, 2024)
CHINESE = re.compile(r"[\u4e00-\u9fff]{4}")
#: The real bodies of the seed documents: none of them may appear in demo data (D4).
REAL_BODIES = ("普陀", "七宝", "吴泾", "闵行", "长宁", "化学工业区", "上海")


@dataclass(frozen=True)
class Town:
    url: str
    counts: dict[str, int]
    fingerprint: str


@pytest.fixture(scope="module")
async def town(databases: Databases, migrated_template: str) -> AsyncIterator[Town]:
    url = await databases.copy(migrated_template)
    await database.init(url, global_fallback=True)
    try:
        counts = await demo.generate("town", seed=1)
        fingerprint = await demo.fingerprint()
    finally:
        await database.close()
    yield Town(url, counts, fingerprint)
    await databases.drop(url)


@pytest.fixture
async def connected(town: Town) -> AsyncIterator[Town]:
    await database.init(town.url, global_fallback=True)
    try:
        yield town
    finally:
        await database.close()


async def covered_subjects(reason: FilingReason | None = None) -> dict[int, FilingReason]:
    """Subject id → the reason of the filing covering it (the stricter one when two do)."""
    covered: dict[int, FilingReason] = {}

    def cover(subject_id: int, filing_reason: FilingReason) -> None:
        if covered.get(subject_id) is not FilingReason.CLASSIFIED:
            covered[subject_id] = filing_reason

    for filing in await models.SensitivityFiling.all().prefetch_related("projects"):
        if filing.scope is FilingScope.WHOLE_DEPARTMENT:
            department = filing.department_id  # type: ignore[attr-defined]
            subjects = await models.Subject.filter(
                department_id=department, fiscal_year=filing.fiscal_year
            )
        else:
            subjects = list(filing.projects)
        for subject in subjects:
            cover(subject.id, filing.reason)
    return {k: v for k, v in covered.items() if reason is None or v is reason}


async def test_counts_are_those_of_a_town(connected: Town) -> None:
    jurisdiction = await models.Jurisdiction.get()
    assert jurisdiction.is_demo and jurisdiction.code.startswith("99")
    assert jurisdiction.name == "示例镇"
    departments = await models.Department.filter(tier=DepartmentTier.DEPARTMENT).count()
    units = await models.Department.filter(tier=DepartmentTier.UNIT).count()
    assert 20 <= departments <= 30
    assert 15 <= units <= 22
    for year in YEARS:
        projects = await models.Subject.filter(kind=SubjectKind.PROJECT, fiscal_year=year).count()
        assert 190 <= projects <= 260
        overall = await models.Subject.filter(
            kind=SubjectKind.DEPARTMENT_OVERALL, fiscal_year=year
        ).count()
        assert overall == departments
        policies = await models.Subject.filter(kind=SubjectKind.POLICY, fiscal_year=year)
        assert policies and any(p.publication_selected for p in policies)
    assert connected.counts["subject"] == await models.Subject.all().count()
    assert connected.counts["indicator"] == await models.Indicator.all().count()


async def test_indicators_are_valid_and_mixed(connected: Town) -> None:
    per_target: dict[int, list[models.Indicator]] = defaultdict(list)
    for indicator in await models.Indicator.all():
        assert indicator.level2 in INDICATOR_CHILDREN[indicator.level1]
        validation.check_indicator(indicator)
        per_target[indicator.target_id].append(indicator)  # type: ignore[attr-defined]
    assert per_target
    for rows in per_target.values():
        assert 5 <= len(rows) <= 12
        levels = {row.level1 for row in rows}
        assert IndicatorL1.OUTPUT in levels and IndicatorL1.BENEFIT in levels
    all_rows = [row for rows in per_target.values() for row in rows]
    qualitative = sum(row.comparator is Comparator.QUALITATIVE for row in all_rows)
    assert 0.2 <= qualitative / len(all_rows) <= 0.32


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_grade(score: Decimal) -> Grade:
    """SR-1: 90 优, 80 良, 60 中, below 差."""
    for floor, grade in ((90, Grade.EXCELLENT), (80, Grade.GOOD), (60, Grade.AVERAGE)):
        if score >= floor:
            return grade
    return Grade.POOR


#: SR-5: the share of the weight each qualitative band allows.
BANDS = {
    QualitativeBand.ACHIEVED: (Decimal("0.8"), Decimal(1)),
    QualitativeBand.PARTLY_ACHIEVED: (Decimal("0.6"), Decimal("0.8")),
    QualitativeBand.NOT_ACHIEVED: (Decimal(0), Decimal("0.6")),
}


def expected_row_score(row: models.SelfAssessmentRow) -> Decimal:
    """SR-4 for a quantitative row; for a qualitative one, the assessor's score, which SR-5 only
    bounds: it is returned when it lies in its band."""
    weight = row.weight
    if row.comparator is Comparator.QUALITATIVE:
        low, high = BANDS[QualitativeBand(row.qualitative_band)]
        assert weight * low <= row.score <= weight * high, row.id
        return row.score
    target, actual = row.target_value_number, row.actual_value_number
    assert target is not None and actual is not None
    if row.comparator in (Comparator.GE, Comparator.GT):
        met = actual > target or (row.comparator is Comparator.GE and actual == target)
        share = actual / target if target else Decimal(1)
    elif row.comparator in (Comparator.LE, Comparator.LT):
        met = actual < target or (row.comparator is Comparator.LE and actual == target)
        share = target / actual if actual else Decimal(1)
    else:
        met = actual == target
        share = min(actual, target) / max(actual, target) if max(actual, target) else Decimal(1)
    return cents(weight) if met else min(cents(weight), cents(weight * share))


async def test_self_assessments_follow_the_scoring_rules(connected: Town) -> None:
    rows_of: dict[int, list[models.SelfAssessmentRow]] = defaultdict(list)
    for row in await models.SelfAssessmentRow.all().order_by("position"):
        rows_of[row.assessment_id].append(row)  # type: ignore[attr-defined]
    assessments = await models.SelfAssessment.all()
    assert len(assessments) == await models.PerformanceTarget.all().count()
    excellent = 0
    for assessment in assessments:
        rows = rows_of[assessment.id]
        by_level: defaultdict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            by_level[row.level1] += row.weight
        expected_benefit = 30 if by_level[IndicatorL1.SATISFACTION] else 40
        assert by_level[IndicatorL1.OUTPUT] == 50
        assert by_level[IndicatorL1.BENEFIT] == expected_benefit
        assert sum(by_level.values()) + 10 == 100
        # Scored again by the rules as domain.md states them, written out here rather than
        # through storage.scoring, which made the demo: a scoring error would fool both.
        for row in rows:
            assert row.score == expected_row_score(row), row.id
        execution = min(Decimal(10), cents(10 * assessment.executed / assessment.full_year_budget))
        assert assessment.execution_score == execution
        total = min(Decimal(100), execution + sum(row.score for row in rows))
        assert assessment.total_score == total
        assert assessment.grade is expected_grade(total)
        # One number format for rates everywhere: two places, like aggregates and monitoring.
        assert assessment.execution_rate == cents(
            100 * assessment.executed / assessment.full_year_budget
        )
        assert re.fullmatch(r"\d+\.\d\d", str(assessment.execution_rate))
        excellent += assessment.total_score >= 90
    assert excellent / len(assessments) >= 0.8


async def test_qualitative_rows_that_state_their_target_score_their_weight(
    connected: Town,
) -> None:
    """ "规范 → 规范" scores the full weight and gives no deviation reason; a qualitative row
    scored below its weight says how far it got ("基本达成", "部分达成", "未达成")."""
    rows = await models.SelfAssessmentRow.filter(comparator=Comparator.QUALITATIVE)
    met = [row for row in rows if row.actual_value_raw == row.target_value_raw]
    below = [row for row in rows if row.score < row.weight]
    assert met and below, "the demo has qualitative rows met in full and rows below weight"
    for row in met:
        assert (row.score, row.qualitative_band) == (row.weight, QualitativeBand.ACHIEVED), row.id
        assert row.deviation_reason == "", row.id
    for row in below:
        assert row.actual_value_raw != row.target_value_raw, row.id
        assert row.deviation_reason, row.id


async def test_amounts_add_up(connected: Town) -> None:
    projects = 0
    in_scope = 0
    for subject in await models.Subject.all():
        validation.check_subject(subject)
        assert subject.executed_total <= subject.full_year_total
        if subject.kind is SubjectKind.PROJECT and subject.full_year_total:
            projects += 1
            in_scope += subject.in_disclosure_scope
    assert 0.85 <= in_scope / projects <= 0.98


async def test_filings_per_year(connected: Town) -> None:
    reasons: set[tuple[FilingScope, FilingReason]] = set()
    for year in YEARS:
        filings = await models.SensitivityFiling.filter(fiscal_year=year).prefetch_related(
            "projects"
        )
        whole = [f for f in filings if f.scope is FilingScope.WHOLE_DEPARTMENT]
        listing = [f for f in filings if f.scope is FilingScope.PROJECTS]
        assert 1 <= len(whole) <= 3
        assert 3 <= len(listing) <= 10
        for filing in listing:
            assert filing.projects
            for subject in filing.projects:
                assert subject.kind is SubjectKind.PROJECT
                assert subject.fiscal_year == year
                assert subject.department_id == filing.department_id  # type: ignore[attr-defined]
        reasons |= {(f.scope, f.reason) for f in filings}
        assert len({f.reference for f in filings}) == len(filings)
    assert (FilingScope.WHOLE_DEPARTMENT, FilingReason.CLASSIFIED) in reasons
    assert (FilingScope.PROJECTS, FilingReason.CLASSIFIED) in reasons


async def test_classified_subjects_are_identity_stubs(connected: Town) -> None:
    stubs = await covered_subjects(FilingReason.CLASSIFIED)
    assert stubs
    for subject in await models.Subject.filter(id__in=list(stubs)):
        assert subject.code and subject.name
        amounts = [
            getattr(subject, f"{c}_{r}")
            for c in ("initial", "full_year", "executed")
            for r in ("total", "appropriation", "carry_over", "other")
        ]
        assert all(amount == 0 for amount in amounts)
        assert subject.basis == subject.necessity == subject.summary == ""
    ids = list(stubs)
    for model in (
        models.PerformanceTarget,
        models.SelfAssessment,
        models.MonitoringRecord,
        models.ExAnteAssessment,
        models.Evaluation,
    ):
        assert not await model.filter(subject_id__in=ids).exists(), model.__name__
    whole = await models.SensitivityFiling.filter(
        scope=FilingScope.WHOLE_DEPARTMENT, reason=FilingReason.CLASSIFIED
    )
    for filing in whole:
        assert not await models.StoredFile.filter(
            department_id=filing.department_id,
            fiscal_year=filing.fiscal_year,  # type: ignore[attr-defined]
        ).exists()


async def test_filed_names_appear_on_filed_records_only(connected: Town) -> None:
    """The names of filed projects and departments are markers a leak scan can look for."""
    departments = {d.id: d for d in await models.Department.all()}
    for year in YEARS:
        filings = await models.SensitivityFiling.filter(fiscal_year=year).prefetch_related(
            "projects"
        )
        whole = {
            f.department_id  # type: ignore[attr-defined]
            for f in filings
            if f.scope is FilingScope.WHOLE_DEPARTMENT
        }
        listed = {p.id for f in filings for p in f.projects}
        markers = [p.name for f in filings for p in f.projects]
        markers += [departments[d].name for d in whole]
        subjects = await models.Subject.filter(fiscal_year=year)
        open_names = []
        for subject in subjects:
            department = subject.department_id  # type: ignore[attr-defined]
            if department in whole:
                assert departments[department].name in subject.name
            elif subject.id not in listed:
                open_names.append(subject.name)
        open_names += [
            d.name
            for d in departments.values()
            if d.id not in whole and d.parent_id not in whole  # type: ignore[attr-defined]
        ]
        # A sensitive project keeps its evaluation report (internal, never published).
        filed_files = set()
        for report in await models.EvaluationReport.filter(
            evaluation__subject_id__in=list(listed)
        ).prefetch_related("annexes"):
            filed_files.add(report.main_text_id)  # type: ignore[attr-defined]
            filed_files |= {annex.id for annex in report.annexes}
        open_names += [
            f.title
            for f in await models.StoredFile.filter(fiscal_year=year)
            if f.department_id not in whole and f.id not in filed_files  # type: ignore[attr-defined]
        ]
        statement = await models.AnnualStatement.get(year=year)
        for marker in markers:
            assert not any(marker in name for name in open_names), marker
            assert marker not in statement.text


async def test_key_evaluations_have_chinese_reports(connected: Town) -> None:
    grades: Counter[str] = Counter()
    for year in YEARS:
        keys = await models.Evaluation.filter(
            kind=EvaluationKind.FINANCE_KEY, fiscal_year=year
        ).prefetch_related("report__main_text", "report__annexes", "findings__rectification")
        assert 8 <= len(keys) <= 12
        for evaluation in keys:
            assert evaluation.score is not None
            assert evaluation.grade is expected_grade(evaluation.score)
            grades[evaluation.grade] += 1
            report = evaluation.report  # type: ignore[attr-defined]
            main = report.main_text
            assert "演示数据" in main.title and main.content_type == "application/pdf"
            assert 1 <= len(report.annexes) <= 2
            content = await models.FileContent.get(sha256=main.sha256)
            assert len(content.data) == main.size
            pdf = PdfReader(io.BytesIO(content.data))
            assert pdf.metadata is not None and "演示数据" in (pdf.metadata.title or "")
            text = "".join(page.extract_text() for page in pdf.pages)
            assert "演示数据" in text and CHINESE.search(text)
            assert str(evaluation.score) in text
            findings = list(evaluation.findings)  # type: ignore[attr-defined]
            assert 2 <= len(findings) <= 6
            for finding in findings:
                rectification = finding.rectification
                assert rectification.due_date == rectification.received_at + timedelta(days=30)
    assert grades["EXCELLENT"] > grades["AVERAGE"] >= grades["POOR"]


async def test_releases_of_every_year(connected: Town) -> None:
    departments = [d.id for d in await models.Department.filter(tier=DepartmentTier.DEPARTMENT)]
    releases = await models.Release.all()
    kinds = Counter((r.kind, r.department_id, r.fiscal_year) for r in releases)  # type: ignore[attr-defined]
    for year in YEARS:
        for department in departments:
            assert kinds[(ReleaseKind.BUDGET, department, year)] == 1
            assert kinds[(ReleaseKind.FINAL_ACCOUNTS, department, year)] == 1
        assert kinds[(ReleaseKind.FINANCE_ANNUAL, None, year)] == 1
    assert len(releases) == len(YEARS) * (2 * len(departments) + 1)
    for release in releases:
        assert release.status is ReleaseStatus.SCHEDULED
        assert release.due_date == release.approval_date + timedelta(days=20)
        if release.kind is ReleaseKind.BUDGET:
            assert release.approval_date.year == release.fiscal_year
            assert release.approval_date.month in (1, 2)
        else:
            assert release.approval_date.year == release.fiscal_year + 1


async def test_everything_is_fictitious_and_labelled(connected: Town) -> None:
    names = [j.name for j in await models.Jurisdiction.all()]
    names += [d.name for d in await models.Department.all()]
    names += [s.name for s in await models.Subject.all()]
    statements = await models.AnnualStatement.all().prefetch_related("file")
    assert [s.year for s in sorted(statements, key=lambda s: s.year)] == list(YEARS)
    for statement in statements:
        assert "演示数据" in statement.title and "演示数据" in statement.text
        assert statement.file is not None and "演示数据" in statement.file.title
        names.append(statement.text)
    for file in await models.StoredFile.all():
        assert "演示数据" in file.title
    for body in REAL_BODIES:
        assert not any(body in name for name in names), body


async def test_a_second_load_is_refused(connected: Town) -> None:
    with pytest.raises(ValueError, match="loaded already"):
        await demo.generate("town", seed=1)


async def test_the_same_seed_gives_the_same_data(
    town: Town, db: str, databases: Databases, migrated_template: str
) -> None:
    assert await demo.generate("town", seed=1) == town.counts
    assert await demo.fingerprint() == town.fingerprint
    # Explicit ids must leave the id sequences usable (PostgreSQL).
    jurisdiction = await models.Jurisdiction.create(
        code="990199",
        name="测试镇",
        level="TOWN",
        finance_authority_name="测试镇财政所",
        finance_authority_role="TOWN_FINANCE_OFFICE",
    )
    await models.Department.create(
        jurisdiction=jurisdiction,
        code="101",
        name="测试镇党政办公室",
        tier=DepartmentTier.DEPARTMENT,
        org_type="ADMINISTRATIVE",
    )

    await database.close()
    other = await databases.copy(migrated_template)
    await database.init(other, global_fallback=True)
    try:
        await demo.generate("town", seed=2)
        assert await demo.fingerprint() != town.fingerprint
    finally:
        await database.close()
        await databases.drop(other)
        await database.init(db, global_fallback=True)


async def test_a_demo_of_one_year_plants_only_what_that_year_publishes(db: str) -> None:
    """A year's evaluations go out with the next year's finance annual: a demo of one year has
    no public report to add the firm's contact page to, and still plants the clerk's data."""
    await demo.generate("town", seed=1, years=(2024, 2024))
    assert {r.fiscal_year for r in await models.Release.all()} == {2024}
    assert await models.FieldRedaction.all().count() == 1
    assert await models.PersonalDataException.all().count() == 0
    assert await models.Evaluation.filter(kind=EvaluationKind.FINANCE_KEY).exists()
