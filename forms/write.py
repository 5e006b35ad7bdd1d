"""Forms → an .xlsx workbook, one sheet per form, laid out from `forms.layouts` (so that what
is written reads back the same): merged title and year, the declared unit, the header fields,
the amounts block, the goal, the indicator table with merged 一级/二级指标 runs, the 合计/总分
row and a note. Numbers are numbers (amounts in 万元, rates and scores as figures), the table
heading is frozen and the print setup fits a page's width.

The bytes are deterministic: XlsxWriter is given a fixed creation time, so the same forms give
the same file (the publisher relies on it: an unchanged release writes nothing).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from forms.layouts import AMOUNT_ROWS, BY_KIND, FormKind, Layout
from forms.model import Form, Line
from forms.values import WAN, format_decimal
from storage.enums import BudgetBook, Comparator

#: the creation and modification time every written workbook states (determinism)
FIXED_TIME = datetime(2000, 1, 1)
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.title = book.add_format(
            {
                "font_name": "黑体",
                "font_size": 16,
                "bold": True,
                "align": "center",
                "valign": "vcenter",
            }
        )
        self.year = book.add_format({"font_name": "宋体", "font_size": 11, "align": "center"})
        self.unit = book.add_format({"font_name": "宋体", "font_size": 10, "align": "right"})
        self.label = book.add_format(base | {"bold": True, "align": "center", "text_wrap": True})
        self.text = book.add_format(base | {"text_wrap": True})
        self.money = book.add_format(base | {"num_format": "#,##0.00####"})
        self.figure = book.add_format(base | {"num_format": "0.00"})
        self.rate = book.add_format(base | {"num_format": '0.00"%"'})
        self.note = book.add_format({"font_name": "宋体", "font_size": 9, "text_wrap": True})


#: the hidden sheet that lists the record keys a published workbook holds
KEYS_SHEET = "record-keys"


def workbook_bytes(
    forms: Sequence[Form], blank: Sequence[FormKind] = (), hidden_keys: Sequence[str] = ()
) -> bytes:
    """The forms (and a blank template of each kind in `blank`) as one .xlsx; `hidden_keys`
    go one per row into a hidden sheet (the publisher's record keys, for withdrawals)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    book.set_properties({"created": FIXED_TIME, "author": "gongkai", "comments": ""})
    formats = _Formats(book)
    names: set[str] = set()
    for form in forms:
        layout = BY_KIND[form.kind]
        sheet = book.add_worksheet(sheet_name(f"{layout.sheet_prefix}{form.code}", names))
        _write(sheet, layout, form, formats)
    for kind in blank:
        layout = BY_KIND[kind]
        empty = Form(kind=kind, fiscal_year=None, unit=WAN)
        _write(book.add_worksheet(sheet_name(layout.sheet_prefix, names)), layout, empty, formats)
    if hidden_keys:
        sheet = book.add_worksheet(KEYS_SHEET)
        for row, key in enumerate(hidden_keys):
            sheet.write_string(row, 0, key)
        sheet.hide()
    book.close()
    return buffer.getvalue()


def sheet_name(text: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts for `text`: its forbidden characters as "-", at most 31
    characters, and "(2)", "(3)", … where a name (in any case) is in `taken`, which it joins."""
    base = _SHEET_FORBIDDEN.sub("-", text)[:31]
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def _number(value: Decimal | None) -> float | None:
    # Decimal → float is exact enough here: every figure has at most 15 significant digits.
    return None if value is None else float(value)


def _write(sheet: Worksheet, layout: Layout, form: Form, f: _Formats) -> None:
    width = len(layout.columns)
    last = width - 1
    for c, column in enumerate(layout.columns):
        sheet.set_column(c, c, column.width)
    sheet.merge_range(0, 0, 0, last, layout.title, f.title)
    sheet.set_row(0, 28)
    year = f"（{form.fiscal_year}年度）" if form.fiscal_year else "（    年度）"
    sheet.merge_range(1, 0, 1, last, year, f.year)
    sheet.merge_range(2, 0, 2, last, "单位：万元" if form.unit == WAN else "单位：元", f.unit)
    half = width // 2 + (1 if width % 2 else 0)
    row = 3
    fields = list(layout.fields)
    values: dict[str, str] = {
        "name": form.name,
        "code": form.code,
        "department": form.department,
        "unit": form.implementing_unit,
        "budget_book": form.budget_book.label if isinstance(form.budget_book, BudgetBook) else "",
    }
    for i in range(0, len(fields), 2):
        pair = fields[i : i + 2]
        spans = [(0, half - 1), (half, last)]
        for field, (start, end) in zip(pair, spans, strict=False):
            sheet.write_string(row, start, field.label, f.label)
            _merged(sheet, row, start + 1, row, end, values.get(field.key, ""), f.text)
        if len(pair) == 1:
            _merged(sheet, row, half, row, last, "", f.text)
        row += 1
    row = _amounts(sheet, layout, form, f, row)
    row = _goal(sheet, layout, form, f, row)
    heading = row
    for c, column in enumerate(layout.columns):
        sheet.write_string(row, c, column.heading, f.label)
    sheet.set_row(row, 30)
    row += 1
    row = _lines(sheet, layout, form.lines, f, row)
    _total(sheet, layout, form, f, row)
    note = (
        "填报说明：金额单位以表头为准；定量指标的指标值以 ≥、≤、＝、＞、＜ 加数值填写，"
        "定性指标直接填写文字；★ 标注核心指标。"
    )
    sheet.merge_range(row + 2, 0, row + 2, last, note, f.note)
    sheet.freeze_panes(heading + 1, 0)
    sheet.repeat_rows(heading)
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.hide_gridlines(0)


def _merged(sheet: Worksheet, r1: int, c1: int, r2: int, c2: int, value: Any, fmt: Format) -> None:
    if (r1, c1) == (r2, c2):
        _cell(sheet, r1, c1, value, fmt)
    else:
        sheet.merge_range(r1, c1, r2, c2, "", fmt)
        _cell(sheet, r1, c1, value, fmt)


def _cell(sheet: Worksheet, r: int, c: int, value: Any, fmt: Format) -> None:
    if value is None or value == "":
        sheet.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        sheet.write_string(r, c, value, fmt)
    else:
        sheet.write_number(r, c, value, fmt)


def _amounts(sheet: Worksheet, layout: Layout, form: Form, f: _Formats, row: int) -> int:
    label = "项目资金" if layout.kind is not FormKind.DEPARTMENT_SELF_ASSESSMENT else "年度预算资金"
    sheet.merge_range(row, 0, row + len(AMOUNT_ROWS), 0, label, f.label)
    sheet.write_string(row, 1, "资金来源", f.label)
    for c, column in enumerate(layout.amount_columns):
        sheet.write_string(row, 2 + c, column.heading, f.label)
    assessment = layout.kind is not FormKind.TARGET
    for i, source in enumerate(AMOUNT_ROWS):
        r = row + 1 + i
        sheet.write_string(r, 1, source.label, f.label)
        for c, column in enumerate(layout.amount_columns):
            value: Any = None
            fmt = f.money
            if column.key in form.amounts:
                amount = form.amounts[column.key].get(source.key)
                value = _number(None if amount is None else amount / form.unit)
            elif i == 0 and assessment and column.key == "weight":
                value, fmt = 10, f.figure
            elif i == 0 and column.key == "rate":
                value, fmt = _number(form.execution_rate), f.rate
            elif i == 0 and column.key == "score":
                value, fmt = _number(form.execution_score), f.figure
            else:
                fmt = f.text
            _cell(sheet, r, 2 + c, value, fmt)
    return row + 1 + len(AMOUNT_ROWS)


def _goal(sheet: Worksheet, layout: Layout, form: Form, f: _Formats, row: int) -> int:
    last = len(layout.columns) - 1
    if layout.kind is FormKind.TARGET:
        sheet.write_string(row, 0, "年度总体目标", f.label)
        _merged(sheet, row, 1, row, last, form.goal, f.text)
        sheet.set_row(row, 45)
        return row + 1
    middle = (last + 1) // 2
    sheet.merge_range(row, 0, row + 1, 0, "年度总体目标", f.label)
    _merged(sheet, row, 1, row, middle, "预期目标", f.label)
    _merged(sheet, row, middle + 1, row, last, "实际完成情况", f.label)
    _merged(sheet, row + 1, 1, row + 1, middle, form.goal, f.text)
    _merged(sheet, row + 1, middle + 1, row + 1, last, form.goal_actual, f.text)
    sheet.set_row(row + 1, 45)
    return row + 2


def _line_values(layout: Layout, line: Line) -> dict[str, Any]:
    qualitative = line.comparator is Comparator.QUALITATIVE
    return {
        "name": ("★" if line.is_core else "") + line.name,
        "target": line.target_raw,
        "unit": line.unit,
        "weight": _number(line.weight),
        "explanation": line.explanation,
        "actual": line.actual_raw,
        "score": _number(line.score),
        "band": line.band.label if (qualitative and line.band is not None) else "",
        "deviation": line.deviation,
    }


def _lines(sheet: Worksheet, layout: Layout, lines: Sequence[Line], f: _Formats, row: int) -> int:
    keys = [c.key for c in layout.columns]
    start = row
    for line in lines:
        cells = _line_values(layout, line)
        for c, key in enumerate(keys[2:], start=2):
            fmt = f.figure if key in ("weight", "score") else f.text
            _cell(sheet, row, c, cells.get(key), fmt)
        row += 1
    # 一级 and 二级指标 as merged runs, as the printed forms have them.
    for c, attr in ((0, "level1"), (1, "level2")):
        run = start
        for i in range(len(lines) + 1):
            here = start + i
            same = i < len(lines) and i > 0 and _run_key(lines, i, c) == _run_key(lines, i - 1, c)
            if i > 0 and not same:
                value = getattr(lines[run - start], attr)
                _merged(sheet, run, c, here - 1, c, value.label if value else "", f.text)
                run = here
    return row


def _run_key(lines: Sequence[Line], i: int, column: int) -> tuple[object, ...]:
    line = lines[i]
    return (line.level1,) if column == 0 else (line.level1, line.level2)


def _total(sheet: Worksheet, layout: Layout, form: Form, f: _Formats, row: int) -> None:
    last = len(layout.columns) - 1
    keys = [c.key for c in layout.columns]
    weight_at = keys.index("weight")
    sheet.merge_range(row, 0, row, weight_at - 1, layout.total_label, f.label)
    if layout.kind is FormKind.TARGET:
        weights = [x.weight for x in form.lines if x.weight is not None]
        total = sum(weights, Decimal(0)) if weights else None
        _cell(sheet, row, weight_at, _number(total), f.figure)
        for c in range(weight_at + 1, last + 1):
            _cell(sheet, row, c, None, f.text)
        return
    _cell(sheet, row, weight_at, 100 if form.lines else None, f.figure)
    _cell(sheet, row, keys.index("score"), _number(form.total_score), f.figure)
    grade = form.grade.label if form.grade is not None else ""
    for c in range(keys.index("score") + 1, last + 1):
        _cell(sheet, row, c, grade if c == keys.index("score") + 1 else None, f.text)


__all__ = ["FIXED_TIME", "format_decimal", "workbook_bytes"]
