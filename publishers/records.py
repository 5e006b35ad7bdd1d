"""Working rows → published records: the public shape of every record type.

Keys are stable across releases and years (department code; project code + fiscal year) and name
only published things. Field names are camelCase, as the public API serves them; enums travel as
their identifier with a `…Label` beside it in Chinese, for readers of the CSV files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from publishers.render import Record
from storage import models
from storage.enums import LabelledEnum, RecordType, ReleaseKind
from storage.files import EXTENSIONS
from storage.search_text import searchable

#: A child row (an indicator, a self-assessment row) as `QuerySet.values()` reads it: the
#: model's field names with their Python values. A district has 45,000 of each a year, and an
#: ORM object apiece was the largest cost of selecting them.
Row = Mapping[str, Any]
#: The fields of the child rows that the records carry (what `values()` needs to read).
INDICATOR_FIELDS = (
    "position",
    "level1",
    "level2",
    "name",
    "nature",
    "comparator",
    "target_value_raw",
    "target_value_number",
    "unit",
    "weight",
    "is_core",
)
ASSESSMENT_ROW_FIELDS = (
    "position",
    "level1",
    "level2",
    "indicator_name",
    "comparator",
    "target_value_raw",
    "actual_value_raw",
    "weight",
    "score",
    "deviation_reason",
)


def labelled(name: str, value: LabelledEnum | None) -> dict[str, Any]:
    return {
        name: None if value is None else value.value,
        f"{name}Label": None if value is None else value.label,
    }


def jurisdiction_key(jurisdiction: models.Jurisdiction) -> str:
    return jurisdiction.code


#: Joins the parts of a record key. The public API matches keys by this convention, in Python
#: and in SQL (schema/public/statistics.py groups by department key).
KEY_SEPARATOR = "/"


def department_key(jurisdiction_code: str, department_code: str) -> str:
    """``<jurisdiction>/<department>``: a department's or a unit's key, the same every year."""
    return f"{jurisdiction_code}{KEY_SEPARATOR}{department_code}"


def subject_key(
    jurisdiction_code: str, department_code: str, kind: str, code: str, fiscal_year: int
) -> str:
    """``<jurisdiction>/<department>/<kind>/<code>/<year>``: its department's key extended; a
    subject's records extend it in turn."""
    parts = (department_key(jurisdiction_code, department_code), kind, code, str(fiscal_year))
    return KEY_SEPARATOR.join(parts)


def file_key(stored: models.StoredFile) -> str:
    return f"file/{stored.sha256}"


def file_path(stored: models.StoredFile) -> str:
    """Content-addressed, so the same file is one object however often it is published."""
    extension = EXTENSIONS.get(stored.content_type, "bin")
    return f"files/{stored.sha256}.{extension}"


def jurisdiction_record(jurisdiction: models.Jurisdiction) -> Record:
    data = {
        "key": jurisdiction_key(jurisdiction),
        "code": jurisdiction.code,
        "name": jurisdiction.name,
        **labelled("level", jurisdiction.level),
        "financeAuthority": jurisdiction.finance_authority_name,
        "demo": jurisdiction.is_demo,
    }
    return Record(RecordType.JURISDICTION, data["key"], 0, None, jurisdiction.name, data)


def department_record(
    jurisdiction: models.Jurisdiction,
    department: models.Department,
    parent: models.Department | None,
    fiscal_year: int,
) -> Record:
    data = {
        "key": department_key(jurisdiction.code, department.code),
        "code": department.code,
        "name": department.name,
        "jurisdictionCode": jurisdiction.code,
        **labelled("tier", department.tier),
        **labelled("orgType", department.org_type),
        "parentCode": parent.code if parent else None,
    }
    return Record(
        RecordType.DEPARTMENT, data["key"], fiscal_year, department.code, department.name, data
    )


AMOUNT_SOURCES = {
    "total": "total",
    "appropriation": "appropriation",
    "carryOver": "carry_over",
    "other": "other",
}


def amounts(subject: models.Subject, columns: Sequence[str]) -> dict[str, Any]:
    """The amounts block, column by column (initial / fullYear / executed), in 元."""
    names = {"initial": "initial", "fullYear": "full_year", "executed": "executed"}
    return {
        column: {
            public: getattr(subject, f"{names[column]}_{private}")
            for public, private in AMOUNT_SOURCES.items()
        }
        for column in columns
    }


def subject_record(
    jurisdiction: models.Jurisdiction,
    subject: models.Subject,
    departments: dict[int, models.Department],
    amount_columns: Sequence[str],
) -> Record:
    department = departments[subject.department_id]
    unit = departments.get(subject.implementing_unit_id or 0)
    data = {
        "key": subject_key(
            jurisdiction.code,
            department.code,
            str(subject.kind),
            subject.code,
            subject.fiscal_year,
        ),
        **labelled("kind", subject.kind),
        "code": subject.code,
        "fiscalYear": subject.fiscal_year,
        "name": subject.name,
        "jurisdictionCode": jurisdiction.code,
        "departmentCode": department.code,
        "departmentName": department.name,
        "implementingUnitCode": unit.code if unit else None,
        "implementingUnitName": unit.name if unit else None,
        "parentKey": None,
        **labelled("budgetBook", subject.budget_book),
        **labelled("fundingPurpose", subject.funding_purpose),
        **labelled("projectType", subject.project_type),
        **labelled("attribute", subject.attribute),
        **labelled("transferType", subject.transfer_type),
        "startDate": subject.start_date,
        "endDate": subject.end_date,
        "basis": subject.basis,
        "summary": subject.summary,
        "amounts": amounts(subject, amount_columns),
    }
    return Record(
        RecordType.SUBJECT, data["key"], subject.fiscal_year, department.code, subject.name, data
    )


def with_parent(record: Record, parent_key: str) -> Record:
    return replace(record, data={**record.data, "parentKey": parent_key})


def target_record(
    subject: Record, target: models.PerformanceTarget, indicators: Iterable[Row]
) -> Record:
    data = {
        "key": f"{subject.key}/target/{target.horizon.value}",
        "subjectKey": subject.key,
        "fiscalYear": target.fiscal_year,
        **labelled("horizon", target.horizon),
        "overallGoal": target.overall_goal,
        "approvedOn": target.approved_with_budget_on,
        "indicators": [
            {
                "position": i["position"],
                **labelled("level1", i["level1"]),
                **labelled("level2", i["level2"]),
                "name": i["name"],
                **labelled("nature", i["nature"]),
                **labelled("comparator", i["comparator"]),
                "targetValue": i["target_value_raw"],
                "targetNumber": i["target_value_number"],
                "unit": i["unit"],
                "weight": i["weight"],
                "core": i["is_core"],
            }
            for i in sorted(indicators, key=lambda i: i["position"])
        ],
    }
    return _child(RecordType.TARGET, subject, data)


def ex_ante_record(subject: Record, assessment: models.ExAnteAssessment) -> Record:
    data = {
        "key": f"{subject.key}/ex-ante/{assessment.conducted_by.value}",
        "subjectKey": subject.key,
        "fiscalYear": assessment.fiscal_year,
        **labelled("conductedBy", assessment.conducted_by),
        **labelled("conclusion", assessment.conclusion),
        "requestedAmount": assessment.requested_amount,
        "recommendedReduction": assessment.recommended_reduction,
        "summary": assessment.summary,
    }
    return _child(RecordType.EX_ANTE_ASSESSMENT, subject, data)


def monitoring_record(subject: Record, record: models.MonitoringRecord) -> Record:
    data = {
        "key": f"{subject.key}/monitoring/{record.as_of_date.isoformat()}/{record.mode.value}",
        "subjectKey": subject.key,
        "fiscalYear": record.fiscal_year,
        **labelled("mode", record.mode),
        "asOfDate": record.as_of_date,
        "budgetToDate": record.budget_to_date,
        "executedToDate": record.executed_to_date,
        "executionRate": record.execution_rate,
        **labelled("deviationLevel", record.deviation_level),
        "correctiveActions": list(record.corrective_actions),
    }
    return _child(RecordType.MONITORING, subject, data)


def self_assessment_record(
    subject: Record, assessment: models.SelfAssessment, rows: Iterable[Row]
) -> Record:
    data = {
        "key": f"{subject.key}/self-assessment",
        "subjectKey": subject.key,
        "fiscalYear": assessment.fiscal_year,
        "fullYearBudget": assessment.full_year_budget,
        "executed": assessment.executed,
        "executionRate": assessment.execution_rate,
        "executionScore": assessment.execution_score,
        "annualGoalExpected": assessment.annual_goal_expected,
        "annualGoalActual": assessment.annual_goal_actual,
        "totalScore": assessment.total_score,
        **labelled("grade", assessment.grade),
        "rows": [
            {
                "position": r["position"],
                **labelled("level1", r["level1"]),
                **labelled("level2", r["level2"]),
                "indicatorName": r["indicator_name"],
                **labelled("comparator", r["comparator"]),
                "targetValue": r["target_value_raw"],
                "actualValue": r["actual_value_raw"],
                "weight": r["weight"],
                "score": r["score"],
                "deviationReason": r["deviation_reason"],
            }
            for r in sorted(rows, key=lambda r: r["position"])
        ],
    }
    return _child(RecordType.SELF_ASSESSMENT, subject, data)


def evaluation_record(
    subject: Record, evaluation: models.Evaluation, report_file_key: str | None
) -> Record:
    data = {
        "key": f"{subject.key}/evaluation/{evaluation.kind.value}",
        "subjectKey": subject.key,
        "fiscalYear": evaluation.fiscal_year,
        **labelled("kind", evaluation.kind),
        "organiser": evaluation.organiser,
        "thirdParty": evaluation.third_party,
        **labelled("budgetBook", evaluation.budget_book),
        "amountEvaluated": evaluation.amount_evaluated,
        "score": evaluation.score,
        **labelled("grade", evaluation.grade),
        "reportFileKey": report_file_key,
    }
    return _child(RecordType.EVALUATION, subject, data)


def annual_statement_record(
    jurisdiction: models.Jurisdiction, statement: models.AnnualStatement
) -> Record:
    data: dict[str, Any] = {
        "key": f"{jurisdiction.code}/statement/{statement.year}",
        "jurisdictionCode": jurisdiction.code,
        "year": statement.year,
        "title": statement.title,
        "text": statement.text,
    }
    return Record(
        RecordType.ANNUAL_STATEMENT, data["key"], statement.year, None, statement.title, data
    )


def file_record(
    stored: models.StoredFile, department_code: str | None, about_key: str | None
) -> Record:
    data = {
        "key": file_key(stored),
        "title": stored.title,
        **labelled("docKind", stored.doc_kind),
        "fiscalYear": stored.fiscal_year,
        "departmentCode": department_code,
        "aboutKey": about_key,
        "path": file_path(stored),
        "contentType": stored.content_type,
        "bytes": stored.size,
        "sha256": stored.sha256,
        "language": stored.language,
    }
    return Record(
        RecordType.FILE, data["key"], stored.fiscal_year, department_code, stored.title, data
    )


def _child(record_type: RecordType, subject: Record, data: dict[str, Any]) -> Record:
    return Record(
        record_type, data["key"], data["fiscalYear"], subject.department_code, subject.name, data
    )


# --- what the public index copies out of each record ------------------------------------------


def search_text(record: Record) -> str:
    """What a search reads of a record (storage/search_text.py)."""
    return searchable(record.record_type, record.data)


def _fen(value: Any) -> int | None:
    return None if value is None else int(Decimal(value) * 100)


def facets(record: Record, release_kind: ReleaseKind) -> dict[str, Any]:
    """The columns of a snapshot row besides the record itself: what filters and aggregates
    need, as integers (分, hundredths of a point) so both databases compare them exactly."""
    data = record.data
    row: dict[str, Any] = {
        "release_kind": release_kind,
        # A subject published with the budget and again with the final accounts is answered
        # from the final accounts, which carry all three amount columns.
        "precedence": 2 if release_kind is ReleaseKind.FINAL_ACCOUNTS else 1,
        "subject_key": data.get("subjectKey"),
    }
    match record.record_type:
        case RecordType.SUBJECT:
            money = data["amounts"]
            budget = money.get("fullYear", money["initial"])["total"]
            row |= {
                "subject_key": record.key,
                "subject_kind": data["kind"],
                "budget_book": data["budgetBook"],
                "funding_purpose": data["fundingPurpose"],
                "transfer_type": data["transferType"],
                "budget_fen": _fen(budget),
                "executed_fen": _fen(money.get("executed", {}).get("total")),
            }
        case RecordType.SELF_ASSESSMENT:
            row |= {
                "grade": data["grade"],
                "score_hundredths": _fen(data["totalScore"]),
                "budget_fen": _fen(data["fullYearBudget"]),
                "executed_fen": _fen(data["executed"]),
            }
        case RecordType.EVALUATION:
            row |= {
                "grade": data["grade"],
                "score_hundredths": _fen(data["score"]),
                "budget_book": data["budgetBook"],
                "budget_fen": _fen(data["amountEvaluated"]),
            }
    return row
