"""Global IDs and `node(id:)` / `nodes(ids:)`: every record type resolves for a caller who may
see it, and a record the caller may not see is null exactly like a missing one — no error, no
message, nothing of it in the answer."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from schema.internal.ids import global_id
from storage import models
from tests.internal.conftest import MARKER, Api, World, gid, token
from tests.internal.ops import OPS

ADMIN = token("admin", sub="admin-1")
EDITOR_A = token("department_editor", "101", sub="editor-a")
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def records(world: World) -> dict[str, Any]:
    """A record of A's of every node type, by the type it resolves to."""
    return {
        "Department": world.a,
        "Subject": world.a_project,
        "PerformanceTarget": world.a_target,
        "MonitoringRecord": world.a_monitoring,
        "ExAnteAssessment": world.a_ex_ante,
        "Evaluation": world.a_evaluation,
        "EvaluationReport": world.a_report,
        "Rectification": world.a_rectification,
        "SensitivityFiling": world.a_filing,
        "Release": world.a_release,
    }


async def test_every_type_resolves_by_its_global_id(api: Api, world: World) -> None:
    found = records(world)
    file = await models.StoredFile.get(id=world.a_report.main_text_id)
    found["StoredFile"] = file
    ids = [gid(row) for row in found.values()]
    body = await api(ADMIN, NODES, {"ids": ids})
    assert body["data"]["nodes"] == [
        {"__typename": name, "id": id} for name, id in zip(found, ids, strict=True)
    ]


async def test_an_id_names_its_type(api: Api, world: World) -> None:
    decoded = base64.urlsafe_b64decode(gid(world.a_project) + "==").decode()
    assert decoded == f"Subject:{world.a_project.id}"
    # The same number as another type's ID finds nothing, in a lookup or an argument.
    wrong = str(global_id("Department", world.a_project.id))
    body = await api(ADMIN, "query($id: ID!) { subject(id: $id) { id } }", {"id": wrong})
    assert body["data"]["subject"] is None
    raw = await api(
        ADMIN,
        OPS["updateSubject"].document,
        {"id": str(world.a_project.id), "v": 1, "p": {"name": "x"}},
    )
    assert raw["data"]["r"]["__typename"] == "NotFound"


@pytest.mark.parametrize(
    "value",
    ["", "not base64!", "U3ViamVjdDp4", str(global_id("Nothing", 1)), "U3ViamVjdDotMQ"],
)
async def test_a_malformed_id_is_null(api: Api, world: World, value: str) -> None:
    body = await api(ADMIN, NODE, {"id": value})
    assert body == {"data": {"node": None}}


async def test_another_departments_records_are_null(api: Api, world: World) -> None:
    """B's records, of every type, for A's editor: the same answer as for a missing id."""
    b_records = [
        world.b,
        world.b_project,
        world.b_target,
        world.b_monitoring,
        world.b_ex_ante,
        world.b_evaluation,
        world.b_report,
        world.b_rectification,
        world.b_filing,
        world.b_release,
    ]
    missing = [str(global_id(type(row).__name__, 9999)) for row in b_records]
    body = await api(EDITOR_A, NODES, {"ids": [gid(row) for row in b_records] + missing})
    assert body == {"data": {"nodes": [None] * (2 * len(b_records))}}
    own = await api(EDITOR_A, NODES, {"ids": [gid(row) for row in records(world).values()]})
    assert None not in own["data"]["nodes"]


@pytest.mark.parametrize(
    ("role", "dept"),
    [("admin", None), ("auditor", None), ("finance_officer", None), ("department_editor", "101")],
)
async def test_classified_records_are_null_without_clearance(
    api: Api, world: World, role: str, dept: str | None
) -> None:
    hidden = [world.s, world.s_project, world.b_secret, world.s_release, *world.filings]
    body = await api(token(role, dept), NODES, {"ids": [gid(row) for row in hidden]})
    assert body == {"data": {"nodes": [None] * len(hidden)}}
    assert MARKER not in orjson.dumps(body).decode()


async def test_cleared_users_see_stubs_but_never_their_content(api: Api, world: World) -> None:
    target = await models.PerformanceTarget.create(
        subject=world.b_secret, fiscal_year=2024, overall_goal="SECRET目标"
    )  # content from before the filing: a stub has none to show
    body = await api(
        token("auditor", classified=True),
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename"
        " ... on Subject { name classified amounts { fullYearTotal } } } }",
        {"ids": [gid(world.b_secret), gid(target)]},
    )
    assert body["data"]["nodes"] == [
        {"__typename": "Subject", "name": "SECRET乙涉密项目", "classified": True, "amounts": None},
        None,
    ]


async def test_audit_entries_need_the_audit_role(api: Api, world: World) -> None:
    done = await api(
        ADMIN, OPS["updateSubject"].document, OPS["updateSubject"].variables(world, "a")
    )
    assert done["data"]["r"]["__typename"] == "SubjectSuccess"
    entry = await models.AuditEntry.get(action="updateSubject")
    query = "query($id: ID!) { node(id: $id) { ... on AuditEntry { action recordId } } }"
    auditor = await api(token("auditor"), query, {"id": gid(entry)})
    assert auditor["data"]["node"] == {"action": "updateSubject", "recordId": gid(world.a_project)}
    officer = await api(token("finance_officer"), query, {"id": gid(entry)})
    assert officer["data"]["node"] is None
    trail = await api(
        token("auditor"),
        "query($id: ID!) { auditLog(first: 10, recordId: $id) { totalCount } }",
        {"id": gid(world.a_project)},
    )
    assert trail["data"]["auditLog"]["totalCount"] == 1


async def test_nodes_are_bounded(api: Api, world: World) -> None:
    body = await api(ADMIN, NODES, {"ids": [gid(world.a)] * 101})
    assert body["data"] is None
    assert "at most 100" in body["errors"][0]["message"]


async def test_mutation_results_carry_global_ids(api: Api, world: World) -> None:
    body = await api(
        ADMIN,
        OPS["updateSubject"].document.replace(
            "__typename }", "__typename subject { id departmentId implementingUnitId } }"
        ),
        OPS["updateSubject"].variables(world, "a"),
    )
    assert body["data"]["r"]["subject"] == {
        "id": gid(world.a_project),
        "departmentId": gid(world.a),
        "implementingUnitId": gid(world.a_unit),
    }
