"""A release created, checked, scheduled and published through the internal API ends up in the
object store and in the public API of the same app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from schema.internal.ids import global_id
from storage import database, models
from storage.enums import ReleaseKind
from tests.internal.conftest import Api, app_at_now, gid, settings, token
from tests.publishers import dataset

PUBLISHER = token("publisher", sub="publisher-1")
RELEASE = """
  __typename
  ... on InvalidInput { field rule message }
  ... on Conflict { message }
  ... on ReleaseSuccess { release { id status version publishAt currentVersion } }
"""


@pytest.fixture
async def published_world(db: str, tmp_path: Path) -> AsyncIterator[tuple[Api, Path, int]]:
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    budget = next(r for r in built.releases if r.kind is ReleaseKind.BUDGET)
    department_id = budget.department_id
    assert department_id is not None
    await budget.delete()  # the API creates it again
    await database.close()
    store = tmp_path / "store"
    app = app_at_now(settings(db, store))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client), store, department_id
    await database.init(db, global_fallback=True)


async def test_release_through_the_api_reaches_store_and_public_api(
    published_world: tuple[Api, Path, int],
) -> None:
    api, store, department_id = published_world
    created = await api(
        PUBLISHER,
        f"mutation($i: ReleaseInput!) {{ r: createRelease(input: $i) {{ {RELEASE} }} }}",
        {
            "i": {
                "kind": "BUDGET",
                "fiscalYear": dataset.YEAR,
                "approvalDate": "2024-01-25",
                "departmentId": str(global_id("Department", department_id)),
            }
        },
    )
    release = created["data"]["r"]["release"]
    assert release["status"] == "DRAFT"

    checked = await api(
        PUBLISHER,
        "mutation($id: ID!) { r: checkRelease(id: $id) { __typename ... on ReleaseCheck {"
        " ok records problems { rule record message } } } }",
        {"id": release["id"]},
    )
    assert checked["data"]["r"]["ok"], checked
    assert checked["data"]["r"]["records"] > 0

    schedule = (
        "mutation($id: ID!, $v: Int!, $at: DateTime!) {"
        f" r: scheduleRelease(id: $id, version: $v, publishAt: $at) {{ {RELEASE} }} }}"
    )
    publish = (
        "mutation($id: ID!, $v: Int!) {"
        f" r: publishRelease(id: $id, version: $v) {{ {RELEASE} }} }}"
    )
    draft = await api(PUBLISHER, publish, {"id": release["id"], "v": 1})
    assert draft["data"]["r"]["rule"] == "release-not-scheduled"  # DR-12: schedule first
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    scheduled = await api(PUBLISHER, schedule, {"id": release["id"], "v": 1, "at": later})
    assert scheduled["data"]["r"]["release"]["status"] == "SCHEDULED"
    embargoed = await api(PUBLISHER, publish, {"id": release["id"], "v": 2})
    assert embargoed["data"]["r"]["rule"] == "embargoed"
    assert not (store / "releases").exists()  # nothing of an embargoed release is uploaded

    now = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    await api(PUBLISHER, schedule, {"id": release["id"], "v": 2, "at": now})
    published = await api(PUBLISHER, publish, {"id": release["id"], "v": 3})
    result = published["data"]["r"]
    assert result["__typename"] == "ReleaseSuccess", result
    assert result["release"]["status"] == "PUBLISHED"
    assert result["release"]["currentVersion"] == 1

    manifests = sorted(store.glob("releases/**/manifest.v1.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
    assert manifest  # the manifest lists the objects, which are in the store
    assert len(list(manifests[0].parent.rglob("*"))) > 2

    public = await api.client.post(
        "/graphql",
        json={
            "query": "{ releases(first: 10) { totalCount nodes { kind departmentCode"
            " currentVersion manifest } } subjects(first: 10) { totalCount } }"
        },
    )
    data = public.json()["data"]
    assert data["releases"]["totalCount"] == 1
    node = data["releases"]["nodes"][0]
    assert (node["kind"], node["departmentCode"], node["currentVersion"]) == ("BUDGET", "PUBD0X", 1)
    assert (store / node["manifest"]).is_file()
    assert data["subjects"]["totalCount"] > 0

    # A late filing, then a withdrawal through the API: the filed project leaves the public API.
    project = await models.Subject.get(code="PUBP0-1Q")
    filed = await api(
        token("finance_officer", sub="officer-1"),
        "mutation($i: FilingInput!) { r: fileFiling(input: $i) { __typename } }",
        {
            "i": {
                "departmentId": str(global_id("Department", department_id)),
                "fiscalYear": dataset.YEAR,
                "scope": "PROJECTS",
                "reason": "SENSITIVE",
                "reference": "敏备9",
                "filedWith": "测试区财政局",
                "filedAt": "2024-03-01",
                "projectIds": [gid(project)],
            }
        },
    )
    assert filed["data"]["r"]["__typename"] == "FilingSuccess"
    withdraw = (
        "mutation($id: ID!, $v: Int!) {"
        f" r: withdrawRelease(id: $id, version: $v) {{ {RELEASE} }} }}"
    )
    # While a live publisher elsewhere holds the release, the withdrawal is a conflict.
    release_row = await models.Release.get(department_id=department_id, kind=ReleaseKind.BUDGET)
    far = datetime(2999, 1, 1, tzinfo=UTC)
    await models.Release.filter(id=release_row.id).update(
        claimed_by="elsewhere:1:1", claimed_until=far
    )
    blocked = await api(PUBLISHER, withdraw, {"id": release["id"], "v": 4})
    assert blocked["data"]["r"]["__typename"] == "Conflict", blocked
    await models.Release.filter(id=release_row.id).update(claimed_by=None, claimed_until=None)
    withdrawn = await api(PUBLISHER, withdraw, {"id": release["id"], "v": 4})
    assert withdrawn["data"]["r"]["release"]["currentVersion"] == 2, withdrawn
    names = await api.client.post(
        "/graphql", json={"query": "{ subjects(first: 10) { nodes { code } } }"}
    )
    codes = {n["code"] for n in names.json()["data"]["subjects"]["nodes"]}
    assert "PUBP0-1Q" not in codes and "PUBP0-0Q" in codes

    entries = await models.AuditEntry.filter(record_type="Release").values_list("action", flat=True)
    assert entries == [
        "createRelease",
        "scheduleRelease",
        "scheduleRelease",
        "publishRelease:published",
        "withdrawRelease",
    ]


async def test_the_dashboard_shows_the_years_disclosure_coverage(
    published_world: tuple[Api, Path, int],
) -> None:
    api = published_world[0]
    query = (
        "{ dashboard(fiscalYear: 2024) { disclosure { jurisdictionCode fiscalYear departmentsDue"
        " departmentsPublished departmentsMissing departmentsExempt subjectsDue"
        " subjectsPublished subjectsMissing subjectsExempt problems } } }"
    )
    # One department of two projects and its overall expenditure: its BUDGET release is gone
    # (the fixture deletes it), its FINAL_ACCOUNTS one is not published yet.
    expected = {
        "jurisdictionCode": "990101",
        "fiscalYear": 2024,
        "departmentsDue": 1,
        "departmentsPublished": 0,
        "departmentsMissing": 1,
        "departmentsExempt": None,
        "subjectsDue": 3,
        "subjectsPublished": 0,
        "subjectsMissing": 3,
        "subjectsExempt": None,
        "problems": 3 * 2 + 1,  # each subject twice (DR-3), and no selected policy (DR-4e)
    }
    finance = await api(token("finance_officer", sub="officer-1"), query)
    assert finance["data"]["dashboard"]["disclosure"] == [expected]
    cleared = await api(token("admin", classified=True, sub="admin-1"), query)
    assert cleared["data"]["dashboard"]["disclosure"] == [
        {**expected, "departmentsExempt": 0, "subjectsExempt": 0}
    ]
    editor = await api(token("department_editor", "PUBD0X", sub="editor-1"), query)
    assert editor["data"]["dashboard"]["disclosure"] == []
