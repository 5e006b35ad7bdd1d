"""The disclosure rules (domain.md §3.14, §5): examples for each rule, then properties of coverage
and of release checks over random department trees, subjects and filings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publishers import rules
from publishers.facts import DepartmentFact, FilingFact, SubjectFact, TargetFact
from publishers.rules import Coverage, Problem
from storage import records
from storage.enums import (
    ACTIVE_FILING_STATUSES,
    DocKind,
    EvaluationKind,
    FilingReason,
    FilingScope,
    FilingStatus,
    Grade,
    RecordType,
    ReleaseKind,
    ReviewStatus,
    Sensitivity,
    SubjectKind,
    TransferType,
)
from tests.properties import property_settings

FY = 2024
NONE, SENSITIVE, CLASSIFIED = Sensitivity.NONE, Sensitivity.SENSITIVE, Sensitivity.CLASSIFIED

# Reproducible on every run (tests/properties.py). Applied per test rather than loaded as a
# profile, so other packages' property tests keep their own settings.
PROPERTY = property_settings(50)


def dept(id: int, parent: int | None = None) -> DepartmentFact:
    return DepartmentFact(id=id, parent_id=parent)


def subject(
    id: int,
    department: int,
    *,
    kind: SubjectKind = SubjectKind.PROJECT,
    unit: int | None = None,
    parent: int | None = None,
    fiscal_year: int = FY,
    in_disclosure_scope: bool = True,
    publication_selected: bool = False,
    transfer: TransferType = TransferType.NONE,
    budgeted: bool = True,
    name: str | None = None,
) -> SubjectFact:
    return SubjectFact(
        id=id,
        kind=kind,
        code=f"CODE-{id}-X",
        name=name or f"标记{id}项目",
        fiscal_year=fiscal_year,
        department_id=department,
        implementing_unit_id=unit,
        parent_id=parent,
        in_disclosure_scope=in_disclosure_scope,
        publication_selected=publication_selected,
        transfer_type=transfer,
        budgeted=budgeted,
    )


def filing(
    department: int,
    *,
    projects: Iterable[int] = (),
    reason: FilingReason = FilingReason.SENSITIVE,
    status: FilingStatus = FilingStatus.FILED,
    fiscal_year: int = FY,
) -> FilingFact:
    listed = frozenset(projects)
    return FilingFact(
        id=1,
        department_id=department,
        fiscal_year=fiscal_year,
        scope=FilingScope.PROJECTS if listed else FilingScope.WHOLE_DEPARTMENT,
        reason=reason,
        status=status,
        project_ids=listed,
    )


# Department 1 has unit 2, which has unit 3; department 4 has unit 5.
TREE = (dept(1), dept(2, 1), dept(3, 2), dept(4), dept(5, 4))


def cover(subjects: Iterable[SubjectFact], *filings: FilingFact) -> Coverage:
    return Coverage.build(FY, TREE, subjects, filings)


# --- Coverage -------------------------------------------------------------------------------------


def test_whole_department_filing_covers_its_units_transitively() -> None:
    coverage = cover((), filing(1))
    assert [coverage.department_sensitivity(d.id) for d in TREE] == [
        SENSITIVE,
        SENSITIVE,
        SENSITIVE,
        NONE,
        NONE,
    ]
    assert coverage.covered_department_ids() == {1, 2, 3}


def test_whole_department_filing_covers_subjects_by_department_unit_and_parent() -> None:
    subjects = [
        subject(10, 1),
        subject(11, 4, unit=3),  # another department's subject, implemented by a covered unit
        subject(12, 4, unit=5),
        subject(13, 4, parent=10),  # below a covered subject
        subject(14, 4, parent=13),
    ]
    coverage = cover(subjects, filing(1, reason=FilingReason.CLASSIFIED))
    assert {s.id: coverage.subject_sensitivity(s.id) for s in subjects} == {
        10: CLASSIFIED,
        11: CLASSIFIED,
        12: NONE,
        13: CLASSIFIED,
        14: CLASSIFIED,
    }
    assert coverage.covered_subject_ids() == {10, 11, 13, 14}
    assert coverage.filing_rule(11) == "DR-1"
    assert coverage.filing_rule(12) is None


def test_project_filing_covers_listed_projects_and_their_children_only() -> None:
    subjects = [
        subject(19, 4),
        subject(20, 4, parent=19),  # the listed project
        subject(21, 4, parent=20),  # its 二级项目
        subject(22, 4, parent=21),
        subject(23, 4),
    ]
    coverage = cover(subjects, filing(4, projects=[20]))
    assert coverage.covered_subject_ids() == {20, 21, 22}
    assert coverage.subject_sensitivity(19) is NONE
    assert coverage.department_sensitivity(4) is NONE  # DR-2: the department stays public
    assert coverage.filing_rule(21) == "DR-2"


@pytest.mark.parametrize(
    ("status", "level"),
    [
        (FilingStatus.FILED, SENSITIVE),
        (FilingStatus.ACCEPTED, SENSITIVE),
        (FilingStatus.WITHDRAWN, NONE),
        (FilingStatus.REVOKED, NONE),
    ],
)
def test_only_active_filings_count(status: FilingStatus, level: Sensitivity) -> None:
    subjects = [subject(10, 4), subject(11, 5)]
    coverage = cover(subjects, filing(1, status=status), filing(4, projects=[10], status=status))
    assert coverage.department_sensitivity(3) is level
    assert coverage.subject_sensitivity(10) is level


def test_filings_of_another_year_do_not_count() -> None:
    subjects = [subject(10, 1), subject(11, 4)]
    coverage = cover(
        subjects, filing(1, fiscal_year=FY - 1), filing(4, projects=[11], fiscal_year=FY + 1)
    )
    assert coverage.covered_department_ids() == frozenset()
    assert coverage.covered_subject_ids() == frozenset()


@pytest.mark.parametrize("order", [1, -1])
def test_classified_beats_sensitive(order: int) -> None:
    subjects = [subject(10, 1), subject(11, 4)]
    filings = [
        filing(1, reason=FilingReason.SENSITIVE),
        filing(2, reason=FilingReason.CLASSIFIED),
        filing(4, reason=FilingReason.SENSITIVE),
        filing(4, projects=[11], reason=FilingReason.CLASSIFIED),
    ][::order]
    coverage = cover(subjects, *filings)
    assert [coverage.department_sensitivity(d) for d in (1, 2, 3)] == [
        SENSITIVE,
        CLASSIFIED,
        CLASSIFIED,
    ]
    assert coverage.subject_sensitivity(10) is SENSITIVE
    assert coverage.subject_sensitivity(11) is CLASSIFIED
    assert coverage.filing_rule(11) == "DR-1"  # a whole-department filing reaches it too


def test_coverage_takes_its_parts_by_keyword() -> None:
    # Seven positional mappings and sets could be given in the wrong order; build() names them.
    with pytest.raises(TypeError):
        Coverage(FY, {}, {}, {}, {}, frozenset(), frozenset())  # type: ignore[misc]


def test_unknown_records_are_refused_not_taken_for_unfiled() -> None:
    coverage = cover([subject(10, 1)])
    with pytest.raises(KeyError):
        coverage.subject_sensitivity(99)
    with pytest.raises(KeyError):
        coverage.department_sensitivity(99)


def test_subjects_of_another_year_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[11\]"):
        cover([subject(10, 1), subject(11, 1, fiscal_year=FY - 1)])
    with pytest.raises(ValueError, match=r"\[12\]"):
        cover([subject(10, 1), subject(12, 1, fiscal_year=FY + 1)])


def test_a_cyclic_parent_chain_ends() -> None:
    coverage = Coverage.build(FY, [dept(1, 2), dept(2, 1)], [], [filing(1)])
    assert coverage.covered_department_ids() == {1, 2}


# --- Scope (DR-4, D9) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        (subject(1, 1), True),
        (subject(1, 1, in_disclosure_scope=False), False),
        *(  # DR-4(b)(d): these transfers are in scope whatever the flag says
            (subject(1, 1, in_disclosure_scope=False, transfer=transfer), expected)
            for transfer, expected in [
                (TransferType.NONE, False),
                (TransferType.MUNICIPAL_TO_DISTRICT_SPECIAL, True),
                (TransferType.SHARED_RESPONSIBILITY, True),
                (TransferType.CENTRAL_TO_LOCAL_SPECIAL, True),
                (TransferType.OTHER, False),
            ]
        ),
        (subject(1, 1, kind=SubjectKind.DEPARTMENT_OVERALL, in_disclosure_scope=False), True),
        (subject(1, 1, kind=SubjectKind.POLICY, publication_selected=True), True),
        (subject(1, 1, kind=SubjectKind.POLICY), False),
        (
            subject(1, 1, kind=SubjectKind.POLICY, transfer=TransferType.SHARED_RESPONSIBILITY),
            False,
        ),
    ],
)
def test_in_scope(fact: SubjectFact, expected: bool) -> None:
    assert rules.in_scope(fact) is expected


def test_publishable_means_in_scope_and_unfiled() -> None:
    subjects = [subject(10, 4), subject(11, 4, in_disclosure_scope=False), subject(12, 4)]
    coverage = cover(subjects, filing(4, projects=[12]))
    assert [rules.publishable(s, coverage) for s in subjects] == [True, False, False]


# --- 双同步 (DR-5, D9) and report texts (DR-8) ----------------------------------------------------


@pytest.mark.parametrize(
    ("record_type", "record_year", "kind", "release_year", "expected"),
    [
        (RecordType.TARGET, FY, ReleaseKind.BUDGET, FY, True),
        (RecordType.TARGET, FY, ReleaseKind.BUDGET, FY + 1, False),
        (RecordType.TARGET, FY, ReleaseKind.FINAL_ACCOUNTS, FY, False),
        (RecordType.EX_ANTE_ASSESSMENT, FY, ReleaseKind.BUDGET, FY, True),
        (RecordType.EX_ANTE_ASSESSMENT, FY, ReleaseKind.FINAL_ACCOUNTS, FY, False),
        (RecordType.SELF_ASSESSMENT, FY, ReleaseKind.FINAL_ACCOUNTS, FY, True),
        (RecordType.SELF_ASSESSMENT, FY - 1, ReleaseKind.FINAL_ACCOUNTS, FY, False),
        (RecordType.SELF_ASSESSMENT, FY, ReleaseKind.BUDGET, FY, False),
        (RecordType.MONITORING, FY, ReleaseKind.FINAL_ACCOUNTS, FY, True),
        (RecordType.MONITORING, FY, ReleaseKind.BUDGET, FY, False),
        (RecordType.EVALUATION, FY, ReleaseKind.FINAL_ACCOUNTS, FY, True),
        (RecordType.EVALUATION, FY, ReleaseKind.FINANCE_ANNUAL, FY, False),
        (RecordType.ANNUAL_STATEMENT, FY, ReleaseKind.FINANCE_ANNUAL, FY, True),
        (RecordType.ANNUAL_STATEMENT, FY, ReleaseKind.FINANCE_ANNUAL, FY + 1, False),
        (RecordType.ANNUAL_STATEMENT, FY, ReleaseKind.BUDGET, FY, False),
        (RecordType.SUBJECT, FY, ReleaseKind.BUDGET, FY, True),
        (RecordType.SUBJECT, FY, ReleaseKind.FINAL_ACCOUNTS, FY, True),
        (RecordType.SUBJECT, FY, ReleaseKind.FINANCE_ANNUAL, FY, False),
        (RecordType.JURISDICTION, FY, ReleaseKind.FINANCE_ANNUAL, FY, True),
    ],
)
def test_belongs_to_release(
    record_type: RecordType, record_year: int, kind: ReleaseKind, release_year: int, expected: bool
) -> None:
    assert rules.belongs_to_release(record_type, record_year, kind, release_year) is expected


@pytest.mark.parametrize(
    "record_type",
    [
        RecordType.TARGET,
        RecordType.EX_ANTE_ASSESSMENT,
        RecordType.MONITORING,
        RecordType.SELF_ASSESSMENT,
        RecordType.EVALUATION,
        RecordType.ANNUAL_STATEMENT,
    ],
)
def test_each_content_record_rides_exactly_one_release(record_type: RecordType) -> None:
    homes = [
        (kind, year)
        for kind in ReleaseKind
        for year in (FY - 1, FY, FY + 1)
        if rules.belongs_to_release(record_type, FY, kind, year)
    ]
    assert len(homes) == 1
    assert homes[0][1] == FY


def test_where_a_file_rides_depends_on_its_document_kind() -> None:
    with pytest.raises(ValueError, match="DocKind"):
        rules.belongs_to_release(RecordType.FILE, FY, ReleaseKind.BUDGET, FY)
    fits = rules.file_belongs_to_release
    assert fits(DocKind.TARGET_TABLE, FY, ReleaseKind.BUDGET, FY)
    assert fits(DocKind.SELF_ASSESSMENT_FORM, FY, ReleaseKind.FINAL_ACCOUNTS, FY)
    assert fits(DocKind.ANNUAL_PM_STATEMENT, FY, ReleaseKind.FINANCE_ANNUAL, FY)
    # A key evaluation of FY 2023 spending is published with the statement of 2024 (§6, D9).
    assert fits(DocKind.EVALUATION_REPORT_MAIN_TEXT, FY - 1, ReleaseKind.FINANCE_ANNUAL, FY)
    assert not fits(DocKind.EVALUATION_REPORT_MAIN_TEXT, FY, ReleaseKind.FINANCE_ANNUAL, FY)
    assert not fits(DocKind.EVALUATION_REPORT_MAIN_TEXT, FY, ReleaseKind.FINAL_ACCOUNTS, FY)
    assert not any(
        fits(DocKind.EVALUATION_REPORT_ANNEX, FY, kind, year)
        for kind in ReleaseKind
        for year in range(FY - 2, FY + 3)
    )


#: Each document kind's one home: (release kind, release year − the year it documents).
FILE_HOMES = {
    DocKind.BUDGET_DOC: (ReleaseKind.BUDGET, 0),
    DocKind.TARGET_TABLE: (ReleaseKind.BUDGET, 0),
    DocKind.FINAL_ACCOUNTS_DOC: (ReleaseKind.FINAL_ACCOUNTS, 0),
    DocKind.SELF_ASSESSMENT_FORM: (ReleaseKind.FINAL_ACCOUNTS, 0),
    DocKind.ANNUAL_PM_STATEMENT: (ReleaseKind.FINANCE_ANNUAL, 0),
    DocKind.EVALUATION_REPORT_MAIN_TEXT: (ReleaseKind.FINANCE_ANNUAL, 1),
}


@pytest.mark.parametrize("doc_kind", sorted(FILE_HOMES))
def test_each_file_rides_exactly_one_release(doc_kind: DocKind) -> None:
    homes = [
        (kind, year - FY)
        for kind in ReleaseKind
        for year in range(FY - 2, FY + 3)
        if rules.file_belongs_to_release(doc_kind, FY, kind, year)
    ]
    assert homes == [FILE_HOMES[doc_kind]]


def test_values_read_as_plain_strings_count_as_their_enum_members() -> None:
    """A `values()` query hands back strings: they must decide the same (module docstring)."""
    with pytest.raises(ValueError, match="DocKind"):
        rules.belongs_to_release("FILE", FY, ReleaseKind.BUDGET, FY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="FINANCE_ANNUAL"):
        check([], kind="FINANCE_ANNUAL")  # type: ignore[arg-type]
    approved = "FINANCE_APPROVED"
    as_read = [TargetFact(subject_id=t.subject_id, review_status=approved) for t in APPROVED]  # type: ignore[arg-type]
    assert check([10, 11, 15, 16], as_read) == []


def test_filings_read_as_plain_strings_cover_the_same() -> None:
    subjects = [subject(10, 1), subject(20, 4), subject(21, 4, parent=20)]

    def as_read(f: FilingFact) -> FilingFact:
        return FilingFact(
            id=f.id,
            department_id=f.department_id,
            fiscal_year=f.fiscal_year,
            scope=f.scope.value,  # type: ignore[arg-type]
            reason=f.reason.value,  # type: ignore[arg-type]
            status=f.status.value,  # type: ignore[arg-type]
            project_ids=f.project_ids,
        )

    filings = (filing(1, reason=FilingReason.CLASSIFIED), filing(4, projects=[20]))
    coverage = cover(subjects, *map(as_read, filings))
    assert coverage.covered_department_ids() == {1, 2, 3}
    assert coverage.covered_subject_ids() == {10, 20, 21}
    assert coverage.subject_sensitivity(10) is CLASSIFIED
    assert coverage.subject_sensitivity(21) is SENSITIVE


def test_kinds_read_as_plain_strings_decide_the_same() -> None:
    assert rules.report_main_text_publishable("FINANCE_KEY", "NONE")  # type: ignore[arg-type]
    fits = rules.file_belongs_to_release
    assert fits(DocKind.BUDGET_DOC, FY, "BUDGET", FY)  # type: ignore[arg-type]
    targets = [*APPROVED[:2], TargetFact(subject_id=15, review_status=ReviewStatus.SUBMITTED)]
    problems = check([10, 11, 15, 16], targets, kind="BUDGET")  # type: ignore[arg-type]
    assert rules_and_records(problems) == [("DR-7", "subject#15")]


def test_years_equal_but_not_one_object_are_the_same_year() -> None:
    def read(year: int) -> int:  # as a database row hands it back: equal, not one object
        return int(str(year))

    subjects = [subject(10, 1, fiscal_year=read(FY))]
    active = FilingFact(
        id=1,
        department_id=1,
        fiscal_year=read(FY),
        scope=FilingScope.WHOLE_DEPARTMENT,
        reason=FilingReason.SENSITIVE,
        status=FilingStatus.FILED,
    )
    coverage = Coverage.build(read(FY), TREE, subjects, [active])
    assert coverage.covered_subject_ids() == {10}


def test_a_whole_department_filing_ignores_listed_projects() -> None:
    subjects = [subject(10, 1), subject(30, 4)]
    odd = FilingFact(
        id=1,
        department_id=1,
        fiscal_year=FY,
        scope=FilingScope.WHOLE_DEPARTMENT,
        reason=FilingReason.SENSITIVE,
        status=FilingStatus.FILED,
        project_ids=frozenset({30}),  # another department's project: not what it covers
    )
    assert cover(subjects, odd).covered_subject_ids() == {10}


def test_problems_cannot_be_altered() -> None:
    from dataclasses import FrozenInstanceError

    problem = check([10, 11, 12, 15, 16])[0]
    with pytest.raises(FrozenInstanceError):
        problem.rule = "none"  # type: ignore[misc]


def test_a_fiscal_year_read_from_the_database_is_the_same_year() -> None:
    # Equal ints, not one object: compared by value.
    year = int(str(FY))
    assert rules.belongs_to_release(RecordType.TARGET, year, ReleaseKind.BUDGET, FY)
    assert (
        rules.check_release(
            ReleaseKind.BUDGET,
            year,
            1,
            RELEASE_SUBJECTS,
            APPROVED,
            RELEASE_COVERAGE,
            [10, 11, 15, 16],
        )
        == []
    )


@pytest.mark.parametrize("kind", list(EvaluationKind))
@pytest.mark.parametrize("sensitivity", list(Sensitivity))
def test_only_unfiled_finance_key_report_texts_are_published(
    kind: EvaluationKind, sensitivity: Sensitivity
) -> None:
    expected = kind is EvaluationKind.FINANCE_KEY and sensitivity is NONE
    assert rules.report_main_text_publishable(kind, sensitivity) is expected


# --- Deadline (DR-6, D3) --------------------------------------------------------------------------


def test_due_date_is_twenty_calendar_days_after_approval() -> None:
    assert rules.due_date(date(2024, 1, 25)) == date(2024, 2, 14)
    assert rules.due_date(date(2024, 2, 20)) == date(2024, 3, 11)  # across a leap day
    assert rules.due_date(date(2024, 1, 25)) == records.due_date_for(date(2024, 1, 25))


@pytest.mark.parametrize(
    ("published_at", "late"),
    [
        (datetime(2024, 2, 14, 23, 59, tzinfo=rules.SHANGHAI), False),
        (datetime(2024, 2, 14, 15, 59, tzinfo=UTC), False),  # 23:59 in Shanghai
        (datetime(2024, 2, 14, 16, 30, tzinfo=UTC), True),  # 00:30 on the 15th in Shanghai
        (datetime(2024, 2, 15, 0, 0, tzinfo=rules.SHANGHAI), True),
        (datetime(2024, 1, 26, 9, 0, tzinfo=rules.SHANGHAI), False),
    ],
)
def test_lateness_is_judged_by_the_date_in_shanghai(published_at: datetime, late: bool) -> None:
    assert rules.is_late(published_at, rules.due_date(date(2024, 1, 25))) is late


def test_a_naive_publication_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        rules.is_late(datetime(2024, 2, 14, 12, 0), date(2024, 2, 14))


# --- Release checks (DR-1, DR-2, DR-3, DR-7, D8) --------------------------------------------------

FILED_NAME, CLASSIFIED_NAME = "甲绝密标记项目", "乙机密标记项目"
RELEASE_SUBJECTS = (
    subject(10, 1),
    subject(11, 2),  # a unit's project is in its department's release
    subject(12, 1, name=FILED_NAME),  # listed in a project filing
    subject(13, 1, in_disclosure_scope=False),
    subject(14, 1, kind=SubjectKind.POLICY),  # not selected for publication
    subject(15, 1, kind=SubjectKind.DEPARTMENT_OVERALL),
    subject(16, 1, budgeted=False),
    subject(30, 4, name=CLASSIFIED_NAME),  # the whole of department 4 is filed
)
RELEASE_COVERAGE = cover(
    RELEASE_SUBJECTS, filing(1, projects=[12]), filing(4, reason=FilingReason.CLASSIFIED)
)
APPROVED = [
    TargetFact(subject_id=s, review_status=ReviewStatus.FINANCE_APPROVED) for s in (10, 11, 15)
]


def check(
    included: Iterable[int],
    targets: Iterable[TargetFact] = APPROVED,
    kind: ReleaseKind = ReleaseKind.BUDGET,
    department: int = 1,
    assessed: Iterable[int] | None = None,
) -> list[Problem]:
    if kind is ReleaseKind.FINAL_ACCOUNTS and assessed is None:
        assessed = [s.id for s in RELEASE_SUBJECTS]
    return rules.check_release(
        kind,
        FY,
        department,
        RELEASE_SUBJECTS,
        targets,
        RELEASE_COVERAGE,
        included,
        assessed_subject_ids=assessed,
    )


def rules_and_records(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.rule, p.record) for p in problems]


def test_a_complete_release_has_no_problems() -> None:
    assert check([10, 11, 15, 16]) == []


def test_an_unfiled_in_scope_subject_left_out_fails_dr3() -> None:
    problems = check([10, 15, 16], kind=ReleaseKind.FINAL_ACCOUNTS)
    assert rules_and_records(problems) == [("DR-3", "subject#11")]
    assert "CODE-11-X" in problems[0].message  # an unfiled record may be named


def test_a_budgeted_subject_without_an_approved_target_fails_dr7() -> None:
    targets = [*APPROVED[:2], TargetFact(subject_id=15, review_status=ReviewStatus.SUBMITTED)]
    assert rules_and_records(check([10, 11, 15, 16], targets)) == [("DR-7", "subject#15")]
    assert check([10, 11, 15, 16], targets, kind=ReleaseKind.FINAL_ACCOUNTS) == []
    # out of scope but included, budgeted, no target: it is in a budget release, so DR-7 applies
    assert rules_and_records(check([10, 11, 13, 15, 16])) == [("DR-7", "subject#13")]


@pytest.mark.parametrize("status", [s for s in ReviewStatus if s != ReviewStatus.FINANCE_APPROVED])
def test_only_a_target_approved_by_finance_counts_for_dr7(status: ReviewStatus) -> None:
    targets = [*APPROVED[:2], TargetFact(subject_id=15, review_status=status)]
    assert rules_and_records(check([10, 11, 15, 16], targets)) == [("DR-7", "subject#15")]


def test_subjects_of_other_years_are_not_the_releases_business() -> None:
    others = (subject(40, 1, fiscal_year=FY - 1), subject(41, 1, fiscal_year=FY + 1))
    problems = rules.check_release(
        ReleaseKind.BUDGET,
        FY,
        1,
        (*RELEASE_SUBJECTS, *others),
        APPROVED,
        RELEASE_COVERAGE,
        [10, 11, 15, 16],
    )
    assert problems == []


def test_an_in_scope_budgeted_subject_without_a_self_assessment_fails_dr4c() -> None:
    # 10, 11, 15 are in scope and budgeted; 16 has no budget; 13 and 14 are out of scope; 12
    # and 30 are filed: only the first three need a self-assessment.
    everyone = [10, 11, 15, 16]
    final = ReleaseKind.FINAL_ACCOUNTS
    assert check(everyone, kind=final, assessed=[10, 11, 15]) == []
    problems = check(everyone, kind=final, assessed=[10, 15])
    assert rules_and_records(problems) == [("DR-4c", "subject#11")]
    assert "CODE-11-X" in problems[0].message and "self-assessment" in problems[0].message
    assert rules_and_records(check(everyone, kind=final, assessed=[])) == [
        ("DR-4c", "subject#10"),
        ("DR-4c", "subject#11"),
        ("DR-4c", "subject#15"),
    ]
    # a budget release asks for targets, not self-assessments
    assert check(everyone, assessed=[]) == []
    with pytest.raises(ValueError, match="DR-4c"):
        rules.check_release(final, FY, 1, RELEASE_SUBJECTS, [], RELEASE_COVERAGE, everyone)


def test_a_release_kind_given_as_its_string_is_the_kind() -> None:
    """`select.py` may hand over a kind read with `values()`, a plain string: the rules treat it
    as the member, and a FINAL_ACCOUNTS check still needs, and applies, the self-assessments."""
    final = "FINAL_ACCOUNTS"
    everyone = [10, 11, 15, 16]
    with pytest.raises(ValueError, match="DR-4c"):
        rules.check_release(final, FY, 1, RELEASE_SUBJECTS, [], RELEASE_COVERAGE, everyone)  # type: ignore[arg-type]
    problems = rules.check_release(
        final,  # type: ignore[arg-type]
        FY,
        1,
        RELEASE_SUBJECTS,
        APPROVED,
        RELEASE_COVERAGE,
        everyone,
        assessed_subject_ids=[10, 15],
    )
    assert rules_and_records(problems) == [("DR-4c", "subject#11")]


@pytest.mark.parametrize(
    ("score", "grade", "has_result"),
    [
        (None, None, False),  # planned: neither
        (Decimal("91.5"), None, False),  # scored, not yet graded
        (None, Grade.EXCELLENT, False),
        (Decimal("91.5"), Grade.EXCELLENT, True),
        (Decimal(0), Grade.POOR, True),  # a score of 0 is a result, not a missing one
    ],
)
def test_an_evaluation_has_a_result_once_scored_and_graded(
    score: Decimal | None, grade: Grade | None, has_result: bool
) -> None:
    assert rules.evaluation_has_result(score, grade) is has_result


def test_an_included_filed_subject_fails_without_being_named() -> None:
    problems = check([10, 11, 12, 15, 16])
    assert rules_and_records(problems) == [("DR-2", "subject#12")]
    assert FILED_NAME not in problems[0].message
    assert "CODE-12-X" not in problems[0].message


def test_a_filed_department_publishes_none_of_its_subjects() -> None:
    assert check([], [], department=4) == []  # left out under a filing: not a DR-3 problem
    problems = check([30], [], department=4)
    assert rules_and_records(problems) == [("DR-1", "subject#30")]
    assert CLASSIFIED_NAME not in repr(problems)


def test_another_departments_subject_is_refused_without_being_named() -> None:
    problems = check([10, 11, 15, 16, 30])
    assert rules_and_records(problems) == [("D8", "subject#30")]
    assert CLASSIFIED_NAME not in repr(problems)


def test_check_release_refuses_what_it_cannot_check() -> None:
    with pytest.raises(ValueError, match="FINANCE_ANNUAL"):
        check([], kind=ReleaseKind.FINANCE_ANNUAL)
    for year in (FY - 1, FY + 1):  # a coverage of another year, before or after
        with pytest.raises(ValueError, match=f"coverage of FY {FY}, release of FY {year}"):
            rules.check_release(ReleaseKind.BUDGET, year, 1, (), (), RELEASE_COVERAGE, ())


# --- The annual statement's counts (D12) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "departments", "units", "problems"),
    [
        ("全区310个预算部门、1200家单位", 310, 1200, []),
        ("全区310个部门，其中12个部门……", 310, 5, []),  # the largest is the coverage
        ("", 3, 3, []),
        ("全区3个预算部门", 2, 9, ["the statement says 3 departments were covered, but 2"]),
        ("全区3个预算部门", 4, 9, ["the statement says 3 departments were covered, but 4"]),
        ("9个单位", 1, 8, ["the statement names 9 units, but only 8"]),
        ("8家预算单位", 1, 8, []),
        ("5家单位", 1, 8, []),  # fewer units named than are public: not a problem
        (
            "2个部门，9个单位和10家单位",
            2,
            8,
            ["the statement names 9 units, but only 8", "the statement names 10 units, but only 8"],
        ),
    ],
)
def test_statement_counts_must_agree_with_what_is_public(
    text: str, departments: int, units: int, problems: list[str]
) -> None:
    found = rules.check_statement_counts("statement#1", text, int(str(departments)), units)
    assert [(p.rule, p.record) for p in found] == [("DR-4g", "statement#1")] * len(problems)
    assert [p.message[: len(m)] for p, m in zip(found, problems, strict=True)] == problems


# --- Properties -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    departments: tuple[DepartmentFact, ...]
    subjects: tuple[SubjectFact, ...]
    filings: tuple[FilingFact, ...]

    def coverage(self, filings: Iterable[FilingFact] | None = None) -> Coverage:
        return Coverage.build(
            FY, self.departments, self.subjects, self.filings if filings is None else filings
        )

    def ancestry(self, department_id: int) -> set[int]:
        """The department and its ancestors (the oracle walks up; the rules walk down)."""
        parents = {d.id: d.parent_id for d in self.departments}
        chain: set[int] = set()
        current: int | None = department_id
        while current is not None and current not in chain:
            chain.add(current)
            current = parents.get(current)
        return chain


def filings_for(departments: int, subject_ids: list[int]) -> st.SearchStrategy[FilingFact]:
    listed = st.frozensets(st.sampled_from(subject_ids)) if subject_ids else st.just(frozenset())
    return st.builds(
        FilingFact,
        id=st.integers(1, 999),
        department_id=st.integers(1, departments),
        # Weighted towards filings that count, so that coverage has something to spread.
        fiscal_year=st.sampled_from([FY - 1, FY, FY, FY, FY + 1]),
        scope=st.sampled_from(FilingScope),
        reason=st.sampled_from(FilingReason),
        status=st.sampled_from([*sorted(ACTIVE_FILING_STATUSES), *FilingStatus]),
        project_ids=listed,
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(1, 6))
    departments = tuple(
        # deep trees: department i is a root only one time in i
        dept(i, draw(st.integers(0, i - 1)) or None)
        for i in range(1, n + 1)
    )
    subjects: list[SubjectFact] = []
    for sid in range(100, 100 + draw(st.integers(0, 10))):
        earlier = [s.id for s in subjects]
        subjects.append(
            subject(
                sid,
                draw(st.integers(1, n)),
                kind=draw(st.sampled_from(SubjectKind)),
                unit=draw(st.none() | st.integers(1, n)),
                parent=draw(st.none() | st.sampled_from(earlier)) if earlier else None,
                in_disclosure_scope=draw(st.booleans()),
                publication_selected=draw(st.booleans()),
                transfer=draw(st.sampled_from(TransferType)),
                budgeted=draw(st.booleans()),
            )
        )
    filings = draw(st.lists(filings_for(n, [s.id for s in subjects]), max_size=5))
    return World(departments, tuple(subjects), tuple(filings))


def levels(world: World, coverage: Coverage) -> dict[str, Sensitivity]:
    return {
        **{f"d{d.id}": coverage.department_sensitivity(d.id) for d in world.departments},
        **{f"s{s.id}": coverage.subject_sensitivity(s.id) for s in world.subjects},
    }


def at_least(a: Sensitivity, b: Sensitivity) -> bool:
    return rules.strictest((a, b)) is a


@PROPERTY
@given(worlds())
def test_whole_department_filings_cover_everything_under_them(world: World) -> None:
    coverage = world.coverage()
    filed = {
        f.department_id
        for f in world.filings
        if f.fiscal_year == FY and f.active and f.scope is FilingScope.WHOLE_DEPARTMENT
    }
    for d in world.departments:
        if world.ancestry(d.id) & filed:
            assert coverage.department_sensitivity(d.id) is not NONE
    for s in world.subjects:
        owners = [
            s.department_id,
            *([s.implementing_unit_id] if s.implementing_unit_id is not None else []),
        ]
        if any(world.ancestry(owner) & filed for owner in owners):
            assert coverage.subject_sensitivity(s.id) is not NONE
            assert coverage.filing_rule(s.id) == "DR-1"


@PROPERTY
@given(worlds())
def test_a_classified_filing_wins_wherever_it_reaches(world: World) -> None:
    coverage = world.coverage()
    classified = [
        f
        for f in world.filings
        if f.fiscal_year == FY and f.active and f.reason is FilingReason.CLASSIFIED
    ]
    for f in classified:
        if f.scope is FilingScope.PROJECTS:
            assert all(coverage.subject_sensitivity(pid) is CLASSIFIED for pid in f.project_ids)
        else:
            for d in world.departments:
                if f.department_id in world.ancestry(d.id):
                    assert coverage.department_sensitivity(d.id) is CLASSIFIED


@PROPERTY
@given(st.data())
def test_adding_a_filing_never_makes_anything_less_sensitive(data: st.DataObject) -> None:
    world = data.draw(worlds())
    extra = data.draw(filings_for(len(world.departments), [s.id for s in world.subjects]))
    before = levels(world, world.coverage())
    after = levels(world, world.coverage([*world.filings, extra]))
    assert all(at_least(after[key], level) for key, level in before.items())


@PROPERTY
@given(worlds())
def test_coverage_is_the_strictest_of_each_filing_alone(world: World) -> None:
    together = levels(world, world.coverage())
    alone = [levels(world, world.coverage([f])) for f in world.filings]
    assert together == {key: rules.strictest(one[key] for one in alone) for key in together}


@PROPERTY
@given(worlds())
def test_other_years_and_inactive_filings_change_nothing(world: World) -> None:
    counted = [f for f in world.filings if f.fiscal_year == FY and f.active]
    assert levels(world, world.coverage()) == levels(world, world.coverage(counted))


@PROPERTY
@given(worlds())
def test_a_child_subject_is_at_least_as_sensitive_as_its_parent(world: World) -> None:
    coverage = world.coverage()
    for s in world.subjects:
        if s.parent_id is not None:
            parent = coverage.subject_sensitivity(s.parent_id)
            assert at_least(coverage.subject_sensitivity(s.id), parent)


@PROPERTY
@given(st.data())
def test_release_problems_never_name_a_filed_record(data: st.DataObject) -> None:
    world = data.draw(worlds())
    ids = [s.id for s in world.subjects]
    included = data.draw(st.frozensets(st.sampled_from(ids))) if ids else frozenset()
    targets = [
        TargetFact(subject_id=sid, review_status=data.draw(st.sampled_from(ReviewStatus)))
        for sid in ids
        if data.draw(st.booleans())
    ]
    coverage = world.coverage()
    filed = [s for s in world.subjects if s.id in coverage.covered_subject_ids()]
    for d in world.departments:
        family = coverage.department_with_units(d.id)
        own = [s for s in world.subjects if s.department_id in family]
        for kind in (ReleaseKind.BUDGET, ReleaseKind.FINAL_ACCOUNTS):
            problems = rules.check_release(
                kind,
                FY,
                d.id,
                world.subjects,
                targets,
                coverage,
                included,
                assessed_subject_ids=ids,
            )
            text = repr(problems)
            assert not any(s.name in text or s.code in text for s in filed)
            dr3 = {p.record for p in problems if p.rule == "DR-3"}
            missing = {s for s in own if rules.publishable(s, coverage) and s.id not in included}
            assert dr3 == {f"subject#{s.id}" for s in missing}
            leaked = {p.record for p in problems if p.rule in ("DR-1", "DR-2")}
            assert leaked == {f"subject#{s.id}" for s in own if s in filed and s.id in included}
