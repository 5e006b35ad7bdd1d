"""Selection: what one release carries, read from the working tables and decided by the rules.

The only place that turns ORM rows into facts for `publishers.rules`. Everything covered by an
active filing is dropped here, before any record is built, so no later step can leak it.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Coroutine, Iterable, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from publishers import privacy, rules
from publishers import records as build
from publishers.facts import DepartmentFact, FilingFact, SubjectFact, TargetFact
from publishers.render import Record
from storage import models
from storage.enums import (
    DepartmentTier,
    DocKind,
    EvaluationKind,
    RecordType,
    ReleaseKind,
    ReviewStatus,
    Sensitivity,
    SubjectKind,
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
    findings: list[privacy.Finding] = field(default_factory=list)
    """Personal data in its texts and files that no decision has cleared (DR-10)."""


#: How many subjects a part of a jurisdiction-year gathers before it is closed: the working
#: rows `Selector.year_records` reads at once. A part is whole departments with their units, so
#: one large department makes a larger part. A city district's year of final-accounts rows was
#: 93 MiB read whole (6,000 subjects), and four such years were held.
PART_SUBJECTS = 1_000


@dataclass(frozen=True)
class YearFacts:
    """The facts of one jurisdiction and fiscal year, shared by all of its releases."""

    departments: dict[int, models.Department]
    subjects: dict[int, SubjectFact]
    coverage: rules.Coverage

    @cached_property
    def parts(self) -> dict[int, frozenset[int]]:
        """Each department's part of the year (`PART_SUBJECTS`): the departments whose working
        rows are read with its own. A department is in its top department's part, with all
        of that one's units, so a release (which speaks for a department and its units, D8)
        finds its rows in one part; the top departments are taken in the order of their ids,
        as the publisher takes their releases (`release_order`)."""
        roots: dict[int, int] = {}

        def root(department_id: int) -> int:
            if department_id not in roots:
                parent = self.departments[department_id].parent_id
                roots[department_id] = department_id if parent is None else root(parent)
            return roots[department_id]

        families: dict[int, list[int]] = defaultdict(list)
        for department_id in sorted(self.departments):
            families[root(department_id)].append(department_id)
        sizes = Counter(root(s.department_id) for s in self.subjects.values())
        parts: dict[int, frozenset[int]] = {}
        members: list[int] = []
        count = 0
        order = sorted(families)
        for index, top in enumerate(order):
            members += families[top]
            count += sizes[top]
            if count >= PART_SUBJECTS or index == len(order) - 1:
                part = frozenset(members)
                parts |= dict.fromkeys(part, part)
                members, count = [], 0
        return parts


T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
#: A part of a year's working rows: jurisdiction, fiscal year, kind, the part's first department.
RecordsKey = tuple[int, int, ReleaseKind, int]


def release_order(release: models.Release) -> tuple[int, str, int, int]:
    """The order in which a jurisdiction's department releases are best selected: by year,
    kind and department, so that the releases in flight share a few parts of a year's
    working rows (`YearFacts.parts`) and each part is read once."""
    return (release.fiscal_year, release.kind.value, release.department_id or 0, release.id)


def _grouped(rows: Iterable[T], owner: Callable[[T], int]) -> dict[int, list[T]]:
    groups: dict[int, list[T]] = defaultdict(list)
    for row in rows:
        groups[owner(row)].append(row)
    return groups


@dataclass
class YearRecords:
    """The working rows one kind of release carries for a part of a jurisdiction-year
    (`YearFacts.parts`), grouped by owner and loaded in a handful of queries: every department's
    release in the part picks its own from them instead of querying again (a district has ~60
    departments a year)."""

    subjects: dict[int, models.Subject] = field(default_factory=dict)
    """The part's subjects as whole rows, for the records built from them. Read with the part,
    not with the year's facts: a city district's year of them was 30 MiB, and two years'
    facts are held."""
    targets: dict[int, list[models.PerformanceTarget]] = field(default_factory=dict)
    """Finance-approved targets by subject (BUDGET)."""
    indicators: dict[int, list[build.Row]] = field(default_factory=dict)
    """By target, as field values."""
    ex_ante: dict[int, list[models.ExAnteAssessment]] = field(default_factory=dict)
    assessments: dict[int, list[models.SelfAssessment]] = field(default_factory=dict)
    rows: dict[int, list[build.Row]] = field(default_factory=dict)
    """By self-assessment, as field values."""
    monitoring: dict[int, list[models.MonitoringRecord]] = field(default_factory=dict)
    evaluations: dict[int, list[models.Evaluation]] = field(default_factory=dict)
    reports: dict[int, models.EvaluationReport] = field(default_factory=dict)
    """By evaluation, with the main text loaded."""
    documents: dict[int, list[models.StoredFile]] = field(default_factory=dict)
    """By department."""
    wrong_year: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    """By subject: (reference, fiscal year) of the records this kind of release would carry
    that are of another year than their subject (DR-5): published nowhere, named by check."""


class Selector:
    """Selects releases. Caches, for the length of one run, the most recently used
    (jurisdiction, year) facts and parts of working rows; a run must not outlive the data it
    read (the API makes a new publisher per request). What it holds is bounded by the size of
    a part and of a year's facts, not by the size of a jurisdiction or of the run: the
    publisher takes a jurisdiction's releases in the order of year, kind and department
    (`release_order`), so a few parts serve the releases in flight."""

    #: Years of facts kept at once: a finance-annual release reads its year's and the year
    #: before's.
    KEEP_YEARS = 2
    #: Parts of working rows kept at once: the releases in flight may straddle two.
    KEEP_PARTS = 3

    def __init__(self) -> None:
        # Tasks, not results: releases selected at once share one load instead of racing.
        self._years: OrderedDict[tuple[int, int], asyncio.Task[YearFacts]] = OrderedDict()
        self._records: OrderedDict[RecordsKey, asyncio.Task[YearRecords]] = OrderedDict()
        self._jurisdictions: dict[int, models.Jurisdiction] = {}
        self.file_texts = privacy.FileTexts()
        self.decisions = privacy.RunDecisions()

    def held(self) -> set[int]:
        """The jurisdictions whose facts or working rows are held now."""
        return {key[0] for key in self._years} | {key[0] for key in self._records}

    def forget(self, jurisdiction_id: int) -> None:
        """Lets go of what was read for one jurisdiction once its releases are done, so that a
        run over many (a city's districts) holds one jurisdiction's facts at a time."""
        for year in [k for k in self._years if k[0] == jurisdiction_id]:
            del self._years[year]
        for rows in [k for k in self._records if k[0] == jurisdiction_id]:
            del self._records[rows]
        self._jurisdictions.pop(jurisdiction_id, None)
        # Texts are kept by file digest, not by place; a file in two jurisdictions' releases
        # is rare, and reading it again from `FileText` is one row.
        self.file_texts = privacy.FileTexts()

    async def year_facts(self, jurisdiction_id: int, fiscal_year: int) -> YearFacts:
        key = (jurisdiction_id, fiscal_year)
        _cached(self._years, key, lambda: load_year(jurisdiction_id, fiscal_year), self.KEEP_YEARS)
        return await _settled(self._years, key)

    async def year_records(
        self, facts: YearFacts, jurisdiction_id: int, department_id: int, kind: ReleaseKind
    ) -> YearRecords:
        """The working rows of `kind` of the part of the year (`facts`) `department_id` is in."""
        part = facts.parts[department_id]
        year = facts.coverage.fiscal_year
        key = (jurisdiction_id, year, kind, min(part))
        _cached(self._records, key, lambda: _load_records(facts, part, kind), self.KEEP_PARTS)
        return await _settled(self._records, key)

    async def select(self, release: models.Release) -> Selection:
        jurisdiction = self._jurisdictions.get(release.jurisdiction_id)
        if jurisdiction is None:
            jurisdiction = await models.Jurisdiction.get(id=release.jurisdiction_id)
            self._jurisdictions[jurisdiction.id] = jurisdiction
        selection = Selection(release)
        if release.kind is ReleaseKind.FINANCE_ANNUAL:
            await self._finance_annual(jurisdiction, selection)
        else:
            await self._department(jurisdiction, selection)
        if not selection.exempt:
            selection.records.insert(0, build.jurisdiction_record(jurisdiction))
            # DR-10, last: redactions apply to the records as built, and the search sees exactly
            # what would be published.
            selection.records, selection.findings, problems = await privacy.guard(
                release.id, selection.records, selection.files, self.file_texts, self.decisions
            )
            selection.problems += problems
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
        rows = await self.year_records(facts, jurisdiction.id, department_id, release.kind)
        subjects = {i: rows.subjects[i] for i in included}

        approved = [t for i in included for t in rows.targets.get(i, ())]
        if release.kind is ReleaseKind.BUDGET:
            target_facts = [
                TargetFact(subject_id=t.subject_id, review_status=t.review_status) for t in approved
            ]
        else:
            target_facts = []
        assessed = None
        if release.kind is ReleaseKind.FINAL_ACCOUNTS:
            assessed = [i for i in included if rows.assessments.get(i)]
        selection.problems = rules.check_release(
            release.kind,
            release.fiscal_year,
            department_id,
            own,
            target_facts,
            facts.coverage,
            included,
            assessed_subject_ids=assessed,
        )
        for subject_id in included:
            for ref, year in rows.wrong_year.get(subject_id, ()):
                selection.problems.append(
                    rules.wrong_year_problem(ref, year, facts.subjects[subject_id])
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
            _budget_records(selection, subject_records, approved, rows)
        else:
            public = await _public_main_texts(jurisdiction, subject_records, rows)
            _final_accounts_records(selection, subject_records, rows, public)
        documents = [d for i in sorted(family) for d in rows.documents.get(i, ())]
        for stored in sorted(documents, key=lambda d: (d.sha256, d.id)):
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
            stated = await self.year_facts(jurisdiction.id, statement.year)
            selection.problems += rules.check_statement_counts(
                f"annual_statement#{statement.id}", statement.text, *_public_counts(stated)
            )
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
            if facts.coverage.subject_sensitivity(subject.id) is not Sensitivity.NONE:
                continue  # DR-1 / DR-2: nothing of a filed subject, not even that it is missing
            if not rules.report_main_text_publishable(evaluation.kind, Sensitivity.NONE):
                continue
            if not rules.evaluation_has_result(evaluation.score, evaluation.grade):
                continue  # DR-4h: a key evaluation still under way has no main text to publish
            department = facts.departments[subject.department_id]
            report = reports.get(evaluation.id)
            if report is None:
                named = f"{SubjectKind(subject.kind).label} {subject.code}「{subject.name}」"
                selection.problems.append(
                    rules.Problem(
                        "DR-4h",
                        f"evaluation#{evaluation.id}",
                        f"the finance key evaluation of {named} (FY {evaluated_year}) has a "
                        "result but no report main text (正文) to publish",
                    )
                )
                continue
            # DR-4h covers every unfiled key evaluation, whether or not its subject is in the
            # disclosure scope of DR-4(a)/(e): a policy not selected for publication, a project
            # outside the scope flag.
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


def _public_counts(facts: YearFacts) -> tuple[int, int]:
    """How many departments (by their department-overall expenditure, which every department
    discloses) and how many units are public for a year: those no filing covers."""
    departments = sum(
        1
        for s in facts.subjects.values()
        if s.kind == SubjectKind.DEPARTMENT_OVERALL and rules.publishable(s, facts.coverage)
    )
    covered = facts.coverage.covered_department_ids()
    units = sum(
        1
        for d in facts.departments.values()
        if d.tier is DepartmentTier.UNIT and d.id not in covered
    )
    return departments, units


def _budget_records(
    selection: Selection,
    subjects: dict[int, Record],
    approved: Iterable[models.PerformanceTarget],
    rows: YearRecords,
) -> None:
    for target in sorted(approved, key=lambda t: t.id):
        subject = subjects[target.subject_id]
        indicators = rows.indicators.get(target.id, [])
        selection.records.append(build.target_record(subject, target, indicators))
    assessments = [a for i in subjects for a in rows.ex_ante.get(i, ())]
    for assessment in sorted(assessments, key=lambda a: a.id):
        selection.records.append(build.ex_ante_record(subjects[assessment.subject_id], assessment))


async def _public_main_texts(
    jurisdiction: models.Jurisdiction, subjects: dict[int, Record], rows: YearRecords
) -> frozenset[str]:
    """The file keys of the key-evaluation main texts of these subjects that are public now, in
    the finance authority's release (DR-4h; they ride FINANCE_ANNUAL N+1, D9). Read fresh for
    every selection: a link must never point at a main text that is not published."""
    wanted = sorted(
        {
            build.file_key(report.main_text)
            for i in subjects
            for evaluation in rows.evaluations.get(i, ())
            if (report := rows.reports.get(evaluation.id)) is not None
        }
    )
    if not wanted:
        return frozenset()
    found = await models.Disclosure.filter(
        jurisdiction_code=jurisdiction.code,
        release_kind=ReleaseKind.FINANCE_ANNUAL,
        record_type=RecordType.FILE,
        record_key__in=wanted,
    ).values_list("record_key", flat=True)
    return frozenset(str(k) for k in found)


def _final_accounts_records(
    selection: Selection,
    subjects: dict[int, Record],
    rows: YearRecords,
    public_main_texts: frozenset[str],
) -> None:
    assessments = [a for i in subjects for a in rows.assessments.get(i, ())]
    for assessment in sorted(assessments, key=lambda a: a.id):
        selection.records.append(
            build.self_assessment_record(
                subjects[assessment.subject_id], assessment, rows.rows.get(assessment.id, [])
            )
        )
    monitoring = [m for i in subjects for m in rows.monitoring.get(i, ())]
    for record in sorted(monitoring, key=lambda m: m.id):
        selection.records.append(build.monitoring_record(subjects[record.subject_id], record))
    evaluations = [e for i in subjects for e in rows.evaluations.get(i, ())]
    for evaluation in sorted(evaluations, key=lambda e: e.id):
        report = rows.reports.get(evaluation.id)
        link = None
        if report is not None and build.file_key(report.main_text) in public_main_texts:
            link = build.file_key(report.main_text)
        selection.records.append(
            build.evaluation_record(subjects[evaluation.subject_id], evaluation, link)
        )


def _cached(
    cache: OrderedDict[K, asyncio.Task[V]],
    key: K,
    load: Callable[[], Coroutine[Any, Any, V]],
    keep: int,
) -> None:
    """Starts loading `key` unless it is held or under way, as the most recently used entry;
    lets go of the least recently used beyond `keep` (a release still waiting on one it was
    given keeps it until it is done)."""
    if key in cache:
        cache.move_to_end(key)
        return
    cache[key] = asyncio.ensure_future(load())
    while len(cache) > keep:
        cache.popitem(last=False)


async def _settled(cache: MutableMapping[K, asyncio.Task[V]], key: K) -> V:
    """The result of a cached load; a failed load leaves the cache, so a retry loads again."""
    task = cache[key]
    try:
        return await asyncio.shield(task)
    except Exception:
        if cache.get(key) is task:
            del cache[key]
        raise


async def _load_records(facts: YearFacts, part: frozenset[int], kind: ReleaseKind) -> YearRecords:
    """Every working row that `kind` releases of a part of the year (the departments `part`) may
    carry, in one query per table. What a release actually carries is still decided per
    release, by the rules."""
    # By lists of ids rather than joins on the subject: a join's plan depends on the planner's
    # statistics, and right after a bulk load (the demo) they made one query take 6 s, not 60 ms.
    fiscal_year = facts.coverage.fiscal_year
    ids = sorted(s.id for s in facts.subjects.values() if s.department_id in part)
    found = YearRecords(subjects={s.id: s for s in await models.Subject.filter(id__in=ids)})
    wrong: list[tuple[int, str, int]] = []
    if kind is ReleaseKind.BUDGET:
        targets = await models.PerformanceTarget.filter(
            subject_id__in=ids, review_status=ReviewStatus.FINANCE_APPROVED, fiscal_year=fiscal_year
        )
        wrong += [
            (t["subject_id"], f"target#{t['id']}", t["fiscal_year"])
            for t in await models.PerformanceTarget.filter(subject_id__in=ids)
            .exclude(fiscal_year=fiscal_year)
            .values("id", "subject_id", "fiscal_year")
        ]
        found.targets = _grouped(targets, attrgetter("subject_id"))
        indicators = await models.Indicator.filter(target_id__in=[t.id for t in targets]).values(
            "target_id", *build.INDICATOR_FIELDS
        )
        found.indicators = _grouped(indicators, itemgetter("target_id"))
        ex_ante = await models.ExAnteAssessment.filter(subject_id__in=ids, fiscal_year=fiscal_year)
        found.ex_ante = _grouped(ex_ante, attrgetter("subject_id"))
        doc_kinds = [DocKind.BUDGET_DOC, DocKind.TARGET_TABLE]
    else:
        assessments = await models.SelfAssessment.filter(
            subject_id__in=ids, fiscal_year=fiscal_year
        )
        found.assessments = _grouped(assessments, attrgetter("subject_id"))
        rows = await models.SelfAssessmentRow.filter(
            assessment_id__in=[a.id for a in assessments]
        ).values("assessment_id", *build.ASSESSMENT_ROW_FIELDS)
        found.rows = _grouped(rows, itemgetter("assessment_id"))
        monitoring = await models.MonitoringRecord.filter(
            subject_id__in=ids, fiscal_year=fiscal_year
        )
        found.monitoring = _grouped(monitoring, attrgetter("subject_id"))
        evaluations = await models.Evaluation.filter(subject_id__in=ids, fiscal_year=fiscal_year)
        found.evaluations = _grouped(evaluations, attrgetter("subject_id"))
        found.reports = {
            r.evaluation_id: r
            for r in await models.EvaluationReport.filter(
                evaluation_id__in=[e.id for e in evaluations]
            ).prefetch_related("main_text")
        }
        doc_kinds = [DocKind.FINAL_ACCOUNTS_DOC, DocKind.SELF_ASSESSMENT_FORM]
        for model, name in (
            (models.SelfAssessment, "self_assessment"),
            (models.Evaluation, "evaluation"),
        ):
            wrong += [
                (r["subject_id"], f"{name}#{r['id']}", r["fiscal_year"])
                for r in await model.filter(subject_id__in=ids)
                .exclude(fiscal_year=fiscal_year)
                .values("id", "subject_id", "fiscal_year")
            ]
    for subject_id, ref, year in sorted(wrong, key=itemgetter(1)):
        found.wrong_year.setdefault(subject_id, []).append((ref, year))
    documents = await models.StoredFile.filter(
        department_id__in=sorted(part),
        fiscal_year=fiscal_year,
        doc_kind__in=doc_kinds,
    )
    found.documents = _grouped(documents, attrgetter("department_id"))
    return found


#: The subject columns a `SubjectFact` copies …
_FACT_COLUMNS = (
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
)
#: … and what `budgeted` is worked out from
_TOTALS = ("initial_total", "full_year_total")


async def load_year(jurisdiction_id: int, fiscal_year: int) -> YearFacts:
    """The year's facts: its departments, its subjects as their facts' columns only (not as
    whole rows: a district year's 2,000 subjects as models, timestamps and every amount
    converted, were most of the console's coverage page), its filings and its coverage."""
    departments = {d.id: d for d in await models.Department.filter(jurisdiction_id=jurisdiction_id)}
    of_year = models.Subject.filter(
        department__jurisdiction_id=jurisdiction_id, fiscal_year=fiscal_year
    )
    columns = await of_year.values(*_FACT_COLUMNS, *_TOTALS)
    subjects = {
        c["id"]: SubjectFact(
            **{name: c[name] for name in _FACT_COLUMNS},
            budgeted=bool(c["initial_total"]) or bool(c["full_year_total"]),
        )
        for c in columns
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
