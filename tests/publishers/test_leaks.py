"""Property: whatever the data set and its filings, nothing filed reaches the store or the
snapshot rows (architecture invariant 2), and everything unfiled does (应公开尽公开)."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from storage import database
from storage.enums import FilingReason
from storage.objects.memory import MemoryObjectStore
from tests.conftest import Databases
from tests.properties import property_settings
from tests.publishers import dataset
from tests.publishers.test_releases import (
    decoded,
    everything,
    leaks,
    publisher,
    snapshot_leaks,
)

reasons = st.sampled_from([FilingReason.SENSITIVE, FilingReason.CLASSIFIED])


@st.composite
def plans(draw: st.DrawFn) -> dataset.Plan:
    departments = draw(st.integers(1, 3))
    projects = draw(st.integers(1, 2))
    whole = draw(st.dictionaries(st.integers(0, departments - 1), reasons, max_size=departments))
    cells = st.tuples(st.integers(0, departments - 1), st.integers(0, projects - 1))
    by_project = draw(st.dictionaries(cells, reasons, max_size=departments * projects))
    return dataset.Plan(departments, projects, whole, by_project)


@property_settings(
    15,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
async def test_nothing_filed_is_ever_published(
    databases: Databases, migrated_template: str, plan: dataset.Plan
) -> None:
    url = await databases.copy(migrated_template, ahead=True)
    await database.init(url, global_fallback=True)
    try:
        built = await dataset.build(plan)
        store = MemoryObjectStore()
        p = publisher(store)
        problems = [
            problem.message
            for release in built.releases
            for problem in (await p.check(release.id)).problems
        ]
        assert not [m for m in built.filed_markers if any(m in text for text in problems)]
        await p.publish_many([r.id for r in built.releases])
        objects = await everything(store)
        assert not leaks(objects, built.filed_markers)
        assert not await snapshot_leaks(built.filed_markers)
        text = "".join(decoded(data) for data in objects.values())
        assert [m for m in built.public_markers if m not in text] == []
    finally:
        await database.close()
        await databases.drop(url)
