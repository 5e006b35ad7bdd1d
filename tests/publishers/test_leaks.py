"""Property: whatever the data set and its filings, nothing filed reaches the store or the
snapshot rows (architecture invariant 2), and everything unfiled does (应公开尽公开)."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from storage import database
from storage.enums import FilingReason
from storage.objects import ObjectStore
from storage.objects.memory import MemoryObjectStore
from storage.objects.s3 import S3ObjectStore
from tests.conftest import Databases
from tests.properties import data_set_settings
from tests.publishers import dataset
from tests.publishers.test_releases import (
    decoded,
    leaks,
    publisher,
    snapshot_leaks,
)
from tests.publishers.test_withdrawal_crash import scan_bucket, versioned_bucket

reasons = st.sampled_from([FilingReason.SENSITIVE, FilingReason.CLASSIFIED])


@st.composite
def plans(draw: st.DrawFn) -> dataset.Plan:
    departments = draw(st.integers(1, 3))
    projects = draw(st.integers(1, 2))
    whole = draw(st.dictionaries(st.integers(0, departments - 1), reasons, max_size=departments))
    cells = st.tuples(st.integers(0, departments - 1), st.integers(0, projects - 1))
    by_project = draw(st.dictionaries(cells, reasons, max_size=departments * projects))
    return dataset.Plan(departments, projects, whole, by_project)


async def assert_the_property(
    databases: Databases, template: str, plan: dataset.Plan, store: ObjectStore
) -> set[str]:
    """Publish the plan's data set to `store`; nothing filed reaches the snapshot rows or a
    current object, everything unfiled does. Returns the filed markers, for further scans."""
    url = await databases.copy(template, ahead=True)
    await database.init(url, global_fallback=True)
    try:
        built = await dataset.build(plan)
        p = publisher(store)
        problems = [
            problem.message
            for release in built.releases
            for problem in (await p.check(release.id)).problems
        ]
        assert not [m for m in built.filed_markers if any(m in text for text in problems)]
        await p.publish_many([r.id for r in built.releases])
        objects = {key: await store.get(key) for key in await store.keys()}
        assert not leaks(objects, built.filed_markers)
        assert not await snapshot_leaks(built.filed_markers)
        text = "".join(decoded(data) for data in objects.values())
        assert [m for m in built.public_markers if m not in text] == []
        return built.filed_markers
    finally:
        await database.close()
        await databases.drop(url)


@data_set_settings(15)
@given(plan=plans())
async def test_nothing_filed_is_ever_published(
    databases: Databases, migrated_template: str, plan: dataset.Plan
) -> None:
    await assert_the_property(databases, migrated_template, plan, MemoryObjectStore())


@data_set_settings(8)
@given(plan=plans())
async def test_nothing_filed_is_ever_published_to_a_versioned_bucket(
    databases: Databases, migrated_template: str, moto_endpoint: str, plan: dataset.Plan
) -> None:
    """The same property over HTTP, against moto's S3 server with versioning on: every version
    of every key, by name and by bytes, is scanned, not only the current objects."""
    target = await versioned_bucket(moto_endpoint)
    assert isinstance(target.store, S3ObjectStore)
    markers = await assert_the_property(databases, migrated_template, plan, target.store)
    assert await asyncio.to_thread(scan_bucket, target.store, markers) == []
