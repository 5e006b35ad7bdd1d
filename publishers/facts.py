"""The facts the disclosure rules decide on: small frozen records read from the working tables.

`publishers.rules` is pure, so the selection step reads the ORM rows once and hands the rules these
snapshots. Each fact carries only what some rule needs. A subject's name and code are here only so
that problems about *unfiled* records can name them; the rules never put a filed record's name or
code into a message (architecture invariant 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.enums import (
    ACTIVE_FILING_STATUSES,
    FilingReason,
    FilingScope,
    FilingStatus,
    ReviewStatus,
    SubjectKind,
    TransferType,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartmentFact:
    """A 主管部门 (`parent_id` None) or a 所属预算单位 under a department or another unit."""

    id: int
    parent_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectFact:
    """A performance subject (绩效主体) of one fiscal year: project, policy or overall expenditure.

    `parent_id` is the 一级项目 of a 二级项目. `budgeted` is true when the subject's initial or
    full-year total (年初预算数 / 全年预算数) is above zero: that is what DR-7 asks a target of.
    """

    id: int
    kind: SubjectKind
    code: str
    name: str
    fiscal_year: int
    department_id: int
    implementing_unit_id: int | None
    parent_id: int | None
    in_disclosure_scope: bool
    publication_selected: bool
    transfer_type: TransferType
    budgeted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FilingFact:
    """A sensitivity filing (涉密/敏感备案) of one department for one fiscal year (domain.md §3.14).

    `project_ids` lists the projects of a PROJECTS filing; a WHOLE_DEPARTMENT filing needs none.
    """

    id: int
    department_id: int
    fiscal_year: int
    scope: FilingScope
    reason: FilingReason
    status: FilingStatus
    project_ids: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        """D5: FILED and ACCEPTED both count, so leaving a filing unaccepted publishes nothing."""
        return self.status in ACTIVE_FILING_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetFact:
    """A performance target (绩效目标) of a subject, with where it stands in review."""

    subject_id: int
    review_status: ReviewStatus
