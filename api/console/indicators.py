"""The indicator rows of the console's target form, read back as the internal API's
`IndicatorInput`s.

A row is named by its index (``i3.name``, ``i3.value`` …). Its target value is typed as on the
paper form — 「≥95%」, 「＝100%」, 「及时」 — and read exactly as the workbook import reads that
cell (`forms.values.target_value`), so a comparison and a number make it quantitative and
anything else qualitative. A row whose name is left blank is dropped: that is how one is
deleted, and the blank rows at the end add new ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from forms.values import target_value
from storage.enums import Comparator, IndicatorL1, IndicatorL2, IndicatorNature

#: At most this many rows come back from one form (the API's own limits apply after).
MAX_ROWS = 200
#: The blank rows offered after the target's own, to add indicators.
BLANK_ROWS = 2

_ROW_NAME = re.compile(r"i(\d{1,3})\.name")

LEVEL1 = [(e.value, e.label) for e in IndicatorL1]
LEVEL2 = [(e.value, e.label) for e in IndicatorL2]


class RowsError(ValueError):
    """The form's rows cannot be read: the message says which and why."""


def rows_of(form: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The indicators the form holds, in the order of their rows; None when it has no rows (an
    edit of the goal alone keeps the indicators as they are)."""
    numbers = sorted(int(m[1]) for key in form if (m := _ROW_NAME.fullmatch(str(key))))
    if not numbers:
        return None
    if len(numbers) > MAX_ROWS:
        raise RowsError(f"一次最多提交 {MAX_ROWS} 行指标，收到 {len(numbers)} 行")
    rows = []
    for n in numbers:
        name = _field(form, n, "name")
        if not name:
            continue
        value = target_value(_field(form, n, "value"))
        if not value.raw:
            raise RowsError(f"第 {n + 1} 行「{name}」：指标值为空")
        qualitative = value.comparator is Comparator.QUALITATIVE
        rows.append(
            {
                "level1": _field(form, n, "level1"),
                "level2": _field(form, n, "level2"),
                "name": name,
                "nature": (
                    IndicatorNature.QUALITATIVE if qualitative else IndicatorNature.QUANTITATIVE
                ).value,
                "comparator": value.comparator.value,
                "targetValueRaw": value.raw,
                "targetValueNumber": None if value.number is None else str(value.number),
                "unit": _field(form, n, "unit") or None,
                "weight": _field(form, n, "weight") or None,
                "isCore": form.get(f"i{n}.core") == "on",
            }
        )
    return rows


def _field(form: Mapping[str, Any], n: int, name: str) -> str:
    return str(form.get(f"i{n}.{name}") or "").strip()
