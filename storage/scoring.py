"""The scoring and grading rules of self-assessments and evaluations (domain.md §4, SR-1…SR-7).

Pure functions over `Decimal`. Rates are kept exact and every score is rounded half-up
(四舍五入) to 0.01 once, at the end (decisions.md D2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from storage.enums import (
    INDICATOR_CHILDREN,
    Comparator,
    Grade,
    IndicatorL1,
    IndicatorL2,
    QualitativeBand,
)
from storage.errors import InvalidRecord
from storage.money import half_up

EXECUTION_WEIGHT = Decimal(10)
"""SR-2: budget execution is worth 10 of the 100 points."""

FULL_MARKS = Decimal(100)

#: SR-2 defaults for the level-1 indicators; units may split them further.
DEFAULT_L1_WEIGHTS = {"OUTPUT": Decimal(50), "BENEFIT": Decimal(30), "SATISFACTION": Decimal(10)}

#: SR-5: the share of the weight an assessor may award in each qualitative band.
QUALITATIVE_BANDS: dict[QualitativeBand, tuple[Decimal, Decimal]] = {
    QualitativeBand.ACHIEVED: (Decimal("0.8"), Decimal("1")),
    QualitativeBand.PARTLY_ACHIEVED: (Decimal("0.6"), Decimal("0.8")),
    QualitativeBand.NOT_ACHIEVED: (Decimal("0"), Decimal("0.6")),
}


def grade_for(score: Decimal) -> Grade:
    """SR-1: 90 ≤ s → 优, 80 ≤ s < 90 → 良, 60 ≤ s < 80 → 中, s < 60 → 差."""
    if score < 0 or score > FULL_MARKS:
        raise InvalidRecord("score", "score-range", f"a score must lie in 0–100, got {score}")
    if score >= 90:
        return Grade.EXCELLENT
    if score >= 80:
        return Grade.GOOD
    if score >= 60:
        return Grade.AVERAGE
    return Grade.POOR


def execution_rate(executed: Decimal, full_year_budget: Decimal) -> Decimal:
    """SR-3: 全年执行数 / 全年预算数, exact (a ratio, not a percentage)."""
    if full_year_budget <= 0:
        raise InvalidRecord(
            "full_year_budget",
            "execution-rate-budget-positive",
            "全年预算数 must be greater than 0 to compute the execution rate",
        )
    if executed < 0:
        raise InvalidRecord("executed", "amount-non-negative", "全年执行数 must not be negative")
    rate = executed / full_year_budget
    check_rate_percent("executed", rate * 100)
    return rate


#: The largest execution rate a record keeps, in percent: its column holds five digits before
#: the decimal point. Spending a thousand times the budget is a typing error, not a rate.
MAX_RATE_PERCENT = Decimal("99999.99")


def check_rate_percent(field: str, percent: Decimal) -> None:
    if percent > MAX_RATE_PERCENT:
        raise InvalidRecord(
            field,
            "execution-rate-range",
            f"the execution rate would be {half_up(percent)}%: at most {MAX_RATE_PERCENT}% "
            "(check the amounts)",
        )


def execution_score(executed: Decimal, full_year_budget: Decimal) -> Decimal:
    """SR-3: 10 × execution rate, rounded half-up to 0.01, capped at 10."""
    rate = execution_rate(executed, full_year_budget)
    return min(EXECUTION_WEIGHT, half_up(EXECUTION_WEIGHT * rate))


def rate_percent(rate: Decimal) -> Decimal:
    """An exact rate as a percentage with two places, for display and publication."""
    return half_up(rate * 100)


def quantitative_score(
    comparator: Comparator, weight: Decimal, target: Decimal, actual: Decimal
) -> Decimal:
    """SR-4: full weight when the target is met, else proportional; capped at the weight.

    ≥/＞ indicators score weight × actual / target; ≤/＜ (reverse) ones weight × target / actual;
    ＝ ones weight × the smaller over the larger of the two.
    """
    if comparator is Comparator.QUALITATIVE:
        raise InvalidRecord("comparator", "quantitative-comparator", "not a quantitative row")
    if actual < 0 or target < 0:
        raise InvalidRecord("actual_value", "value-non-negative", "values must not be negative")
    met = {
        Comparator.GE: actual >= target,
        Comparator.GT: actual > target,
        Comparator.LE: actual <= target,
        Comparator.LT: actual < target,
        Comparator.EQ: actual == target,
    }[comparator]
    if met:
        return half_up(weight)
    if comparator in (Comparator.GE, Comparator.GT):
        share = actual / target if target else Decimal(1)
    elif comparator in (Comparator.LE, Comparator.LT):
        share = target / actual if actual else Decimal(1)
    else:
        low, high = sorted((actual, target))
        share = low / high if high else Decimal(1)
    return min(half_up(weight), half_up(weight * share))


def check_qualitative_score(band: QualitativeBand, weight: Decimal, score: Decimal) -> None:
    """SR-5: the score an assessor gives must lie inside its band's share of the weight."""
    low, high = QUALITATIVE_BANDS[band]
    if not (weight * low <= score <= weight * high):
        raise InvalidRecord(
            "score",
            "qualitative-band",
            f"a {band.label} row of weight {weight} must score between "
            f"{half_up(weight * low)} and {half_up(weight * high)}, got {score}",
        )


def total_score(execution: Decimal, row_scores: Iterable[Decimal]) -> Decimal:
    """SR-6: execution score plus the row scores, at most 100."""
    return min(FULL_MARKS, half_up(execution + sum(row_scores, Decimal(0))))


def check_weights(row_weights: Iterable[Decimal]) -> None:
    """SR-2: the row weights plus the 10 points of execution must total exactly 100."""
    total = sum(row_weights, Decimal(0)) + EXECUTION_WEIGHT
    if total != FULL_MARKS:
        raise InvalidRecord(
            "rows.weight",
            "weights-total-100",
            f"indicator weights plus 10 for budget execution must total 100, got {total}",
        )


def check_deviation_reason(position: int, weight: Decimal, score: Decimal, reason: str) -> None:
    """SR-7: a row scored below its weight needs its 偏差原因分析及改进措施."""
    if score < weight and not reason.strip():
        raise InvalidRecord(
            f"rows[{position}].deviation_reason",
            "deviation-reason-required",
            f"scored {score} of {weight}: give the deviation reasons and improvement measures",
        )


@dataclass(frozen=True)
class RowInput:
    """One row of a self-assessment form as a department fills it in."""

    level1: IndicatorL1
    level2: IndicatorL2
    indicator_name: str
    comparator: Comparator
    target_value_raw: str
    actual_value_raw: str
    weight: Decimal
    target_value_number: Decimal | None = None
    actual_value_number: Decimal | None = None
    qualitative_band: QualitativeBand | None = None
    qualitative_score: Decimal | None = None
    deviation_reason: str = ""
    indicator_id: int | None = None


@dataclass(frozen=True)
class ScoredRow:
    row: RowInput
    score: Decimal


@dataclass(frozen=True)
class ScoredAssessment:
    execution_rate: Decimal
    execution_score: Decimal
    rows: tuple[ScoredRow, ...]
    total_score: Decimal
    grade: Grade


def states_its_target(row: RowInput) -> bool:
    """SR-5: a qualitative row whose actual value is its target, word for word ("规范" → "规范"),
    has met it in full."""
    return row.actual_value_raw.strip() == row.target_value_raw.strip()


def score_row(position: int, row: RowInput) -> Decimal:
    """SR-4 for quantitative rows; SR-5 (band check) for qualitative ones, where a row that
    states its target must be ACHIEVED with the full weight."""
    if row.comparator is Comparator.QUALITATIVE:
        if row.qualitative_band is None or row.qualitative_score is None:
            raise InvalidRecord(
                f"rows[{position}].qualitative_band",
                "qualitative-band-required",
                "a qualitative row needs the band the assessor chose and the score given",
            )
        try:
            check_qualitative_score(row.qualitative_band, row.weight, row.qualitative_score)
        except InvalidRecord as error:
            raise InvalidRecord(f"rows[{position}].score", error.rule, error.message) from None
        met = (
            # `==`, not `is`: a band read with `values()` is its plain string.
            row.qualitative_band == QualitativeBand.ACHIEVED and row.qualitative_score == row.weight
        )
        if states_its_target(row) and not met:
            # Otherwise a published form reads "规范 → 规范" scored below its weight, with a
            # deviation reason for a deviation that did not happen.
            raise InvalidRecord(
                f"rows[{position}].score",
                "qualitative-met-full-weight",
                f"the actual value {row.actual_value_raw.strip()!r} is the target: the row is "
                f"{QualitativeBand.ACHIEVED.label} and scores its full weight {half_up(row.weight)}"
                f", not {row.qualitative_score}; otherwise describe the actual value as it is",
            )
        return half_up(row.qualitative_score)
    if row.target_value_number is None or row.actual_value_number is None:
        raise InvalidRecord(
            f"rows[{position}].actual_value_number",
            "quantitative-values-required",
            "a quantitative row needs numeric target and actual values",
        )
    return quantitative_score(
        row.comparator, row.weight, row.target_value_number, row.actual_value_number
    )


def score_self_assessment(
    full_year_budget: Decimal, executed: Decimal, rows: Sequence[RowInput]
) -> ScoredAssessment:
    """Score a whole form (SR-2…SR-7) or raise `InvalidRecord` naming the first problem."""
    if not rows:
        raise InvalidRecord("rows", "rows-required", "a self-assessment needs indicator rows")
    for position, row in enumerate(rows):
        if not 0 <= row.weight <= 100:
            raise InvalidRecord(
                f"rows[{position}].weight", "weight-range", "a weight lies in 0–100"
            )
        if IndicatorL2(row.level2) not in INDICATOR_CHILDREN[IndicatorL1(row.level1)]:
            raise InvalidRecord(
                f"rows[{position}].level2",
                "indicator-level2-child",
                f"{row.level2} is not a level-2 indicator of {row.level1}",
            )
    check_weights(row.weight for row in rows)
    rate = execution_rate(executed, full_year_budget)
    execution = min(EXECUTION_WEIGHT, half_up(EXECUTION_WEIGHT * rate))
    scored = []
    for position, row in enumerate(rows):
        score = score_row(position, row)
        check_deviation_reason(position, row.weight, score, row.deviation_reason)
        scored.append(ScoredRow(row, score))
    total = total_score(execution, (s.score for s in scored))
    return ScoredAssessment(rate, execution, tuple(scored), total, grade_for(total))
