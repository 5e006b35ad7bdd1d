"""The target form's indicator rows read back (api/console/indicators.py), without a server."""

from __future__ import annotations

import pytest

from api.console.indicators import MAX_ROWS, RowsError, rows_of


def row(n: int, name: str = "指标", value: str = "≥1") -> dict[str, str]:
    return {f"i{n}.name": name, f"i{n}.value": value, f"i{n}.level1": "OUTPUT"}


def test_a_form_without_rows_keeps_the_indicators() -> None:
    assert rows_of({"overallGoal": "x", "version": "1"}) is None


def test_rows_keep_their_order_and_blank_names_are_dropped() -> None:
    form = {**row(10, "乙"), **row(2, "甲", "＝100%"), **row(3, " "), **row(4, "丙", "及时")}
    rows = rows_of(form)
    assert rows is not None
    assert [(r["name"], r["comparator"], r["targetValueNumber"]) for r in rows] == [
        ("甲", "EQ", "100"),
        ("丙", "QUALITATIVE", None),
        ("乙", "GE", "1"),
    ]
    assert [r["nature"] for r in rows] == ["QUANTITATIVE", "QUALITATIVE", "QUANTITATIVE"]


def test_at_most_max_rows_come_back() -> None:
    many = {k: v for n in range(MAX_ROWS) for k, v in row(n).items()}
    assert len(rows_of(many) or []) == MAX_ROWS
    with pytest.raises(RowsError, match=f"最多提交 {MAX_ROWS} 行"):
        rows_of({**many, **row(MAX_ROWS)})
