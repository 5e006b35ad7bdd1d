"""Input objects of the internal mutations. A `…Input` creates a record; a `…Patch` changes one,
and a field left out (null) stays as it is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from schema.internal import types as t
from schema.internal.input_rules import FREE_TEXT, text
from storage import enums, files
from storage.errors import InvalidRecord
from storage.money import yuan

#: free text (a TEXT column): tabs and line breaks allowed
FREE = FREE_TEXT.max_length


@strawberry.input(description="The amounts block in 元 (Decimal strings, two places at most).")
class AmountsInput:
    initial_total: Decimal = Decimal(0)
    initial_appropriation: Decimal = Decimal(0)
    initial_carry_over: Decimal = Decimal(0)
    initial_other: Decimal = Decimal(0)
    full_year_total: Decimal = Decimal(0)
    full_year_appropriation: Decimal = Decimal(0)
    full_year_carry_over: Decimal = Decimal(0)
    full_year_other: Decimal = Decimal(0)
    executed_total: Decimal = Decimal(0)
    executed_appropriation: Decimal = Decimal(0)
    executed_carry_over: Decimal = Decimal(0)
    executed_other: Decimal = Decimal(0)

    def values(self) -> dict[str, Decimal]:
        out = {}
        for name in t.AMOUNT_FIELDS:
            try:
                out[name] = yuan(getattr(self, name))
            except ValueError as error:
                raise InvalidRecord(f"amounts.{name}", "money-two-places", str(error)) from None
        return out


@strawberry.input(description="A new department (no parent) or unit (parent = its department).")
class DepartmentInput:
    code: str = text(32)
    name: str = text(200)
    tier: enums.DepartmentTier
    org_type: enums.OrgType
    parent_id: strawberry.ID | None = None
    jurisdiction_code: str | None = text(
        12, default=None, description="Required for a department; a unit takes its parent's."
    )
    disclosure_contact: str | None = text(100, default=None)


@strawberry.input(description="Changes to a department; omitted fields stay as they are.")
class DepartmentPatch:
    name: str | None = text(200, default=None)
    org_type: enums.OrgType | None = None
    disclosure_contact: str | None = text(100, default=None)


@strawberry.input(description="A new project, policy or department-overall subject.")
class SubjectInput:
    kind: enums.SubjectKind
    code: str = text(40)
    fiscal_year: int
    name: str = text(200)
    department_id: strawberry.ID
    budget_book: enums.BudgetBook
    implementing_unit_id: strawberry.ID | None = None
    in_disclosure_scope: bool = True
    publication_selected: bool = False
    summary: str = text(FREE, multiline=True, default="")
    amounts: AmountsInput | None = None


@strawberry.input(description="Changes to a subject; omitted fields stay as they are.")
class SubjectPatch:
    name: str | None = text(200, default=None)
    in_disclosure_scope: bool | None = None
    publication_selected: bool | None = None
    summary: str | None = text(FREE, multiline=True, default=None)
    amounts: AmountsInput | None = None


@strawberry.input(description="A level-3 indicator (三级指标).")
class IndicatorInput:
    level1: enums.IndicatorL1
    level2: enums.IndicatorL2
    name: str = text(200)
    nature: enums.IndicatorNature
    comparator: enums.Comparator
    target_value_raw: str = text(100)
    target_value_number: Decimal | None = None
    unit: str | None = text(20, default=None)
    weight: Decimal | None = None
    is_core: bool = False


@strawberry.input(description="One row of a self-assessment form.")
class AssessmentRowInput:
    level1: enums.IndicatorL1
    level2: enums.IndicatorL2
    indicator_name: str = text(200)
    comparator: enums.Comparator
    target_value_raw: str = text(100)
    actual_value_raw: str = text(100)
    weight: Decimal
    target_value_number: Decimal | None = None
    actual_value_number: Decimal | None = None
    qualitative_band: enums.QualitativeBand | None = None
    qualitative_score: Decimal | None = None
    deviation_reason: str = text(FREE, multiline=True, default="")


@strawberry.input(description="In-year monitoring (绩效运行监控) of a subject.")
class MonitoringInput:
    subject_id: strawberry.ID
    mode: enums.MonitoringMode
    as_of_date: date
    budget_to_date: Decimal
    executed_to_date: Decimal
    deviation_level: enums.DeviationLevel
    notes: str = text(FREE, multiline=True, default="")


@strawberry.input(description="An ex-ante assessment (事前绩效评估) of a subject.")
class ExAnteInput:
    subject_id: strawberry.ID
    conducted_by: enums.AssessmentConductor
    conclusion: enums.ExAnteConclusion
    requested_amount: Decimal
    recommended_reduction: Decimal = Decimal(0)
    summary: str = text(FREE, multiline=True, default="")


@strawberry.input(description="A performance evaluation (绩效评价) of a subject.")
class EvaluationInput:
    subject_id: strawberry.ID
    kind: enums.EvaluationKind
    fiscal_year: int
    organiser: str = text(200)
    budget_book: enums.BudgetBook
    amount_evaluated: Decimal = Decimal(0)
    score: Decimal | None = None
    third_party: str | None = text(200, default=None)


@strawberry.input(description="A finding (问题) of an evaluation, with its rectification notice.")
class FindingInput:
    evaluation_id: strawberry.ID
    category: enums.FindingCategory
    description: str = text(FREE, multiline=True)
    notice_issued_at: date
    received_at: date


@strawberry.input(description="A sensitivity filing (涉密/敏感备案).")
class FilingInput:
    department_id: strawberry.ID
    fiscal_year: int
    scope: enums.FilingScope
    reason: enums.FilingReason
    reference: str = text(60)
    filed_with: str = text(100)
    filed_at: date
    project_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="A release: approval date given, due date = approval + 20 days.")
class ReleaseInput:
    kind: enums.ReleaseKind
    fiscal_year: int
    approval_date: date
    department_id: strawberry.ID | None = None
    jurisdiction_code: str | None = text(
        12, default=None, description="For a FINANCE_ANNUAL release (no department)."
    )


@strawberry.input(description="Changes to a target still in DRAFT or REJECTED.")
class TargetPatch:
    overall_goal: str | None = text(FREE, multiline=True, default=None)
    indicators: list[IndicatorInput] | None = strawberry.field(
        default=None, description="The complete new list of indicators, in form order."
    )


@strawberry.input(description="Changes to a monitoring record; the execution rate follows.")
class MonitoringPatch:
    mode: enums.MonitoringMode | None = None
    as_of_date: date | None = None
    budget_to_date: Decimal | None = None
    executed_to_date: Decimal | None = None
    deviation_level: enums.DeviationLevel | None = None
    notes: str | None = text(FREE, multiline=True, default=None)


@strawberry.input(description="Changes to an ex-ante assessment.")
class ExAntePatch:
    conducted_by: enums.AssessmentConductor | None = None
    conclusion: enums.ExAnteConclusion | None = None
    requested_amount: Decimal | None = None
    recommended_reduction: Decimal | None = None
    summary: str | None = text(FREE, multiline=True, default=None)


@strawberry.input(description="Changes to an evaluation; the grade follows the score.")
class EvaluationPatch:
    organiser: str | None = text(200, default=None)
    third_party: str | None = text(200, default=None)
    budget_book: enums.BudgetBook | None = None
    amount_evaluated: Decimal | None = None
    score: Decimal | None = None
    status: enums.EvaluationStatus | None = strawberry.field(
        default=None, description="Moves forward only: PLANNED → … → CLOSED."
    )


@strawberry.input(description="A department's budget or final-accounts document for a year.")
class DocumentInput:
    department_id: strawberry.ID
    fiscal_year: int
    doc_kind: enums.DocKind = strawberry.field(
        description="BUDGET_DOC, TARGET_TABLE, FINAL_ACCOUNTS_DOC or SELF_ASSESSMENT_FORM."
    )
    title: str = text(files.MAX_TITLE)
