"""The single-record checks of storage.validation, called directly, each limit on both sides.

test_validation.py shows that models and records call them; here each rule is stated on its own,
without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import pytest

from storage import validation
from storage.enums import (
    Comparator,
    DepartmentTier,
    Grade,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    ReleaseKind,
)
from storage.errors import InvalidRecord


@dataclass(frozen=True)
class Indicator:
    level1: IndicatorL1 = IndicatorL1.OUTPUT
    level2: IndicatorL2 = IndicatorL2.QUANTITY
    nature: IndicatorNature = IndicatorNature.QUANTITATIVE
    comparator: Comparator = Comparator.GE
    target_value_raw: str = "≥90%"
    target_value_number: D | None = D(90)
    weight: D | None = D(10)


QUALITATIVE = Indicator(
    nature=IndicatorNature.QUALITATIVE,
    comparator=Comparator.QUALITATIVE,
    target_value_raw="及时",
    target_value_number=None,
)


def refused(check: Any, *args: Any) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        check(*args)
    return caught.value


@pytest.mark.parametrize(
    "indicator",
    [
        Indicator(),
        QUALITATIVE,
        Indicator(weight=None),
        Indicator(weight=D(0)),
        Indicator(weight=D(100)),
        Indicator(level1=IndicatorL1.COST, level2=IndicatorL2.ECONOMIC_COST),
        Indicator(comparator=Comparator.EQ, target_value_number=D(0)),
    ],
)
def test_valid_indicators_pass(indicator: Indicator) -> None:
    validation.check_indicator(indicator)


@pytest.mark.parametrize(
    ("indicator", "field", "rule"),
    [
        (Indicator(level2=IndicatorL2.SOCIAL_BENEFIT), "target.level2", "indicator-level2-child"),
        (
            Indicator(comparator=Comparator.QUALITATIVE),
            "target.comparator",
            "indicator-comparator-nature",
        ),
        (
            replace(QUALITATIVE, comparator=Comparator.EQ),
            "target.comparator",
            "indicator-comparator-nature",
        ),
        (
            Indicator(target_value_number=None),
            "target.target_value_number",
            "indicator-quantitative-value",
        ),
        (Indicator(target_value_raw=" "), "target.target_value_raw", "required"),
        (Indicator(weight=D("-0.01")), "target.weight", "weight-range"),
        (Indicator(weight=D("100.01")), "target.weight", "weight-range"),
    ],
)
def test_invalid_indicators_are_refused(indicator: Indicator, field: str, rule: str) -> None:
    error = refused(validation.check_indicator, indicator, "target")
    assert (error.field, error.rule) == (field, rule)


def test_a_misplaced_level2_names_the_allowed_ones() -> None:
    error = refused(validation.check_indicator, Indicator(level2=IndicatorL2.SOCIAL_BENEFIT))
    assert error.field == "indicator.level2"
    assert "SOCIAL_BENEFIT (社会效益指标) is not a level-2 indicator of OUTPUT (产出指标)" in (
        error.message
    )
    assert error.message.endswith("allowed: OUTPUT_COST, QUALITY, QUANTITY, TIMELINESS")


def amounts(**overrides: str) -> SimpleNamespace:
    """Three columns of 100 = 60 + 30 + 10, with `overrides`."""
    block = {}
    for prefix in validation.AMOUNT_COLUMNS.values():
        block |= {
            f"{prefix}_total": D(100),
            f"{prefix}_appropriation": D(60),
            f"{prefix}_carry_over": D(30),
            f"{prefix}_other": D(10),
        }
    return SimpleNamespace(**(block | {k: D(v) for k, v in overrides.items()}))


def zero_column(prefix: str, **overrides: str) -> dict[str, str]:
    return {f"{prefix}_{r}": "0" for r in ("total", *validation.AMOUNT_ROWS)} | overrides


def test_amounts_that_add_up_pass() -> None:
    validation.check_amounts(amounts())
    validation.check_amounts(
        amounts(**zero_column("initial"), **zero_column("full_year"), **zero_column("executed"))
    )


@pytest.mark.parametrize("prefix", ["initial", "full_year", "executed"])
@pytest.mark.parametrize("row", ["appropriation", "carry_over", "other"])
def test_each_total_must_be_the_sum_of_its_rows(prefix: str, row: str) -> None:
    block = amounts(**{f"{prefix}_{row}": str(getattr(amounts(), f"{prefix}_{row}") + D("0.01"))})
    error = refused(validation.check_amounts, block, "subject")
    assert (error.field, error.rule) == (f"subject.{prefix}_total", "amounts-rows-add-up")
    assert "年度资金总额 100 ≠ 当年财政拨款 + 上年结转资金 + 其他资金 = 100.01" in error.message


@pytest.mark.parametrize("total", ["99.99", "100.01"])
def test_the_column_is_named_in_chinese(total: str) -> None:
    error = refused(validation.check_amounts, amounts(executed_total=total))
    assert error.field == "amounts.executed_total"
    assert error.message.startswith(f"全年执行数 年度资金总额 {total} ≠")


@pytest.mark.parametrize("prefix", ["initial", "full_year", "executed"])
@pytest.mark.parametrize("row", ["total", "appropriation", "carry_over", "other"])
def test_no_amount_may_be_negative(prefix: str, row: str) -> None:
    # The column adds up: only the sign of `row` is wrong (the total is checked first).
    if row == "total":
        column = zero_column(prefix, **{f"{prefix}_total": "-0.01", f"{prefix}_other": "-0.01"})
    else:
        other = "other" if row != "other" else "appropriation"
        column = zero_column(prefix, **{f"{prefix}_{row}": "-0.01", f"{prefix}_{other}": "0.01"})
    error = refused(validation.check_amounts, amounts(**column))
    assert (error.field, error.rule) == (f"amounts.{prefix}_{row}", "amount-non-negative")
    assert error.message == "amounts must not be negative"


def subject(**overrides: Any) -> SimpleNamespace:
    fields = {"fiscal_year": 2024, "name": "体育中心运营", "start_date": None, "end_date": None}
    return SimpleNamespace(**(vars(amounts()) | fields | overrides))


@pytest.mark.parametrize(
    "overrides",
    [
        {"fiscal_year": 2000},
        {"fiscal_year": 2100},
        {"start_date": date(2024, 1, 1), "end_date": date(2024, 1, 1)},
        {"start_date": date(2024, 1, 1), "end_date": date(2024, 12, 31)},
        {"start_date": date(2024, 1, 1), "end_date": None},
        {"start_date": None, "end_date": date(2024, 1, 1)},
    ],
)
def test_valid_subjects_pass(overrides: dict[str, Any]) -> None:
    validation.check_subject(subject(**overrides))


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"fiscal_year": 1999}, "fiscal_year", "fiscal-year-range"),
        ({"fiscal_year": 2101}, "fiscal_year", "fiscal-year-range"),
        ({"name": "  "}, "name", "required"),
        (
            {"start_date": date(2024, 1, 2), "end_date": date(2024, 1, 1)},
            "end_date",
            "date-order",
        ),
        ({"executed_other": D(11)}, "amounts.executed_total", "amounts-rows-add-up"),
    ],
)
def test_invalid_subjects_are_refused(overrides: dict[str, Any], field: str, rule: str) -> None:
    error = refused(validation.check_subject, subject(**overrides))
    assert (error.field, error.rule) == (field, rule)


def test_only_units_have_a_parent() -> None:
    validation.check_department_tier(DepartmentTier.DEPARTMENT, None)
    validation.check_department_tier(DepartmentTier.UNIT, 7)
    validation.check_department_tier("UNIT", 7)  # type: ignore[arg-type]
    error = refused(validation.check_department_tier, DepartmentTier.UNIT, None)
    assert (error.field, error.rule) == ("parent", "unit-has-department")
    error = refused(validation.check_department_tier, DepartmentTier.DEPARTMENT, 7)
    assert (error.field, error.rule) == ("parent", "department-top-level")


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (None, None),
        ("90.00", None),
        ("90.00", Grade.EXCELLENT),
        ("89.99", Grade.GOOD),
        ("89.99", "GOOD"),
        ("59.99", Grade.POOR),
    ],
)
def test_a_grade_that_its_score_earns_passes(score: str | None, grade: Grade | None) -> None:
    validation.check_evaluation_grade(None if score is None else D(score), grade)


@pytest.mark.parametrize(
    ("score", "earned"),
    [("95", Grade.EXCELLENT), ("85", Grade.GOOD), ("70", Grade.AVERAGE), ("30", Grade.POOR)],
)
def test_every_other_grade_is_refused(score: str, earned: Grade) -> None:
    validation.check_evaluation_grade(D(score), earned)
    for grade in set(Grade) - {earned}:
        error = refused(validation.check_evaluation_grade, D(score), grade)
        assert error.rule == "grade-from-score"


def test_a_grade_its_score_does_not_earn_is_refused() -> None:
    error = refused(validation.check_evaluation_grade, D("89.99"), Grade.EXCELLENT)
    assert (error.field, error.rule) == ("grade", "grade-from-score")
    assert "earns 良" in error.message
    error = refused(validation.check_evaluation_grade, None, Grade.GOOD)
    assert (error.field, error.rule) == ("grade", "grade-needs-score")


APPROVED = date(2024, 1, 25)


def release(kind: ReleaseKind, department_id: int | None, due: date) -> SimpleNamespace:
    return SimpleNamespace(
        kind=kind, department_id=department_id, approval_date=APPROVED, due_date=due
    )


def test_the_disclosure_deadline_is_20_days() -> None:
    assert validation.DISCLOSURE_DEADLINE_DAYS == 20
    validation.check_release(release(ReleaseKind.BUDGET, 1, date(2024, 2, 14)))
    for due in (date(2024, 2, 13), date(2024, 2, 15)):
        error = refused(validation.check_release, release(ReleaseKind.BUDGET, 1, due))
        assert (error.field, error.rule) == ("due_date", "due-date-20-days")
        assert error.message.endswith("+ 20 days: 2024-02-14")


@pytest.mark.parametrize(
    ("kind", "department_id", "ok"),
    [
        (ReleaseKind.BUDGET, 1, True),
        (ReleaseKind.BUDGET, None, False),
        (ReleaseKind.FINAL_ACCOUNTS, 1, True),
        (ReleaseKind.FINAL_ACCOUNTS, None, False),
        (ReleaseKind.FINANCE_ANNUAL, None, True),
        (ReleaseKind.FINANCE_ANNUAL, 1, False),
        ("FINANCE_ANNUAL", None, True),
    ],
)
def test_only_department_releases_have_a_department(
    kind: ReleaseKind, department_id: int | None, ok: bool
) -> None:
    candidate = release(kind, department_id, date(2024, 2, 14))
    if ok:
        validation.check_release(candidate)
    else:
        error = refused(validation.check_release, candidate)
        assert (error.field, error.rule) == ("department", "release-department")


@pytest.mark.parametrize(
    ("char", "refused"),
    [
        ("\x1f", True),  # the last C0 control
        (" ", False),  # 0x20, the first printable
        ("~", False),  # 0x7E
        ("\x7f", True),  # DEL, the first refused above 0x20
        ("\x9f", True),  # the last C1 control
        ("\xa0", False),  # 0xA0, no-break space: allowed
        ("\u2029", False),  # paragraph separator, just before the bidirectional embeddings
        ("\u202a", True),  # LEFT-TO-RIGHT EMBEDDING, the first
        ("\u202e", True),  # RIGHT-TO-LEFT OVERRIDE, the last of the run
        ("\u202f", False),  # narrow no-break space, just after
        ("\u2065", False),  # just before the isolates
        ("\u2066", True),  # LEFT-TO-RIGHT ISOLATE, the first
        ("\u2069", True),  # POP DIRECTIONAL ISOLATE, the last
        ("\u206a", False),  # just after
    ],
)
def test_control_characters_are_refused_at_their_bounds(char: str, refused: bool) -> None:
    rule = validation.Text(max_length=10)
    if not refused:
        validation.check_text("name", f"a{char}b", rule)
        return
    with pytest.raises(InvalidRecord) as caught:
        validation.check_text("name", f"a{char}b", rule)
    assert caught.value.rule == "no-control-characters"


def test_every_refused_character_is_one_that_printable_text_lacks() -> None:
    """check_text scans only text that is not printable throughout: that skips nothing only if
    no printable character is refused."""
    refused = [c for c in range(0x110000) if validation._forbidden(chr(c), multiline=False)]
    assert len(refused) == 0x20 + 0x21 + 5 + 4  # C0, DEL with C1, the embeddings, the isolates
    assert not any(chr(c).isprintable() for c in refused)


@pytest.mark.parametrize("value", ["999999999999999.99", "-999999999999999.99", "0", "1E+14"])
def test_numbers_below_10_to_the_15_are_accepted(value: str) -> None:
    validation.check_number("amount", D(value))


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1000000000000000", "number-range"),
        ("-1E+15", "number-range"),
        ("1E+400", "number-range"),
        ("NaN", "number-finite"),
        ("-Infinity", "number-finite"),
    ],
)
def test_numbers_of_10_to_the_15_and_more_are_refused(value: str, rule: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        validation.check_number("amount", D(value))
    assert (refused.value.field, refused.value.rule) == ("amount", rule)


def test_free_text_holds_5000_characters_with_tabs_and_line_breaks() -> None:
    validation.check_text("goal", "长\t\n\r" + "长" * 4996, validation.FREE_TEXT)
    with pytest.raises(InvalidRecord) as refused:
        validation.check_text("goal", "长" * 5001, validation.FREE_TEXT)
    assert refused.value.rule == "max-length"
    assert refused.value.message == "at most 5000 characters, not 5001"


def test_a_refused_control_character_says_whether_line_breaks_are_allowed() -> None:
    with pytest.raises(InvalidRecord) as multiline:
        validation.check_text("goal", "a\x00", validation.FREE_TEXT)
    assert multiline.value.message.endswith(" (tab and line breaks are allowed here)")
    with pytest.raises(InvalidRecord) as single:
        validation.check_text("name", "a\tb", validation.Text(max_length=10))
    assert single.value.message == "U+0009 control character at position 1 is not allowed"


def test_a_text_rule_cannot_be_changed_once_made() -> None:
    """The rules are shared constants (FREE_TEXT, the columns'): one caller cannot loosen them
    for every other."""
    with pytest.raises(AttributeError):
        validation.FREE_TEXT.max_length = 10**6  # type: ignore[misc]


@pytest.mark.parametrize(("record_year", "refused"), [(2023, True), (2024, False), (2025, True)])
def test_a_record_is_of_its_subjects_fiscal_year(record_year: int, refused: bool) -> None:
    if not refused:
        validation.check_subject_year(record_year, 2024)
        return
    with pytest.raises(InvalidRecord) as caught:
        validation.check_subject_year(record_year, 2024)
    assert (caught.value.field, caught.value.rule) == ("fiscal_year", "fiscal-year-of-subject")
