"""GraphQL documents of every mutation and their variables against a `World`, so the role-matrix,
scope and audit tests run the very same operations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.internal.conftest import World

RESULT = """
  __typename
  ... on InvalidInput { field rule message }
  ... on NotFound { message }
  ... on Forbidden { message }
  ... on Conflict { message currentVersion }
"""


def doc(name: str, params: str, args: str, success: str) -> str:
    return (
        f"mutation({params}) {{ r: {name}({args}) {{ {RESULT} "
        f"... on {success} {{ __typename }} }} }}"
    )


def indicator(**overrides: Any) -> dict[str, Any]:
    return {
        "level1": "OUTPUT",
        "level2": "QUANTITY",
        "name": "完成率",
        "nature": "QUANTITATIVE",
        "comparator": "GE",
        "targetValueRaw": "≥90%",
        "targetValueNumber": "90",
        "unit": "%",
        "weight": "50",
        **overrides,
    }


def assessment_row(actual: str = "95", reason: str = "", **overrides: Any) -> dict[str, Any]:
    return {
        "level1": "OUTPUT",
        "level2": "QUANTITY",
        "indicatorName": "完成率",
        "comparator": "GE",
        "targetValueRaw": "≥90%",
        "targetValueNumber": "90",
        "actualValueRaw": f"{actual}%",
        "actualValueNumber": actual,
        "weight": "90",
        "deviationReason": reason,
        **overrides,
    }


def amounts(total: str, appropriation: str | None = None) -> dict[str, str]:
    return {
        "initialTotal": total,
        "initialAppropriation": appropriation or total,
        "fullYearTotal": total,
        "fullYearAppropriation": total,
    }


@dataclass(frozen=True)
class Op:
    """A mutation: its document and how to aim it at a department's records ("a" or "b")."""

    name: str
    document: str
    variables: Callable[[World, str], dict[str, Any]]
    success: str


def _pick(world: World, side: str, attr: str) -> Any:
    return getattr(world, f"{side}_{attr}" if attr else side)


OPS: dict[str, Op] = {
    op.name: op
    for op in [
        Op(
            "createDepartment",
            doc("createDepartment", "$i: DepartmentInput!", "input: $i", "DepartmentSuccess"),
            lambda w, s: {
                "i": {
                    "code": f"{_pick(w, s, '').code}009",
                    "name": "新单位",
                    "tier": "UNIT",
                    "orgType": "PUBLIC_INSTITUTION",
                    "parentId": str(_pick(w, s, "").id),
                }
            },
            "DepartmentSuccess",
        ),
        Op(
            "updateDepartment",
            doc(
                "updateDepartment",
                "$id: ID!, $v: Int!, $p: DepartmentPatch!",
                "id: $id, version: $v, patch: $p",
                "DepartmentSuccess",
            ),
            lambda w, s: {"id": str(_pick(w, s, "").id), "v": 1, "p": {"name": "改名局"}},
            "DepartmentSuccess",
        ),
        Op(
            "createSubject",
            doc("createSubject", "$i: SubjectInput!", "input: $i", "SubjectSuccess"),
            lambda w, s: {
                "i": {
                    "kind": "PROJECT",
                    "code": "NEW-1",
                    "fiscalYear": 2024,
                    "name": "新项目",
                    "departmentId": str(_pick(w, s, "").id),
                    "budgetBook": "GENERAL_PUBLIC",
                    "amounts": amounts("1000.50"),
                }
            },
            "SubjectSuccess",
        ),
        Op(
            "updateSubject",
            doc(
                "updateSubject",
                "$id: ID!, $v: Int!, $p: SubjectPatch!",
                "id: $id, version: $v, patch: $p",
                "SubjectSuccess",
            ),
            lambda w, s: {"id": str(_pick(w, s, "project").id), "v": 1, "p": {"name": "改名"}},
            "SubjectSuccess",
        ),
        Op(
            "createTarget",
            doc(
                "createTarget",
                "$s: ID!, $g: String!, $i: [IndicatorInput!]!",
                "subjectId: $s, overallGoal: $g, indicators: $i, horizon: OVERALL",
                "TargetSuccess",
            ),
            lambda w, s: {"s": str(_pick(w, s, "project").id), "g": "总体目标", "i": [indicator()]},
            "TargetSuccess",
        ),
        Op(
            "submitTarget",
            doc("submitTarget", "$id: ID!, $v: Int!", "id: $id, version: $v", "TargetSuccess"),
            lambda w, s: {"id": str(_pick(w, s, "target").id), "v": 1},
            "TargetSuccess",
        ),
        Op(
            "reviewTarget",
            doc("reviewTarget", "$id: ID!, $v: Int!", "id: $id, version: $v", "TargetSuccess"),
            lambda w, s: {"id": str(_pick(w, s, "target").id), "v": 1},
            "TargetSuccess",
        ),
        Op(
            "approveTarget",
            doc("approveTarget", "$id: ID!, $v: Int!", "id: $id, version: $v", "TargetSuccess"),
            lambda w, s: {"id": str(_pick(w, s, "target").id), "v": 1},
            "TargetSuccess",
        ),
        Op(
            "rejectTarget",
            doc(
                "rejectTarget",
                "$id: ID!, $v: Int!, $r: String!",
                "id: $id, version: $v, reason: $r",
                "TargetSuccess",
            ),
            lambda w, s: {"id": str(_pick(w, s, "target").id), "v": 1, "r": "指标不可衡量"},
            "TargetSuccess",
        ),
        Op(
            "recordSelfAssessment",
            doc(
                "recordSelfAssessment",
                "$s: ID!, $b: Decimal!, $e: Decimal!, $rows: [AssessmentRowInput!]!",
                "subjectId: $s, fullYearBudget: $b, executed: $e, rows: $rows",
                "SelfAssessmentSuccess",
            ),
            lambda w, s: {
                "s": str(_pick(w, s, "project").id),
                "b": "250000.00",
                "e": "215457.60",
                "rows": [assessment_row()],
            },
            "SelfAssessmentSuccess",
        ),
        Op(
            "recordMonitoring",
            doc("recordMonitoring", "$i: MonitoringInput!", "input: $i", "MonitoringSuccess"),
            lambda w, s: {
                "i": {
                    "subjectId": str(_pick(w, s, "project").id),
                    "mode": "KEY",
                    "asOfDate": "2024-07-31",
                    "budgetToDate": "120000.00",
                    "executedToDate": "80000.00",
                    "deviationLevel": "MINOR",
                }
            },
            "MonitoringSuccess",
        ),
        Op(
            "recordExAnteAssessment",
            doc("recordExAnteAssessment", "$i: ExAnteInput!", "input: $i", "ExAnteSuccess"),
            lambda w, s: {
                "i": {
                    "subjectId": str(_pick(w, s, "project").id),
                    "conductedBy": "FINANCE",
                    "conclusion": "SUPPORT_WITH_REDUCTION",
                    "requestedAmount": "300000.00",
                    "recommendedReduction": "50000.00",
                }
            },
            "ExAnteSuccess",
        ),
        Op(
            "recordEvaluation",
            doc("recordEvaluation", "$i: EvaluationInput!", "input: $i", "EvaluationSuccess"),
            lambda w, s: {
                "i": {
                    "subjectId": str(_pick(w, s, "project").id),
                    "kind": "DEPARTMENT",
                    "fiscalYear": 2024,
                    "organiser": "测试区财政局",
                    "budgetBook": "GENERAL_PUBLIC",
                    "amountEvaluated": "250000.00",
                    "score": "91.5",
                }
            },
            "EvaluationSuccess",
        ),
        Op(
            "recordFinding",
            doc("recordFinding", "$i: FindingInput!", "input: $i", "RectificationSuccess"),
            lambda w, s: {
                "i": {
                    "evaluationId": str(_pick(w, s, "evaluation").id),
                    "category": "COARSE_INDICATORS",
                    "description": "指标设置粗放",
                    "noticeIssuedAt": "2025-05-01",
                    "receivedAt": "2025-05-03",
                }
            },
            "RectificationSuccess",
        ),
        Op(
            "reportRectification",
            doc(
                "reportRectification",
                "$id: ID!, $v: Int!, $m: String!, $at: Date!",
                "id: $id, version: $v, measures: $m, reportedAt: $at",
                "RectificationSuccess",
            ),
            lambda w, s: {
                "id": str(_pick(w, s, "rectification").id),
                "v": 1,
                "m": "已细化指标",
                "at": "2025-05-30",
            },
            "RectificationSuccess",
        ),
        Op(
            "fileFiling",
            doc("fileFiling", "$i: FilingInput!", "input: $i", "FilingSuccess"),
            lambda w, s: {
                "i": {
                    "departmentId": str(_pick(w, s, "").id),
                    "fiscalYear": 2024,
                    "scope": "PROJECTS",
                    "reason": "SENSITIVE",
                    "reference": "敏备1",
                    "filedWith": "测试区财政局",
                    "filedAt": "2024-01-10",
                    "projectIds": [str(_pick(w, s, "project").id)],
                }
            },
            "FilingSuccess",
        ),
        Op(
            "createRelease",
            doc("createRelease", "$i: ReleaseInput!", "input: $i", "ReleaseSuccess"),
            lambda w, s: {
                "i": {
                    "kind": "FINAL_ACCOUNTS",
                    "fiscalYear": 2024,
                    "approvalDate": "2025-07-10",
                    "departmentId": str(_pick(w, s, "").id),
                }
            },
            "ReleaseSuccess",
        ),
        Op(
            "scheduleRelease",
            doc(
                "scheduleRelease",
                "$id: ID!, $v: Int!, $at: DateTime!",
                "id: $id, version: $v, publishAt: $at",
                "ReleaseSuccess",
            ),
            lambda w, s: {
                "id": str(_pick(w, s, "release").id),
                "v": 1,
                "at": "2024-02-01T09:00:00+08:00",
            },
            "ReleaseSuccess",
        ),
        Op(
            "checkRelease",
            doc("checkRelease", "$id: ID!", "id: $id", "ReleaseCheck"),
            lambda w, s: {"id": str(_pick(w, s, "release").id)},
            "ReleaseCheck",
        ),
        Op(
            "publishRelease",
            doc("publishRelease", "$id: ID!, $v: Int!", "id: $id, version: $v", "ReleaseSuccess"),
            lambda w, s: {"id": str(_pick(w, s, "release").id), "v": 1},
            "ReleaseSuccess",
        ),
        Op(
            "withdrawRelease",
            doc("withdrawRelease", "$id: ID!, $v: Int!", "id: $id, version: $v", "ReleaseSuccess"),
            lambda w, s: {"id": str(_pick(w, s, "release").id), "v": 1},
            "ReleaseSuccess",
        ),
    ]
}
