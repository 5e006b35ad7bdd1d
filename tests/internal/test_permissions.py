"""The role matrix, cell by cell: every role × every action, through the HTTP endpoint. A cell the
matrix grants succeeds; one it does not is `Forbidden` (mutations) or a FORBIDDEN error
(queries), and changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schema.internal.permissions import (
    MATRIX,
    RELEASE_TRANSITIONS,
    Action,
    Scope,
    release_transition,
)
from storage import models
from storage.enums import ReleaseStatus as S
from storage.enums import ReviewStatus
from tests.internal.conftest import Api, World, token
from tests.internal.ops import OPS

ROLES = sorted(MATRIX)
OP_ACTIONS = {
    "createDepartment": Action.EDIT_DEPARTMENT,
    "updateDepartment": Action.EDIT_DEPARTMENT,
    "createSubject": Action.EDIT_SUBJECT,
    "updateSubject": Action.EDIT_SUBJECT,
    "createTarget": Action.EDIT_TARGET,
    "updateTarget": Action.EDIT_TARGET,
    "submitTarget": Action.EDIT_TARGET,
    "reviewTarget": Action.REVIEW_TARGET,
    "approveTarget": Action.APPROVE_TARGET,
    "rejectTarget": Action.APPROVE_TARGET,
    "recordSelfAssessment": Action.RECORD_ASSESSMENT,
    "recordMonitoring": Action.RECORD_MONITORING,
    "updateMonitoring": Action.RECORD_MONITORING,
    "recordExAnteAssessment": Action.RECORD_EX_ANTE,
    "updateExAnteAssessment": Action.RECORD_EX_ANTE,
    "recordEvaluation": Action.RECORD_EVALUATION,
    "updateEvaluation": Action.RECORD_EVALUATION,
    "uploadEvaluationReport": Action.RECORD_EVALUATION,
    "addEvaluationReportAnnex": Action.RECORD_EVALUATION,
    "recordFinding": Action.RECORD_EVALUATION,
    "flagOverdueRectifications": Action.RECORD_EVALUATION,
    "reportRectification": Action.REPORT_RECTIFICATION,
    "uploadDocument": Action.UPLOAD_DOCUMENT,
    "fileFiling": Action.FILE_FILING,
    "revokeFiling": Action.FILE_FILING,
    "withdrawFiling": Action.WITHDRAW_FILING,
    "createRelease": Action.MANAGE_RELEASE,
    "scheduleRelease": Action.MANAGE_RELEASE,
    "checkRelease": Action.MANAGE_RELEASE,
    "publishRelease": Action.PUBLISH_RELEASE,
    "withdrawRelease": Action.PUBLISH_RELEASE,
    "registerProtectedTerm": Action.PROTECT_TERMS,
    "markNotPersonalData": Action.REVIEW_PERSONAL_DATA,
    "redactField": Action.REVIEW_PERSONAL_DATA,
}
#: the target's review status each step starts from
BEFORE = {
    "reviewTarget": ReviewStatus.SUBMITTED,
    "approveTarget": ReviewStatus.DEPT_REVIEWED,
    "rejectTarget": ReviewStatus.DEPT_REVIEWED,
}


def test_every_mutation_has_its_action() -> None:
    assert set(OP_ACTIONS) == set(OPS)
    assert set(OP_ACTIONS.values()) | {Action.READ, Action.READ_AUDIT} == set(Action)


def caller_token(role: str) -> str:
    # A department editor works on its own department (101), the others on any.
    return token(role, "101" if role == "department_editor" else None)


def granted(role: str, action: Action) -> bool:
    return action in MATRIX[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(OPS))
async def test_mutation_cell(api: Api, world: World, role: str, name: str) -> None:
    op = OPS[name]
    if name in BEFORE:
        await models.PerformanceTarget.filter(id=world.a_target.id).update(
            review_status=BEFORE[name]
        )
    audits = await models.AuditEntry.all().count()
    body = await api(caller_token(role), op.document, op.variables(world, "a"), op.files)
    result = body["data"]["r"]
    if granted(role, OP_ACTIONS[name]):
        expected = {op.success}
        if name in ("publishRelease", "withdrawRelease", "markNotPersonalData", "redactField"):
            # Allowed, but the world's release is not publishable (or not published) as is, or
            # has no such finding or record.
            expected.add("InvalidInput")
        assert result["__typename"] in expected, result
    else:
        assert result == {
            "__typename": "Forbidden",
            "message": f"forbidden: your roles do not allow `{OP_ACTIONS[name].value}` here",
        }
        assert await models.AuditEntry.all().count() == audits


LIST_QUERY = "{ subjects(first: 5) { totalCount } }"
AUDIT_QUERY = "{ auditLog(first: 5) { totalCount } }"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", [Action.READ, Action.READ_AUDIT])
async def test_query_cell(api: Api, world: World, role: str, action: Action) -> None:
    query = LIST_QUERY if action is Action.READ else AUDIT_QUERY
    body = await api(caller_token(role), query)
    if granted(role, action):
        assert "errors" not in body, body
    else:
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
        assert action.value in body["errors"][0]["message"]


def test_the_matrix_as_documented() -> None:
    """The README's table is this matrix: keep them together."""
    assert MATRIX["department_editor"] == {
        Action.READ: Scope.OWN,
        Action.EDIT_DEPARTMENT: Scope.OWN,
        Action.EDIT_SUBJECT: Scope.OWN,
        Action.EDIT_TARGET: Scope.OWN,
        Action.REVIEW_TARGET: Scope.OWN,
        Action.RECORD_ASSESSMENT: Scope.OWN,
        Action.RECORD_MONITORING: Scope.OWN,
        Action.RECORD_EX_ANTE: Scope.OWN,
        Action.REPORT_RECTIFICATION: Scope.OWN,
        Action.UPLOAD_DOCUMENT: Scope.OWN,
        Action.WITHDRAW_FILING: Scope.OWN,
        Action.PROTECT_TERMS: Scope.OWN,
    }
    # DR-10: the finance bureau decides findings; the publisher, who runs the gate, does not.
    assert Action.REVIEW_PERSONAL_DATA in MATRIX["finance_officer"]
    assert Action.REVIEW_PERSONAL_DATA not in MATRIX["publisher"]
    assert set(MATRIX["admin"]) == set(Action)
    assert set(MATRIX["auditor"]) == {Action.READ, Action.READ_AUDIT}


async def test_an_editor_without_a_department_can_do_nothing(api: Api, world: World) -> None:
    body = await api(token("department_editor"), LIST_QUERY)
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    op = OPS["updateSubject"]
    body = await api(token("department_editor"), op.document, op.variables(world, "a"))
    assert body["data"]["r"]["__typename"] == "Forbidden"


def test_the_readme_shows_this_matrix() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Internal API", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    header = next(line for line in section.splitlines() if line.startswith("| action"))
    roles = [cell.strip() for cell in header.strip("|").split("|")[1:]]
    assert sorted(roles) == ROLES
    seen = set()
    for row in rows:
        label, *cells = (cell.strip() for cell in row.strip("|").split("|"))
        if label.startswith("read working data"):
            action = Action.READ
        elif label.startswith("audit log"):
            action = Action.READ_AUDIT
        else:
            names = re.findall(r"`(\w+)`", label)
            actions = {OP_ACTIONS[name] for name in names}
            assert len(actions) == 1, label
            action = actions.pop()
        seen.add(action)
        for role, cell in zip(roles, cells, strict=True):
            scope = MATRIX[role].get(action)
            assert cell.split(" ")[0] == (scope.name if scope else "–"), (label, role)
    assert seen == set(Action)


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
@pytest.mark.parametrize(
    ("role", "query", "field"),
    [
        ("department_editor", AUDIT_QUERY, "auditLog"),
        ("finance_officer", AUDIT_QUERY, "auditLog"),
        ("publisher", "{ auditLog(first: 5) { totalCount } me { subject } }", "auditLog"),
    ],
)
async def test_a_refusal_after_authentication_is_forbidden_not_a_bad_request(
    api: Api, world: World, accept: str, role: str, query: str, field: str
) -> None:
    """The request was well-formed and the caller authenticated: the refusal is a field error
    with the FORBIDDEN code in an HTTP 200 (GraphQL over HTTP), never a 400."""
    response = await api.client.post(
        "/internal/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {caller_token(role)}", "accept": accept},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" in body and body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert error["path"] == [field]
    assert "read_audit" in error["message"]


async def test_a_mutation_refused_by_role_is_a_typed_forbidden_in_a_200(
    api: Api, world: World
) -> None:
    op = OPS["createRelease"]
    response = await api.raw(
        caller_token("department_editor"), op.document, op.variables(world, "a")
    )
    assert response.status_code == 200
    assert response.json()["data"]["r"]["__typename"] == "Forbidden"


def test_the_release_state_machine_has_no_shortcut_to_published() -> None:
    """DR-12: DRAFT → SCHEDULED → PUBLISHED; each step is an action some role holds."""
    assert release_transition(S.DRAFT, S.PUBLISHED) is None
    assert release_transition(S.DRAFT, S.SCHEDULED) is Action.MANAGE_RELEASE
    assert release_transition(S.SCHEDULED, S.PUBLISHED) is Action.PUBLISH_RELEASE
    assert release_transition(S.PUBLISHED, S.SCHEDULED) is None  # published stays published
    held = {action for actions in MATRIX.values() for action in actions}
    assert set(RELEASE_TRANSITIONS.values()) <= held
