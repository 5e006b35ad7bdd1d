"""Who may do what to which records of the internal API: the role matrix, as data, and the one
check every field and mutation goes through (architecture invariant 6, issue 5).

Two rules combine:

- **Role and scope.** `MATRIX[role][action]` is the scope a role holds an action in: its own
  department (the token's `dept` claim, a 主管部门 code) and that department's units, or all
  departments. A caller holds the widest scope any of its roles gives.
- **Classified stubs (decisions.md D6).** A record under an active CLASSIFIED filing of its
  fiscal year (a whole-department filing covers the department and its units) is visible only to
  the users of its own department and to holders of the classified clearance — whatever their
  role. Of a CLASSIFIED subject only the identity stub exists: the API refuses content (targets,
  amounts, assessments, files) for everyone.

Records a caller may not read do not exist for it: lookups answer "not found" exactly as for a
missing id, so neither a result, a count nor an error message says that they are there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info
from tortoise.expressions import Q

from storage import models
from storage.enums import FilingReason, FilingScope, FilingStatus, ReleaseStatus


@dataclass(frozen=True)
class Caller:
    """The verified caller, as the API layer hands it in (schema imports nothing from api)."""

    subject: str
    roles: tuple[str, ...]
    department: str | None
    classified: bool


class Action(str, Enum):
    READ = "read"  # working records: departments, subjects, targets, assessments, filings, releases
    EDIT_DEPARTMENT = "edit_department"  # create / update departments and units
    EDIT_SUBJECT = "edit_subject"  # create / update projects, policies, department-overall
    EDIT_TARGET = "edit_target"  # create, edit (while DRAFT or REJECTED) and submit a target
    REVIEW_TARGET = "review_target"  # 主管部门审核
    APPROVE_TARGET = "approve_target"  # 财政审核: approve or reject with a reason
    RECORD_ASSESSMENT = "record_assessment"  # 绩效自评
    RECORD_MONITORING = "record_monitoring"  # 绩效运行监控 ("双监控")
    RECORD_EX_ANTE = "record_ex_ante"  # 事前绩效评估
    # 绩效评价, its report files, its findings (问题) with 整改通知, flagging overdue 整改
    RECORD_EVALUATION = "record_evaluation"
    REPORT_RECTIFICATION = "report_rectification"  # the department reports its 整改 measures
    UPLOAD_DOCUMENT = "upload_document"  # a department's budget / final-accounts documents
    FILE_FILING = "file_filing"  # 涉密/敏感备案: file one, revoke one (the finance bureau)
    WITHDRAW_FILING = "withdraw_filing"  # the filing department takes its own filing back
    MANAGE_RELEASE = "manage_release"  # create, schedule, check
    PUBLISH_RELEASE = "publish_release"  # publish, withdraw
    READ_AUDIT = "read_audit"  # the audit log
    # DR-10: register the names and terms a release must not publish (the department knows them)
    PROTECT_TERMS = "protect_terms"
    # DR-10: decide a finding of the personal-data guard — not personal data (with a reason), or
    # redact the field with its legal basis. The finance bureau's, like sensitivity filings: it
    # decides what is withheld and on what basis; the publisher, who runs the gate, does not
    # also clear it (two people between a finding and the public).
    REVIEW_PERSONAL_DATA = "review_personal_data"


class Scope(str, Enum):
    OWN = "own department and its units"
    ALL = "all departments"


_EVERYTHING = dict.fromkeys(Action, Scope.ALL)

#: role → action → scope. An action missing from a role's row is refused to that role.
MATRIX: dict[str, dict[Action, Scope]] = {
    "department_editor": {
        Action.READ: Scope.OWN,
        Action.EDIT_DEPARTMENT: Scope.OWN,
        Action.EDIT_SUBJECT: Scope.OWN,
        Action.EDIT_TARGET: Scope.OWN,
        Action.REVIEW_TARGET: Scope.OWN,
        Action.RECORD_ASSESSMENT: Scope.OWN,
        Action.RECORD_MONITORING: Scope.OWN,
        Action.RECORD_EX_ANTE: Scope.OWN,
        Action.REPORT_RECTIFICATION: Scope.OWN,
        Action.UPLOAD_DOCUMENT: Scope.OWN,
        Action.WITHDRAW_FILING: Scope.OWN,
        Action.PROTECT_TERMS: Scope.OWN,
    },
    "finance_officer": {
        Action.READ: Scope.ALL,
        Action.EDIT_DEPARTMENT: Scope.ALL,
        Action.EDIT_SUBJECT: Scope.ALL,
        Action.APPROVE_TARGET: Scope.ALL,
        Action.RECORD_MONITORING: Scope.ALL,
        Action.RECORD_EX_ANTE: Scope.ALL,
        Action.RECORD_EVALUATION: Scope.ALL,
        Action.FILE_FILING: Scope.ALL,
        Action.PROTECT_TERMS: Scope.ALL,
        Action.REVIEW_PERSONAL_DATA: Scope.ALL,
    },
    "publisher": {
        Action.READ: Scope.ALL,
        Action.MANAGE_RELEASE: Scope.ALL,
        Action.PUBLISH_RELEASE: Scope.ALL,
    },
    "auditor": {Action.READ: Scope.ALL, Action.READ_AUDIT: Scope.ALL},
    "admin": _EVERYTHING,
}


#: DR-12, the release state machine: (from, to) → the action that moves a release so. A
#: transition missing here is refused to everyone. DRAFT → PUBLISHED is missing on purpose: a
#: release is scheduled (its publish-at time set, by whoever manages releases) before anyone
#: may publish it. PUBLISHED → PUBLISHED is a correction (a new version, with its reason);
#: PUBLISHED → DRAFT is a whole-department filing enforced after publication (D12).
RELEASE_TRANSITIONS: dict[tuple[ReleaseStatus, ReleaseStatus], Action] = {
    (ReleaseStatus.DRAFT, ReleaseStatus.SCHEDULED): Action.MANAGE_RELEASE,
    (ReleaseStatus.SCHEDULED, ReleaseStatus.SCHEDULED): Action.MANAGE_RELEASE,
    (ReleaseStatus.SCHEDULED, ReleaseStatus.PUBLISHED): Action.PUBLISH_RELEASE,
    (ReleaseStatus.PUBLISHED, ReleaseStatus.PUBLISHED): Action.PUBLISH_RELEASE,
    (ReleaseStatus.PUBLISHED, ReleaseStatus.DRAFT): Action.PUBLISH_RELEASE,
}


def release_transition(current: ReleaseStatus, to: ReleaseStatus) -> Action | None:
    """The action that moves a release from `current` to `to`, or None when no one may."""
    return RELEASE_TRANSITIONS.get((ReleaseStatus(current), ReleaseStatus(to)))


def scope_of(caller: Caller, action: Action) -> Scope | None:
    """The widest scope any of the caller's roles holds `action` in, or None."""
    scopes = {MATRIX.get(role, {}).get(action) for role in caller.roles}
    if Scope.ALL in scopes:
        return Scope.ALL
    if Scope.OWN in scopes and caller.department is not None:
        return Scope.OWN
    return None


@dataclass
class Visibility:
    """What one caller may see, computed once per request from the departments and the active
    CLASSIFIED filings (both small tables)."""

    caller: Caller
    own_departments: frozenset[int]
    #: departments (and units) under an active CLASSIFIED whole-department filing of any year
    classified_departments: frozenset[int]
    #: subjects under an active CLASSIFIED filing of their fiscal year (stubs, for everyone)
    classified_subjects: frozenset[int]
    classified_filings: frozenset[int]
    #: fiscal year → departments and units under a CLASSIFIED whole-department filing of it
    classified_by_year: dict[int, frozenset[int]] = field(default_factory=dict)
    _subject_departments: dict[int, tuple[int, int | None]] = field(default_factory=dict)

    def owns(self, department_id: int | None) -> bool:
        return department_id is not None and department_id in self.own_departments

    def in_scope(self, action: Action, department_id: int | None) -> bool:
        scope = scope_of(self.caller, action)
        return scope is Scope.ALL or (scope is Scope.OWN and self.owns(department_id))

    def sees_classified(self, department_id: int | None) -> bool:
        return self.caller.classified or self.owns(department_id)

    # --- what the caller may not see, for queryset filters ------------------------------------

    def hidden_departments(self) -> set[int]:
        if self.caller.classified:
            return set()
        return set(self.classified_departments - self.own_departments)

    def hidden_subjects(self) -> set[int]:
        if self.caller.classified:
            return set()
        return {
            subject_id
            for subject_id in self.classified_subjects
            if not self.owns(self._subject_departments[subject_id][0])
        }

    def hidden_filings(self, filings: Iterable[tuple[int, int]]) -> set[int]:
        """Of (filing id, department id) pairs, the CLASSIFIED filings hidden from the caller."""
        return {
            filing_id
            for filing_id, department_id in filings
            if filing_id in self.classified_filings and not self.sees_classified(department_id)
        }

    # --- single records ------------------------------------------------------------------------

    def can_read_department(self, department: models.Department) -> bool:
        return self.in_scope(Action.READ, department.id) and (
            department.id not in self.classified_departments or self.sees_classified(department.id)
        )

    def can_read_subject(self, subject: models.Subject) -> bool:
        return self.in_scope(Action.READ, subject.department_id) and (
            subject.id not in self.classified_subjects
            or self.sees_classified(subject.department_id)
        )

    def is_stub(self, subject_id: int) -> bool:
        """A CLASSIFIED subject: only its identity is kept; content is refused (D6)."""
        return subject_id in self.classified_subjects

    def would_be_stub(self, fiscal_year: int, *department_ids: int | None) -> bool:
        """Would a new subject of this year and department (or unit) be a CLASSIFIED stub?"""
        covered = self.classified_by_year.get(fiscal_year, frozenset())
        return any(d in covered for d in department_ids if d is not None)


async def visibility(caller: Caller) -> Visibility:
    departments = await models.Department.all().values_list("id", "parent_id", "code")
    children: dict[int, list[int]] = {}
    for dept_id, parent_id, _ in departments:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(dept_id)
    own: set[int] = set()
    if caller.department is not None:
        for dept_id, parent_id, code in departments:
            if code == caller.department and parent_id is None:
                own.update([dept_id, *children.get(dept_id, [])])
    filings = await models.SensitivityFiling.filter(
        reason=FilingReason.CLASSIFIED,
        status__in=[FilingStatus.FILED, FilingStatus.ACCEPTED],
    ).prefetch_related("projects")
    classified_departments: set[int] = set()
    whole_years: dict[int, set[int]] = {}  # fiscal year → covered departments and units
    subjects: set[int] = set()
    for filing in filings:
        if FilingScope(filing.scope) is FilingScope.WHOLE_DEPARTMENT:
            covered = {filing.department_id, *children.get(filing.department_id, [])}
            classified_departments |= covered
            whole_years.setdefault(filing.fiscal_year, set()).update(covered)
        else:
            subjects.update(p.id for p in filing.projects if p.fiscal_year == filing.fiscal_year)
    subject_departments: dict[int, tuple[int, int | None]] = {}
    # Only the subjects a CLASSIFIED filing can cover: those of the filed projects and those of
    # (or carried out by) a department under a whole-department filing — not every subject.
    covered_any = list(set().union(*whole_years.values())) if whole_years else []
    rows: list[Any] = []
    if covered_any or subjects:
        rows = await models.Subject.filter(
            Q(department_id__in=covered_any or [0])
            | Q(implementing_unit_id__in=covered_any or [0])
            | Q(id__in=list(subjects) or [0])
        ).values_list("id", "department_id", "implementing_unit_id", "fiscal_year")
    for subject_id, department_id, unit_id, year in rows:
        subject_departments[subject_id] = (department_id, unit_id)
        covered = whole_years.get(year, set())
        if department_id in covered or unit_id in covered:
            subjects.add(subject_id)
    return Visibility(
        caller=caller,
        own_departments=frozenset(own),
        classified_departments=frozenset(classified_departments),
        classified_subjects=frozenset(subjects),
        classified_filings=frozenset(f.id for f in filings),
        classified_by_year={year: frozenset(ids) for year, ids in whole_years.items()},
        _subject_departments=subject_departments,
    )


def allows(caller: Caller, action: Action) -> bool:
    """The role half of the check: does any role grant `action` at all?"""
    return scope_of(caller, action) is not None


def requires(action: Action) -> type[BasePermission]:
    """A strawberry permission class for query fields: the caller's roles must grant `action`."""

    class Permission(BasePermission):
        message = f"forbidden: your roles do not allow `{action.value}`"
        error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 (strawberry declares it)

        def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
            return allows(info.context.caller, action)

    Permission.__name__ = f"Requires_{action.value}"
    return Permission


def matrix_rows() -> list[tuple[str, dict[str, str]]]:
    """The matrix as text, for the README and the tests."""
    return [
        (role, {action.value: scope.name for action, scope in actions.items()})
        for role, actions in MATRIX.items()
    ]
