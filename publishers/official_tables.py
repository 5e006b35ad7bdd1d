"""The official tables of a release (公开表格): its disclosed targets as 项目支出绩效目标申报表
and its self-assessments as 项目支出绩效自评表 / 部门整体支出绩效自评表, one sheet per form, in
one .xlsx — built from the published records only (what the JSON files hold), so nothing the
selection left out (a filed record) can be in it. Deterministic bytes (`forms.write`), named by
their sha256 like every data object.

A hidden sheet lists the record keys the workbook holds, so that a withdrawal finds it as it
finds a JSON or CSV file holding a withdrawn record (`record_keys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from forms.layouts import FormKind
from forms.model import Form, Line
from forms.read import load
from forms.values import WAN
from forms.write import KEYS_SHEET, workbook_bytes
from publishers.render import Record, Rendered, sha256_hex
from storage.enums import (
    BudgetBook,
    Comparator,
    Grade,
    IndicatorL1,
    IndicatorL2,
    RecordType,
    SubjectKind,
    TargetHorizon,
)
from storage.files import XLSX

TITLE = "公开表格（绩效目标申报表、绩效自评表）"
STEM = "official-tables"
_SOURCES = {"total": "total", "appropriation": "appropriation", "carryOver": "carry_over"}
_SOURCES["other"] = "other"
_COLUMNS = {"initial": "initial", "fullYear": "full_year", "executed": "executed"}


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _amounts(subject: Mapping[str, Any]) -> dict[str, dict[str, Decimal | None]]:
    block = subject.get("amounts") or {}
    return {
        _COLUMNS[column]: {_SOURCES[s]: _decimal(v) for s, v in values.items()}
        for column, values in block.items()
    }


def _header(kind: FormKind, subject: Mapping[str, Any]) -> Form:
    overall = kind is FormKind.DEPARTMENT_SELF_ASSESSMENT
    return Form(
        kind=kind,
        fiscal_year=int(subject["fiscalYear"]),
        unit=WAN,
        name="" if overall else str(subject["name"]),
        code=str(subject["code"]),
        department=str(subject["departmentName"]),
        implementing_unit="" if overall else str(subject.get("implementingUnitName") or ""),
        budget_book=BudgetBook(subject["budgetBook"]) if subject.get("budgetBook") else None,
        amounts=_amounts(subject),
    )


def target_form(subject: Mapping[str, Any], target: Mapping[str, Any]) -> Form:
    form = _header(FormKind.TARGET, subject)
    form.amounts = {"initial": form.amounts.get("initial", {})}
    form.goal = str(target["overallGoal"])
    form.lines = [
        Line(
            level1=IndicatorL1(i["level1"]),
            level2=IndicatorL2(i["level2"]),
            name=str(i["name"]),
            target_raw=str(i["targetValue"]),
            comparator=Comparator(i["comparator"]),
            target_number=_decimal(i.get("targetNumber")),
            unit=str(i.get("unit") or ""),
            weight=_decimal(i.get("weight")),
            is_core=bool(i.get("core")),
        )
        for i in target["indicators"]
    ]
    return form


def assessment_form(subject: Mapping[str, Any], assessment: Mapping[str, Any]) -> Form:
    overall = subject.get("kind") == SubjectKind.DEPARTMENT_OVERALL.value
    kind = FormKind.DEPARTMENT_SELF_ASSESSMENT if overall else FormKind.PROJECT_SELF_ASSESSMENT
    form = _header(kind, subject)
    form.goal = str(assessment.get("annualGoalExpected") or "")
    form.goal_actual = str(assessment.get("annualGoalActual") or "")
    form.execution_rate = _decimal(assessment.get("executionRate"))
    form.execution_score = _decimal(assessment.get("executionScore"))
    form.total_score = _decimal(assessment.get("totalScore"))
    form.grade = Grade(assessment["grade"]) if assessment.get("grade") else None
    form.lines = [
        Line(
            level1=IndicatorL1(r["level1"]),
            level2=IndicatorL2(r["level2"]),
            name=str(r["indicatorName"]),
            target_raw=str(r["targetValue"]),
            comparator=Comparator(r["comparator"]),
            target_number=None,
            actual_raw=str(r.get("actualValue") or ""),
            weight=_decimal(r.get("weight")),
            score=_decimal(r.get("score")),
            deviation=str(r.get("deviationReason") or ""),
        )
        for r in assessment["rows"]
    ]
    return form


def forms_of(records: Sequence[Record]) -> list[tuple[Form, str]]:
    """The forms of a release's records, each with the key of the record it shows, in key
    order: targets (annual, of projects and policies) and self-assessments."""
    subjects = {r.key: r.data for r in records if r.record_type is RecordType.SUBJECT}
    out: list[tuple[Form, str]] = []
    for record in sorted(records, key=lambda r: r.key):
        subject = subjects.get(str(record.data.get("subjectKey")))
        if subject is None:
            continue
        if record.record_type is RecordType.TARGET:
            overall = subject.get("kind") == SubjectKind.DEPARTMENT_OVERALL.value
            if record.data.get("horizon") == TargetHorizon.ANNUAL.value and not overall:
                out.append((target_form(subject, record.data), record.key))
        elif record.record_type is RecordType.SELF_ASSESSMENT:
            out.append((assessment_form(subject, record.data), record.key))
    return out


def render_official_tables(records: Sequence[Record]) -> list[Rendered]:
    """The release's official tables, or nothing when it carries no target or assessment."""
    found = forms_of(records)
    if not found:
        return []
    keys = {key for _, key in found}
    subject_keys = {str(r.data.get("subjectKey")) for r in records if r.key in keys}
    hidden = sorted(keys | subject_keys)
    data = workbook_bytes([form for form, _ in found], hidden_keys=hidden)
    digest = sha256_hex(data)
    path = f"data/{STEM}.{digest[:12]}.xlsx"
    return [Rendered(path, data, XLSX.media_type, digest, title=TITLE)]


def record_keys(data: bytes) -> set[str]:
    """The record keys an official-tables workbook holds (its hidden sheet)."""
    sheets, _ = load(data, "", hidden=True)
    return {
        str(row[0])
        for sheet in sheets
        if sheet.name == KEYS_SHEET
        for row in sheet.rows
        if row and row[0]
    }
