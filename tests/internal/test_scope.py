"""A department editor reads and changes its own department and units, and nothing of another
department: every mutation aimed at department B by the editor of A is refused and writes
nothing; B's records are absent from A's lists, counts and lookups."""

from __future__ import annotations

import orjson
import pytest

from schema.internal.permissions import MATRIX
from storage import models
from storage.enums import ReviewStatus
from tests.internal.conftest import Api, World, gid, token
from tests.internal.ops import OPS, RESULT
from tests.internal.test_permissions import BEFORE, OP_ACTIONS

EDITOR_A = token("department_editor", "101", sub="editor-a")


async def state() -> list[object]:
    """Everything a refused write could have touched."""
    return [
        await models.AuditEntry.all().count(),
        await models.Department.all().count(),
        await models.Subject.all().count(),
        await models.PerformanceTarget.all().count(),
        await models.SelfAssessment.all().count(),
        await models.SensitivityFiling.all().count(),
        await models.Release.all().count(),
        sorted(await models.Department.all().values_list("id", "version", "name")),
        sorted(await models.Subject.all().values_list("id", "version", "name")),
        sorted(await models.PerformanceTarget.all().values_list("id", "version", "review_status")),
        sorted(await models.Release.all().values_list("id", "version", "status")),
        await models.Finding.all().count(),
        await models.Indicator.all().count(),
        await models.StoredFile.all().count(),
        await models.FileContent.all().count(),
        sorted(await models.Indicator.all().values_list("id", "name")),
        sorted(await models.Rectification.all().values_list("id", "version", "status")),
        sorted(await models.SensitivityFiling.all().values_list("id", "version", "status")),
        sorted(await models.Evaluation.all().values_list("id", "version", "score")),
        sorted(await models.MonitoringRecord.all().values_list("id", "version")),
        sorted(await models.ExAnteAssessment.all().values_list("id", "version")),
        sorted(await models.EvaluationReport.all().values_list("id", "version", "main_text_id")),
        await models.EvaluationReport.filter(annexes__id__isnull=False).count(),
    ]


@pytest.mark.parametrize("name", sorted(OPS))
async def test_editor_cannot_change_another_department(api: Api, world: World, name: str) -> None:
    op = OPS[name]
    if name in BEFORE:
        await models.PerformanceTarget.filter(id=world.b_target.id).update(
            review_status=BEFORE[name]
        )
    before = await state()
    body = await api(EDITOR_A, op.document, op.variables(world, "b"), op.files)
    result = body["data"]["r"]
    if OP_ACTIONS[name] in MATRIX["department_editor"]:
        # B's records do not exist for A's editor: the same answer as for a missing id.
        assert result["__typename"] == "NotFound", result
        assert "乙" not in result["message"] and "202" not in result["message"]
    else:
        assert result["__typename"] == "Forbidden", result
    assert await state() == before


@pytest.mark.parametrize("name", ["createDepartment", "createSubject", "updateSubject"])
async def test_editor_can_change_its_own_department(api: Api, world: World, name: str) -> None:
    op = OPS[name]
    body = await api(EDITOR_A, op.document, op.variables(world, "a"))
    assert body["data"]["r"]["__typename"] == op.success


async def test_editor_can_work_on_its_units(api: Api, world: World) -> None:
    body = await api(
        EDITOR_A,
        'mutation($id: ID!) { r: updateDepartment(id: $id, version: 1, patch: {name: "甲单位"}) '
        f"{{ {RESULT} ... on DepartmentSuccess {{ department {{ name version }} }} }} }}",
        {"id": gid(world.a_unit)},
    )
    assert body["data"]["r"]["department"] == {"name": "甲单位", "version": 2}


async def test_editor_reads_only_its_own_department(api: Api, world: World) -> None:
    query = """query($b: ID!, $bs: ID!, $bt: ID!, $br: ID!) {
      departments(first: 100) { totalCount edges { node { code } } }
      subjects(first: 100) { totalCount edges { node { code } } }
      targets(first: 100) { totalCount edges { node { id } } }
      releases(first: 100) { totalCount edges { node { id } } }
      filings(first: 100) { totalCount }
      selfAssessments(first: 100) { totalCount }
      department(id: $b) { code }
      subject(id: $bs) { code }
      target(id: $bt) { id }
      release(id: $br) { id }
      dashboard(fiscalYear: 2024) { targetsAwaitingReview releasesDue { id }
        coverage { inScopeSubjects } }
    }"""
    await models.PerformanceTarget.filter(id=world.b_target.id).update(
        review_status=ReviewStatus.SUBMITTED
    )
    body = await api(
        EDITOR_A,
        query,
        {
            "b": gid(world.b),
            "bs": gid(world.b_project),
            "bt": gid(world.b_target),
            "br": gid(world.b_release),
        },
    )
    data = body["data"]
    assert [e["node"]["code"] for e in data["departments"]["edges"]] == ["101", "101001"]
    assert data["departments"]["totalCount"] == 2
    assert [e["node"]["code"] for e in data["subjects"]["edges"]] == ["101-P1"]
    assert [e["node"]["id"] for e in data["targets"]["edges"]] == [gid(world.a_target)]
    assert [e["node"]["id"] for e in data["releases"]["edges"]] == [gid(world.a_release)]
    assert data["filings"]["totalCount"] == 1  # its own (SENSITIVE) filing; not B's
    assert data["department"] is data["subject"] is data["target"] is data["release"] is None
    assert data["dashboard"] == {
        "targetsAwaitingReview": 0,
        "releasesDue": [{"id": gid(world.a_release)}],
        "coverage": {"inScopeSubjects": 1},
    }
    text = orjson.dumps(body).decode()
    assert "乙" not in text and "202" not in text
