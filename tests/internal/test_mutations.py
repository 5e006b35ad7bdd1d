"""The workflow mutations: results, optimistic concurrency, invalid input without partial rows,
and an audit entry for every write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from storage import models
from storage.enums import ReviewStatus
from tests.internal.conftest import Api, World, gid, token
from tests.internal.ops import OPS, RESULT, amounts, assessment_row, indicator

EDITOR = token("department_editor", "101", sub="editor-a")
FINANCE = token("finance_officer", sub="officer-1")
PUBLISHER = token("publisher", sub="publisher-1")


async def run(api: Api, bearer: str, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await api(bearer, OPS[name].document, variables, OPS[name].files)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["r"]
    return result


VERSIONED = [
    models.Department,
    models.Subject,
    models.PerformanceTarget,
    models.MonitoringRecord,
    models.ExAnteAssessment,
    models.Evaluation,
    models.EvaluationReport,
    models.Rectification,
    models.SensitivityFiling,
    models.Release,
]


def _without_version(variables: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in variables.items() if k != "v"}


async def counts() -> dict[str, Any]:
    """Rows of every table a mutation writes, and every versioned row's version: a refused
    write leaves all of them as they were."""
    return {
        "versions": {
            model.__name__: sorted(await model.all().values_list("id", "version"))
            for model in VERSIONED
        },
        "indicator_rows": sorted(await models.Indicator.all().values_list("id", "name")),
        "files": await models.StoredFile.all().count(),
        "contents": await models.FileContent.all().count(),
        "reports": await models.EvaluationReport.all().count(),
        "annexes": await models.EvaluationReport.filter(annexes__id__isnull=False).count(),
        "audit": await models.AuditEntry.all().count(),
        "subjects": await models.Subject.all().count(),
        "targets": await models.PerformanceTarget.all().count(),
        "indicators": await models.Indicator.all().count(),
        "assessments": await models.SelfAssessment.all().count(),
        "rows": await models.SelfAssessmentRow.all().count(),
        "departments": await models.Department.all().count(),
        "filings": await models.SensitivityFiling.all().count(),
        "evaluations": await models.Evaluation.all().count(),
        "monitoring": await models.MonitoringRecord.all().count(),
        "ex_ante": await models.ExAnteAssessment.all().count(),
        "findings": await models.Finding.all().count(),
        "rectifications": await models.Rectification.all().count(),
    }


TARGET_FIELDS = f"""{RESULT}
  ... on TargetSuccess {{ target {{ id reviewStatus rejectionReason version
    indicators {{ position name weight }} }} }}"""


async def test_target_workflow(api: Api, world: World) -> None:
    step = """mutation($id: ID!, $v: Int!) { r: %s(id: $id, version: $v) { %s } }"""
    created = await api(
        EDITOR,
        "mutation($s: ID!, $i: [IndicatorInput!]!) { r: createTarget(subjectId: $s, "
        f'overallGoal: "总体", indicators: $i, horizon: OVERALL) {{ {TARGET_FIELDS} }} }}',
        {"s": gid(world.a_project), "i": [indicator(), indicator(name="满意度", weight="40")]},
    )
    target = created["data"]["r"]["target"]
    assert target["reviewStatus"] == "DRAFT"
    assert [i["name"] for i in target["indicators"]] == ["完成率", "满意度"]
    version = 1
    for name, bearer, status in [
        ("submitTarget", EDITOR, "SUBMITTED"),
        ("reviewTarget", EDITOR, "DEPT_REVIEWED"),
        ("rejectTarget", FINANCE, "REJECTED"),
        ("submitTarget", EDITOR, "SUBMITTED"),
        ("reviewTarget", EDITOR, "DEPT_REVIEWED"),
        ("approveTarget", FINANCE, "FINANCE_APPROVED"),
    ]:
        document = step % (name, TARGET_FIELDS)
        if name == "rejectTarget":
            document = document.replace("version: $v)", 'version: $v, reason: "指标不可衡量")')
        body = await api(bearer, document, {"id": target["id"], "v": version})
        result = body["data"]["r"]
        assert result["target"]["reviewStatus"] == status, (name, result)
        version += 1
        assert result["target"]["version"] == version
        if name == "rejectTarget":
            assert result["target"]["rejectionReason"] == "指标不可衡量"
    actions = await models.AuditEntry.filter(record_type="PerformanceTarget").values_list(
        "action", "actor", flat=False
    )
    assert [a for a, _ in actions] == [
        "createTarget",
        "submitTarget",
        "reviewTarget",
        "rejectTarget",
        "submitTarget",
        "reviewTarget",
        "approveTarget",
    ]
    assert {actor for _, actor in actions} == {"editor-a", "officer-1"}


async def test_review_steps_keep_their_order(api: Api, world: World) -> None:
    result = await run(api, FINANCE, "approveTarget", {"id": gid(world.a_target), "v": 1})
    assert (result["__typename"], result["field"], result["rule"]) == (
        "InvalidInput",
        "reviewStatus",
        "review-order",
    )
    await models.PerformanceTarget.filter(id=world.a_target.id).update(
        review_status=ReviewStatus.SUBMITTED
    )
    result = await run(api, FINANCE, "rejectTarget", {"id": gid(world.a_target), "v": 1, "r": "  "})
    assert (result["field"], result["rule"]) == ("reason", "required")
    assert await models.AuditEntry.all().count() == 0


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("updateDepartment", lambda w: {"id": gid(w.a), "p": {"name": "新名"}}),
        ("updateSubject", lambda w: {"id": gid(w.a_project), "p": {"name": "新名"}}),
        ("submitTarget", lambda w: {"id": gid(w.a_target)}),
        (
            "scheduleRelease",
            lambda w: {"id": gid(w.a_release), "at": "2024-02-01T09:00:00+08:00"},
        ),
        *(
            (name, lambda w, name=name: _without_version(OPS[name].variables(w, "a")))
            for name in [
                "updateTarget",
                "updateMonitoring",
                "updateExAnteAssessment",
                "updateEvaluation",
                "uploadEvaluationReport",
                "addEvaluationReportAnnex",
            ]
        ),
    ],
)
async def test_a_stale_version_is_a_conflict(
    api: Api, world: World, name: str, variables: Any
) -> None:
    bearer = token("admin")
    first = await run(api, bearer, name, {**variables(world), "v": 1})
    assert first["__typename"].endswith("Success"), first
    before = await counts()
    snapshot = await models.AuditEntry.all().values_list("id", flat=True)
    second = await run(api, bearer, name, {**variables(world), "v": 1})
    assert second["__typename"] == "Conflict"
    assert second["currentVersion"] == 2
    assert "stale version 1" in second["message"]
    assert await counts() == before
    assert await models.AuditEntry.all().values_list("id", flat=True) == snapshot


async def test_a_conflict_changes_nothing(api: Api, world: World) -> None:
    await models.Subject.filter(id=world.a_project.id).update(version=2, name="别人改的")
    result = await run(
        api, EDITOR, "updateSubject", {"id": gid(world.a_project), "v": 1, "p": {"name": "我的"}}
    )
    assert result["__typename"] == "Conflict"
    row = await models.Subject.get(id=world.a_project.id)
    assert (row.name, row.version) == ("别人改的", 2)


def patched(world: World, name: str, **patch: Any) -> dict[str, Any]:
    """The op's variables aimed at A's record, with these fields in its patch."""
    variables = OPS[name].variables(world, "a")
    return {**variables, "p": {**variables["p"], **patch}}


@pytest.mark.parametrize(
    ("name", "variables", "field", "rule"),
    [
        (
            "createTarget",
            lambda w: {
                "s": gid(w.a_project),
                "g": "目标",
                "i": [indicator(), indicator(level1="SATISFACTION", level2="QUANTITY")],
            },
            "indicators[1].level2",
            "indicator-level2-child",
        ),
        (
            "createTarget",
            lambda w: {"s": gid(w.a_project), "g": " ", "i": [indicator()]},
            "overall_goal",
            "required",
        ),
        (
            "recordSelfAssessment",
            lambda w: {
                "s": gid(w.a_project),
                "b": "250000.00",
                "e": "200000.00",
                "rows": [assessment_row(actual="45")],
            },
            "rows[0].deviation_reason",
            "deviation-reason-required",
        ),
        (
            "recordSelfAssessment",
            lambda w: {
                "s": gid(w.a_project),
                "b": "250000.001",
                "e": "200000.00",
                "rows": [assessment_row()],
            },
            "fullYearBudget",
            "money-two-places",
        ),
        (
            "createSubject",
            lambda w: {
                "i": {
                    "kind": "PROJECT",
                    "code": "X-1",
                    "fiscalYear": 2024,
                    "name": "项目",
                    "departmentId": gid(w.a),
                    "budgetBook": "GENERAL_PUBLIC",
                    "amounts": amounts("100.00", appropriation="90.00"),
                }
            },
            "amounts.initial_total",
            "amounts-rows-add-up",
        ),
        (
            "createSubject",
            lambda w: {
                "i": {
                    "kind": "PROJECT",
                    "code": "101-P1",
                    "fiscalYear": 2024,
                    "name": "重复",
                    "departmentId": gid(w.a),
                    "budgetBook": "GENERAL_PUBLIC",
                }
            },
            "input.code",
            "unique",
        ),
        (
            "updateSubject",
            lambda w: {"id": gid(w.a_project), "v": 1, "p": {"amounts": amounts("-1.00")}},
            "amounts.initial_total",
            "amount-non-negative",
        ),
        (
            "recordMonitoring",
            lambda w: {
                "i": {**OPS["recordMonitoring"].variables(w, "a")["i"], "budgetToDate": "0"}
            },
            "budgetToDate",
            "budget-positive",
        ),
        (
            "recordExAnteAssessment",
            lambda w: {
                "i": {
                    **OPS["recordExAnteAssessment"].variables(w, "a")["i"],
                    "conclusion": "SUPPORT",
                }
            },
            "recommendedReduction",
            "reduction-matches-conclusion",
        ),
        (
            "recordEvaluation",
            lambda w: {
                "i": {
                    **OPS["recordEvaluation"].variables(w, "a")["i"],
                    "score": "100.5",
                }
            },
            "score",
            "score-range",
        ),
        (
            "recordEvaluation",
            lambda w: {
                "i": {
                    **OPS["recordEvaluation"].variables(w, "a")["i"],
                    "fiscalYear": 2023,  # DR-5: the subject is of 2024
                }
            },
            "fiscalYear",
            "fiscal-year-of-subject",
        ),
        (
            "recordFinding",
            lambda w: {
                "i": {
                    **OPS["recordFinding"].variables(w, "a")["i"],
                    "receivedAt": "2025-04-01",
                }
            },
            "receivedAt",
            "date-order",
        ),
        (
            "createDepartment",
            lambda w: {
                "i": {
                    "code": "101-X",
                    "name": "单位",
                    "tier": "DEPARTMENT",
                    "orgType": "ADMINISTRATIVE",
                    "parentId": gid(w.a),
                }
            },
            "parent",
            "department-top-level",
        ),
        (
            "updateTarget",
            lambda w: patched(
                w,
                "updateTarget",
                indicators=[indicator(), indicator(level1="SATISFACTION", level2="QUANTITY")],
            ),
            "patch.indicators[1].level2",
            "indicator-level2-child",
        ),
        (
            "updateTarget",
            lambda w: patched(w, "updateTarget", indicators=[]),
            "patch.indicators",
            "indicators-required",
        ),
        (
            "updateTarget",
            lambda w: patched(w, "updateTarget", overallGoal="  "),
            "patch.overallGoal",
            "required",
        ),
        (
            "updateTarget",
            lambda w: patched(
                w, "updateTarget", indicators=[indicator(nature="QUALITATIVE", comparator="GE")]
            ),
            "patch.indicators[0].comparator",
            "indicator-comparator-nature",
        ),
        (
            "updateMonitoring",
            lambda w: patched(w, "updateMonitoring", budgetToDate="0"),
            "patch.budgetToDate",
            "budget-positive",
        ),
        (
            "updateMonitoring",
            lambda w: patched(w, "updateMonitoring", executedToDate="-1.00"),
            "patch.executedToDate",
            "amount-non-negative",
        ),
        (
            "updateExAnteAssessment",
            lambda w: {
                "id": gid(w.a_ex_ante),
                "v": 1,
                "p": {"conclusion": "SUPPORT_WITH_REDUCTION"},
            },
            "patch.recommendedReduction",
            "reduction-matches-conclusion",
        ),
        (
            "updateExAnteAssessment",
            lambda w: patched(w, "updateExAnteAssessment", recommendedReduction="300000.01"),
            "patch.recommendedReduction",
            "reduction-within-request",
        ),
        (
            "updateEvaluation",
            lambda w: patched(w, "updateEvaluation", score="100.01"),
            "patch.score",
            "score-range",
        ),
        (
            "updateEvaluation",
            lambda w: patched(w, "updateEvaluation", organiser=" "),
            "patch.organiser",
            "required",
        ),
        (
            "updateEvaluation",
            lambda w: patched(w, "updateEvaluation", amountEvaluated="1.001"),
            "patch.amountEvaluated",
            "money-two-places",
        ),
        (
            "uploadDocument",
            lambda w: {
                "i": {
                    **OPS["uploadDocument"].variables(w, "a")["i"],
                    "docKind": "EVALUATION_REPORT_ANNEX",
                }
            },
            "input.docKind",
            "doc-kind-of-department",
        ),
        (
            "uploadDocument",
            lambda w: {"i": {**OPS["uploadDocument"].variables(w, "a")["i"], "title": " "}},
            "input.title",
            "required",
        ),
        (
            "uploadEvaluationReport",
            lambda w: {**OPS["uploadEvaluationReport"].variables(w, "a"), "t": ""},
            "title",
            "required",
        ),
    ],
)
async def test_invalid_input_names_field_and_rule_and_writes_nothing(
    api: Api, world: World, name: str, variables: Any, field: str, rule: str
) -> None:
    before = await counts()
    result = await run(api, token("admin"), name, variables(world))
    assert result["__typename"] == "InvalidInput", result
    assert (result["field"], result["rule"]) == (field, rule)
    assert result["message"]
    assert await counts() == before
    assert (await models.Subject.get(id=world.a_project.id)).version == 1


async def test_every_write_is_audited(api: Api, world: World) -> None:
    """Each successful mutation adds exactly one entry naming actor, roles, action and record,
    with the record before and after."""
    admin = token("admin", "101", sub="admin-1")
    await models.PerformanceTarget.filter(id=world.b_target.id).update(
        review_status=ReviewStatus.SUBMITTED
    )
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("createDepartment", OPS["createDepartment"].variables(world, "a"), "Department"),
        ("updateDepartment", OPS["updateDepartment"].variables(world, "a"), "Department"),
        ("createSubject", OPS["createSubject"].variables(world, "a"), "Subject"),
        ("updateSubject", OPS["updateSubject"].variables(world, "a"), "Subject"),
        ("createTarget", OPS["createTarget"].variables(world, "a"), "PerformanceTarget"),
        ("updateTarget", OPS["updateTarget"].variables(world, "a"), "PerformanceTarget"),
        (
            "submitTarget",
            {**OPS["submitTarget"].variables(world, "a"), "v": 2},
            "PerformanceTarget",
        ),
        ("reviewTarget", OPS["reviewTarget"].variables(world, "b"), "PerformanceTarget"),
        (
            "recordSelfAssessment",
            OPS["recordSelfAssessment"].variables(world, "a"),
            "SelfAssessment",
        ),
        ("recordMonitoring", OPS["recordMonitoring"].variables(world, "a"), "MonitoringRecord"),
        (
            "recordExAnteAssessment",
            OPS["recordExAnteAssessment"].variables(world, "a"),
            "ExAnteAssessment",
        ),
        ("recordEvaluation", OPS["recordEvaluation"].variables(world, "a"), "Evaluation"),
        ("recordFinding", OPS["recordFinding"].variables(world, "a"), "Rectification"),
        ("reportRectification", OPS["reportRectification"].variables(world, "b"), "Rectification"),
        ("fileFiling", OPS["fileFiling"].variables(world, "b"), "SensitivityFiling"),
        ("createRelease", OPS["createRelease"].variables(world, "a"), "Release"),
        ("scheduleRelease", OPS["scheduleRelease"].variables(world, "a"), "Release"),
        ("updateMonitoring", OPS["updateMonitoring"].variables(world, "a"), "MonitoringRecord"),
        (
            "updateExAnteAssessment",
            OPS["updateExAnteAssessment"].variables(world, "a"),
            "ExAnteAssessment",
        ),
        ("updateEvaluation", OPS["updateEvaluation"].variables(world, "a"), "Evaluation"),
        ("uploadDocument", OPS["uploadDocument"].variables(world, "a"), "StoredFile"),
        (
            "uploadEvaluationReport",
            OPS["uploadEvaluationReport"].variables(world, "a"),
            "EvaluationReport",
        ),
        (
            "addEvaluationReportAnnex",
            OPS["addEvaluationReportAnnex"].variables(world, "b"),
            "EvaluationReport",
        ),
        ("withdrawFiling", OPS["withdrawFiling"].variables(world, "a"), "SensitivityFiling"),
        ("revokeFiling", OPS["revokeFiling"].variables(world, "b"), "SensitivityFiling"),
    ]
    for name, variables, record_type in steps:
        before = await models.AuditEntry.all().count()
        result = await run(api, admin, name, variables)
        assert result["__typename"].endswith("Success"), (name, result)
        entries = await models.AuditEntry.all().order_by("id")
        assert len(entries) == before + 1, name
        entry = entries[-1]
        assert (entry.actor, entry.roles, entry.department_code) == ("admin-1", ["admin"], "101")
        assert (entry.action, entry.record_type) == (name, record_type)
        assert entry.after is not None and entry.record_id == str(entry.after["id"])
        if name.startswith(("create", "record", "file")) or name == "uploadDocument":
            assert entry.before is None
        else:
            assert entry.before is not None
            assert entry.after["version"] == entry.before["version"] + 1
    # One entry per rectification flagged: A's from the world and the one recordFinding added
    # (B's was reported done above).
    flagged = await run(api, admin, "flagOverdueRectifications", {})
    assert flagged == {"__typename": "OverdueFlagged", "flagged": 2}
    entries = await models.AuditEntry.filter(action="flagOverdueRectifications")
    assert {(e.record_type, e.before["status"], e.after["status"]) for e in entries} == {
        ("Rectification", "OPEN", "OVERDUE")
    }
    log = await api(
        token("auditor"),
        "{ auditLog(first: 100) { totalCount edges { node { action recordType actor roles } } } }",
    )
    actions = [s[0] for s in steps] + ["flagOverdueRectifications"] * 2
    assert log["data"]["auditLog"]["totalCount"] == len(actions)
    assert [e["node"]["action"] for e in log["data"]["auditLog"]["edges"]] == actions


async def test_money_is_exact(api: Api, world: World) -> None:
    body = await api(
        EDITOR,
        "mutation($i: SubjectInput!) { r: createSubject(input: $i) { ... on SubjectSuccess {"
        " subject { amounts { initialTotal fullYearTotal executedTotal } } } } }",
        OPS["createSubject"].variables(world, "a"),
    )
    assert body["data"]["r"]["subject"]["amounts"] == {
        "initialTotal": "1000.50",
        "fullYearTotal": "1000.50",
        "executedTotal": "0.00",
    }
    row = await models.Subject.get(code="NEW-1")
    assert row.initial_total == Decimal("1000.50")


async def test_self_assessment_is_scored(api: Api, world: World) -> None:
    body = await api(
        EDITOR,
        OPS["recordSelfAssessment"].document.replace(
            "__typename }",
            "__typename assessment { totalScore grade executionScore "
            "rows { score deviationReason } } }",
        ),
        {
            "s": gid(world.a_project),
            "b": "250000.00",
            "e": "215457.60",
            "rows": [assessment_row(actual="45", reason="进度滞后，下年加快")],
        },
    )
    assessment = body["data"]["r"]["assessment"]
    assert assessment["executionScore"] == "8.62"
    assert assessment["rows"] == [{"score": "45.00", "deviationReason": "进度滞后，下年加快"}]
    assert assessment["totalScore"] == "53.62" and assessment["grade"] == "POOR"


async def test_release_lifecycle_fields(api: Api, world: World) -> None:
    body = await api(
        PUBLISHER,
        "mutation($i: ReleaseInput!) { r: createRelease(input: $i) { ... on ReleaseSuccess {"
        " release { approvalDate dueDate status late } } } }",
        OPS["createRelease"].variables(world, "a"),
    )
    assert body["data"]["r"]["release"] == {
        "approvalDate": "2025-07-10",
        "dueDate": "2025-07-30",
        "status": "DRAFT",
        "late": True,  # due 2025-07-30: late whenever the test runs
    }


async def test_dashboard(api: Api, world: World) -> None:
    await models.PerformanceTarget.filter(id=world.a_target.id).update(
        review_status=ReviewStatus.FINANCE_APPROVED
    )
    await models.PerformanceTarget.filter(id=world.b_target.id).update(
        review_status=ReviewStatus.SUBMITTED
    )
    body = await api(
        FINANCE,
        "{ dashboard(fiscalYear: 2024) { releasesDue { id late } releasesLate { id }"
        " targetsAwaitingReview rectificationsOverdue coverage { inScopeSubjects"
        " withApprovedTargets withSelfAssessments approvedTargetShare selfAssessmentShare } } }",
    )
    dashboard = body["data"]["dashboard"]
    visible = [gid(world.a_release), gid(world.b_release)]
    assert [r["id"] for r in dashboard["releasesDue"]] == visible
    assert [r["id"] for r in dashboard["releasesLate"]] == visible  # due 2024-02-14, unpublished
    assert dashboard["targetsAwaitingReview"] == 1
    assert dashboard["rectificationsOverdue"] == 2  # both due 2025-06-05, not reported
    assert dashboard["coverage"] == {
        "inScopeSubjects": 2,
        "withApprovedTargets": 1,
        "withSelfAssessments": 0,
        "approvedTargetShare": "0.5000",
        "selfAssessmentShare": "0.0000",
    }


async def test_pages_are_bounded_and_chained(api: Api, world: World) -> None:
    bearer = token("admin")
    too_many = await api(bearer, "{ departments(first: 101) { totalCount } }")
    assert "between 1 and 100" in too_many["errors"][0]["message"]
    first = await api(
        bearer, "{ departments(first: 2) { totalCount pageInfo { hasNextPage endCursor } } }"
    )
    page = first["data"]["departments"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"]
    second = await api(
        bearer,
        "query($a: String) { departments(first: 2, after: $a) { edges { node { code } } "
        "pageInfo { hasNextPage } } }",
        {"a": page["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["code"] for e in second["data"]["departments"]["edges"]] == ["202", "202001"]
    assert not second["data"]["departments"]["pageInfo"]["hasNextPage"]


async def test_findings_and_rectifications(api: Api, world: World) -> None:
    fields = "... on RectificationSuccess { rectification { id dueDate status overdue version } }"
    found = await api(
        FINANCE,
        OPS["recordFinding"].document.replace("__typename }", f"__typename {fields} }}"),
        OPS["recordFinding"].variables(world, "a"),
    )
    rectification = found["data"]["r"]["rectification"]
    assert rectification["dueDate"] == "2025-06-02"  # received 2025-05-03 + 30 days
    # stored OPEN, read as OVERDUE: its due date has passed
    assert rectification["status"] == "OVERDUE" and rectification["overdue"]

    overdue = "{ rectifications(first: 10, overdueOnly: true) { totalCount } }"
    assert (await api(EDITOR, overdue))["data"]["rectifications"]["totalCount"] == 2
    reported = await api(
        EDITOR,
        OPS["reportRectification"].document.replace("__typename }", f"__typename {fields} }}"),
        {"id": rectification["id"], "v": 1, "m": "已细化指标", "at": "2025-05-30"},
    )
    done = reported["data"]["r"]["rectification"]
    assert (done["status"], done["overdue"], done["version"]) == ("DONE", False, 2)
    assert (await api(EDITOR, overdue))["data"]["rectifications"]["totalCount"] == 1

    evaluation = await api(
        FINANCE,
        OPS["recordEvaluation"].document.replace(
            "__typename }", "__typename ... on EvaluationSuccess { evaluation { grade score } } }"
        ),
        OPS["recordEvaluation"].variables(world, "b"),
    )
    assert evaluation["data"]["r"]["evaluation"] == {"grade": "EXCELLENT", "score": "91.50"}


async def test_monitoring_and_ex_ante(api: Api, world: World) -> None:
    monitoring = await api(
        EDITOR,
        OPS["recordMonitoring"].document.replace(
            "__typename }",
            "__typename ... on MonitoringSuccess { monitoring { executionRate fiscalYear } } }",
        ),
        OPS["recordMonitoring"].variables(world, "a"),
    )
    assert monitoring["data"]["r"]["monitoring"] == {"executionRate": "66.67", "fiscalYear": 2024}
    ex_ante = await api(
        FINANCE,
        OPS["recordExAnteAssessment"].document.replace(
            "__typename }",
            "__typename ... on ExAnteSuccess { assessment { recommendedReduction } } }",
        ),
        OPS["recordExAnteAssessment"].variables(world, "b"),
    )
    assert ex_ante["data"]["r"]["assessment"] == {"recommendedReduction": "50000.00"}
    lists = await api(
        EDITOR,
        "{ monitoringRecords(first: 5) { totalCount } exAnteAssessments(first: 5) { totalCount } }",
    )
    assert lists["data"] == {
        "monitoringRecords": {"totalCount": 2},  # the world's and the new one
        "exAnteAssessments": {"totalCount": 1},  # the world's; the new one is B's
    }
