"""Selection: what one release carries, read from the working tables and decided by the rules.

The only place that turns ORM rows into facts for `publishers.rules`. Everything covered by an
active filing is dropped here, before any record is built, so no later step can leak it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from publishers import records as build
from publishers import rules
from publishers.facts import DepartmentFact, FilingFact, SubjectFact, TargetFact
from publishers.render import Record
from storage import models
from storage.enums import (
    DocKind,
    EvaluationKind,
    ReleaseKind,
    ReviewStatus,
    Sensitivity,
)


@dataclass
class Selection:
    """A release's records and files, and the problems that stop it from being published."""

    release: models.Release
    records: list[Record] = field(default_factory=list)
    files: list[models.StoredFile] = field(default_factory=list)
    problems: list[rules.Problem] = field(default_factory=list)
    exempt: bool = False
    """The release's department is under a whole-department filing: nothing of it is public."""


@dataclass(frozen=True)
class YearFacts:
    """The facts of one jurisdiction and fiscal year, shared by all of its releases."""

    departments: dict[int, models.Department]
    subjects: dict[int, SubjectFact]
    coverage: rules.Coverage


class Selector:
    """Selects releases; caches the per-(jurisdiction, year) facts across releases of one run."""

    def __init__(self) -> None:
        self._years: dict[tuple[int, int], YearFacts] = {}

    async def year_facts(self, jurisdiction_id: int, fiscal_year: int) -> YearFacts:
        key = (jurisdiction_id, fiscal_year)
        if key not in self._years:
            self._years[key] = await _load_year(jurisdiction_id, fiscal_year)
        return self._years[key]

    async def select(self, release: models.Release) -> Selection:
        jurisdiction = await models.Jurisdiction.get(id=release.jurisdiction_id)
        selection = Selection(release)
        if release.kind is ReleaseKind.FINANCE_ANNUAL:
            await self._finance_annual(jurisdiction, selection)
        else:
            await self._department(jurisdiction, selection)
        if not selection.exempt:
            selection.records.insert(0, build.jurisdiction_record(jurisdiction))
        return selection

    async def _department(self, jurisdiction: models.Jurisdiction, selection: Selection) -> None:
        release = selection.release
        facts = await self.year_facts(jurisdiction.id, release.fiscal_year)
        if release.department_id is None:
            raise ValueError("a BUDGET or FINAL_ACCOUNTS release belongs to a department (D8)")
        department_id = release.department_id
        if facts.coverage.department_sensitivity(department_id) is not Sensitivity.NONE:
            selection.exempt = True
            return
        family = facts.coverage.department_with_units(department_id)
        own = [s for s in facts.subjects.values() if s.department_id in family]
        included = sorted(s.id for s in own if rules.publishable(s, facts.coverage))
        subjects = {s.id: s for s in await models.Subject.filter(id__in=included)}

        approved = await models.PerformanceTarget.filter(
            subject_id__in=included, review_status=ReviewStatus.FINANCE_APPROVED
        )
        if release.kind is ReleaseKind.BUDGET:
            target_facts = [
                TargetFact(subject_id=t.subject_id, review_status=t.review_status) for t in approved
            ]
        else:
            target_facts = []
        selection.problems = rules.check_release(
            release.kind,
            release.fiscal_year,
            department_id,
            own,
            target_facts,
            facts.coverage,
            included,
        )

        for department_id_ in sorted(family):
            department = facts.departments[department_id_]
            parent = facts.departments.get(department.parent_id or 0)
            selection.records.append(
                build.department_record(jurisdiction, department, parent, release.fiscal_year)
            )
        columns = (
            ["initial"]
            if release.kind is ReleaseKind.BUDGET
            else ["initial", "fullYear", "executed"]
        )
        subject_records = {
            s.id: build.subject_record(jurisdiction, s, facts.departments, columns)
            for s in (subjects[i] for i in included)
        }
        for subject_id, record in subject_records.items():
            parent_record = subject_records.get(subjects[subject_id].parent_id or 0)
            if parent_record is not None:  # a 二级项目 links to its published 一级项目
                subject_records[subject_id] = build.with_parent(record, parent_record.key)
        selection.records += subject_records.values()

        if release.kind is ReleaseKind.BUDGET:
            await _budget_records(selection, subject_records, approved)
            doc_kinds = [DocKind.BUDGET_DOC, DocKind.TARGET_TABLE]
        else:
            await _final_accounts_records(selection, subject_records)
            doc_kinds = [DocKind.FINAL_ACCOUNTS_DOC, DocKind.SELF_ASSESSMENT_FORM]
        documents = await models.StoredFile.filter(
            department_id__in=sorted(family),
            fiscal_year=release.fiscal_year,
            doc_kind__in=doc_kinds,
        ).order_by("sha256")
        for stored in documents:
            owner = facts.departments[stored.department_id or 0]
            selection.records.append(build.file_record(stored, owner.code, None))
            selection.files.append(stored)

    async def _finance_annual(
        self, jurisdiction: models.Jurisdiction, selection: Selection
    ) -> None:
        release = selection.release
        statement = await models.AnnualStatement.get_or_none(
            jurisdiction_id=jurisdiction.id, year=release.fiscal_year
        )
        if statement is None:
            selection.problems.append(
                rules.Problem(
                    "DR-4g",
                    f"jurisdiction#{jurisdiction.id}",
                    f"no annual statement (情况说明) for {release.fiscal_year}",
                )
            )
        else:
            selection.records.append(build.annual_statement_record(jurisdiction, statement))
            if statement.file_id is not None:
                stored = await models.StoredFile.get(id=statement.file_id)
                selection.records.append(build.file_record(stored, None, None))
                selection.files.append(stored)
        # D9: the main texts of key evaluations of the spending year before (rules: lag 1).
        evaluated_year = release.fiscal_year - 1
        facts = await self.year_facts(jurisdiction.id, evaluated_year)
        evaluations = await models.Evaluation.filter(
            kind=EvaluationKind.FINANCE_KEY,
            fiscal_year=evaluated_year,
            subject_id__in=sorted(facts.subjects),
        ).order_by("id")
        reports = {
            r.evaluation_id: r
            for r in await models.EvaluationReport.filter(
                evaluation_id__in=[e.id for e in evaluations]
            ).prefetch_related("main_text")
        }
        for evaluation in evaluations:
            subject = facts.subjects[evaluation.subject_id]
            report = reports.get(evaluation.id)
            if report is None or not rules.publishable(subject, facts.coverage):
                continue
            if not rules.report_main_text_publishable(evaluation.kind, Sensitivity.NONE):
                continue
            department = facts.departments[subject.department_id]
            about = (
                build.subject_key(
                    jurisdiction.code,
                    department.code,
                    str(subject.kind),
                    subject.code,
                    subject.fiscal_year,
                )
                + f"/evaluation/{evaluation.kind.value}"
            )
            selection.records.append(build.file_record(report.main_text, department.code, about))
            selection.files.append(report.main_text)


async def _budget_records(
    selection: Selection,
    subjects: dict[int, Record],
    approved: Iterable[models.PerformanceTarget],
) -> None:
    targets = list(approved)
    indicators: dict[int, list[models.Indicator]] = defaultdict(list)
    for indicator in await models.Indicator.filter(target_id__in=[t.id for t in targets]):
        indicators[indicator.target_id].append(indicator)
    for target in sorted(targets, key=lambda t: t.id):
        subject = subjects[target.subject_id]
        selection.records.append(build.target_record(subject, target, indicators[target.id]))
    year = selection.release.fiscal_year
    for assessment in await models.ExAnteAssessment.filter(
        subject_id__in=list(subjects), fiscal_year=year
    ).order_by("id"):
        subject = subjects[assessment.subject_id]
        selection.records.append(build.ex_ante_record(subject, assessment))


async def _final_accounts_records(selection: Selection, subjects: dict[int, Record]) -> None:
    year = selection.release.fiscal_year
    ids = list(subjects)
    assessments = await models.SelfAssessment.filter(subject_id__in=ids, fiscal_year=year)
    rows: dict[int, list[models.SelfAssessmentRow]] = defaultdict(list)
    for row in await models.SelfAssessmentRow.filter(assessment_id__in=[a.id for a in assessments]):
        rows[row.assessment_id].append(row)
    for assessment in sorted(assessments, key=lambda a: a.id):
        subject = subjects[assessment.subject_id]
        selection.records.append(
            build.self_assessment_record(subject, assessment, rows[assessment.id])
        )

    for record in await models.MonitoringRecord.filter(
        subject_id__in=ids, fiscal_year=year
    ).order_by("id"):
        selection.records.append(build.monitoring_record(subjects[record.subject_id], record))

    evaluations = await models.Evaluation.filter(subject_id__in=ids, fiscal_year=year).order_by(
        "id"
    )
    reports = {
        r.evaluation_id: r
        for r in await models.EvaluationReport.filter(
            evaluation_id__in=[e.id for e in evaluations]
        ).prefetch_related("main_text")
    }
    for evaluation in evaluations:
        report = reports.get(evaluation.id)
        link = None
        if report is not None and rules.report_main_text_publishable(
            evaluation.kind, Sensitivity.NONE
        ):
            link = build.file_key(report.main_text)
        selection.records.append(
            build.evaluation_record(subjects[evaluation.subject_id], evaluation, link)
        )


async def _load_year(jurisdiction_id: int, fiscal_year: int) -> YearFacts:
    departments = {d.id: d for d in await models.Department.filter(jurisdiction_id=jurisdiction_id)}
    subject_rows = await models.Subject.filter(
        department__jurisdiction_id=jurisdiction_id, fiscal_year=fiscal_year
    ).values(
        "id",
        "kind",
        "code",
        "name",
        "fiscal_year",
        "department_id",
        "implementing_unit_id",
        "parent_id",
        "in_disclosure_scope",
        "publication_selected",
        "transfer_type",
        "initial_total",
        "full_year_total",
    )
    subjects = {
        row["id"]: SubjectFact(
            id=row["id"],
            kind=row["kind"],
            code=row["code"],
            name=row["name"],
            fiscal_year=row["fiscal_year"],
            department_id=row["department_id"],
            implementing_unit_id=row["implementing_unit_id"],
            parent_id=row["parent_id"],
            in_disclosure_scope=row["in_disclosure_scope"],
            publication_selected=row["publication_selected"],
            transfer_type=row["transfer_type"],
            budgeted=bool(row["initial_total"]) or bool(row["full_year_total"]),
        )
        for row in subject_rows
    }
    filings = await models.SensitivityFiling.filter(
        department_id__in=list(departments), fiscal_year=fiscal_year
    ).prefetch_related("projects")
    filing_facts = [
        FilingFact(
            id=f.id,
            department_id=f.department_id,
            fiscal_year=f.fiscal_year,
            scope=f.scope,
            reason=f.reason,
            status=f.status,
            project_ids=frozenset(p.id for p in f.projects),
        )
        for f in filings
    ]
    department_facts = [
        DepartmentFact(id=d.id, parent_id=d.parent_id) for d in departments.values()
    ]
    coverage = rules.Coverage.build(fiscal_year, department_facts, subjects.values(), filing_facts)
    return YearFacts(departments, subjects, coverage)
