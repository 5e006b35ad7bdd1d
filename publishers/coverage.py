"""The jurisdiction's whole obligation for a fiscal year (应公开尽公开), not only the contents of
the releases that exist: `gongkai check --year N`, `publish --all` and the finance dashboard.

A release's own check (publishers/select.py) sees only its department. What it cannot see:

- DR-3 at the jurisdiction level: an in-scope subject no filing covers must be public in its
  department's BUDGET release and in its FINAL_ACCOUNTS release of its year. A department with
  no release, or with one not (yet) published, leaves its subjects undisclosed.
- DR-4(e): at least one fiscal policy a year selected by the finance bureau for publication.

What is public is read from the snapshot rows (`Disclosure`) of the published releases, so the
answer is about the public state, whatever the releases say of themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from publishers import rules
from publishers.facts import SubjectFact
from publishers.records import subject_key
from publishers.select import YearFacts, load_year
from storage import models
from storage.enums import (
    DepartmentTier,
    RecordType,
    ReleaseKind,
    ReleaseStatus,
    Sensitivity,
    SubjectKind,
)

#: The releases every department with in-scope subjects owes for a year (D8, DR-5 双同步).
DEPARTMENT_KINDS = (ReleaseKind.BUDGET, ReleaseKind.FINAL_ACCOUNTS)


@dataclass
class Tally:
    """How many are due, published in full, missing something, or exempt under filings."""

    due: int = 0
    published: int = 0
    missing: int = 0
    exempt: int = 0


@dataclass
class YearCoverage:
    jurisdiction_code: str
    fiscal_year: int
    departments: Tally = field(default_factory=Tally)
    subjects: Tally = field(default_factory=Tally)
    problems: list[rules.Problem] = field(default_factory=list)


def named(subject: SubjectFact) -> str:
    return f"{SubjectKind(subject.kind).label} {subject.code}「{subject.name}」"


async def check_year(jurisdiction: models.Jurisdiction, fiscal_year: int) -> YearCoverage:
    """Every in-scope record of the year that is not public where it must be, with the rule
    it breaks; and the tallies the dashboard shows. Filed subjects are counted as exempt and
    never named (invariant 2)."""
    facts = await load_year(jurisdiction.id, fiscal_year)
    releases = await models.Release.filter(
        jurisdiction_id=jurisdiction.id, fiscal_year=fiscal_year, kind__in=list(DEPARTMENT_KINDS)
    ).order_by("id")
    by_owner = {(r.department_id, r.kind): r for r in releases}
    public = {
        (str(key), ReleaseKind(kind))
        for key, kind in await models.Disclosure.filter(
            jurisdiction_code=jurisdiction.code,
            record_type=RecordType.SUBJECT,
            fiscal_year=fiscal_year,
            release_kind__in=list(DEPARTMENT_KINDS),
        ).values_list("record_key", "release_kind")
    }
    found = YearCoverage(jurisdiction.code, fiscal_year)
    departments = sorted(
        (d for d in facts.departments.values() if d.tier is DepartmentTier.DEPARTMENT),
        key=lambda d: d.id,
    )
    for department in departments:
        family = facts.coverage.department_with_units(department.id)
        own = sorted(
            (s for s in facts.subjects.values() if s.department_id in family and rules.in_scope(s)),
            key=lambda s: s.id,
        )
        if not own:
            continue
        if facts.coverage.department_sensitivity(department.id) != Sensitivity.NONE:
            found.departments.exempt += 1
            found.subjects.exempt += len(own)
            continue
        found.departments.due += 1
        complete = True
        for subject in own:
            if facts.coverage.subject_sensitivity(subject.id) != Sensitivity.NONE:
                found.subjects.exempt += 1
                continue
            found.subjects.due += 1
            key = _key(jurisdiction, facts, subject)
            gaps = [
                _missing(department, subject, kind, by_owner.get((department.id, kind)))
                for kind in DEPARTMENT_KINDS
                if (key, kind) not in public
            ]
            found.problems += gaps
            if gaps:
                found.subjects.missing += 1
                complete = False
            else:
                found.subjects.published += 1
        if complete:
            found.departments.published += 1
        else:
            found.departments.missing += 1
    found.problems += _policy_problems(jurisdiction, fiscal_year, facts)
    return found


def _key(jurisdiction: models.Jurisdiction, facts: YearFacts, subject: SubjectFact) -> str:
    department = facts.departments[subject.department_id]
    return subject_key(
        jurisdiction.code, department.code, str(subject.kind), subject.code, subject.fiscal_year
    )


def _missing(
    department: models.Department,
    subject: SubjectFact,
    kind: ReleaseKind,
    release: models.Release | None,
) -> rules.Problem:
    where = f"{department.name}（{department.code}）"
    if release is None:
        why = f"{where} has no {kind.label} release (D8) for FY {subject.fiscal_year}"
    elif release.status is not ReleaseStatus.PUBLISHED:
        why = f"its {kind.label} release #{release.id} is {ReleaseStatus(release.status).value}"
    else:
        why = f"its published {kind.label} release #{release.id} does not carry it"
    return rules.Problem(
        "DR-3", f"subject#{subject.id}", f"{named(subject)} is in scope and unfiled, but {why}"
    )


def _policy_problems(
    jurisdiction: models.Jurisdiction, fiscal_year: int, facts: YearFacts
) -> list[rules.Problem]:
    """DR-4(e) [S:002]: the finance bureau selects at least one fiscal policy a year whose
    target its department publishes. A year with no subjects at all owes nothing."""
    if not facts.subjects:
        return []
    selected = [
        s
        for s in facts.subjects.values()
        if s.kind == SubjectKind.POLICY
        and s.publication_selected
        and facts.coverage.subject_sensitivity(s.id) == Sensitivity.NONE
    ]
    if selected:
        return []
    return [
        rules.Problem(
            "DR-4e",
            f"jurisdiction#{jurisdiction.id}",
            f"no fiscal policy (财政政策) of FY {fiscal_year} is selected for publication: "
            "the finance bureau selects at least one a year",
        )
    ]


async def years_of(jurisdiction: models.Jurisdiction) -> list[int]:
    """The fiscal years a jurisdiction has subjects or department releases of."""
    years = set(
        await models.Subject.filter(department__jurisdiction_id=jurisdiction.id)
        .distinct()
        .values_list("fiscal_year", flat=True)
    )
    years |= set(
        await models.Release.filter(
            jurisdiction_id=jurisdiction.id, kind__in=list(DEPARTMENT_KINDS)
        )
        .distinct()
        .values_list("fiscal_year", flat=True)
    )
    return sorted(int(str(y)) for y in years)


async def check_years(
    jurisdictions: Sequence[models.Jurisdiction], years: Sequence[int] | None = None
) -> list[YearCoverage]:
    """`check_year` for each jurisdiction and each of `years` (default: every year it has)."""
    found = []
    for jurisdiction in jurisdictions:
        for year in years if years is not None else await years_of(jurisdiction):
            found.append(await check_year(jurisdiction, year))
    return found
