"""Money (decisions.md D1, D2): exact two-place 元, stored as integer 分, rounded half-up once."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from storage.money import MoneyField, from_fen, half_up, to_fen, yuan


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.1", "1.10"),
        ("1.10", "1.10"),
        ("1.000", "1.00"),  # trailing zeros are not sub-分 precision
        (5, "5.00"),
        (D("0.01"), "0.01"),
        ("-0.01", "-0.01"),
        ("0", "0.00"),
    ],
)
def test_yuan_is_an_exact_two_place_decimal(value: str | int | D, expected: str) -> None:
    amount = yuan(value)
    assert isinstance(amount, D)
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0.1, TypeError, "must not be a float"),
        ("1.005", ValueError, "more than two decimal places"),
        ("1.006", ValueError, "more than two decimal places"),  # rounds up, not down
        ("0.001", ValueError, "more than two decimal places"),
        ("一百", ValueError, "not an amount"),
        ("", ValueError, "not an amount"),
        ("Infinity", ValueError, "not a finite amount"),
        ("NaN", ValueError, "not a finite amount"),
    ],
)
def test_yuan_refuses_what_is_not_an_amount(value: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        yuan(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "fen"),
    [("1.23", 123), ("0.01", 1), ("-0.01", -1), ("250000.00", 25_000_000), ("0", 0)],
)
def test_fen_and_yuan_convert_both_ways(amount: str, fen: int) -> None:
    assert to_fen(D(amount)) == fen
    assert isinstance(to_fen(D(amount)), int)
    back = from_fen(fen)
    assert back == D(amount)
    assert back.as_tuple().exponent == -2


def test_to_fen_refuses_sub_fen_amounts() -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        to_fen(D("0.005"))


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("0.005", "0.01", "0.01"),  # half goes up …
        ("0.015", "0.01", "0.02"),  # … not to the even neighbour (banker's rounding)
        ("0.0049", "0.01", "0.00"),
        ("-0.005", "0.01", "-0.01"),  # away from zero
        ("86.18304", "0.0001", "86.1830"),
        ("8.6185", "0.01", "8.62"),
        ("12.5", "1", "13"),
    ],
)
def test_half_up(value: str, places: str, expected: str) -> None:
    assert str(half_up(D(value), places)) == expected


def test_half_up_defaults_to_two_places() -> None:
    assert str(half_up(D("2.675"))) == "2.68"


FIELD = MoneyField()


def test_the_database_gets_fen() -> None:
    assert FIELD.to_db_value(D("1.23"), None) == 123
    assert FIELD.to_db_value("0.10", None) == 10
    assert FIELD.to_db_value(None, None) is None
    # An int is already 分, never 元 (a query built by hand).
    assert FIELD.to_db_value(123, None) == 123
    with pytest.raises(TypeError, match="float"):
        FIELD.to_db_value(0.1, None)


def test_python_gets_yuan() -> None:
    # The databases hand back 分 as int; Python code assigns 元 as Decimal or str.
    assert FIELD.to_python_value(123) == D("1.23")
    assert str(FIELD.to_python_value(100)) == "1.00"
    assert str(FIELD.to_python_value("1.5")) == "1.50"
    assert str(FIELD.to_python_value(D("7"))) == "7.00"
    assert FIELD.to_python_value(None) is None


def test_the_field_type_is_decimal() -> None:
    assert MoneyField.field_type is D


def test_validators_see_fen() -> None:
    from tortoise.exceptions import ValidationError
    from tortoise.validators import MaxValueValidator, MinValueValidator

    field = MoneyField(validators=[MinValueValidator(0), MaxValueValidator(100)], null=True)
    field.model_field_name = "amount"
    for fine in (0, 100, D("0.00"), D("1.00"), "1.00", None):
        field.validate(fine)
    assert field.to_db_value(D("1.00"), None) == 100
    assert field.to_db_value(100, None) == 100
    for wrong in (-1, 101, D("-0.01"), D("1.01"), "1.01"):
        with pytest.raises(ValidationError, match="amount"):
            field.validate(wrong)
        with pytest.raises(ValidationError, match="amount"):
            field.to_db_value(wrong, None)
