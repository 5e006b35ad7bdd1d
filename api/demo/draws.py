"""Small random draws and amount conversions the generator's stages share."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

T = TypeVar("T")


def weighted(rng: random.Random, table: Sequence[tuple[T, int]]) -> T:
    """One value of `table`, drawn with the integer weight beside it."""
    return rng.choices([value for value, _ in table], weights=[w for _, w in table])[0]


def round_fen(yuan: float) -> int:
    """Budget amounts are set in whole hundreds of 元; kept as integer 分 (D1)."""
    return max(1, round(yuan / 100)) * 10_000


def wan(amount: Decimal) -> Decimal:
    """元 → 万元 with two places, as forms and reports state amounts."""
    return (amount / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def execution_rate(rng: random.Random) -> int:
    """An execution rate in 1/10000: mostly 85–100% (skewed high), 7% below 60%, the rest in
    between (domain.md §7.2)."""
    roll = rng.randrange(100)
    if roll < 7:
        return rng.randint(2000, 5999)
    if roll < 15:
        return rng.randint(6000, 8499)
    return max(rng.randint(8500, 10_000), rng.randint(8500, 10_000))
