"""Cell values as real forms write them: full-width symbols, amounts in 万元 or 元, percentages
as numbers or text. Every parser returns a value or raises `CellError` with a rule code; the
reader turns that into a problem naming the cell."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from storage.enums import Comparator
from storage.money import CENT

#: A cell as python-calamine gives it.
CellValue = str | float | int | bool | date | datetime | time | timedelta | None

#: 1 万元 = 10,000 元
WAN = Decimal(10000)


class CellError(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def text(value: CellValue) -> str:
    """A cell as trimmed text; a whole float (from a numeric cell) loses its ``.0``."""
    if type(value) is str:  # most cells: tested first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return format_decimal(decimal_of(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


@functools.lru_cache(maxsize=65536)
def label_key(value: CellValue) -> str:
    """A label compared loosely: full-width folded to half-width (NFKC), no spaces, no colon or
    asterisk (「项目名称：」, 「* 项目名称」 and 「项 目 名 称」 are one label). Cached: a
    workbook of a hundred forms repeats the same labels a hundred times."""
    folded = unicodedata.normalize("NFKC", text(value))
    return _LABEL_NOISE.sub("", folded)


_LABEL_NOISE = re.compile(r"[\s:*★]")


def decimal_of(value: float | int) -> Decimal:
    # repr gives the shortest decimal that reads back as the same float: 21.54576, not
    # 21.545760000000001 — what the spreadsheet showed the department.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def format_decimal(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 8, 58.18, 0.5."""
    normal = value.normalize()
    if normal == normal.to_integral():
        return str(normal.quantize(Decimal(1)))
    return format(normal, "f")


_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def number(value: CellValue) -> Decimal | None:
    """A number from a numeric cell or from text such as 「1,234.50」; None for a blank cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError("number-format", "应为数字")
    if isinstance(value, float | int):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            raise CellError("number-format", "应为有限的数字")
        return decimal_of(value)
    folded = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
    if not _NUMBER.match(folded):
        raise CellError("number-format", f"「{text(value)}」不是数字")
    try:
        return Decimal(folded.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise CellError("number-format", f"「{text(value)}」不是数字") from None


def money(value: CellValue, unit: Decimal) -> Decimal | None:
    """An amount in the form's declared unit (万元: `WAN`, 元: 1) as 元 with two places.
    More precision than 1 分 is refused, as `storage.money.yuan` refuses it."""
    amount = number(value)
    if amount is None:
        return None
    yuan = amount * unit
    if yuan != yuan.quantize(CENT):
        raise CellError(
            "money-two-places",
            f"金额 {text(value)} 精确到了分以下（1分 = 0.01元"
            + (" = 0.000001万元）" if unit == WAN else "）"),
        )
    return yuan.quantize(CENT)


def percent(value: CellValue) -> Decimal | None:
    """A percentage: 94.25, 「94.25%」, or 0.9425 from a cell formatted as a percentage is
    returned as written (the caller compares both readings)."""
    if isinstance(value, str):
        stripped = unicodedata.normalize("NFKC", value).strip()
        if stripped.endswith("%"):
            return number(stripped[:-1])
    return number(value)


_SYMBOLS = {
    "≥": Comparator.GE,
    ">=": Comparator.GE,
    "≧": Comparator.GE,
    "≤": Comparator.LE,
    "<=": Comparator.LE,
    "≦": Comparator.LE,
    "=": Comparator.EQ,
    ">": Comparator.GT,
    "<": Comparator.LT,
}
_TARGET = re.compile(r"^(≥|>=|≧|≤|<=|≦|=|>|<)?\s*([+-]?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class TargetValue:
    """「≥95%」 → GE 95; 「及时」 → QUALITATIVE, no number."""

    raw: str
    comparator: Comparator
    number: Decimal | None


def target_value(value: CellValue) -> TargetValue:
    """An indicator value as written. A leading comparison (full- or half-width, ≥ ≤ ＝ ＞ ＜,
    >= <=) with a number makes it quantitative; a bare number is ＝; anything else is
    qualitative. The raw text is kept as written (trimmed)."""
    raw = text(value)
    folded = unicodedata.normalize("NFKC", raw).replace(",", "")
    match = _TARGET.match(folded)
    if match is None:
        return TargetValue(raw, Comparator.QUALITATIVE, None)
    symbol = match[1] or "="
    return TargetValue(raw, _SYMBOLS[symbol], Decimal(match[2]))


def actual_number(raw: str) -> Decimal | None:
    """The number an actual value (实际完成值) states, if it starts with one: 「9场次」 → 9,
    「79.9%」 → 79.9; 「基本达成」 → None."""
    folded = unicodedata.normalize("NFKC", raw).replace(",", "")
    match = re.match(r"^(?:≥|>=|≤|<=|=|>|<)?\s*([+-]?\d+(?:\.\d+)?)", folded)
    return Decimal(match[1]) if match else None


def money_unit(value: CellValue) -> Decimal | None:
    """The unit an 「单位：万元」 / 「金额单位：元」 cell declares, else None."""
    key = label_key(value)
    match = re.search(r"(?:金额)?单位(万元|元)", key)
    if match is None:
        return None
    return WAN if match[1] == "万元" else Decimal(1)


_YEAR = re.compile(r"(\d{4})\s*年度?")


def year_in(value: CellValue) -> int | None:
    """The fiscal year of a title such as 「（2024年度）」."""
    match = _YEAR.search(unicodedata.normalize("NFKC", text(value)))
    return int(match[1]) if match else None
