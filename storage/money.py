"""Money: integer 分 in the database, `Decimal` 元 (two places) everywhere else (decisions.md D1).

Tortoise stores `DecimalField` on SQLite as text, so sums would run in floating point and range
filters would compare strings. `MoneyField` keeps a BIGINT of 分 on both databases and hands
Python code an exact `Decimal` in 元.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tortoise.fields import BigIntField

CENT = Decimal("0.01")


def yuan(value: Decimal | int | str) -> Decimal:
    """An amount in 元 as an exact two-place `Decimal`. Refuses floats and sub-分 precision."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {value} has more than two decimal places (分)")
    return amount.quantize(CENT)


def to_fen(amount: Decimal) -> int:
    return int(yuan(amount) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def half_up(value: Decimal, places: str = "0.01") -> Decimal:
    """Round half-up (四舍五入) once, at the end (decisions.md D2)."""
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


class MoneyField(BigIntField):
    """An amount in 元 (`Decimal`), stored as BIGINT 分.

    An `int` is always 分 (that is what the databases return); a `Decimal` or `str` is 元.
    """

    field_type = Decimal  # type: ignore[assignment]

    def to_db_value(self, value: Any, instance: Any) -> int | None:
        if value is None:
            return None
        # An int is already 分 (e.g. from a query built by hand): integers are never 元 here.
        fen = value if isinstance(value, int) and not isinstance(value, bool) else to_fen(value)
        self.validate(fen)
        return fen

    def to_python_value(self, value: Any) -> Decimal | None:
        # The databases hand back integers (分); Python code assigns Decimal or str (元).
        if value is None:
            return None
        if isinstance(value, int):
            return from_fen(value)
        return yuan(value)

    def validate(self, value: Any) -> None:
        """Validators see 分, whether `value` is 分 (an int) or 元 (a Decimal or str)."""
        if value is not None and not isinstance(value, int):
            value = to_fen(value)
        super().validate(value)
