"""The city scale of the demo (issue 18): 示例市 and its sixteen districts, each a jurisdiction
of its own under the city, drawing data of its own.

The real city (~100,000 subjects a year) is built by `gongkai demo --scale city` and measured by
`make bench-scale`; here the same group is loaded at a few projects per jurisdiction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from api import demo
from api.demo import scales
from storage import database, models
from storage.enums import FiscalLevel, SubjectKind
from tests.conftest import Databases
from tests.demo.test_demo import REAL_BODIES


def test_the_city_is_sixteen_districts_under_one_municipal_jurisdiction() -> None:
    city, *districts = scales.jurisdictions("city")
    assert (city.code, city.name, city.level, city.parent) == (
        "990200",
        "示例市",
        FiscalLevel.MUNICIPAL,
        None,
    )
    assert len(districts) == 16
    assert {d.parent for d in districts} == {"990200"}
    assert {d.level for d in districts} == {FiscalLevel.DISTRICT}
    codes = [d.code for d in districts]
    assert codes == [f"9902{n:02d}" for n in range(1, 17)]
    assert len({d.name for d in districts}) == 16
    assert len({s.salt for s in (city, *districts)}) == 17
    for spec in (city, *districts):
        assert spec.code.startswith("99")  # no province of GB/T 2260 (D4)
        assert spec.name.startswith("示例")
        assert not any(body in spec.name for body in REAL_BODIES)
        # A real district's size: ~6,000 subjects a year.
        assert spec.projects_per_year == (5800, 6200)


def test_names_are_local_to_each_level() -> None:
    city, east, *_ = scales.jurisdictions("city")
    assert city.local("区教育局") == "示例市教育局"
    assert city.local("区委组织部") == "示例市委组织部"
    assert city.local("档案馆") == "示例市档案馆"
    assert east.local("区教育局") == "示例市东湖区教育局"
    assert east.local("区委组织部") == "示例市东湖区委组织部"
    # The town and the district are as they were, without salt.
    assert scales.jurisdictions("district") == (scales.SCALES["district"],)
    assert scales.SCALES["district"].salt == scales.SCALES["town"].salt == ""
    assert scales.SCALES["district"].local("区教育局") == "示例区教育局"


def test_an_unknown_scale_is_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match="unknown scale 'province'; choose one of district, town, city"
    ):
        scales.jurisdictions("province")


@dataclass(frozen=True)
class SmallCity:
    url: str
    counts: dict[str, int]


@pytest.fixture(scope="module")
async def loaded(databases: Databases, migrated_template: str) -> AsyncIterator[SmallCity]:
    """The city and two of its districts, at a few projects each, for two years (the planted
    leaks need a year before the last)."""
    small = tuple(
        replace(spec, projects_per_year=(4, 6), units_per_department=(1, 1), key_evaluations=(6, 6))
        for spec in scales.jurisdictions("city")[:3]
    )
    url = await databases.copy(migrated_template)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(scales.GROUPS, "city", small)
        await database.init(url, global_fallback=True)
        try:
            counts = await demo.generate("city", seed=1, years=(2023, 2024))
        finally:
            await database.close()
    yield SmallCity(url, counts)
    await databases.drop(url)


@pytest.fixture
async def small_city(loaded: SmallCity) -> AsyncIterator[dict[str, int]]:
    await database.init(loaded.url, global_fallback=True)
    try:
        yield loaded.counts
    finally:
        await database.close()


async def test_the_city_loads_each_jurisdiction_under_its_parent(
    small_city: dict[str, int],
) -> None:
    loaded = {j.code: j for j in await models.Jurisdiction.all()}
    assert sorted(loaded) == ["990200", "990201", "990202"]
    city = loaded["990200"]
    assert city.parent_id is None and city.level is FiscalLevel.MUNICIPAL
    assert city.finance_authority_name == "示例市财政局"
    for code in ("990201", "990202"):
        assert loaded[code].parent_id == city.id
        assert loaded[code].is_demo
    # The counts returned are those of all three together.
    assert small_city["jurisdiction"] == 3
    assert small_city["subject"] == await models.Subject.all().count()
    assert small_city["department"] == await models.Department.all().count()
    # Every jurisdiction has its departments, named for it (共青团示例市委 too).
    for j in loaded.values():
        names = await models.Department.filter(jurisdiction_id=j.id).values_list("name", flat=True)
        assert names and all(j.name in str(name) for name in names)


async def test_each_jurisdiction_draws_data_of_its_own(small_city: dict[str, int]) -> None:
    projects: dict[int, set[tuple[str, int]]] = {}
    for subject in await models.Subject.filter(kind=SubjectKind.PROJECT):
        key = (subject.name, int(subject.full_year_total * 100))
        department = await models.Department.get(id=subject.department_id)
        projects.setdefault(department.jurisdiction_id, set()).add(key)  # type: ignore[attr-defined]
    assert len(projects) == 3
    first, second, third = projects.values()
    # Same template, same seed: only the salt tells them apart.
    assert first != second and second != third and first != third


async def test_a_city_loaded_twice_is_refused(small_city: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"示例市 \(990200\) is loaded already"):
        await demo.generate("city", seed=1, years=(2023, 2024))
