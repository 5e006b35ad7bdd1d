"""GraphQL documents of every mutation and their variables against a `World`, so the role-matrix,
scope and audit tests run the very same operations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.internal import samples
from tests.internal.conftest import World, gid

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
    """A mutation: its document and how to aim it at a department's records ("a" or "b");
    `files` are the uploads it sends (variable name → file name, bytes), as a multipart request."""

    name: str
    document: str
    variables: Callable[[World, str], dict[str, Any]]
    success: str
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


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
                    "parentId": gid(_pick(w, s, "")),
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
            lambda w, s: {"id": gid(_pick(w, s, "")), "v": 1, "p": {"name": "改名局"}},
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
                    "departmentId": gid(_pick(w, s, "")),
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
            lambda w, s: {"id": gid(_pick(w, s, "project")), "v": 1, "p": {"name": "改名"}},
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
            lambda w, s: {"s": gid(_pick(w, s, "project")), "g": "总体目标", "i": [indicator()]},
            "TargetSuccess",
        ),
        Op(
            "submitTarget",
            doc("submitTarget", "$id: ID!, $v: Int!", "id: $id, version: $v", "TargetSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "target")), "v": 1},
            "TargetSuccess",
        ),
        Op(
            "reviewTarget",
            doc("reviewTarget", "$id: ID!, $v: Int!", "id: $id, version: $v", "TargetSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "target")), "v": 1},
            "TargetSuccess",
        ),
        Op(
            "approveTarget",
            doc("approveTarget", "$id: ID!, $v: Int!", "id: $id, version: $v", "TargetSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "target")), "v": 1},
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
            lambda w, s: {"id": gid(_pick(w, s, "target")), "v": 1, "r": "指标不可衡量"},
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
                "s": gid(_pick(w, s, "project")),
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
                    "subjectId": gid(_pick(w, s, "project")),
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
                    "subjectId": gid(_pick(w, s, "project")),
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
                    "subjectId": gid(_pick(w, s, "project")),
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
                    "evaluationId": gid(_pick(w, s, "evaluation")),
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
                "id": gid(_pick(w, s, "rectification")),
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
                    "departmentId": gid(_pick(w, s, "")),
                    "fiscalYear": 2024,
                    "scope": "PROJECTS",
                    "reason": "SENSITIVE",
                    "reference": "敏备1",
                    "filedWith": "测试区财政局",
                    "filedAt": "2024-01-10",
                    "projectIds": [gid(_pick(w, s, "project"))],
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
                    "departmentId": gid(_pick(w, s, "")),
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
                "id": gid(_pick(w, s, "release")),
                "v": 1,
                "at": "2024-02-01T09:00:00+08:00",
            },
            "ReleaseSuccess",
        ),
        Op(
            "checkRelease",
            doc("checkRelease", "$id: ID!", "id: $id", "ReleaseCheck"),
            lambda w, s: {"id": gid(_pick(w, s, "release"))},
            "ReleaseCheck",
        ),
        Op(
            "publishRelease",
            doc("publishRelease", "$id: ID!, $v: Int!", "id: $id, version: $v", "ReleaseSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "release")), "v": 1},
            "ReleaseSuccess",
        ),
        Op(
            "registerProtectedTerm",
            doc(
                "registerProtectedTerm",
                "$id: ID!, $v: Int!, $term: String!",
                "id: $id, version: $v, term: $term",
                "ReleaseSuccess",
            ),
            lambda w, s: {"id": gid(_pick(w, s, "release")), "v": 1, "term": "张三丰"},
            "ReleaseSuccess",
        ),
        Op(
            "markNotPersonalData",
            doc(
                "markNotPersonalData",
                "$id: ID!, $v: Int!, $f: String!, $r: String!",
                "id: $id, version: $v, finding: $f, reason: $r",
                "ReleaseSuccess",
            ),
            lambda w, s: {
                "id": gid(_pick(w, s, "release")),
                "v": 1,
                "f": "0123456789abcdef",
                "r": "单位公开的办公电话",
            },
            "ReleaseSuccess",
        ),
        Op(
            "redactField",
            doc(
                "redactField",
                "$id: ID!, $v: Int!, $k: String!, $f: String!",
                "id: $id, version: $v, recordKey: $k, field: $f",
                "ReleaseSuccess",
            ),
            lambda w, s: {"id": gid(_pick(w, s, "release")), "v": 1, "k": "none", "f": "name"},
            "ReleaseSuccess",
        ),
        Op(
            "withdrawRelease",
            doc("withdrawRelease", "$id: ID!, $v: Int!", "id: $id, version: $v", "ReleaseSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "release")), "v": 1},
            "ReleaseSuccess",
        ),
        Op(
            "updateTarget",
            doc(
                "updateTarget",
                "$id: ID!, $v: Int!, $p: TargetPatch!",
                "id: $id, version: $v, patch: $p",
                "TargetSuccess",
            ),
            lambda w, s: {
                "id": gid(_pick(w, s, "target")),
                "v": 1,
                "p": {
                    "overallGoal": "新目标",
                    "indicators": [indicator(), indicator(name="及时率")],
                },
            },
            "TargetSuccess",
        ),
        Op(
            "updateMonitoring",
            doc(
                "updateMonitoring",
                "$id: ID!, $v: Int!, $p: MonitoringPatch!",
                "id: $id, version: $v, patch: $p",
                "MonitoringSuccess",
            ),
            lambda w, s: {
                "id": gid(_pick(w, s, "monitoring")),
                "v": 1,
                "p": {"executedToDate": "75000.00", "deviationLevel": "NONE"},
            },
            "MonitoringSuccess",
        ),
        Op(
            "updateExAnteAssessment",
            doc(
                "updateExAnteAssessment",
                "$id: ID!, $v: Int!, $p: ExAntePatch!",
                "id: $id, version: $v, patch: $p",
                "ExAnteSuccess",
            ),
            lambda w, s: {
                "id": gid(_pick(w, s, "ex_ante")),
                "v": 1,
                "p": {"conclusion": "SUPPORT_WITH_REDUCTION", "recommendedReduction": "30000.00"},
            },
            "ExAnteSuccess",
        ),
        Op(
            "updateEvaluation",
            doc(
                "updateEvaluation",
                "$id: ID!, $v: Int!, $p: EvaluationPatch!",
                "id: $id, version: $v, patch: $p",
                "EvaluationSuccess",
            ),
            lambda w, s: {
                "id": gid(_pick(w, s, "evaluation")),
                "v": 1,
                "p": {"score": "79.5", "status": "PLAN_REVIEWED"},
            },
            "EvaluationSuccess",
        ),
        Op(
            "flagOverdueRectifications",
            "mutation { r: flagOverdueRectifications { "
            f"{RESULT} ... on OverdueFlagged {{ flagged }} }} }}",
            lambda w, s: {},
            "OverdueFlagged",
        ),
        Op(
            "withdrawFiling",
            doc("withdrawFiling", "$id: ID!, $v: Int!", "id: $id, version: $v", "FilingSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "filing")), "v": 1},
            "FilingSuccess",
        ),
        Op(
            "revokeFiling",
            doc("revokeFiling", "$id: ID!, $v: Int!", "id: $id, version: $v", "FilingSuccess"),
            lambda w, s: {"id": gid(_pick(w, s, "filing")), "v": 1},
            "FilingSuccess",
        ),
        Op(
            "uploadDocument",
            doc(
                "uploadDocument",
                "$i: DocumentInput!, $file: Upload!",
                "input: $i, file: $file",
                "FileSuccess",
            ),
            lambda w, s: {
                "i": {
                    "departmentId": gid(_pick(w, s, "")),
                    "fiscalYear": 2024,
                    "docKind": "BUDGET_DOC",
                    "title": "2024年部门预算",
                }
            },
            "FileSuccess",
            {"file": ("部门预算.pdf", samples.pdf("budget"))},
        ),
        Op(
            "uploadEvaluationReport",
            doc(
                "uploadEvaluationReport",
                "$e: ID!, $t: String!, $mainText: Upload!, $v: Int",
                "evaluationId: $e, title: $t, mainText: $mainText, version: $v",
                "EvaluationReportSuccess",
            ),
            lambda w, s: {"e": gid(_pick(w, s, "evaluation")), "t": "评价报告（修订）", "v": 1},
            "EvaluationReportSuccess",
            {"mainText": ("报告.docx", samples.docx())},
        ),
        Op(
            "addEvaluationReportAnnex",
            doc(
                "addEvaluationReportAnnex",
                "$r: ID!, $v: Int!, $t: String!, $file: Upload!",
                "reportId: $r, version: $v, title: $t, file: $file",
                "EvaluationReportSuccess",
            ),
            lambda w, s: {"r": gid(_pick(w, s, "report")), "v": 1, "t": "评分表"},
            "EvaluationReportSuccess",
            {"file": ("评分表.xlsx", samples.xlsx())},
        ),
    ]
}
