"""How the site writes values: amounts in 万元 with two decimals (D16; data files keep 元),
percents, sizes, dates and times, and the notes every page and the feed carry (D4, D7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TOTALS_NOTE = (
    "本站的数量、合计和分布只包括已公开的记录，可能与官方预算总数不同。"
    "Totals cover published records only and can differ from the official budget totals."
)
DEMO_NOTE = "本站所列行政区划、部门、项目和数字均为虚构。Demo data: fictitious."
CENT = Decimal("0.01")


def wan(value: Any) -> str:
    """An amount in 元 (Decimal or its string) shown in 万元 with two decimals (D16)."""
    if value is None or value == "":
        return "—"
    amount = (Decimal(value) / 10000).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


def percent(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)}%"


def size(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{Decimal(value) / 1024:.1f} KB"
    return f"{Decimal(value) / 1024 / 1024:.1f} MB"


def day(value: Any) -> str:
    return str(value)[:10] if value else "—"


def when(value: Any) -> str:
    text = str(value)
    return f"{text[:10]} {text[11:16]}" if len(text) >= 16 else text


def to_utc(value: Any) -> datetime:
    """A published moment (a datetime or its ISO string) in UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC)
