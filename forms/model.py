"""A form as data, whichever way it came: read from a workbook (every value with the cell it
came from, for problems), built from the stored records (to export them) or from the published
records (the official tables). The writer lays any of them out the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from forms.layouts import FormKind
from storage.enums import BudgetBook, Comparator, Grade, IndicatorL1, IndicatorL2, QualitativeBand

#: amount column → source row → 元 (None: the cell is blank)
Amounts = dict[str, dict[str, Decimal | None]]


@dataclass
class Line:
    """One row of the indicator table."""

    level1: IndicatorL1 | None
    level2: IndicatorL2 | None
    name: str
    target_raw: str
    comparator: Comparator
    target_number: Decimal | None
    unit: str = ""
    weight: Decimal | None = None
    explanation: str = ""
    is_core: bool = False
    actual_raw: str = ""
    actual_number: Decimal | None = None
    score: Decimal | None = None
    band: QualitativeBand | None = None
    deviation: str = ""
    #: column key → cell (A1), for problems
    cells: dict[str, str] = field(default_factory=dict)


@dataclass
class Form:
    kind: FormKind
    fiscal_year: int | None
    #: 万元 (10000) or 元 (1): the unit amounts are written in
    unit: Decimal
    name: str = ""
    code: str = ""
    department: str = ""
    implementing_unit: str = ""
    budget_book: BudgetBook | None = None
    amounts: Amounts = field(default_factory=dict)
    goal: str = ""
    goal_actual: str = ""
    lines: list[Line] = field(default_factory=list)
    #: the computed cells as the form states them (checked against the rules, never stored)
    execution_rate: Decimal | None = None
    execution_score: Decimal | None = None
    total_score: Decimal | None = None
    grade: Grade | None = None
    #: where it came from (empty for forms built from records)
    file: str = ""
    sheet: str = ""
    #: field key → cell (A1)
    cells: dict[str, str] = field(default_factory=dict)

    def cell(self, key: str) -> str:
        return self.cells.get(key) or self.cells.get("title", "A1")
