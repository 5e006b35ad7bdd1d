"""SR-1…SR-7 with the boundary cases of domain.md §4 and the Putuo 2022 worked example."""

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import scoring
from storage.enums import Comparator, Grade, IndicatorL1, IndicatorL2, QualitativeBand
from storage.errors import InvalidRecord
from tests.properties import property_settings


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", Grade.EXCELLENT),
        ("90.00", Grade.EXCELLENT),
        ("89.99", Grade.GOOD),
        ("80.00", Grade.GOOD),
        ("79.99", Grade.AVERAGE),
        ("60.00", Grade.AVERAGE),
        ("59.99", Grade.POOR),
        ("0", Grade.POOR),
    ],
)
def test_grade_bands(score: str, grade: Grade) -> None:
    assert scoring.grade_for(D(score)) is grade


@pytest.mark.parametrize("score", ["-0.01", "100.01"])
def test_grade_refuses_scores_outside_0_100(score: str) -> None:
    with pytest.raises(InvalidRecord, match="0–100"):
        scoring.grade_for(D(score))


def test_grade_labels_are_chinese() -> None:
    assert [g.label for g in Grade] == ["优", "良", "中", "差"]


@pytest.mark.parametrize(
    ("executed", "budget", "points"),
    [
        ("215457.60", "250000.00", "8.62"),  # Putuo sports centre 2022 (86.18…%)
        ("86.19", "100", "8.62"),  # execution 86.19% → 8.619 → 8.62 half-up
        ("9034.00", "20000.00", "4.52"),  # 45.17%
        ("86.185", "100", "8.62"),  # 8.6185 rounds half-up, once, at the end
        ("86.184", "100", "8.62"),
        ("86.144", "100", "8.61"),
        ("120", "100", "10.00"),  # over-execution is capped at 10
        ("0", "100", "0.00"),
    ],
)
def test_execution_score(executed: str, budget: str, points: str) -> None:
    assert scoring.execution_score(D(executed), D(budget)) == D(points)


def test_execution_rate_is_exact_and_half_up_for_display() -> None:
    rate = scoring.execution_rate(D("215457.60"), D("250000.00"))
    assert rate == D("0.8618304")
    assert scoring.rate_percent(rate) == D("86.18")
    assert scoring.rate_percent(D("0.00005")) == D("0.01")


def test_negative_budget_or_execution_is_refused() -> None:
    with pytest.raises(InvalidRecord) as caught:
        scoring.execution_rate(D("10"), D("-0.01"))
    assert caught.value.rule == "execution-rate-budget-positive"
    with pytest.raises(InvalidRecord) as caught:
        scoring.execution_rate(D("-0.01"), D("100"))
    assert (caught.value.field, caught.value.rule) == ("executed", "amount-non-negative")
    assert scoring.execution_rate(D("0"), D("0.01")) == 0


@pytest.mark.parametrize(("target", "actual"), [("10", "-0.01"), ("-0.01", "10")])
def test_negative_values_are_refused(target: str, actual: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        scoring.quantitative_score(Comparator.GE, D(10), D(target), D(actual))
    assert (caught.value.field, caught.value.rule) == ("actual_value", "value-non-negative")


def test_a_qualitative_comparator_has_no_quantitative_score() -> None:
    with pytest.raises(InvalidRecord, match="not a quantitative row"):
        scoring.quantitative_score(Comparator.QUALITATIVE, D(10), D(1), D(1))


def test_default_level1_weights_total_100_with_execution() -> None:
    """SR-2: 产出 50, 效益 30, 满意度 10, and 10 for budget execution."""
    assert scoring.DEFAULT_L1_WEIGHTS == {"OUTPUT": 50, "BENEFIT": 30, "SATISFACTION": 10}
    assert scoring.EXECUTION_WEIGHT == 10
    assert sum(scoring.DEFAULT_L1_WEIGHTS.values()) + scoring.EXECUTION_WEIGHT == 100


def test_zero_budget_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InvalidRecord) as caught:
        scoring.execution_score(D("10"), D("0"))
    assert caught.value.field == "full_year_budget"
    assert "全年预算数" in caught.value.message


@pytest.mark.parametrize(
    ("comparator", "target", "actual", "score"),
    [
        (Comparator.GE, "90", "100", "10.00"),
        (Comparator.GE, "90", "81", "9.00"),
        (Comparator.GT, "90", "90", "10.00"),  # not strictly greater: proportional 90/90
        (Comparator.LE, "90", "100", "9.00"),  # reverse: weight × target / actual
        (Comparator.LT, "100", "50", "10.00"),
        (Comparator.EQ, "100", "100", "10.00"),
        (Comparator.EQ, "100", "80", "8.00"),
        (Comparator.EQ, "100", "125", "8.00"),
        (Comparator.GE, "3", "2", "6.67"),
        (Comparator.GT, "90", "81", "9.00"),  # not met: proportional
        (Comparator.GT, "90", "91", "10.00"),
        (Comparator.LT, "100", "125", "8.00"),  # reverse and not met
        (Comparator.LE, "90", "90", "10.00"),
        (Comparator.LE, "90", "0", "10.00"),
        # Met at equality or not, a share of 1 is the full weight: ≥ and ＞ differ only below.
        (Comparator.GE, "90", "90", "10.00"),
        # A zero target not met (＞ 0 with 0, ＜ 0 with 0) has nothing to be proportional to:
        # the share is taken as 1, as for x / x.
        (Comparator.GT, "0", "0", "10.00"),
        (Comparator.LT, "0", "0", "10.00"),
        (Comparator.GE, "0", "0", "10.00"),
        (Comparator.EQ, "0", "0", "10.00"),
        (Comparator.EQ, "0", "5", "0.00"),
    ],
)
def test_quantitative_scores(comparator: Comparator, target: str, actual: str, score: str) -> None:
    assert scoring.quantitative_score(comparator, D(10), D(target), D(actual)) == D(score)


@property_settings(100)
@given(
    comparator=st.sampled_from([c for c in Comparator if c is not Comparator.QUALITATIVE]),
    weight=st.decimals(min_value=0, max_value=50, places=2),
    target=st.decimals(min_value=0, max_value=10**6, places=2),
    actual=st.decimals(min_value=0, max_value=10**6, places=2),
)
def test_quantitative_score_lies_between_zero_and_the_weight(
    comparator: Comparator, weight: D, target: D, actual: D
) -> None:
    assert D(0) <= scoring.quantitative_score(comparator, weight, target, actual) <= weight


@pytest.mark.parametrize(
    ("band", "score", "ok"),
    [
        # Each bound on both sides, at a weight of 20 (SR-5: 80–100%, 60–80%, 0–60%).
        (QualitativeBand.ACHIEVED, "20.01", False),
        (QualitativeBand.ACHIEVED, "20", True),
        (QualitativeBand.ACHIEVED, "16", True),
        (QualitativeBand.ACHIEVED, "15.99", False),
        (QualitativeBand.PARTLY_ACHIEVED, "16.01", False),
        (QualitativeBand.PARTLY_ACHIEVED, "16", True),
        (QualitativeBand.PARTLY_ACHIEVED, "12", True),
        (QualitativeBand.PARTLY_ACHIEVED, "11.99", False),
        (QualitativeBand.NOT_ACHIEVED, "12.01", False),
        (QualitativeBand.NOT_ACHIEVED, "12", True),
        (QualitativeBand.NOT_ACHIEVED, "0", True),
        (QualitativeBand.NOT_ACHIEVED, "-0.01", False),
    ],
)
def test_qualitative_bands(band: QualitativeBand, score: str, ok: bool) -> None:
    if ok:
        scoring.check_qualitative_score(band, D(20), D(score))
    else:
        with pytest.raises(InvalidRecord, match="must score between"):
            scoring.check_qualitative_score(band, D(20), D(score))


def _row(
    name: str, l1: IndicatorL1, l2: IndicatorL2, weight: str, target: str, actual: str
) -> scoring.RowInput:
    return scoring.RowInput(
        level1=l1,
        level2=l2,
        indicator_name=name,
        comparator=Comparator.EQ,
        target_value_raw=f"={target}%",
        actual_value_raw=f"{actual}%",
        weight=D(weight),
        target_value_number=D(target),
        actual_value_number=D(actual),
    )


PUTUO_ROWS = [
    _row("与委托运营方结算完成率", IndicatorL1.OUTPUT, IndicatorL2.QUANTITY, "10", "100", "100"),
    _row("合同结算条款完成率", IndicatorL1.OUTPUT, IndicatorL2.QUALITY, "20", "100", "100"),
    scoring.RowInput(
        level1=IndicatorL1.OUTPUT,
        level2=IndicatorL2.TIMELINESS,
        indicator_name="费用结算及时性",
        comparator=Comparator.QUALITATIVE,
        target_value_raw="及时",
        actual_value_raw="及时",
        weight=D(20),
        qualitative_band=QualitativeBand.ACHIEVED,
        qualitative_score=D(20),
    ),
    _row(
        "与委托运营方合同完成率",
        IndicatorL1.BENEFIT,
        IndicatorL2.SOCIAL_BENEFIT,
        "30",
        "100",
        "100",
    ),
    scoring.RowInput(
        level1=IndicatorL1.SATISFACTION,
        level2=IndicatorL2.SERVICE_RECIPIENT_SATISFACTION,
        indicator_name="场馆开放满意度",
        comparator=Comparator.GE,
        target_value_raw="≥90%",
        actual_value_raw="100%",
        weight=D(10),
        target_value_number=D(90),
        actual_value_number=D(100),
    ),
]


def test_putuo_2022_worked_example_scores_98_62() -> None:
    scored = scoring.score_self_assessment(D("250000.00"), D("215457.60"), PUTUO_ROWS)
    assert scored.execution_score == D("8.62")
    assert [r.score for r in scored.rows] == [D(10), D(20), D(20), D(30), D(10)]
    assert scored.total_score == D("98.62")
    assert scored.grade is Grade.EXCELLENT


def test_weights_must_total_100_with_execution() -> None:
    rows = [*PUTUO_ROWS[:-1]]  # drop the 10-point satisfaction row: 80 + 10 ≠ 100
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), rows)
    assert caught.value.rule == "weights-total-100"
    assert caught.value.field == "rows.weight"
    assert "90" in caught.value.message


@pytest.mark.parametrize(("weights", "total"), [((90,), "100"), ((89,), "99"), ((91,), "101")])
def test_weights_total_exactly_100(weights: tuple[int, ...], total: str) -> None:
    rows = [D(w) for w in weights]
    if total == "100":
        scoring.check_weights(rows)
        return
    with pytest.raises(InvalidRecord) as caught:
        scoring.check_weights(rows)
    assert caught.value.message.endswith(f"must total 100, got {total}")


def test_row_below_weight_needs_a_deviation_reason() -> None:
    rows = [
        *PUTUO_ROWS[:3],
        _row("合同完成率", IndicatorL1.BENEFIT, IndicatorL2.SOCIAL_BENEFIT, "30", "100", "50"),
        PUTUO_ROWS[4],
    ]
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), rows)
    assert caught.value.field == "rows[3].deviation_reason"
    assert caught.value.rule == "deviation-reason-required"
    explained = [
        *rows[:3],
        scoring.RowInput(**{**vars(rows[3]), "deviation_reason": "合同延期"}),
        rows[4],
    ]
    assert scoring.score_self_assessment(D(100), D(100), explained).total_score == D("85.00")


def test_level2_must_be_a_child_of_level1_in_assessment_rows() -> None:
    bad = scoring.RowInput(**{**vars(PUTUO_ROWS[0]), "level2": IndicatorL2.SOCIAL_BENEFIT})
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), [bad, *PUTUO_ROWS[1:]])
    assert caught.value.field == "rows[0].level2"
    assert caught.value.rule == "indicator-level2-child"


def test_total_is_capped_at_100() -> None:
    assert scoring.total_score(D(10), [D(50), D(45)]) == D(100)


def _qualitative(actual: str, band: QualitativeBand, score: str) -> scoring.RowInput:
    return scoring.RowInput(
        **{
            **vars(PUTUO_ROWS[2]),
            "actual_value_raw": actual,
            "qualitative_band": band,
            "qualitative_score": D(score),
            "deviation_reason": "结算流程有延误",
        }
    )


@pytest.mark.parametrize(
    ("actual", "band", "score", "ok"),
    [
        ("及时", QualitativeBand.ACHIEVED, "20", True),
        (" 及时 ", QualitativeBand.ACHIEVED, "20", True),
        (" 及时 ", QualitativeBand.ACHIEVED, "19.99", False),  # the same words, spaced
        ("及", QualitativeBand.ACHIEVED, "19.99", True),  # a prefix of the target is not it
        ("及时", QualitativeBand.ACHIEVED, "19.99", False),
        ("及时", QualitativeBand.PARTLY_ACHIEVED, "16", False),
        ("基本及时", QualitativeBand.ACHIEVED, "19.99", True),
        ("基本及时", QualitativeBand.ACHIEVED, "16", True),
    ],
)
def test_a_qualitative_row_that_states_its_target_scores_its_full_weight(
    actual: str, band: QualitativeBand, score: str, ok: bool
) -> None:
    """SR-5: "及时 → 及时" has met its target: ACHIEVED, with the full weight."""
    row = _qualitative(actual, band, score)
    if ok:
        assert scoring.score_row(2, row) == D(score)
        return
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_row(2, row)
    assert caught.value.field == "rows[2].score"
    assert caught.value.rule == "qualitative-met-full-weight"
    assert "20.00" in caught.value.message


def test_a_band_given_as_its_string_is_the_band() -> None:
    """A band read with `values()` is a plain string: "及时 → 及时" ACHIEVED at full weight."""
    row = _qualitative("及时", "ACHIEVED", "20")  # type: ignore[arg-type]
    assert scoring.score_row(2, row) == D(20)


def test_a_row_of_weight_0_that_states_its_target_is_achieved() -> None:
    """At weight 0 every band allows the score 0; stating the target still means ACHIEVED."""
    achieved = replace(_qualitative("及时", QualitativeBand.ACHIEVED, "0"), weight=D(0))
    assert scoring.score_row(2, achieved) == D(0)
    not_achieved = replace(achieved, qualitative_band=QualitativeBand.NOT_ACHIEVED)
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_row(2, not_achieved)
    assert caught.value.rule == "qualitative-met-full-weight"


def test_a_band_refusal_names_the_range() -> None:
    with pytest.raises(InvalidRecord) as caught:
        scoring.check_qualitative_score(QualitativeBand.PARTLY_ACHIEVED, D(20), D("11.99"))
    assert caught.value.message == (
        f"a {QualitativeBand.PARTLY_ACHIEVED.label} row of weight 20 must score between "
        "12.00 and 16.00, got 11.99"
    )


def test_a_qualitative_row_outside_its_band_names_the_row() -> None:
    rows = list(PUTUO_ROWS)
    rows[2] = scoring.RowInput(**{**vars(rows[2]), "qualitative_score": D("15.99")})
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), rows)
    assert (caught.value.field, caught.value.rule) == ("rows[2].score", "qualitative-band")
    assert "between 16.00 and 20.00, got 15.99" in caught.value.message


@pytest.mark.parametrize("missing", ["qualitative_band", "qualitative_score"])
def test_a_qualitative_row_needs_its_band_and_score(missing: str) -> None:
    rows = list(PUTUO_ROWS)
    rows[2] = scoring.RowInput(**{**vars(rows[2]), missing: None})
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), rows)
    assert (caught.value.field, caught.value.rule) == (
        "rows[2].qualitative_band",
        "qualitative-band-required",
    )


@pytest.mark.parametrize("missing", ["target_value_number", "actual_value_number"])
def test_a_quantitative_row_needs_both_numbers(missing: str) -> None:
    rows = list(PUTUO_ROWS)
    rows[0] = scoring.RowInput(**{**vars(rows[0]), missing: None})
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), rows)
    assert (caught.value.field, caught.value.rule) == (
        "rows[0].actual_value_number",
        "quantitative-values-required",
    )


def test_a_form_needs_rows() -> None:
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), [])
    assert (caught.value.field, caught.value.rule) == ("rows", "rows-required")


def test_a_row_at_its_weight_needs_no_reason_and_one_below_needs_one() -> None:
    scoring.check_deviation_reason(0, D(10), D(10), "")
    scoring.check_deviation_reason(0, D(10), D("10.01"), "")  # only below the weight
    with pytest.raises(InvalidRecord) as caught:
        scoring.check_deviation_reason(3, D(10), D("9.99"), "  ")
    assert (caught.value.field, caught.value.rule) == (
        "rows[3].deviation_reason",
        "deviation-reason-required",
    )
    scoring.check_deviation_reason(3, D(10), D("9.99"), "合同延期")


def test_scored_forms_cannot_be_altered() -> None:
    from dataclasses import FrozenInstanceError

    scored = scoring.score_self_assessment(D("250000.00"), D("215457.60"), PUTUO_ROWS)
    for record, field in (
        (scored, "total_score"),
        (scored.rows[0], "score"),
        (PUTUO_ROWS[0], "weight"),
    ):
        with pytest.raises(FrozenInstanceError):
            setattr(record, field, D(0))


def test_the_execution_score_of_a_form_is_capped_at_10() -> None:
    scored = scoring.score_self_assessment(D(100), D(120), PUTUO_ROWS)
    assert scored.execution_rate == D("1.2")
    assert scored.execution_score == D(10)
    assert scored.total_score == D(100)


def test_the_execution_rate_is_bounded_in_percent() -> None:
    """The rate is stored as a percentage: its bound is checked on rate × 100, exactly."""
    limit = scoring.MAX_RATE_PERCENT
    assert scoring.execution_rate(limit, D(100)) == limit / 100
    with pytest.raises(InvalidRecord) as caught:
        scoring.execution_rate(limit + D("0.01"), D(100))
    assert (caught.value.field, caught.value.rule) == ("executed", "execution-rate-range")


@pytest.mark.parametrize(
    ("weight", "rule"),
    [
        ("100", "weights-total-100"),  # in range: the total is what is wrong
        ("100.01", "weight-range"),
        ("0", "weights-total-100"),
        ("-0.01", "weight-range"),
    ],
)
def test_each_row_weight_lies_in_0_100(weight: str, rule: str) -> None:
    rows = [scoring.RowInput(**{**vars(PUTUO_ROWS[0]), "weight": D(weight)}), *PUTUO_ROWS[1:]]
    with pytest.raises(InvalidRecord) as caught:
        scoring.score_self_assessment(D(100), D(100), rows)
    assert caught.value.rule == rule
