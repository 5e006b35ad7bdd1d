"""The disclosure rules (domain.md §5, DR-1…DR-8) as pure functions over `publishers.facts`.

Nothing here reads the database, the clock or the environment: the selection step builds the facts,
these functions decide, and the same facts always give the same answer. Each docstring names the
source of its rule with the tags of domain.md ([S:nnn] seed, [P] public, [K] recalled, [I] inferred)
or the decision it follows (decisions.md Dn).

Enum values are compared with ``==`` and looked up by value, never with ``is``: a plain string read
by a ``values()`` query then counts the same as the enum member, so a filing can never be missed
because of how its row was read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from publishers.facts import DepartmentFact, FilingFact, SubjectFact, TargetFact
from storage import validation
from storage.enums import (
    DocKind,
    EvaluationKind,
    FilingReason,
    FilingScope,
    RecordType,
    ReleaseKind,
    ReviewStatus,
    Sensitivity,
    SubjectKind,
    TransferType,
)

# --- Sensitivity and filing coverage (domain.md §3.14, DR-1, DR-2) -----------------------------

_STRICTNESS = {Sensitivity.NONE: 0, Sensitivity.SENSITIVE: 1, Sensitivity.CLASSIFIED: 2}
_FILING_LEVEL = {
    FilingReason.CLASSIFIED: Sensitivity.CLASSIFIED,
    FilingReason.SENSITIVE: Sensitivity.SENSITIVE,
}


def strictest(levels: Iterable[Sensitivity]) -> Sensitivity:
    """The strictest of `levels`, NONE if none: CLASSIFIED > SENSITIVE > NONE [I, §3.14]."""
    return max(levels, key=_STRICTNESS.__getitem__, default=Sensitivity.NONE)


def _children(pairs: Iterable[tuple[int, int | None]]) -> dict[int, list[int]]:
    """Invert (id, parent_id) pairs into parent → children."""
    children: dict[int, list[int]] = {}
    for node, parent in pairs:
        if parent is not None:
            children.setdefault(parent, []).append(node)
    return children


def _below(root: int, children: Mapping[int, Sequence[int]]) -> frozenset[int]:
    """`root` and everything under it, transitively. A cyclic parent chain (a data error) ends
    the walk instead of looping."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children.get(node, ()))
    return frozenset(seen)


def _spread(
    roots: Iterable[tuple[int, Sensitivity]], children: Mapping[int, Sequence[int]]
) -> dict[int, Sensitivity]:
    """Give each root and everything under it the strictest level that reaches it."""
    levels: dict[int, Sensitivity] = {}
    for root, level in roots:
        for node in _below(root, children):
            levels[node] = strictest((levels.get(node, Sensitivity.NONE), level))
    return levels


class Coverage:
    """What the sensitivity filings (涉密/敏感备案) of one fiscal year cover, and how strictly.

    Build it with `Coverage.build`. Asking about a department or subject that was not among the
    facts raises KeyError: an unknown record is never taken to be unfiled (invariant 2).
    """

    def __init__(
        self,
        *,
        fiscal_year: int,
        units: Mapping[int, Sequence[int]],
        departments: Mapping[int, Sensitivity],
        by_department: Mapping[int, Sensitivity],
        by_project: Mapping[int, Sensitivity],
        department_ids: frozenset[int],
        subject_ids: frozenset[int],
    ) -> None:
        self.fiscal_year = fiscal_year
        self._units = units
        self._departments = departments
        self._by_department = by_department
        self._by_project = by_project
        self._department_ids = department_ids
        self._subject_ids = subject_ids

    @classmethod
    def build(
        cls,
        fiscal_year: int,
        departments: Iterable[DepartmentFact],
        subjects: Iterable[SubjectFact],
        filings: Iterable[FilingFact],
    ) -> Coverage:
        """Apply the active filings of `fiscal_year` to the departments and that year's subjects.

        - Filings are annual [I, §3.14]: those of other years are ignored.
        - Only active filings count: FILED and ACCEPTED, not WITHDRAWN or REVOKED (D5).
        - WHOLE_DEPARTMENT covers the department and its units, transitively; every subject whose
          department or implementing unit is covered; and every subject below a covered one
          (DR-1 [S:000]; architecture invariant 2).
        - PROJECTS covers the listed projects and every subject below them, e.g. the 二级项目 of a
          listed 一级项目 (DR-2 [S:000]).
        - Where several filings reach one record the strictest wins [I, §3.14].

        Subjects of another fiscal year are refused with ValueError rather than left unfiled.
        """
        departments, subjects = tuple(departments), tuple(subjects)
        wrong_year = sorted(s.id for s in subjects if s.fiscal_year != fiscal_year)
        if wrong_year:
            raise ValueError(f"subjects {wrong_year} are not of fiscal year {fiscal_year}")
        department_ids = frozenset(d.id for d in departments)
        subject_ids = frozenset(s.id for s in subjects)
        units = _children((d.id, d.parent_id) for d in departments)
        below_subject = _children((s.id, s.parent_id) for s in subjects)
        active = [f for f in filings if f.fiscal_year == fiscal_year and f.active]

        department_levels = _spread(
            (
                (f.department_id, _FILING_LEVEL[f.reason])
                for f in active
                if f.scope == FilingScope.WHOLE_DEPARTMENT
            ),
            units,
        )
        reached = (
            (
                s.id,
                strictest(
                    department_levels.get(owner, Sensitivity.NONE)
                    for owner in (s.department_id, s.implementing_unit_id)
                    if owner is not None
                ),
            )
            for s in subjects
        )
        by_department = _spread(
            ((sid, level) for sid, level in reached if level != Sensitivity.NONE), below_subject
        )
        by_project = _spread(
            (
                (pid, _FILING_LEVEL[f.reason])
                for f in active
                if f.scope == FilingScope.PROJECTS
                for pid in f.project_ids
                if pid in subject_ids
            ),
            below_subject,
        )
        return cls(
            fiscal_year=fiscal_year,
            units=units,
            departments={d: s for d, s in department_levels.items() if d in department_ids},
            by_department=by_department,
            by_project=by_project,
            department_ids=department_ids,
            subject_ids=subject_ids,
        )

    def department_sensitivity(self, department_id: int) -> Sensitivity:
        """How strictly a whole-department filing covers this department or unit (DR-1 [S:000]).
        A project filing leaves its department public (DR-2 [S:000])."""
        self._check_department(department_id)
        return self._departments.get(department_id, Sensitivity.NONE)

    def subject_sensitivity(self, subject_id: int) -> Sensitivity:
        """How strictly any filing covers this subject (DR-1, DR-2 [S:000]; precedence [I])."""
        self._check_subject(subject_id)
        return strictest(
            (
                self._by_department.get(subject_id, Sensitivity.NONE),
                self._by_project.get(subject_id, Sensitivity.NONE),
            )
        )

    def filing_rule(self, subject_id: int) -> str | None:
        """The rule that keeps this subject unpublished: "DR-1" when a whole-department filing
        reaches it, else "DR-2" when a project filing does, else None."""
        self._check_subject(subject_id)
        if subject_id in self._by_department:
            return "DR-1"
        if subject_id in self._by_project:
            return "DR-2"
        return None

    def covered_department_ids(self) -> frozenset[int]:
        """Departments and units under an active whole-department filing (DR-1)."""
        return frozenset(self._departments)

    def covered_subject_ids(self) -> frozenset[int]:
        """Subjects covered by any active filing (DR-1, DR-2): never published for this year."""
        return frozenset(self._by_department) | frozenset(self._by_project)

    def department_with_units(self, department_id: int) -> frozenset[int]:
        """The department and every unit under it, transitively: who a department's release
        speaks for (谁公开谁负责 [P]; D8)."""
        self._check_department(department_id)
        return _below(department_id, self._units)

    def _check_department(self, department_id: int) -> None:
        if department_id not in self._department_ids:
            raise KeyError(f"department#{department_id} is not among this coverage's facts")

    def _check_subject(self, subject_id: int) -> None:
        if subject_id not in self._subject_ids:
            raise KeyError(f"subject#{subject_id} is not a subject of FY {self.fiscal_year} here")


# --- Scope (DR-4, D9) -----------------------------------------------------------------------------

#: DR-4(b)(d): transfer-funded projects publish their performance information whatever their
#: disclosure-scope flag says.
SCOPE_TRANSFERS: frozenset[TransferType] = frozenset(
    {
        TransferType.MUNICIPAL_TO_DISTRICT_SPECIAL,
        TransferType.SHARED_RESPONSIBILITY,
        TransferType.CENTRAL_TO_LOCAL_SPECIAL,
    }
)


def in_scope(subject: SubjectFact) -> bool:
    """Whether the subject must be disclosed (DR-4 [S:000, S:002]; D9).

    Projects flagged 纳入预决算信息公开范围 (a), or funded by a 市对区专项, 共同事权 or
    中央对地方专项 transfer (b, d); every department-overall expenditure (f [S:003]; D9);
    policies the finance bureau selected for publication (e [S:002]).
    """
    match subject.kind:
        case SubjectKind.PROJECT:
            return subject.in_disclosure_scope or subject.transfer_type in SCOPE_TRANSFERS
        case SubjectKind.POLICY:
            return subject.publication_selected
        case SubjectKind.DEPARTMENT_OVERALL:
            return True
    raise ValueError(f"unknown subject kind {subject.kind!r}")


def publishable(subject: SubjectFact, coverage: Coverage) -> bool:
    """In scope (DR-4) and covered by no active filing (DR-1, DR-2 [S:000])."""
    return in_scope(subject) and coverage.subject_sensitivity(subject.id) == Sensitivity.NONE


# --- 双同步: which release carries what (DR-5, D9) ------------------------------------------------

_CARRIES: Mapping[ReleaseKind, frozenset[RecordType]] = {
    ReleaseKind.BUDGET: frozenset(
        {
            RecordType.JURISDICTION,
            RecordType.DEPARTMENT,
            RecordType.SUBJECT,
            RecordType.TARGET,
            RecordType.EX_ANTE_ASSESSMENT,
            RecordType.FILE,
        }
    ),
    ReleaseKind.FINAL_ACCOUNTS: frozenset(
        {
            RecordType.JURISDICTION,
            RecordType.DEPARTMENT,
            RecordType.SUBJECT,
            RecordType.MONITORING,
            RecordType.SELF_ASSESSMENT,
            RecordType.EVALUATION,
            RecordType.FILE,
        }
    ),
    ReleaseKind.FINANCE_ANNUAL: frozenset(
        {RecordType.JURISDICTION, RecordType.ANNUAL_STATEMENT, RecordType.FILE}
    ),
}

#: Where each kind of file rides: (release kind, release year − year of the record it documents).
#: A key report's main text rides the finance authority's statement of the year after the
#: spending it evaluates: key evaluations run in H2 of N on FY N−1 money and are published with
#: the statement of year N early in N+1 (domain.md §6 [S:000, S:004 + I]; D9). Annexes never
#: leave the building (DR-8).
_FILE_HOMES: Mapping[DocKind, tuple[ReleaseKind, int] | None] = {
    DocKind.BUDGET_DOC: (ReleaseKind.BUDGET, 0),
    DocKind.TARGET_TABLE: (ReleaseKind.BUDGET, 0),
    DocKind.FINAL_ACCOUNTS_DOC: (ReleaseKind.FINAL_ACCOUNTS, 0),
    DocKind.SELF_ASSESSMENT_FORM: (ReleaseKind.FINAL_ACCOUNTS, 0),
    DocKind.ANNUAL_PM_STATEMENT: (ReleaseKind.FINANCE_ANNUAL, 0),
    DocKind.EVALUATION_REPORT_MAIN_TEXT: (ReleaseKind.FINANCE_ANNUAL, 1),
    DocKind.EVALUATION_REPORT_ANNEX: None,
}


def carries(kind: ReleaseKind) -> frozenset[RecordType]:
    """The record types a release of this kind carries (DR-5 双同步 [S:004]; D9).

    BUDGET: targets and ex-ante results. FINAL_ACCOUNTS: monitoring, self-assessments and
    evaluation results. FINANCE_ANNUAL: the annual statement (DR-4g [S:000]) and, as files, key
    report main texts (D9). Department and subject rows ride with the records that refer to
    them; every release carries its jurisdiction. Which files a release carries depends on their
    document kind: see `file_belongs_to_release`.
    """
    return _CARRIES[kind]


def belongs_to_release(
    record_type: RecordType,
    record_fiscal_year: int,
    release_kind: ReleaseKind,
    release_fiscal_year: int,
) -> bool:
    """Whether a record of FY N rides this release: only a release of its kind for FY N (DR-5
    [S:004]). A target of FY N goes only with BUDGET N, a self-assessment of FY N only with
    FINAL_ACCOUNTS N, the statement of year N only with FINANCE_ANNUAL N.

    Files are refused with ValueError: where a file rides depends on its document kind.
    """
    if record_type == RecordType.FILE:
        raise ValueError("where a file rides depends on its DocKind: use file_belongs_to_release")
    return record_type in carries(release_kind) and record_fiscal_year == release_fiscal_year


def file_belongs_to_release(
    doc_kind: DocKind,
    record_fiscal_year: int,
    release_kind: ReleaseKind,
    release_fiscal_year: int,
) -> bool:
    """Whether a file rides this release (DR-5 [S:004]; DR-8 [S:000]; D9).

    `record_fiscal_year` is the fiscal year of what the file documents: the budget, the final
    accounts, the statement's year, or, for a report, the evaluation's year of spending. A key
    report main text of FY N rides FINANCE_ANNUAL N+1 (domain.md §6); annexes ride nothing. This
    says where a file goes, not whether it may: see `report_main_text_publishable`.
    """
    home = _FILE_HOMES[doc_kind]
    if home is None:
        return False
    kind, lag = home
    return release_kind == kind and release_fiscal_year == record_fiscal_year + lag


def report_main_text_publishable(evaluation_kind: EvaluationKind, sensitivity: Sensitivity) -> bool:
    """DR-8: only the main text (正文) of a FINANCE_KEY report on an unfiled subject is published
    (DR-4h [S:000]). Annexes never are (see `file_belongs_to_release`) [I]."""
    return evaluation_kind == EvaluationKind.FINANCE_KEY and sensitivity == Sensitivity.NONE


def evaluation_has_result(score: object | None, grade: object | None) -> bool:
    """DR-4h: an evaluation has a result to publish once it is scored and graded (SR-1); one
    still PLANNED or under way has neither, and its main text is not published [I]."""
    return score is not None and grade is not None


# --- Deadline (DR-6, D3) --------------------------------------------------------------------------

#: DR-6: published within 20 calendar days of approval ("20日", not working days) [P: 143号; K].
DEADLINE = timedelta(days=validation.DISCLOSURE_DEADLINE_DAYS)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def due_date(approval_date: date) -> date:
    """The last on-time day: approval (人大批准 or 财政批复) + 20 calendar days (DR-6 [P]; D3)."""
    return approval_date + DEADLINE


def is_late(published_at: datetime, due_date: date) -> bool:
    """Whether publication missed the deadline, judged by the date in Shanghai: published on or
    before the due date is on time (DR-6 [P]; D3). A naive datetime is refused with ValueError,
    because whose midnight it means would be a guess."""
    if published_at.utcoffset() is None:
        raise ValueError("published_at must be timezone-aware")
    return published_at.astimezone(SHANGHAI).date() > due_date


# --- Release completeness (DR-1, DR-2, DR-3, DR-7) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a release must not be published as it stands.

    `record` is an internal reference (``subject#12``). A problem about a filed record says only
    that a filed record is included: its name and code never appear (invariant 2), and nothing of
    its content either (D6).
    """

    rule: str
    record: str
    message: str


def check_release(
    kind: ReleaseKind,
    fiscal_year: int,
    department_id: int,
    subjects: Iterable[SubjectFact],
    targets: Iterable[TargetFact],
    coverage: Coverage,
    included_subject_ids: Iterable[int],
    *,
    assessed_subject_ids: Iterable[int] | None = None,
) -> list[Problem]:
    """Check which subjects a department's BUDGET or FINAL_ACCOUNTS release includes.

    - DR-1 / DR-2 [S:000]: a subject covered by an active filing must not be included.
    - DR-3 "应公开尽公开" [S:000 + I]: an in-scope subject of the department or its units may be
      left out only when a filing covers it.
    - DR-7 [S:002] (BUDGET only): a budgeted subject that is, or must be, in the release needs a
      target approved by the finance authority (财政审核通过).
    - DR-4(c)/(f) [S:000, S:002, S:003] (FINAL_ACCOUNTS only): a budgeted, in-scope, unfiled
      subject needs its self-assessment (绩效自评) of the release's year among
      `assessed_subject_ids`, which a FINAL_ACCOUNTS check must therefore be given. A subject
      with no budget has no spending to assess [I].
    - D8: a release speaks for one department and fiscal year; anything else included is wrong.

    Problems come in a fixed order (D8 ones, then by subject id): same facts, same list.
    """
    if kind == ReleaseKind.FINANCE_ANNUAL:
        raise ValueError("a FINANCE_ANNUAL release carries no department's subjects (D8)")
    if kind == ReleaseKind.FINAL_ACCOUNTS and assessed_subject_ids is None:
        raise ValueError("a FINAL_ACCOUNTS check needs the self-assessed subjects (DR-4c)")
    assessed = frozenset(assessed_subject_ids or ())
    if coverage.fiscal_year != fiscal_year:
        raise ValueError(f"coverage of FY {coverage.fiscal_year}, release of FY {fiscal_year}")
    family = coverage.department_with_units(department_id)
    own = sorted(
        (s for s in subjects if s.fiscal_year == fiscal_year and s.department_id in family),
        key=lambda s: s.id,
    )
    approved = {t.subject_id for t in targets if t.review_status == ReviewStatus.FINANCE_APPROVED}
    included = frozenset(included_subject_ids)
    problems = [
        Problem(
            "D8",
            _ref(sid),
            f"included, but not a subject of this department or its units for FY {fiscal_year}",
        )
        for sid in sorted(included - {s.id for s in own})
    ]
    for subject in own:
        problems.extend(
            _subject_problems(
                kind,
                subject,
                subject.id in included,
                subject.id in approved,
                subject.id in assessed,
                coverage,
            )
        )
    return problems


def _subject_problems(
    kind: ReleaseKind,
    subject: SubjectFact,
    included: bool,
    approved: bool,
    assessed: bool,
    coverage: Coverage,
) -> Iterator[Problem]:
    ref = _ref(subject.id)
    rule = coverage.filing_rule(subject.id)
    if rule is not None:
        if included:
            yield Problem(rule, ref, "a record covered by a sensitivity filing is included")
        return
    required = in_scope(subject)
    named = f"{SubjectKind(subject.kind).label} {subject.code}「{subject.name}」"
    if required and not included:
        yield Problem("DR-3", ref, f"{named} is in scope and unfiled, but left out")
    if kind == ReleaseKind.BUDGET and subject.budgeted and (required or included) and not approved:
        yield Problem("DR-7", ref, f"{named} is budgeted but has no target approved by finance")
    if kind == ReleaseKind.FINAL_ACCOUNTS and subject.budgeted and required and not assessed:
        yield Problem(
            "DR-4c",
            ref,
            f"{named} is in scope and budgeted, but has no self-assessment (绩效自评) "
            f"for FY {subject.fiscal_year}",
        )


def wrong_year_problem(record: str, record_year: int, subject: SubjectFact) -> Problem:
    """DR-5 (双同步 [S:004]): a record of FY M about a subject of FY N rides no release — not
    the subject's (wrong year) nor FY M's (wrong subject). Storage refuses new ones
    (`storage.validation.check_subject_year`); this names any that exist. Only asked about
    unfiled subjects, which may be named."""
    named = f"{SubjectKind(subject.kind).label} {subject.code}「{subject.name}」"
    return Problem(
        "DR-5",
        record,
        f"is of FY {record_year}, but its subject {named} is of FY {subject.fiscal_year}: "
        "correct the record's year or move it to the subject of that year",
    )


def _ref(subject_id: int) -> str:
    return f"subject#{subject_id}"


# --- The annual statement's counts (D12 after a late filing) ------------------------------------

#: How a statement states a number of departments or of units: "62个预算部门", "310家单位".
_DEPARTMENTS_STATED = re.compile(r"(\d+)\s*个(?:预算)?部门")
_UNITS_STATED = re.compile(r"(\d+)\s*[个家](?:预算)?单位")


def check_statement_counts(
    statement_ref: str, text: str, departments: int, units: int
) -> list[Problem]:
    """The finance authority's annual statement is authored text, never rewritten here; but its
    counts must agree with what is public, or a whole-department filing made after it was
    written shows in the difference (D7). Every number of departments it states must be at
    most `departments` (those public for the year), the largest must equal it (the coverage
    it reports), and every number of units must be at most `units`."""
    problems = []
    stated = [int(m.group(1)) for m in _DEPARTMENTS_STATED.finditer(text)]
    if stated and max(stated) != departments:
        problems.append(
            Problem(
                "DR-4g",
                statement_ref,
                f"the statement says {max(stated)} departments were covered, but "
                f"{departments} are public for the year: edit the statement",
            )
        )
    for count in sorted({int(m.group(1)) for m in _UNITS_STATED.finditer(text)}):
        if count > units:
            problems.append(
                Problem(
                    "DR-4g",
                    statement_ref,
                    f"the statement names {count} units, but only {units} are public for "
                    "the year: edit the statement",
                )
            )
    return problems
