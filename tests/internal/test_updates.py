"""Changes after creation: a target's indicators while it is editable, monitoring records,
ex-ante assessments and evaluations; withdrawing and revoking filings (D5); and overdue
rectifications, read at once and stored by the finance bureau's flag."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from typing import Any

import orjson

from schema.internal.overdue import flag_overdue_rectifications
from storage import models
from storage.enums import FilingStatus, RectificationStatus, ReviewStatus
from tests.internal.conftest import MARKER, Api, World, gid, token
from tests.internal.ops import OPS, indicator

EDITOR_A = token("department_editor", "101", sub="editor-a")
EDITOR_B = token("department_editor", "202", sub="editor-b")
FINANCE = token("finance_officer", sub="officer-1")
CLEARED = token("admin", classified=True, sub="cleared-admin")


def with_fields(name: str, fields: str) -> str:
    success = OPS[name].success
    return OPS[name].document.replace(f"... on {success} {{", f"... on {success} {{ {fields}")


async def call(api: Api, bearer: str, name: str, variables: dict[str, Any], fields: str) -> Any:
    body = await api(bearer, with_fields(name, fields), variables, OPS[name].files)
    assert "errors" not in body, body
    return body["data"]["r"]


# --- targets ---------------------------------------------------------------------------------

TARGET = "target { overallGoal version reviewStatus indicators { position name level2 } }"


async def test_a_draft_targets_indicators_are_replaced_whole(api: Api, world: World) -> None:
    patch = {
        "overallGoal": "修订后的目标",
        "indicators": [
            indicator(name="完成率"),
            indicator(level1="BENEFIT", level2="SOCIAL_BENEFIT", name="受益人数"),
        ],
    }
    variables = {"id": gid(world.a_target), "v": 1, "p": patch}
    result = await call(api, EDITOR_A, "updateTarget", variables, TARGET)
    assert result["target"] == {
        "overallGoal": "修订后的目标",
        "version": 2,
        "reviewStatus": "DRAFT",
        "indicators": [
            {"position": 0, "name": "完成率", "level2": "QUANTITY"},
            {"position": 1, "name": "受益人数", "level2": "SOCIAL_BENEFIT"},
        ],
    }
    entry = await models.AuditEntry.get(action="updateTarget")
    assert entry.before is not None and entry.after is not None
    assert [i["name"] for i in entry.before["indicators"]] == ["完成率"]
    assert [i["name"] for i in entry.after["indicators"]] == ["完成率", "受益人数"]
    # Only the goal: the indicators stay.
    goal_only = {"id": gid(world.a_target), "v": 2, "p": {"overallGoal": "再改"}}
    result = await call(api, EDITOR_A, "updateTarget", goal_only, TARGET)
    assert len(result["target"]["indicators"]) == 2


async def test_a_target_under_review_cannot_change(api: Api, world: World) -> None:
    for status in (
        ReviewStatus.SUBMITTED,
        ReviewStatus.DEPT_REVIEWED,
        ReviewStatus.FINANCE_APPROVED,
    ):
        await models.PerformanceTarget.filter(id=world.a_target.id).update(review_status=status)
        result = await call(
            api, EDITOR_A, "updateTarget", OPS["updateTarget"].variables(world, "a"), ""
        )
        assert (result["__typename"], result["field"], result["rule"]) == (
            "InvalidInput",
            "reviewStatus",
            "target-editable",
        )
    # Once rejected it is editable again, and resubmitted as before.
    await models.PerformanceTarget.filter(id=world.a_target.id).update(
        review_status=ReviewStatus.REJECTED
    )
    result = await call(
        api, EDITOR_A, "updateTarget", OPS["updateTarget"].variables(world, "a"), TARGET
    )
    assert result["target"]["reviewStatus"] == "REJECTED"
    assert await models.Indicator.filter(target_id=world.a_target.id).count() == 2


# --- monitoring, ex-ante, evaluations --------------------------------------------------------


async def test_monitoring_update_recomputes_the_rate(api: Api, world: World) -> None:
    variables = {"id": gid(world.a_monitoring), "v": 1, "p": {"budgetToDate": "120000.00"}}
    result = await call(
        api, EDITOR_A, "updateMonitoring", variables, "monitoring { executionRate version }"
    )
    assert result["monitoring"] == {"executionRate": "41.67", "version": 2}  # 50000 / 120000


async def test_ex_ante_update_checks_the_whole_record(api: Api, world: World) -> None:
    reduce = {"conclusion": "SUPPORT_WITH_REDUCTION", "recommendedReduction": "30000.00"}
    variables = {"id": gid(world.a_ex_ante), "v": 1, "p": reduce}
    fields = "assessment { conclusion recommendedReduction version }"
    result = await call(api, FINANCE, "updateExAnteAssessment", variables, fields)
    assert result["assessment"] == {
        "conclusion": "SUPPORT_WITH_REDUCTION",
        "recommendedReduction": "30000.00",
        "version": 2,
    }
    # Back to plain support while the reduction stays: refused, the stored record unchanged.
    back = {"id": gid(world.a_ex_ante), "v": 2, "p": {"conclusion": "SUPPORT"}}
    result = await call(api, FINANCE, "updateExAnteAssessment", back, fields)
    assert (result["field"], result["rule"]) == (
        "patch.recommendedReduction",
        "reduction-matches-conclusion",
    )
    assert (await models.ExAnteAssessment.get(id=world.a_ex_ante.id)).version == 2


async def test_evaluation_update_grades_the_score_and_moves_forward(api: Api, world: World) -> None:
    fields = "evaluation { score grade status version }"
    variables = {"id": gid(world.a_evaluation), "v": 1, "p": {"score": "59", "status": "CLOSED"}}
    result = await call(api, FINANCE, "updateEvaluation", variables, fields)
    assert result["evaluation"] == {
        "score": "59.00",
        "grade": "POOR",
        "status": "CLOSED",
        "version": 2,
    }
    back = {"id": gid(world.a_evaluation), "v": 2, "p": {"status": "PLANNED"}}
    result = await call(api, FINANCE, "updateEvaluation", back, fields)
    assert (result["field"], result["rule"]) == ("patch.status", "evaluation-status-order")


# --- filings (D5: active unless withdrawn or revoked) ----------------------------------------

FILING = "filing { status version }"


async def test_a_department_withdraws_its_own_filing_once(api: Api, world: World) -> None:
    variables = OPS["withdrawFiling"].variables(world, "a")
    result = await call(api, EDITOR_A, "withdrawFiling", variables, FILING)
    assert result["filing"] == {"status": "WITHDRAWN", "version": 2}
    again = await call(api, EDITOR_A, "withdrawFiling", {**variables, "v": 2}, FILING)
    assert (again["field"], again["rule"]) == ("status", "filing-active")
    revoked = await call(api, FINANCE, "revokeFiling", {**variables, "v": 2}, FILING)
    assert revoked["rule"] == "filing-active"
    # Another department's editor, and the finance officer, may not withdraw it.
    other = await call(
        api, EDITOR_B, "withdrawFiling", OPS["withdrawFiling"].variables(world, "b"), ""
    )
    assert other["__typename"] == "FilingSuccess"  # B's own
    officer = await call(
        api, FINANCE, "withdrawFiling", OPS["withdrawFiling"].variables(world, "a"), ""
    )
    assert officer["__typename"] == "Forbidden"


async def test_ending_a_classified_filing_needs_the_clearance(api: Api, world: World) -> None:
    secret = world.filings[1]  # B's CLASSIFIED project filing of 乙涉密项目
    variables = {"id": gid(secret), "v": 1}
    own = await call(api, EDITOR_B, "withdrawFiling", variables, FILING)
    assert own["__typename"] == "Forbidden"
    assert "clearance" in own["message"]
    stranger = await call(api, token("finance_officer"), "revokeFiling", variables, FILING)
    assert stranger["__typename"] == "NotFound"
    assert MARKER not in orjson.dumps(stranger).decode()
    assert (await models.SensitivityFiling.get(id=secret.id)).status is FilingStatus.FILED

    revoked = await call(api, CLEARED, "revokeFiling", variables, FILING)
    assert revoked["filing"] == {"status": "REVOKED", "version": 2}
    entry = await models.AuditEntry.get(action="revokeFiling")
    assert entry.classified  # about a CLASSIFIED filing: visible only as the filing was
    # No longer active: the project is no stub any more, for anyone who may read B.
    body = await api(
        token("finance_officer"),
        "query($id: ID!) { subject(id: $id) { classified amounts { fullYearTotal } } }",
        {"id": gid(world.b_secret)},
    )
    assert body["data"]["subject"]["classified"] is False
    assert body["data"]["subject"]["amounts"] is not None


# --- rectifications ----------------------------------------------------------------------------

RECTIFICATIONS = "{ rectifications(first: 10) { edges { node { id status overdue version } } } }"


async def test_overdue_reads_at_once_and_is_stored_by_the_flag(api: Api, world: World) -> None:
    read = await api(FINANCE, RECTIFICATIONS)
    nodes = [e["node"] for e in read["data"]["rectifications"]["edges"]]
    assert {(n["status"], n["overdue"], n["version"]) for n in nodes} == {("OVERDUE", True, 1)}
    stored = await models.Rectification.all().values_list("status", flat=True)
    assert set(stored) == {RectificationStatus.OPEN}

    # B reports first: done late is done, never flagged.
    reported = OPS["reportRectification"].variables(world, "b")
    assert (await call(api, EDITOR_B, "reportRectification", reported, ""))["__typename"] == (
        "RectificationSuccess"
    )
    flagged = await call(
        api, FINANCE, "flagOverdueRectifications", {}, "rectifications { id status version }"
    )
    assert flagged == {
        "__typename": "OverdueFlagged",
        "flagged": 1,
        "rectifications": [{"id": gid(world.a_rectification), "status": "OVERDUE", "version": 2}],
    }
    assert (await models.Rectification.get(id=world.a_rectification.id)).status is (
        RectificationStatus.OVERDUE
    )
    rerun = await call(api, FINANCE, "flagOverdueRectifications", {}, "")
    assert rerun["flagged"] == 0
    # An overdue rectification can still be reported.
    late = {**OPS["reportRectification"].variables(world, "a"), "v": 2}
    done = await call(api, EDITOR_A, "reportRectification", late, "rectification { status }")
    assert done["rectification"] == {"status": "DONE"}


async def test_the_scheduled_job_flags_what_is_due_by_its_date(api: Api, world: World) -> None:
    assert await flag_overdue_rectifications(date(2025, 6, 5)) == []  # due that day: not late
    flagged = await flag_overdue_rectifications(date(2025, 6, 6))
    assert sorted(r.id for r in flagged) == sorted(
        [world.a_rectification.id, world.b_rectification.id]
    )
    entries = await models.AuditEntry.filter(action="flagOverdueRectifications")
    assert {e.actor for e in entries} == {"system"} and len(entries) == 2


async def test_the_cli_command_for_a_daily_cron_line_flags_them(world: World, db: str) -> None:
    """`gongkai flag-overdue` in a process of its own, as cron runs it, on today's date."""
    env = {**os.environ, "GONGKAI_DATABASE_URL": db}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "api.cli", "flag-overdue"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, "2 rectifications flagged overdue" in done.stderr) == (0, True)
    stored = await models.Rectification.all().values_list("status", flat=True)
    assert set(stored) == {RectificationStatus.OVERDUE}
