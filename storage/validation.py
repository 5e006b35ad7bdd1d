"""Single-record invariants, checked before anything is stored (architecture invariant 7).

Each check raises `InvalidRecord` naming the field and the rule. Models call them from `save()`;
bulk loaders (the demo) call them directly before `bulk_create`, which bypasses `save()`.
Rules that span several rows (self-assessment weights, filing projects) are in `storage.records`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from storage import scoring
from storage.enums import (
    INDICATOR_CHILDREN,
    AmountColumn,
    Comparator,
    DepartmentTier,
    Grade,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    ReleaseKind,
)
from storage.errors import InvalidRecord

#: DR-6: budgets and final accounts are published within 20 calendar days of approval.
DISCLOSURE_DEADLINE_DAYS = 20
AMOUNT_ROWS = ("appropriation", "carry_over", "other")
AMOUNT_COLUMNS = {
    AmountColumn.INITIAL: "initial",
    AmountColumn.FULL_YEAR: "full_year",
    AmountColumn.EXECUTED: "executed",
}


#: The largest magnitude of any number an input may carry: 1000 万亿 (10^15), far above any
#: budget, and small enough that every amount fits a BIGINT of 分 and every quantize to 分 or to
#: four places stays within Decimal's 28 digits. (A value such as 1e400 would fail there as an
#: unexpected error, and on the database as an overflow.)
MAX_NUMBER = Decimal(10) ** 15
#: Characters that no text keeps: the C0 controls (but tab, line feed and carriage return in
#: free text), DEL, the C1 controls, and the bidirectional embeddings, overrides and isolates
#: (U+202A–U+202E, U+2066–U+2069), which can make a published name read other than it is
#: ("Trojan Source"). PostgreSQL cannot store NUL at all.
_BIDI_CONTROLS = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
_LINE_BREAKS = frozenset("\t\n\r")


@dataclass(frozen=True)
class Text:
    """The rule of one text field: its longest length in characters (its column's, or a
    bound for free text), and whether it is free text that may hold tabs and line breaks."""

    max_length: int
    multiline: bool = False


#: Free text kept in a TEXT column (goals, deviation reasons): bounded all the same. The internal
#: API's inputs and the imported forms share it.
FREE_TEXT = Text(5000, multiline=True)


def _forbidden(char: str, multiline: bool) -> bool:
    code = ord(char)
    if multiline and char in _LINE_BREAKS:
        return False
    return code < 0x20 or 0x7F <= code <= 0x9F or code in _BIDI_CONTROLS


def check_text(field: str, value: str, rule: Text) -> None:
    """A text within its length that holds no control character it may not."""
    # Every forbidden character is non-printable, and most text is printable throughout: only
    # text with a line break, a full-width space or a control is scanned character by character.
    if not value.isprintable():
        _check_characters(field, value, rule)
    if len(value) > rule.max_length:
        raise InvalidRecord(
            field,
            "max-length",
            f"at most {rule.max_length} characters, not {len(value)}",
        )


def _check_characters(field: str, value: str, rule: Text) -> None:
    for position, char in enumerate(value):
        if _forbidden(char, rule.multiline):
            name = unicodedata.name(char, "control character")
            allowed = " (tab and line breaks are allowed here)" if rule.multiline else ""
            raise InvalidRecord(
                field,
                "no-control-characters",
                f"U+{ord(char):04X} {name} at position {position} is not allowed{allowed}",
            )


def check_number(field: str, value: Decimal) -> None:
    """A finite number of magnitude below `MAX_NUMBER`."""
    if not value.is_finite():
        raise InvalidRecord(field, "number-finite", f"{value} is not a finite number")
    if abs(value) >= MAX_NUMBER:
        raise InvalidRecord(
            field, "number-range", f"{value} is out of range: numbers lie below 10^15 in size"
        )


class IndicatorLike(Protocol):
    """An indicator model row or an input object: anything with these (read-only) fields."""

    @property
    def level1(self) -> IndicatorL1: ...
    @property
    def level2(self) -> IndicatorL2: ...
    @property
    def nature(self) -> IndicatorNature: ...
    @property
    def comparator(self) -> Comparator: ...
    @property
    def target_value_raw(self) -> str: ...
    @property
    def target_value_number(self) -> Decimal | None: ...
    @property
    def weight(self) -> Decimal | None: ...


def check_indicator(indicator: IndicatorLike, field: str = "indicator") -> None:
    """Level 2 must be a child of level 1; quantitative rows need a number, qualitative none."""
    l1, l2 = IndicatorL1(indicator.level1), IndicatorL2(indicator.level2)
    if l2 not in INDICATOR_CHILDREN[l1]:
        allowed = ", ".join(sorted(c.value for c in INDICATOR_CHILDREN[l1]))
        raise InvalidRecord(
            f"{field}.level2",
            "indicator-level2-child",
            f"{l2.value} ({l2.label}) is not a level-2 indicator of {l1.value} ({l1.label}); "
            f"allowed: {allowed}",
        )
    qualitative = Comparator(indicator.comparator) is Comparator.QUALITATIVE
    if qualitative != (IndicatorNature(indicator.nature) is IndicatorNature.QUALITATIVE):
        raise InvalidRecord(
            f"{field}.comparator",
            "indicator-comparator-nature",
            "a qualitative indicator uses the QUALITATIVE comparator, a quantitative one never",
        )
    if not qualitative and indicator.target_value_number is None:
        raise InvalidRecord(
            f"{field}.target_value_number",
            "indicator-quantitative-value",
            f"the quantitative target {indicator.target_value_raw!r} needs a numeric value",
        )
    if not indicator.target_value_raw.strip():
        raise InvalidRecord(f"{field}.target_value_raw", "required", "the target value is empty")
    if indicator.weight is not None and not (0 <= indicator.weight <= 100):
        raise InvalidRecord(f"{field}.weight", "weight-range", "a weight lies in 0–100")


def check_amounts(record: Any, field: str = "amounts") -> None:
    """Each column of the amounts block: total = appropriation + carry-over + other, none < 0."""
    for column, prefix in AMOUNT_COLUMNS.items():
        parts = [getattr(record, f"{prefix}_{row}") for row in AMOUNT_ROWS]
        total = getattr(record, f"{prefix}_total")
        for row, value in zip(("total", *AMOUNT_ROWS), (total, *parts), strict=True):
            if value < 0:
                raise InvalidRecord(
                    f"{field}.{prefix}_{row}", "amount-non-negative", "amounts must not be negative"
                )
        if total != sum(parts, Decimal(0)):
            raise InvalidRecord(
                f"{field}.{prefix}_total",
                "amounts-rows-add-up",
                f"{column.label} 年度资金总额 {total} ≠ 当年财政拨款 + 上年结转资金 + 其他资金 "
                f"= {sum(parts, Decimal(0))}",
            )


def check_subject(subject: Any) -> None:
    if subject.fiscal_year < 2000 or subject.fiscal_year > 2100:
        raise InvalidRecord("fiscal_year", "fiscal-year-range", "a fiscal year lies in 2000–2100")
    if not subject.name.strip():
        raise InvalidRecord("name", "required", "the subject needs a name")
    if subject.start_date and subject.end_date and subject.end_date < subject.start_date:
        raise InvalidRecord("end_date", "date-order", "the end date precedes the start date")
    check_amounts(subject)


def check_department_tier(tier: DepartmentTier, parent_id: int | None) -> None:
    """A 主管部门 has no parent; a unit always belongs to one."""
    if DepartmentTier(tier) is DepartmentTier.UNIT and parent_id is None:
        raise InvalidRecord("parent", "unit-has-department", "a budget unit needs its department")
    if DepartmentTier(tier) is DepartmentTier.DEPARTMENT and parent_id is not None:
        raise InvalidRecord("parent", "department-top-level", "a department has no parent")


def check_evaluation_grade(score: Decimal | None, grade: Grade | None) -> None:
    """SR-1: a scored evaluation's grade is the one its score earns."""
    if score is None:
        if grade is not None:
            raise InvalidRecord("grade", "grade-needs-score", "a grade needs a score")
        return
    expected = scoring.grade_for(score)
    if grade is not None and Grade(grade) is not expected:
        raise InvalidRecord(
            "grade", "grade-from-score", f"a score of {score} earns {expected.label}, not {grade}"
        )


def check_release(release: Any) -> None:
    """D8: BUDGET and FINAL_ACCOUNTS releases belong to a department, FINANCE_ANNUAL to none."""
    per_department = ReleaseKind(release.kind) is not ReleaseKind.FINANCE_ANNUAL
    if per_department and release.department_id is None:
        raise InvalidRecord("department", "release-department", "this release kind needs one")
    if not per_department and release.department_id is not None:
        raise InvalidRecord(
            "department", "release-department", "a FINANCE_ANNUAL release has no department"
        )
    expected = release.approval_date + timedelta(days=DISCLOSURE_DEADLINE_DAYS)
    if release.due_date != expected:
        raise InvalidRecord(
            "due_date",
            "due-date-20-days",
            f"the due date is the approval date + {DISCLOSURE_DEADLINE_DAYS} days: {expected}",
        )


def check_subject_year(record_year: int, subject_year: int, field: str = "fiscal_year") -> None:
    """DR-5 (双同步): a target, self-assessment or evaluation is about its subject's fiscal
    year; one of another year would ride the wrong release, or none."""
    if record_year != subject_year:
        raise InvalidRecord(
            field,
            "fiscal-year-of-subject",
            f"the record is of FY {record_year}, its subject of FY {subject_year}: a record "
            "rides the release of its subject's year (DR-5)",
        )
