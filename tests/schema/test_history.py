"""History in the public API (issue 16): `versions`, `changes` and `asOf`, against what each
published version put in the bucket, and with nothing left of a withdrawn record."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import orjson
import pytest
from tortoise import connections

from publishers import dictionary
from publishers.history import changes, leaves
from publishers.releases import manifest_key
from publishers.site import field_title
from publishers.site_paths import project_page
from schema.rows import node_id
from storage import models
from storage.enums import RecordType
from storage.objects.memory import MemoryObjectStore
from tests.conftest import Prebuilt, prebuilt_database
from tests.publishers import dataset
from tests.publishers.test_releases import NOW, everything, leaks, publisher, snapshot_leaks
from tests.schema.test_public_schema import fails, run

#: First publication on 2026-03-01 (10:00 in Shanghai), the correction three days later, the
#: withdrawal two days after that.
FIRST, CORRECTED, WITHDRAWN = "2026-03-01", "2026-03-04", "2026-03-06"
#: A project filed after publication: nothing of it may answer, on any day.
FILED_MARKERS = {"PUBP0-1Q", "PUBP0-1项目", "PUBP0-1目标"}
DAYS = ["2026-02-28", FIRST, "2026-03-03", CORRECTED, "2026-03-05", WITHDRAWN, "2030-01-01"]


@dataclass
class History:
    built: dataset.Built
    store: MemoryObjectStore
    target_key: str
    #: the bucket's objects between the correction and the withdrawal
    before_withdrawal: dict[str, bytes]
    #: `LISTS` as of each of `DAYS`, answered before the withdrawal
    answered_before: dict[str, str] = field(default_factory=dict)


async def _target_key(code: str) -> str:
    (key,) = [
        k
        for k in await models.Disclosure.filter(record_type=RecordType.TARGET).values_list(
            "record_key", flat=True
        )
        if f"/{code}/" in str(k)
    ]
    return str(key)


async def _correct() -> History:
    """Published, then the budget release of department 0 corrected: a target's goal."""
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for r in built.releases])
    project = await models.Subject.get(code="PUBP0-0Q")
    await models.PerformanceTarget.filter(subject_id=project.id).update(
        overall_goal="PUBP0-0目标（更正后）"
    )
    budget = built.releases[0]
    later = publisher(store, NOW + timedelta(days=3))
    assert (await later.publish(budget.id, note="更正目标")).version == 2
    return History(built, store, await _target_key("PUBP0-0Q"), await everything(store))


prebuilt, db = prebuilt_database(_correct)


@pytest.fixture
def corrected(db: str, prebuilt: Prebuilt[History]) -> History:
    return prebuilt.value()


@pytest.fixture
async def withdrawn(corrected: History) -> History:
    """…and then project PUBP0-1 of the same department filed and withdrawn."""
    for day in DAYS:
        corrected.answered_before[day] = orjson.dumps(await run(LISTS, day=day)).decode()
    await dataset.file_project("PUBP0-1Q", NOW.date())
    report = await publisher(corrected.store, NOW + timedelta(days=5)).withdraw()
    assert {r.outcome for r in report.results} == {"published"}
    return corrected


TARGET = """
query($id: ID!, $day: Date!) {
  asOf(date: $day) { date node(id: $id) { ... on PerformanceTarget { key overallGoal } } }
  node(id: $id) { ... on PerformanceTarget { overallGoal } }
}
"""


async def test_as_of_answers_the_old_value_before_a_correction_and_the_new_one_after(
    corrected: History,
) -> None:
    target = node_id(RecordType.TARGET, corrected.target_key)
    goals = {}
    for day in DAYS:
        data = await run(TARGET, id=target, day=day)
        assert data["asOf"]["date"] == day
        assert data["node"]["overallGoal"] == "PUBP0-0目标（更正后）"  # today's answer
        found = data["asOf"]["node"]
        goals[day] = found and found["overallGoal"]
    assert goals == {
        "2026-02-28": None,  # nothing was public yet
        FIRST: "PUBP0-0目标",
        "2026-03-03": "PUBP0-0目标",  # the last day of version 1
        CORRECTED: "PUBP0-0目标（更正后）",
        "2026-03-05": "PUBP0-0目标（更正后）",
        WITHDRAWN: "PUBP0-0目标（更正后）",
        "2030-01-01": "PUBP0-0目标（更正后）",
    }


VERSIONS = """
query($id: ID!) {
  node(id: $id) {
    ... on Versioned {
      versions { releaseKey number publishedAt date kind kindLabel changed release { key } }
      changes(from: 1, to: 2) { field old new }
      back: changes(from: 2, to: 1) { field old new }
      same: changes(from: 2, to: 2) { field }
    }
  }
}
"""


async def test_versions_and_changes_of_a_corrected_record(corrected: History) -> None:
    data = await run(VERSIONS, id=node_id(RecordType.TARGET, corrected.target_key))
    node = data["node"]
    release = node["versions"][0]["releaseKey"]
    assert [
        (v["number"], v["date"], v["kind"], v["changed"], v["release"]["key"])
        for v in node["versions"]
    ] == [(1, FIRST, "FIRST", True, release), (2, CORRECTED, "CORRECTION", True, release)]
    assert node["versions"][1]["kindLabel"] == "更正"
    assert node["versions"][1]["publishedAt"] == "2026-03-04T10:00:00+08:00"
    assert node["changes"] == [
        {"field": "overallGoal", "old": "PUBP0-0目标", "new": "PUBP0-0目标（更正后）"}
    ]
    assert node["back"] == [
        {"field": "overallGoal", "old": "PUBP0-0目标（更正后）", "new": "PUBP0-0目标"}
    ]
    assert node["same"] == []
    # A record of the same release that the correction did not change: a version, unchanged.
    other = await _target_key("PUBP0-1Q")
    data = await run(VERSIONS, id=node_id(RecordType.TARGET, other))
    assert [(v["kind"], v["changed"]) for v in data["node"]["versions"]] == [
        ("FIRST", True),
        ("CORRECTION", False),
    ]
    assert data["node"]["changes"] == []


CHANGES = (
    "query($id: ID!) { node(id: $id) { ... on Versioned { changes(from: 1, to: TO) { field } } } }"
)


async def test_changes_names_the_versions_a_record_has(corrected: History) -> None:
    target = node_id(RecordType.TARGET, corrected.target_key)
    query = CHANGES.replace("TO", "3")
    message = await fails(query, id=target)
    assert "is not in version 3 of release" in message and "versions there: 1, 2" in message
    query = (
        "query($id: ID!) { node(id: $id) { ... on Versioned {"
        ' changes(from: 1, to: 2, releaseKey: "no/such") { field } } } }'
    )
    assert "versions there: none" in await fails(query, id=target)


async def test_a_subject_answers_from_its_final_accounts_release_by_default(
    corrected: History,
) -> None:
    """A subject rides its budget and final-accounts releases: `versions` lists both, and
    `changes` compares the versions of the one it is answered from unless told."""
    subject = node_id(RecordType.SUBJECT, corrected.target_key.rsplit("/target/", 1)[0])
    query = """
    query($id: ID!, $budget: String) { node(id: $id) { ... on Versioned {
      versions { releaseKey number kind changed }
      changes(from: 1, to: 1) { field }
      inBudget: changes(from: 1, to: 2, releaseKey: $budget) { field }
    } } }"""
    budget = next(r for r in corrected.built.releases if r.kind.value == "BUDGET")
    await budget.fetch_related("jurisdiction", "department")
    budget_key = f"{budget.jurisdiction.code}/2024/budget/{budget.department.code}"
    node = (await run(query, id=subject, budget=budget_key))["node"]
    final_key = budget_key.replace("/budget/", "/final-accounts/")
    assert sorted(
        (v["releaseKey"], v["number"], v["kind"], v["changed"]) for v in node["versions"]
    ) == [
        (budget_key, 1, "FIRST", True),
        (budget_key, 2, "CORRECTION", False),  # the correction changed its target, not it
        (final_key, 1, "FIRST", True),
    ]
    assert node["changes"] == [] and node["inBudget"] == []
    # By default, the final accounts: they have no version 2.
    query = CHANGES.replace("TO", "2")
    assert f"is not in version 2 of release {final_key}" in await fails(query, id=subject)


LISTS = """
query($day: Date!) {
  asOf(date: $day) {
    subjects(first: 100) { totalCount nodes { key name versions { number kind } } }
    targets(first: 100) { nodes { key overallGoal subject { key name } } }
    departments(first: 100) { nodes { key name } }
    releases(first: 100) { nodes { key currentVersion } }
    statistics(groupBy: DEPARTMENT) { key subjects }
  }
}
"""


async def test_a_withdrawn_record_answers_for_no_day(withdrawn: History) -> None:
    filed = await models.Subject.get(code="PUBP0-1Q")
    department = await models.Department.get(id=filed.department_id)
    filed_key = f"{withdrawn.built.jurisdiction.code}/{department.code}/PROJECT/PUBP0-1Q/2024"
    for day in DAYS:
        data = await run(LISTS, day=day)
        text = orjson.dumps(data).decode()
        assert not [m for m in FILED_MARKERS if m in text], day
        for kind in (RecordType.SUBJECT, RecordType.TARGET):
            key = filed_key if kind is RecordType.SUBJECT else f"{filed_key}/target/ANNUAL"
            query = "query($id: ID!, $day: Date!) { asOf(date: $day) { node(id: $id) { id } } }"
            found = await run(query, id=node_id(kind, key), day=day)
            assert found["asOf"]["node"] is None, (kind, day)
    # Before the filing it answered from the first day on: the test looks where it should.
    assert {day for day in DAYS if "PUBP0-1项目" in withdrawn.answered_before[day]} == set(DAYS[1:])
    assert leaks(withdrawn.before_withdrawal, FILED_MARKERS)
    # Every version's rows (the history) hold nothing of it, and nor does the bucket.
    assert not await snapshot_leaks(FILED_MARKERS)
    assert not leaks(await everything(withdrawn.store), FILED_MARKERS)
    # The withdrawal is a version of its own for the records that stayed.
    data = await run(VERSIONS, id=node_id(RecordType.TARGET, withdrawn.target_key))
    assert [(v["number"], v["kind"], v["changed"]) for v in data["node"]["versions"]] == [
        (1, "FIRST", True),
        (2, "CORRECTION", True),
        (3, "WITHDRAWAL_OF_OTHERS", False),
    ]
    releases = await run("{ releases(first: 10) { nodes { key versions { number kind } } } }")
    kinds = {
        r["key"].split("/")[2]: [(v["number"], v["kind"]) for v in r["versions"]]
        for r in releases["releases"]["nodes"]
        if "/PUBD0X" in r["key"] or "finance-annual" in r["key"]
    }
    assert kinds == {
        "budget": [(1, "FIRST"), (2, "CORRECTION"), (3, "WITHDRAWAL_OF_OTHERS")],
        "final-accounts": [(1, "FIRST"), (2, "WITHDRAWAL_OF_OTHERS")],
        "finance-annual": [(1, "FIRST"), (2, "WITHDRAWAL_OF_OTHERS")],
    }
    notices = await run(
        "{ correctionNotices(first: 10) { nodes { kind releaseKey version date } } }"
    )
    found = [
        (n["kind"], n["releaseKey"].split("/")[2], n["version"], n["date"])
        for n in notices["correctionNotices"]["nodes"]
    ]
    assert found == [
        ("CORRECTION", "budget", 2, CORRECTED),
        ("WITHDRAWAL", "budget", 3, WITHDRAWN),
        ("WITHDRAWAL", "final-accounts", 2, WITHDRAWN),
        ("WITHDRAWAL", "finance-annual", 2, WITHDRAWN),  # it held the project's evaluation
    ]


async def test_as_of_equals_what_each_version_put_in_the_bucket(corrected: History) -> None:
    """Differential: on the day of each version of the corrected release, the targets `asOf`
    answers for its department are exactly the records of that version's data file."""
    budget = await models.Release.get(id=corrected.built.releases[0].id).prefetch_related(
        "jurisdiction", "department"
    )
    objects = corrected.before_withdrawal
    query = """
    query($day: Date!, $code: String!) { asOf(date: $day) {
      targets(first: 100, filter: {departmentCode: $code}) {
        nodes { key subjectKey fiscalYear horizon overallGoal approvedOn
                indicators { position name targetValue weight core } } } } }"""
    for number, day in ((1, FIRST), (1, "2026-03-03"), (2, CORRECTED), (2, "2027-01-01")):
        manifest = orjson.loads(objects[manifest_key(budget, number)])
        (entry,) = [
            e
            for e in manifest["objects"]
            if e["path"].startswith("data/targets.") and e["path"].endswith(".json")
        ]
        published = orjson.loads(objects[entry["key"]])["records"]
        data = await run(query, day=day, code=budget.department.code)
        answered = data["asOf"]["targets"]["nodes"]
        assert [a["key"] for a in answered] == [p["key"] for p in published]
        for a, p in zip(answered, published, strict=True):
            assert {k: v for k, v in leaves(a).items() if not k.startswith("indicators")} == {
                k: p[k]
                for k in ("key", "subjectKey", "fiscalYear", "horizon", "overallGoal", "approvedOn")
            }
            assert [i["name"] for i in a["indicators"]] == [i["name"] for i in p["indicators"]]


async def test_as_of_refuses_what_it_cannot_answer(corrected: History) -> None:
    for day, expected in (
        ("2026-3-1", "not a date (YYYY-MM-DD): '2026-3-1'"),
        ("2026-02-30", "not a date"),
        ("yesterday", "not a date"),
        ("1999-12-31", "is before 2000-01-01"),
    ):
        message = await fails("query($d: Date!) { asOf(date: $d) { date } }", d=day)
        assert expected in message, message
    # the first day it accepts
    assert (await run('{ asOf(date: "2000-01-01") { subjects(first: 1) { totalCount } } }'))[
        "asOf"
    ]["subjects"]["totalCount"] == 0
    message = await fails(
        '{ asOf(date: "2026-03-04") {'
        ' subjects(first: 5, filter: {search: "绿化"}) { totalCount } } }'
    )
    assert "`filter.search` is answered for the current records only" in message


def test_changes_lists_every_leaf_that_differs() -> None:
    old = {"name": "甲", "amounts": {"initial": {"total": "1.00"}}, "tags": ["a", "b"], "gone": 1}
    new = {"name": "甲", "amounts": {"initial": {"total": "2.00"}}, "tags": ["a"], "added": None}
    assert [(c.field, c.old, c.new) for c in changes(old, new)] == [
        ("amounts.initial.total", "1.00", "2.00"),
        ("added", None, None),
        ("tags[1]", "b", None),
        ("gone", 1, None),
    ]
    assert changes(new, new) == []
    assert leaves({"list": [], "x": {"y": [{"z": 1}]}}) == {"list": [], "x.y[0].z": 1}


async def test_the_project_page_shows_what_a_correction_changed(corrected: History) -> None:
    page = (await corrected.store.get(project_page("990101", "PUBP0-0Q"))).decode()
    changes = page[page.index('id="changes-h"') :]
    assert re.search(
        r'<time datetime="2026-03-04">2026-03-04</time> 更正（<a [^>]*>第2版</a>）：'
        r'绩效目标·<span title="overallGoal">总体目标</span>：PUBP0-0目标 → PUBP0-0目标（更正后）',
        changes,
    ), changes
    # A project the correction did not touch lists no corrections.
    untouched = (await corrected.store.get(project_page("990101", "PUBP0-1Q"))).decode()
    assert 'id="changes-h"' not in untouched and "更正记录" not in untouched


def test_a_changed_field_is_titled_in_chinese() -> None:
    assert field_title("overallGoal") == "总体目标"
    assert field_title("indicators[2].targetValue") == "第3项·指标值"
    assert field_title("amounts.fullYear.total") == dictionary.describe("amounts.fullYear.total")[0]


async def test_the_migration_keeps_the_current_versions_of_a_database_published_before(
    corrected: History,
) -> None:
    """0012 on a database published before it: the current versions' rows become the first
    entries of the history (what earlier versions held was never kept), and notices are linked
    to the version published with them."""
    expected = sorted(
        await models.DisclosureVersion.filter(superseded_day__isnull=True).values_list(
            "release_id", "release_version", "record_key", "change", "published_day", "data"
        )
    )
    kinds = sorted(await models.ReleaseVersion.all().values_list("release_id", "number", "kind"))
    assert {k[2] for k in kinds} == {"FIRST", "CORRECTION"}
    await models.DisclosureVersion.all().delete()
    await models.CorrectionNotice.all().update(version=None)
    await models.ReleaseVersion.all().update(kind="FIRST")  # the column's default
    migration = importlib.import_module("storage.migrations.0012_history")
    await migration.forward(None, SimpleNamespace(client=connections.get("default")))
    found = await models.DisclosureVersion.all().values_list(
        "release_id", "release_version", "record_key", "change", "published_day", "data"
    )
    assert sorted(found) == expected
    assert {(r[1], r[3], r[4]) for r in found} >= {
        (2, "CORRECTION", 20260304),
        (1, "FIRST", 20260301),
    }
    assert await models.CorrectionNotice.all().values_list("version", flat=True) == [2]
    assert (
        sorted(await models.ReleaseVersion.all().values_list("release_id", "number", "kind"))
        == kinds
    )
    # The API answers from them: today's values, and on the day of the correction.
    data = await run(TARGET, id=node_id(RecordType.TARGET, corrected.target_key), day=CORRECTED)
    assert data["asOf"]["node"]["overallGoal"] == "PUBP0-0目标（更正后）"
