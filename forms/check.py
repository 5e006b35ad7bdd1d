"""The rules of a form that need no database: each is storage's own check (`storage.validation`,
`storage.scoring`) run on the form's values, its refusal mapped back to the cell it is about.
Unlike a mutation, which stops at its first refusal, every line is checked on its own, so all
of a form's problems come out together.

The computed cells (执行率, 得分 of the execution row and of quantitative rows, 总分) are
compared with what the rules compute: a form whose arithmetic is wrong is refused at the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from forms.layouts import FormKind
from forms.model import Form, Line
from forms.problems import Problem, chinese
from forms.values import format_decimal
from storage import models, records, scoring, validation
from storage.enums import Comparator, IndicatorNature, QualitativeBand
from storage.errors import InvalidRecord
from storage.validation import FREE_TEXT, Text

ZERO = Decimal(0)


def _column_text(model: type[models.Model], name: str) -> Text:
    return Text(model._meta.fields_map[name].max_length)  # type: ignore[attr-defined]


NAME = _column_text(models.Subject, "name")
CODE = _column_text(models.Subject, "code")
INDICATOR_NAME = _column_text(models.Indicator, "name")
VALUE = _column_text(models.Indicator, "target_value_raw")
UNIT = _column_text(models.Indicator, "unit")


@dataclass
class Checked:
    """A form that passed every check, with the inputs storage's writers take."""

    form: Form
    indicators: list[records.IndicatorInput] = field(default_factory=list)
    rows: list[scoring.RowInput] = field(default_factory=list)


class _Checker:
    def __init__(self, form: Form) -> None:
        self.form = form
        self.problems: list[Problem] = []

    def at(self, cell: str, error: InvalidRecord, detail: str = "") -> None:
        self.problems.append(
            Problem(self.form.file, self.form.sheet, cell, error.rule, chinese(error, detail))
        )

    def text(self, key: str, value: str, rule: Text, cell: str | None = None) -> None:
        try:
            validation.check_text(key, value, rule)
        except InvalidRecord as error:
            detail = f"最多 {rule.max_length} 个字" if error.rule == "max-length" else ""
            self.at(cell or self.form.cell(key), error, detail)


def check(form: Form) -> tuple[Checked | None, list[Problem]]:
    """Every problem of one form; the checked inputs when there is none."""
    checker = _Checker(form)
    if form.kind is not FormKind.DEPARTMENT_SELF_ASSESSMENT:
        checker.text("name", form.name, NAME)
        checker.text("code", form.code, CODE)
    checker.text("goal", form.goal, FREE_TEXT)
    checker.text("goal_actual", form.goal_actual, FREE_TEXT)
    subject = SimpleNamespace(
        fiscal_year=form.fiscal_year,
        name=form.name or "-",
        start_date=None,
        end_date=None,
        **amount_fields(form),
    )
    try:
        # A subject's own rules (the year's range, the amounts block); the amounts alone when
        # the year is unknown (the reader reported why).
        if form.fiscal_year is not None:
            validation.check_subject(subject)
        else:
            validation.check_amounts(subject)
    except InvalidRecord as error:
        cell = (
            form.cell("title") if error.field == "fiscal_year" else _amount_cell(form, error.field)
        )
        checker.at(cell, error, _amount_detail(form, error))
    if form.kind is FormKind.TARGET:
        result = Checked(form, indicators=_indicators(checker))
    else:
        result = Checked(form, rows=_assessment(checker))
    if checker.problems:
        return None, checker.problems
    return result, []


def amount_fields(form: Form) -> dict[str, Decimal]:
    """The form's amounts block as a subject's twelve amount fields (what the form lacks is 0)."""
    out = {}
    for column in ("initial", "full_year", "executed"):
        for source in ("total", *validation.AMOUNT_ROWS):
            value = form.amounts.get(column, {}).get(source)
            out[f"{column}_{source}"] = value if value is not None else ZERO
    return out


def _amount_cell(form: Form, field_name: str) -> str:
    # amounts.full_year_total → the cell of amounts.full_year.total
    name = field_name.removeprefix("amounts.")
    for column in ("initial", "full_year", "executed"):
        if name.startswith(column + "_"):
            return form.cell(f"amounts.{column}.{name[len(column) + 1 :]}")
    return form.cell("title")


def _amount_detail(form: Form, error: InvalidRecord) -> str:
    if error.rule != "amounts-rows-add-up":
        return ""
    name = error.field.removeprefix("amounts.").removesuffix("_total")
    column = form.amounts.get(name, {})
    parts = sum((column.get(s) or ZERO for s in validation.AMOUNT_ROWS), ZERO)
    unit = "万元" if form.unit != 1 else "元"
    total = column.get("total") or ZERO
    return f"总额 {_in_unit(total, form.unit)}{unit}，各项之和 {_in_unit(parts, form.unit)}{unit}"


def _in_unit(amount: Decimal, unit: Decimal) -> str:
    return format_decimal(amount / unit)


def _levels_known(checker: _Checker, line: Line) -> bool:
    ok = True
    for key, value in (("level1", line.level1), ("level2", line.level2)):
        if value is None and line.cells.get(key):
            # Unknown labels were reported by the reader; a blank first row is reported here.
            ok = False
    return ok and line.level1 is not None and line.level2 is not None


def _indicators(checker: _Checker) -> list[records.IndicatorInput]:
    form = checker.form
    items = []
    if not form.lines:
        checker.at(
            form.cell("title"),
            InvalidRecord("indicators", "indicators-required", ""),
        )
    for position, line in enumerate(form.lines):
        checker.text("name", line.name, INDICATOR_NAME, line.cells.get("name"))
        checker.text("target", line.target_raw, VALUE, line.cells.get("target"))
        checker.text("unit", line.unit, UNIT, line.cells.get("unit"))
        checker.text("explanation", line.explanation, FREE_TEXT, line.cells.get("explanation"))
        if not _levels_known(checker, line):
            continue
        assert line.level1 is not None and line.level2 is not None
        item = records.IndicatorInput(
            level1=line.level1,
            level2=line.level2,
            name=line.name,
            nature=_nature(line.comparator),
            comparator=line.comparator,
            target_value_raw=line.target_raw,
            target_value_number=line.target_number,
            unit=line.unit or None,
            weight=line.weight,
            is_core=line.is_core,
            explanation=line.explanation or None,
        )
        try:
            validation.check_indicator(item, f"indicators[{position}]")
        except InvalidRecord as error:
            if error.rule == "required":
                continue  # an empty target value: the reader said so at the cell
            checker.at(_line_cell(line, error.field), error, _line_detail(line, error))
            continue
        items.append(item)
    return items


def _nature(comparator: Comparator) -> IndicatorNature:
    if comparator is Comparator.QUALITATIVE:
        return IndicatorNature.QUALITATIVE
    return IndicatorNature.QUANTITATIVE


_LINE_COLUMNS = {
    "level1": "level1",
    "level2": "level2",
    "comparator": "target",
    "target_value_raw": "target",
    "target_value_number": "target",
    "weight": "weight",
    "score": "score",
    "actual_value_number": "actual",
    "actual_value": "actual",
    "qualitative_band": "band",
    "deviation_reason": "deviation",
}


def _line_cell(line: Line, field_name: str) -> str:
    key = _LINE_COLUMNS.get(field_name.rsplit(".", 1)[-1], "name")
    if key == "band" and "band" not in line.cells:
        key = "score"  # the band was read from the score
    return line.cells.get(key) or line.cells.get("name", "A1")


def _line_detail(line: Line, error: InvalidRecord) -> str:
    if error.rule == "indicator-level2-child" and line.level1 and line.level2:
        allowed = "、".join(sorted(x.label for x in validation.INDICATOR_CHILDREN[line.level1]))
        return f"「{line.level2.label}」不属于「{line.level1.label}」，可选：{allowed}"
    if error.rule == "weight-range" and line.weight is not None:
        return f"表中为 {format_decimal(line.weight)}"
    return ""


def _band_of(line: Line) -> QualitativeBand | None:
    """The band a qualitative row states, else the one its score's share of the weight falls
    in (the higher one at a shared edge: 80 % of the weight is 达成)."""
    if line.band is not None or line.score is None or not line.weight:
        return line.band
    share = line.score / line.weight
    for band, (low, _) in scoring.QUALITATIVE_BANDS.items():
        if share >= low:
            return band
    return QualitativeBand.NOT_ACHIEVED


def _assessment(checker: _Checker) -> list[scoring.RowInput]:
    form = checker.form
    rows: list[scoring.RowInput] = []
    if not form.lines:
        checker.at(form.cell("title"), InvalidRecord("rows", "rows-required", ""))
    ok = True
    for position, line in enumerate(form.lines):
        checker.text("name", line.name, INDICATOR_NAME, line.cells.get("name"))
        checker.text("target", line.target_raw, VALUE, line.cells.get("target"))
        checker.text("actual", line.actual_raw, VALUE, line.cells.get("actual"))
        checker.text("deviation", line.deviation, FREE_TEXT, line.cells.get("deviation"))
        if not _levels_known(checker, line) or line.weight is None or line.score is None:
            ok = False
            continue
        assert line.level1 is not None and line.level2 is not None
        qualitative = line.comparator is Comparator.QUALITATIVE
        row = scoring.RowInput(
            level1=line.level1,
            level2=line.level2,
            indicator_name=line.name,
            comparator=line.comparator,
            target_value_raw=line.target_raw,
            actual_value_raw=line.actual_raw,
            weight=line.weight,
            target_value_number=line.target_number,
            actual_value_number=None if qualitative else line.actual_number,
            qualitative_band=_band_of(line) if qualitative else None,
            qualitative_score=line.score if qualitative else None,
            deviation_reason=line.deviation,
        )
        if _row_ok(checker, position, line, row):
            rows.append(row)
        else:
            ok = False
    if rows and ok:
        try:
            scoring.check_weights(r.weight for r in rows)
        except InvalidRecord as error:
            total = sum((r.weight for r in rows), ZERO) + scoring.EXECUTION_WEIGHT
            checker.at(
                form.cell("total_score") if "total_score" in form.cells else form.cell("title"),
                error,
                f"现为 {format_decimal(total)} 分",
            )
    _execution(checker, rows if ok else [])
    return rows


def _row_ok(checker: _Checker, position: int, line: Line, row: scoring.RowInput) -> bool:
    if not 0 <= row.weight <= 100:
        checker.at(line.cells["weight"], InvalidRecord("weight", "weight-range", ""))
        return False
    try:
        validation.check_indicator(
            SimpleNamespace(
                level1=row.level1,
                level2=row.level2,
                nature=_nature(row.comparator),
                comparator=row.comparator,
                target_value_raw=row.target_value_raw,
                target_value_number=row.target_value_number,
                weight=row.weight,
            ),
            f"rows[{position}]",
        )
        score = scoring.score_row(position, row)
        if row.comparator is not Comparator.QUALITATIVE and score != line.score:
            checker.problems.append(
                Problem(
                    checker.form.file,
                    checker.form.sheet,
                    line.cells["score"],
                    "form-computed-mismatch",
                    f"按指标值和实际完成值计算，得分应为 {format_decimal(score)}，"
                    f"表中为 {format_decimal(line.score or ZERO)}",
                )
            )
            return False
        scoring.check_deviation_reason(position, row.weight, score, row.deviation_reason)
    except InvalidRecord as error:
        if error.rule == "required":
            return False
        checker.at(_line_cell(line, error.field), error, _row_detail(line, row, error))
        return False
    return True


def _row_detail(line: Line, row: scoring.RowInput, error: InvalidRecord) -> str:
    if error.rule == "qualitative-band" and row.qualitative_band is not None:
        low, high = scoring.QUALITATIVE_BANDS[row.qualitative_band]
        least = format_decimal(scoring.half_up(row.weight * low))
        most = format_decimal(scoring.half_up(row.weight * high))
        return (
            f"「{row.qualitative_band.label}」应得 {least}–{most} 分，"
            f"表中为 {format_decimal(line.score or ZERO)}"
        )
    if error.rule == "deviation-reason-required":
        return f"得分 {format_decimal(line.score or ZERO)}，分值 {format_decimal(row.weight)}"
    if error.rule == "qualitative-met-full-weight":
        return f"应得 {format_decimal(row.weight)} 分"
    return _line_detail(line, error)


def _execution(checker: _Checker, rows: list[scoring.RowInput]) -> None:
    """执行率 and its score, and 总分, against the amounts they come from."""
    form = checker.form
    column = form.amounts.get("full_year", {})
    budget, executed = column.get("total"), form.amounts.get("executed", {}).get("total")
    if budget is None or executed is None:
        return
    try:
        rate = scoring.execution_rate(executed, budget)
    except InvalidRecord as error:
        key = "full_year" if error.rule == "execution-rate-budget-positive" else "executed"
        checker.at(form.cell(f"amounts.{key}.total"), error)
        return
    percent = scoring.rate_percent(rate)
    stated = form.execution_rate
    if stated is not None and percent not in (stated, scoring.half_up(stated * 100)):
        checker.problems.append(
            Problem(
                form.file,
                form.sheet,
                form.cell("amounts.rate"),
                "form-computed-mismatch",
                f"执行率应为 {percent}%（全年执行数 ÷ 全年预算数），"
                f"表中为 {format_decimal(stated)}",
            )
        )
    score = min(scoring.EXECUTION_WEIGHT, scoring.half_up(scoring.EXECUTION_WEIGHT * rate))
    if form.execution_score is not None and form.execution_score != score:
        checker.problems.append(
            Problem(
                form.file,
                form.sheet,
                form.cell("amounts.score"),
                "form-computed-mismatch",
                f"预算执行率得分应为 {score}（10 × 执行率），表中为 "
                f"{format_decimal(form.execution_score)}",
            )
        )
    if rows and not checker.problems:
        scored = scoring.score_self_assessment(budget, executed, rows)
        if form.grade is not None and form.grade is not scored.grade:
            checker.problems.append(
                Problem(
                    form.file,
                    form.sheet,
                    form.cell("grade"),
                    "form-computed-mismatch",
                    f"总分 {scored.total_score} 的评价等级是「{scored.grade.label}」，"
                    f"表中为「{form.grade.label}」",
                )
            )
        if form.total_score is not None and scored.total_score != form.total_score:
            checker.problems.append(
                Problem(
                    form.file,
                    form.sheet,
                    form.cell("total_score"),
                    "form-computed-mismatch",
                    f"总分应为 {scored.total_score}（执行率得分加各指标得分），表中为 "
                    f"{format_decimal(form.total_score)}",
                )
            )
