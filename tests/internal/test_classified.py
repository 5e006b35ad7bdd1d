"""D6 涉密不上网: nothing of a record under a CLASSIFIED filing reaches a user without the
clearance and outside its department — not in lists, counts, lookups, error messages, the
dashboard or the audit log — and of a CLASSIFIED subject only the identity stub exists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import orjson
import pytest

from storage import models
from storage.enums import BudgetBook, DeviationLevel, EvaluationKind, MonitoringMode
from tests.internal.conftest import MARKER, Api, World, gid, token
from tests.internal.ops import OPS, amounts, assessment_row, indicator

CLEARED_ADMIN = token("admin", classified=True, sub="cleared-admin")

EVERYTHING = """query($s: ID!, $ss: ID!, $d: ID!, $r: ID!) {
  departments(first: 100) { totalCount edges { node { id code name } } }
  subjects(first: 100) { totalCount edges { node { id code name classified } } }
  targets(first: 100) { totalCount edges { node { subjectId overallGoal } } }
  selfAssessments(first: 100) { totalCount }
  filings(first: 100) { totalCount edges { node { reference projectIds } } }
  releases(first: 100) { totalCount edges { node { id departmentId } } }
  department(id: $d) { name }
  subject(id: $s) { name }
  other: subject(id: $ss) { name }
  release(id: $r) { id }
  dashboard(fiscalYear: 2024) {
    releasesDue { id departmentId } releasesLate { id }
    targetsAwaitingReview coverage { inScopeSubjects withApprovedTargets }
  }
  me { subject }
  ids: subjects(first: 1, filter: {departmentId: $d}) { totalCount }
}"""
AUDIT = (
    "{ auditLog(first: 100) { totalCount edges { node { recordType recordId after before } } } }"
)


async def classified_writes(api: Api, world: World) -> None:
    """Writes by a cleared admin that leave audit entries about the stubs."""
    writes: list[tuple[str, dict[str, Any]]] = [
        (
            OPS["updateSubject"].document,
            {"id": gid(world.s_project), "v": 1, "p": {"name": "SECRET机密项目改"}},
        ),
        (
            OPS["updateSubject"].document,
            {"id": gid(world.b_secret), "v": 1, "p": {"name": "SECRET乙涉密项目改"}},
        ),
        (
            OPS["updateDepartment"].document,
            {"id": gid(world.s), "v": 1, "p": {"name": "SECRET机密局改"}},
        ),
        (
            OPS["createSubject"].document,
            {
                "i": {
                    "kind": "PROJECT",
                    "code": "SECRET-NEW",
                    "fiscalYear": 2024,
                    "name": "SECRET新项目",
                    "departmentId": gid(world.s),
                    "budgetBook": "GENERAL_PUBLIC",
                }
            },
        ),
        (
            OPS["fileFiling"].document,
            {
                "i": {
                    "departmentId": gid(world.s),
                    "fiscalYear": 2025,
                    "scope": "WHOLE_DEPARTMENT",
                    "reason": "CLASSIFIED",
                    "reference": "SECRET-REF-3",
                    "filedWith": "保密局",
                    "filedAt": "2025-01-05",
                }
            },
        ),
    ]
    for document, variables in writes:
        body = await api(CLEARED_ADMIN, document, variables)
        assert body["data"]["r"]["__typename"].endswith("Success"), body


def variables(world: World) -> dict[str, Any]:
    return {
        "s": gid(world.s_project),
        "ss": gid(world.b_secret),
        "d": gid(world.s),
        "r": gid(world.s_release),
    }


UNCLEARED = [
    ("finance_officer", None),
    ("auditor", None),
    ("publisher", None),
    ("admin", None),
    ("admin", "101"),
    ("department_editor", "101"),
]


@pytest.mark.parametrize(("role", "dept"), UNCLEARED)
async def test_nothing_classified_reaches_an_uncleared_user(
    api: Api, world: World, role: str, dept: str | None
) -> None:
    await classified_writes(api, world)
    bearer = token(role, dept)
    body = await api(bearer, EVERYTHING, variables(world))
    assert "errors" not in body, body
    text = orjson.dumps(body).decode()
    assert MARKER not in text
    data = body["data"]
    assert data["subject"] is data["other"] is data["department"] is data["release"] is None
    assert data["ids"]["totalCount"] == 0
    if role != "department_editor":
        assert data["departments"]["totalCount"] == 4  # A, B and their units
        assert data["subjects"]["totalCount"] == 2  # 甲项目, 乙项目
        assert data["filings"]["totalCount"] == 2  # the two SENSITIVE ones
        assert gid(world.s_release) not in {e["node"]["id"] for e in data["releases"]["edges"]}
    if role in ("auditor", "admin"):
        log = await api(bearer, AUDIT)
        assert MARKER not in orjson.dumps(log).decode()
        assert log["data"]["auditLog"]["totalCount"] == 0  # only classified writes so far


@pytest.mark.parametrize(("role", "dept"), UNCLEARED)
async def test_mutations_on_classified_records_say_not_found(
    api: Api, world: World, role: str, dept: str | None
) -> None:
    bearer = token(role, dept)
    for name, target in [
        ("updateSubject", {"id": gid(world.s_project), "v": 1, "p": {"name": "x"}}),
        ("updateSubject", {"id": gid(world.b_secret), "v": 1, "p": {"name": "x"}}),
        ("updateDepartment", {"id": gid(world.s), "v": 1, "p": {"name": "x"}}),
        (
            "scheduleRelease",
            {"id": gid(world.s_release), "v": 1, "at": "2024-02-01T09:00:00+08:00"},
        ),
    ]:
        body = await api(bearer, OPS[name].document, target)
        result = body["data"]["r"]
        assert result["__typename"] in ("NotFound", "Forbidden"), result
        assert MARKER not in orjson.dumps(body).decode()
    assert await models.AuditEntry.all().count() == 0
    assert (await models.Subject.get(id=world.s_project.id)).version == 1


async def test_own_department_sees_its_stubs_without_clearance(api: Api, world: World) -> None:
    body = await api(token("department_editor", "202"), EVERYTHING, variables(world))
    data = body["data"]
    names = {e["node"]["name"]: e["node"]["classified"] for e in data["subjects"]["edges"]}
    assert names == {"乙项目": False, "SECRET乙涉密项目": True}
    assert data["other"] == {"name": "SECRET乙涉密项目"}
    references = [e["node"]["reference"] for e in data["filings"]["edges"]]
    assert references == ["SECRET-REF-2", "敏备-202"]
    assert "SECRET机密" not in orjson.dumps(body).decode()  # S is not theirs


async def test_cleared_users_see_stubs_but_no_content(api: Api, world: World) -> None:
    await classified_writes(api, world)
    bearer = token("auditor", classified=True)
    body = await api(bearer, EVERYTHING, variables(world))
    data = body["data"]
    assert data["subject"] == {"name": "SECRET机密项目改"}
    assert data["departments"]["totalCount"] == 6
    assert data["filings"]["totalCount"] == 5
    stubs = [e["node"] for e in data["subjects"]["edges"] if e["node"]["classified"]]
    assert len(stubs) == 3
    stub_ids = {s["id"] for s in stubs}
    assert not stub_ids & {e["node"]["subjectId"] for e in data["targets"]["edges"]}
    amounts_query = "query($s: ID!) { subject(id: $s) { classified amounts { fullYearTotal } } }"
    stub = await api(bearer, amounts_query, {"s": gid(world.b_secret)})
    assert stub["data"]["subject"] == {"classified": True, "amounts": None}
    log = await api(bearer, AUDIT)
    assert log["data"]["auditLog"]["totalCount"] == 5


async def test_content_of_a_classified_subject_is_refused(api: Api, world: World) -> None:
    refused = [
        (
            OPS["createTarget"].document,
            {"s": gid(world.s_project), "g": "目标", "i": [indicator()]},
            "subjectId",
        ),
        (
            OPS["recordSelfAssessment"].document,
            {"s": gid(world.b_secret), "b": "1.00", "e": "1.00", "rows": [assessment_row()]},
            "subjectId",
        ),
        (
            OPS["updateSubject"].document,
            {"id": gid(world.s_project), "v": 1, "p": {"amounts": amounts("10.00")}},
            "patch.amounts",
        ),
        (
            OPS["createSubject"].document,
            {
                "i": {
                    "kind": "PROJECT",
                    "code": "SECRET-X",
                    "fiscalYear": 2024,
                    "name": "SECRET项目X",
                    "departmentId": gid(world.s),
                    "budgetBook": "GENERAL_PUBLIC",
                    "amounts": amounts("10.00"),
                }
            },
            "amounts",
        ),
    ]
    for document, variables_, field in refused:
        assert isinstance(variables_, dict)
        body = await api(CLEARED_ADMIN, document, variables_)
        result = body["data"]["r"]
        assert result["__typename"] == "InvalidInput", result
        assert (result["field"], result["rule"]) == (field, "classified-stub-only")
        assert "CLASSIFIED" in result["message"] and "D6" in result["message"]
    assert await models.AuditEntry.all().count() == 0
    assert await models.PerformanceTarget.filter(subject_id=world.s_project.id).count() == 0


async def test_a_classified_filing_needs_the_clearance(api: Api, world: World) -> None:
    variables_ = {
        "i": {
            "departmentId": gid(world.a),
            "fiscalYear": 2025,
            "scope": "WHOLE_DEPARTMENT",
            "reason": "CLASSIFIED",
            "reference": "R",
            "filedWith": "保密局",
            "filedAt": "2025-01-05",
        }
    }
    body = await api(token("finance_officer"), OPS["fileFiling"].document, variables_)
    assert body["data"]["r"]["__typename"] == "Forbidden"
    assert await models.SensitivityFiling.all().count() == 4  # the world's, no new one


async def test_a_new_filing_hides_at_once(api: Api, world: World) -> None:
    """A project of A filed CLASSIFIED by a cleared officer vanishes for an uncleared one."""
    query = "query($s: ID!) { subject(id: $s) { name } subjects(first: 10) { totalCount } }"
    officer = token("finance_officer")
    before = await api(officer, query, {"s": gid(world.a_project)})
    assert before["data"]["subject"] == {"name": "甲项目"}
    body = await api(
        token("finance_officer", classified=True),
        OPS["fileFiling"].document,
        {
            "i": {
                "departmentId": gid(world.a),
                "fiscalYear": 2024,
                "scope": "PROJECTS",
                "reason": "CLASSIFIED",
                "reference": "R4",
                "filedWith": "保密局",
                "filedAt": "2024-03-05",
                "projectIds": [gid(world.a_project)],
            }
        },
    )
    assert body["data"]["r"]["__typename"] == "FilingSuccess", body
    after = await api(officer, query, {"s": gid(world.a_project)})
    assert after["data"] == {"subject": None, "subjects": {"totalCount": 1}}
    # and its earlier content (the target of 甲项目) is gone from every list
    targets = await api(officer, "{ targets(first: 10) { totalCount } }")
    assert targets["data"]["targets"]["totalCount"] == 1


async def test_content_of_a_stub_cannot_be_changed_by_anyone(api: Api, world: World) -> None:
    """Content left from before a CLASSIFIED filing does not exist for any caller, cleared or
    not: updates and uploads aimed at it are NotFound and name nothing."""
    monitoring = await models.MonitoringRecord.create(
        subject=world.s_project,
        fiscal_year=2024,
        mode=MonitoringMode.KEY,
        as_of_date=date(2024, 7, 31),
        budget_to_date=Decimal("1.00"),
        executed_to_date=Decimal("1.00"),
        execution_rate=Decimal("100.00"),
        deviation_level=DeviationLevel.NONE,
    )
    evaluation = await models.Evaluation.create(
        subject=world.b_secret,
        kind=EvaluationKind.FINANCE_KEY,
        fiscal_year=2024,
        organiser="SECRET组织者",
        budget_book=BudgetBook.GENERAL_PUBLIC,
    )
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("updateMonitoring", {"id": gid(monitoring), "v": 1, "p": {"notes": "x"}}),
        ("updateEvaluation", {"id": gid(evaluation), "v": 1, "p": {"score": "50"}}),
        ("uploadEvaluationReport", {"e": gid(evaluation), "t": "报告"}),
    ]
    for bearer in (CLEARED_ADMIN, token("admin"), token("department_editor", "202")):
        for name, variables_ in attempts:
            body = await api(bearer, OPS[name].document, variables_, OPS[name].files)
            result = body["data"]["r"]
            assert result["__typename"] in ("NotFound", "Forbidden"), (name, result)
            assert MARKER not in orjson.dumps(body).decode()
    assert await models.AuditEntry.all().count() == 0
    assert await models.StoredFile.all().count() == 2  # the world's two report main texts


async def test_a_late_filing_hides_the_audit_trail_of_content(api: Api, world: World) -> None:
    """Entries about A's monitoring, evaluation and report, written before 甲项目 was filed
    CLASSIFIED, vanish with it for uncleared auditors — and so do the report's files."""
    admin = token("admin")
    for name in ("updateMonitoring", "updateEvaluation", "uploadEvaluationReport"):
        op = OPS[name]
        body = await api(admin, op.document, op.variables(world, "a"), op.files)
        assert body["data"]["r"]["__typename"] == op.success, body
    auditor = token("auditor")
    assert (await api(auditor, AUDIT))["data"]["auditLog"]["totalCount"] == 3
    report = await models.EvaluationReport.get(id=world.a_report.id)
    file = await models.StoredFile.get(id=report.main_text_id)  # the one just uploaded
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await api(auditor, node, {"id": gid(file)}))["data"]["node"] is not None
    filed = await api(
        token("finance_officer", classified=True),
        OPS["fileFiling"].document,
        {
            "i": {
                **OPS["fileFiling"].variables(world, "a")["i"],
                "reason": "CLASSIFIED",
                "reference": "SECRET-REF-5",
            }
        },
    )
    assert filed["data"]["r"]["__typename"] == "FilingSuccess"
    assert (await api(auditor, AUDIT))["data"]["auditLog"]["totalCount"] == 0
    assert (await api(auditor, node, {"id": gid(file)}))["data"]["node"] is None
    cleared = await api(token("auditor", classified=True), AUDIT)
    assert cleared["data"]["auditLog"]["totalCount"] == 4
