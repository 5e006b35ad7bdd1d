"""Workbooks → forms. python-calamine reads .xlsx, .xls and .ods alike; each sheet is
recognised by its title cell (never by the file or sheet name), then read by its labels
(`forms.layouts`): header fields by the label to their left, the amounts block by its row and
column headings, the indicator table by its heading row, down to its 合计/总分 row or a note.

Everything a cell can get wrong is a `Problem` naming the cell; reading never stops at the
first one, so a department sees all of a workbook's mistakes at once.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import python_calamine

from forms import values
from forms.layouts import (
    ACTUAL_LABEL,
    AMOUNT_ROWS,
    EXPECTED_LABEL,
    GOAL_LABEL,
    GOAL_SYNONYMS,
    LAYOUTS,
    NOTE_MARKS,
    Column,
    Field,
    FormKind,
    Layout,
)
from forms.model import Form, Line
from forms.problems import Problem, cell_name
from storage.enums import (
    INDICATOR_CHILDREN,
    BudgetBook,
    Comparator,
    Grade,
    IndicatorL1,
    IndicatorL2,
    QualitativeBand,
)

#: how far down a sheet the title may sit
TITLE_ROWS = 6


class Sheet:
    """A sheet's cells as a rectangle from A1, merged areas holding their value in the
    top-left cell only (as the file stores them). The filled cells of each row, with their
    text and label key, are found once: every part of the reader walks those, not the grid."""

    def __init__(self, name: str, rows: Sequence[list[Any]]) -> None:
        self.name = name
        self.rows: Sequence[list[values.CellValue]] = rows
        #: row → its filled cells as (column, label key); a cell that is not text (a number, a
        #: date) has the empty key: no label is one
        self.filled: list[list[tuple[int, str]]] = []
        key = values.label_key
        for row in rows:
            found = []
            for c, value in enumerate(row):
                if type(value) is str:
                    if value and not value.isspace():
                        found.append((c, key(value)))
                elif value is not None:
                    found.append((c, ""))
            self.filled.append(found)

    def get(self, row: int, column: int) -> values.CellValue:
        if row < len(self.rows) and column < len(self.rows[row]):
            return self.rows[row][column]
        return None

    def cells(self, first: int = 0, last: int | None = None) -> Iterator[tuple[int, int]]:
        for r, c, _ in self.keyed(first, last):
            yield r, c

    def keyed(self, first: int = 0, last: int | None = None) -> Iterator[tuple[int, int, str]]:
        """The filled cells of rows `first` to `last` (excluded), with their label keys."""
        end = min(len(self.rows), last if last is not None else len(self.rows))
        filled = self.filled
        for r in range(first, end):
            for c, key in filled[r]:
                yield r, c, key


@dataclass
class ReadResult:
    file: str
    forms: list[Form]
    problems: list[Problem]
    #: sheets that hold no form (instructions, a hidden sheet), by name
    ignored: list[str]


def load(data: bytes, file: str, *, hidden: bool = False) -> tuple[list[Sheet], list[Problem]]:
    """Every visible worksheet of a workbook (every one, with `hidden`), or the problem that
    it cannot be read."""
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as error:  # calamine raises several unrelated types for damaged files
        return [], [
            Problem(
                file, "", "", "workbook-unreadable", f"无法读取该工作簿（{type(error).__name__}）"
            )
        ]
    sheets = []
    for meta in book.sheets_metadata:
        # A hidden sheet is the exporter's (record versions) or the author's business.
        if meta.visible != python_calamine.SheetVisibleEnum.Visible and not hidden:
            continue
        sheet = book.get_sheet_by_name(meta.name)
        grid = sheet.to_python(skip_empty_area=False)
        sheets.append(Sheet(meta.name, grid))
    return sheets, []


def read_workbook(data: bytes, file: str, fiscal_year: int | None = None) -> ReadResult:
    """Every form of a workbook with every problem of reading it. `fiscal_year` (the import's
    --year) is the year a form without one in its title is of, and the year every form must be."""
    sheets, problems = load(data, file)
    forms: list[Form] = []
    ignored: list[str] = []
    for sheet in sheets:
        layout, title = recognise(sheet)
        if layout is None or title is None:
            ignored.append(sheet.name)
            continue
        reader = _SheetReader(sheet, layout, file, title, fiscal_year)
        forms.append(reader.read())
        problems.extend(reader.problems)
    if not forms and not problems:
        problems.append(
            Problem(
                file,
                sheets[0].name if sheets else "",
                "A1" if sheets else "",
                "form-unrecognised",
                "工作簿中没有可识别的表：标题应为「项目支出绩效目标申报表」「项目支出绩效自评表」"
                "或「部门整体支出绩效自评表」",
            )
        )
    return ReadResult(file, forms, problems, ignored)


def recognise(sheet: Sheet) -> tuple[Layout | None, tuple[int, int] | None]:
    """The form a sheet holds, by a title cell in its first rows."""
    for r, c, key in sheet.keyed(0, TITLE_ROWS):
        for layout in LAYOUTS:
            if any(mark in key for mark in layout.title_marks) and not any(
                x in key for x in layout.title_excludes
            ):
                return layout, (r, c)
    return None, None


def _match(key: str, labels: tuple[str, ...]) -> bool:
    return key in _keys(labels)


@functools.lru_cache(maxsize=256)
def _keys(labels: tuple[str, ...]) -> frozenset[str]:
    return frozenset(values.label_key(label) for label in labels)


Labelled = TypeVar("Labelled", Field, Column)


@functools.cache
def _by_key(items: tuple[Labelled, ...]) -> dict[str, list[Labelled]]:
    """The items (fields, rows, columns) each label key names, in their order."""
    found: dict[str, list[Labelled]] = {}
    for item in items:
        for key in _keys(item.labels):
            found.setdefault(key, []).append(item)
    return found


@functools.cache
def _all_labels(items: tuple[Field, ...]) -> frozenset[str]:
    return frozenset(key for item in items for key in _keys(item.labels))


class _SheetReader:
    def __init__(
        self,
        sheet: Sheet,
        layout: Layout,
        file: str,
        title: tuple[int, int],
        fiscal_year: int | None,
    ) -> None:
        self.sheet = sheet
        self.layout = layout
        self.file = file
        self.title = title
        self.expected_year = fiscal_year
        self.problems: list[Problem] = []

    def problem(self, row: int, column: int, rule: str, message: str) -> None:
        self.problems.append(
            Problem(self.file, self.sheet.name, cell_name(row, column), rule, message)
        )

    # --- the parts of a form -----------------------------------------------------------------

    def read(self) -> Form:
        table = self._table_heading()
        end_of_header = table[0] if table else len(self.sheet.rows)
        form = Form(
            kind=self.layout.kind,
            fiscal_year=self._year(),
            unit=self._unit(end_of_header),
            file=self.file,
            sheet=self.sheet.name,
            cells={"title": cell_name(*self.title)},
        )
        self._fields(form, end_of_header)
        self._amounts(form, end_of_header)
        self._goal(form, end_of_header)
        if table is None:
            self.problem(
                self.title[0],
                self.title[1],
                "form-table-missing",
                "找不到绩效指标表的表头（应有「一级指标」「二级指标」「三级指标」等列）",
            )
        else:
            self._lines(form, *table)
        return form

    def _year(self) -> int | None:
        found = None
        for r, c in self.sheet.cells(0, TITLE_ROWS + 1):
            found = values.year_in(self.sheet.get(r, c))
            if found is not None:
                where = (r, c)
                break
        if found is None:
            if self.expected_year is None:
                self.problem(
                    *self.title,
                    "form-year-missing",
                    "标题下应注明年度，如「（2024年度）」；或导入时指定 --year",
                )
            return self.expected_year
        if self.expected_year is not None and found != self.expected_year:
            self.problem(
                *where,
                "fiscal-year-mismatch",
                f"表的年度为 {found} 年，本次导入的年度为 {self.expected_year} 年",
            )
            return None  # no record is looked up in a year that is wrong
        return found

    def _unit(self, end: int) -> Decimal:
        for r, c, key in self.sheet.keyed(0, end):
            unit = values.money_unit(self.sheet.get(r, c))
            if unit is not None:
                return unit
            if key.endswith("（万元）") or key.endswith("(万元)"):
                return values.WAN
            if key.endswith("（元）") or key.endswith("(元)"):
                return Decimal(1)
        self.problem(
            self.title[0] + 1,
            self.title[1],
            "unit-declared",
            "表头未注明金额单位：应写明「单位：万元」或「单位：元」",
        )
        return values.WAN

    def _value_right_of(self, row: int, column: int) -> tuple[values.CellValue, int, int]:
        """The value of a label: the first filled cell to its right that is not itself a
        label, else the blank cell right of it (merged value areas are blank past their
        first cell)."""
        labels = _all_labels(self.layout.fields)
        width = len(self.sheet.rows[row]) if row < len(self.sheet.rows) else 0
        for c in range(column + 1, width):
            value = self.sheet.get(row, c)
            if values.text(value):
                if values.label_key(value) in labels:
                    break
                return value, row, c
        return None, row, column + 1

    def _fields(self, form: Form, end: int) -> None:
        found: dict[str, tuple[values.CellValue, int, int]] = {}
        named = _by_key(self.layout.fields)
        for r, c, key in self.sheet.keyed(0, end):
            for field in named.get(key, ()):
                if field.key not in found:
                    found[field.key] = self._value_right_of(r, c)
        for field in self.layout.fields:
            if field.key not in found:
                if field.required:
                    self.problem(
                        *self.title,
                        "form-field-missing",
                        f"表中找不到「{field.label}」一栏",
                    )
                continue
            value, r, c = found[field.key]
            form.cells[field.key] = cell_name(r, c)
            text = values.text(value)
            if field.key == "budget_book":
                book = _budget_book(text)
                if text and book is None:
                    labels = "、".join(b.label for b in BudgetBook)
                    self.problem(
                        r, c, "budget-book-unknown", f"预算类型「{text}」无法识别，应为：{labels}"
                    )
                form.budget_book = book
                if not text:
                    self.problem(r, c, "required", f"「{field.label}」为空")
                continue
            if field.required and not text:
                self.problem(r, c, "required", f"「{field.label}」为空")
            setattr(form, {"unit": "implementing_unit"}.get(field.key, field.key), text)

    def _amounts(self, form: Form, end: int) -> None:
        """The amounts block: a row per source (年度资金总额 …), a column per amount heading
        (年初预算数 …); on the 申报表, whose only column is 年初预算数, the value sits right
        of the row label."""
        rows: dict[str, int] = {}
        label_column = 0
        named = _by_key(AMOUNT_ROWS)
        for r, c, key in self.sheet.keyed(0, end):
            for source in named.get(key, ()):
                if source.key not in rows:
                    rows[source.key] = r
                    label_column = c
        if "total" not in rows:
            self.problem(*self.title, "form-field-missing", "表中找不到「年度资金总额」一行")
            return
        columns: dict[str, int] = {}
        heading_row = None
        headings = _by_key(self.layout.amount_columns)
        for r, c, key in self.sheet.keyed(0, rows["total"]):
            for column in headings.get(key, ()):
                if column.key not in columns:
                    columns[column.key] = c
                    heading_row = r
        if not columns and len(self.layout.amount_columns) == 1:
            columns[self.layout.amount_columns[0].key] = label_column + 1
        for column in self.layout.amount_columns:
            if column.key not in columns and column.required:
                row = heading_row if heading_row is not None else rows["total"]
                self.problem(
                    row,
                    label_column,
                    "form-field-missing",
                    f"项目资金中找不到「{column.heading}」一列",
                )
        for key in ("weight", "rate", "score"):
            if key in columns:
                raw = self.sheet.get(rows["total"], columns[key])
                form.cells[f"amounts.{key}"] = cell_name(rows["total"], columns[key])
                try:
                    if key == "rate":
                        form.execution_rate = values.percent(raw)
                    elif key == "score":
                        form.execution_score = values.number(raw)
                except values.CellError as error:
                    self.problem(rows["total"], columns[key], error.rule, error.message)
        for column in self.layout.amount_columns:
            if column.key in ("weight", "rate", "score") or column.key not in columns:
                continue
            form.amounts[column.key] = {}
            for source in AMOUNT_ROWS:
                if source.key not in rows:
                    form.amounts[column.key][source.key] = Decimal(0)
                    continue
                r, c = rows[source.key], columns[column.key]
                form.cells[f"amounts.{column.key}.{source.key}"] = cell_name(r, c)
                try:
                    amount = values.money(self.sheet.get(r, c), form.unit)
                except values.CellError as error:
                    self.problem(r, c, error.rule, error.message)
                    amount = None
                # A blank row of the block is zero, as on a printed form; a blank total is not.
                if amount is None and source.key != "total":
                    amount = Decimal(0)
                if amount is None:
                    self.problem(r, c, "required", f"「{column.heading}」的年度资金总额为空")
                form.amounts[column.key][source.key] = amount

    def _goal(self, form: Form, end: int) -> None:
        goal_at = None
        for r, c, key in self.sheet.keyed(0, end):
            if _match(key, (GOAL_LABEL, *GOAL_SYNONYMS)):
                goal_at = (r, c)
                break
        if goal_at is None:
            self.problem(*self.title, "form-field-missing", f"表中找不到「{GOAL_LABEL}」")
            return
        if self.layout.kind is FormKind.TARGET:
            value, r, c = self._value_right_of(*goal_at)
            form.goal = values.text(value)
            form.cells["goal"] = cell_name(r, c)
            if not form.goal:
                self.problem(r, c, "required", "「年度总体目标」为空")
            return
        # 自评表: 「预期目标」 and 「实际完成情况」 headings, their texts in the row below.
        for r, c, key in self.sheet.keyed(goal_at[0], end):
            for label, attr in ((EXPECTED_LABEL, "goal"), (ACTUAL_LABEL, "goal_actual")):
                if key == values.label_key(label) and f"{attr}" not in form.cells:
                    below = r + 1
                    form.cells[attr] = cell_name(below, c)
                    setattr(form, attr, values.text(self.sheet.get(below, c)))

    # --- the indicator table -----------------------------------------------------------------

    def _table_heading(self) -> tuple[int, dict[str, int]] | None:
        level1 = values.label_key("一级指标")
        for r in range(len(self.sheet.rows)):
            if not any(key == level1 for _, key in self.sheet.filled[r]):
                continue
            keys = [(c, key) for c, key in self.sheet.filled[r]]
            if any(_match(k, self.layout.columns[2].labels) for _, k in keys):
                columns: dict[str, int] = {}
                headings = _by_key(self.layout.columns)
                for c, key in keys:
                    for column in headings.get(key, ()):
                        if column.key not in columns:
                            columns[column.key] = c
                return r, columns
        return None

    def _lines(self, form: Form, heading: int, columns: dict[str, int]) -> None:
        for column in self.layout.columns:
            if column.required and column.key not in columns:
                self.problem(
                    heading, 0, "form-field-missing", f"指标表中找不到「{column.heading}」一列"
                )
        level1: IndicatorL1 | None = None
        level2: IndicatorL2 | None = None
        total_label = values.label_key(self.layout.total_label)
        for r in range(heading + 1, len(self.sheet.rows)):
            filled = self.sheet.filled[r]
            if not filled:
                continue  # a spacer row
            first = filled[0][1]
            if first in (total_label, "合计", "总分", "总计"):
                self._total_row(form, r, columns)
                break
            if any(first.startswith(mark) for mark in NOTE_MARKS):
                break

            cells = self.sheet.rows[r]

            def cell(key: str, cells: list[values.CellValue] = cells) -> values.CellValue:
                c = columns.get(key)
                return cells[c] if c is not None and c < len(cells) else None

            line_cells = {k: cell_name(r, c) for k, c in columns.items()}
            # A merged 一级/二级指标 cell holds its value in its first row only.
            l1_text = values.text(cell("level1"))
            if l1_text:
                level1 = _level1(l1_text)
                level2 = None
                if level1 is None:
                    labels = "、".join(x.label for x in IndicatorL1)
                    self.problem(
                        r,
                        columns["level1"],
                        "indicator-level-unknown",
                        f"一级指标「{l1_text}」无法识别，应为：{labels}",
                    )
            l2_text = values.text(cell("level2"))
            if l2_text:
                level2 = _level2(level1, l2_text)
                if level2 is None:
                    self.problem(
                        r,
                        columns["level2"],
                        "indicator-level-unknown",
                        f"二级指标「{l2_text}」无法识别",
                    )
            # Blank and not covered by a merged cell above: the row has no level to inherit.
            for key, level, written in (("level1", level1, l1_text), ("level2", level2, l2_text)):
                if level is None and not written and key in columns:
                    label = "一级指标" if key == "level1" else "二级指标"
                    self.problem(r, columns[key], "required", f"「{label}」为空")
            name = values.text(cell("name"))
            is_core = name.startswith("★")
            name = name.lstrip("★").strip()
            target = values.target_value(cell("target"))
            line = Line(
                level1=level1,
                level2=level2,
                name=name,
                target_raw=target.raw,
                comparator=target.comparator,
                target_number=target.number,
                unit=values.text(cell("unit")),
                explanation=values.text(cell("explanation")),
                is_core=is_core,
                deviation=values.text(cell("deviation")),
                cells=line_cells,
            )
            if not name:
                self.problem(r, columns.get("name", 0), "required", "「三级指标」为空")
            if not target.raw:
                self.problem(r, columns.get("target", 0), "required", "指标值为空")
            for key in ("weight", "score"):
                try:
                    setattr(line, key, values.number(cell(key)))
                except values.CellError as error:
                    self.problem(r, columns[key], error.rule, error.message)
            if self.layout.kind is not FormKind.TARGET:
                line.actual_raw = values.text(cell("actual"))
                line.actual_number = values.actual_number(line.actual_raw)
                band_text = values.text(cell("band"))
                if band_text:
                    line.band = _band(band_text)
                    if line.band is None:
                        labels = "、".join(b.label for b in QualitativeBand)
                        self.problem(
                            r,
                            columns["band"],
                            "qualitative-band-unknown",
                            f"达成程度「{band_text}」无法识别，应为：{labels}",
                        )
                for key in ("actual", "weight", "score"):
                    if key in columns and not values.text(cell(key)):
                        self.problem(r, columns[key], "required", "该栏为空")
            form.lines.append(line)

    def _total_row(self, form: Form, r: int, columns: dict[str, int]) -> None:
        if self.layout.kind is FormKind.TARGET or "score" not in columns:
            return
        c = columns["score"]
        form.cells["total_score"] = cell_name(r, c)
        try:
            form.total_score = values.number(self.sheet.get(r, c))
        except values.CellError as error:
            self.problem(r, c, error.rule, error.message)
        # The grade (评价等级), where the form states it: the next filled cell of the row.
        for g in range(c + 1, len(self.sheet.rows[r])):
            written = values.text(self.sheet.get(r, g))
            if written:
                form.cells["grade"] = cell_name(r, g)
                form.grade = _grade(written)
                if form.grade is None:
                    self.problem(r, g, "grade-unknown", f"评价等级「{written}」应为优、良、中或差")
                break


@functools.lru_cache(maxsize=1024)
def _budget_book(text: str) -> BudgetBook | None:
    key = values.label_key(text)
    for book in BudgetBook:
        if key in (values.label_key(book.label), values.label_key(book.label.removesuffix("预算"))):
            return book
    return None


@functools.lru_cache(maxsize=1024)
def _level1(text: str) -> IndicatorL1 | None:
    key = values.label_key(text)
    for level in IndicatorL1:
        if key == values.label_key(level.label):
            return level
    return None


@functools.lru_cache(maxsize=1024)
def _level2(level1: IndicatorL1 | None, text: str) -> IndicatorL2 | None:
    """A level-2 label: first among the children of its level 1 (「成本指标」 under 产出指标 is
    OUTPUT_COST), else any level 2 of that label (which the checks then refuse under this
    level 1, naming the rule)."""
    key = values.label_key(text)
    candidates = list(INDICATOR_CHILDREN[level1]) if level1 is not None else []
    candidates += [x for x in IndicatorL2 if x not in candidates]
    for level in candidates:
        if key == values.label_key(level.label):
            return level
    return None


@functools.lru_cache(maxsize=1024)
def _grade(text: str) -> Grade | None:
    key = values.label_key(text)
    for grade in Grade:
        if key in (
            grade.label,
            grade.label + {"优": "秀", "良": "好", "中": "等", "差": ""}[grade.label],
        ):
            return grade
    return None


@functools.lru_cache(maxsize=1024)
def _band(text: str) -> QualitativeBand | None:
    key = values.label_key(text)
    short = {"达成": QualitativeBand.ACHIEVED, "部分达成": QualitativeBand.PARTLY_ACHIEVED}
    short["未达成"] = QualitativeBand.NOT_ACHIEVED
    for band in QualitativeBand:
        if key == values.label_key(band.label):
            return band
    return short.get(key)


__all__ = ["Comparator", "ReadResult", "Sheet", "load", "read_workbook", "recognise"]
