"""Property (issue 20): after `publish --all`, every in-scope record of the year is public in the
release of the right kind and year, except those a filing covers; and `check --year` reports
exactly the subjects that are not.

Whether a subject is in scope, filed or public is worked out here from the plan and the
snapshot rows, not with the rules under test.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from publishers import coverage
from publishers.records import subject_key
from publishers.select import load_year
from storage import database, models
from storage.enums import FilingReason, ReleaseKind, SubjectKind
from storage.objects.memory import MemoryObjectStore
from tests.conftest import Databases
from tests.properties import data_set_settings
from tests.publishers import dataset
from tests.publishers.test_releases import publisher

reasons = st.sampled_from([FilingReason.SENSITIVE, FilingReason.CLASSIFIED])


@st.composite
def plans(draw: st.DrawFn) -> dataset.Plan:
    departments = draw(st.integers(1, 3))
    projects = draw(st.integers(1, 2))
    indices = st.integers(0, departments - 1)
    whole = draw(st.dictionaries(indices, reasons, max_size=departments))
    cells = st.tuples(indices, st.integers(0, projects - 1))
    by_project = draw(st.dictionaries(cells, reasons, max_size=2))
    return dataset.Plan(
        departments,
        projects,
        whole,
        by_project,
        policy=draw(st.booleans()),
        without_releases=draw(st.frozensets(indices, max_size=departments)),
    )


@data_set_settings(10)
@given(plan=plans())
async def test_after_publish_all_check_year_names_exactly_what_is_not_public(
    databases: Databases, migrated_template: str, plan: dataset.Plan
) -> None:
    url = await databases.copy(migrated_template, ahead=True)
    await database.init(url, global_fallback=True)
    try:
        built = await dataset.build(plan)
        batch = await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
        assert batch.failures == []  # every release that exists passes its own check
        (year,) = await coverage.check_years([built.jurisdiction], [dataset.YEAR])

        public = {
            (row["record_key"], ReleaseKind(row["release_kind"]))
            for row in await models.Disclosure.all().values("record_key", "release_kind")
        }
        owed_public: set[int] = set()
        not_public: set[int] = set()
        for subject in await models.Subject.all().prefetch_related("department"):
            key = subject_key(
                built.jurisdiction.code,
                subject.department.code,
                str(subject.kind),
                subject.code,
                subject.fiscal_year,
            )
            in_scope = subject.kind is not SubjectKind.POLICY or subject.publication_selected
            where = {kind for kind in ReleaseKind if (key, kind) in public}
            # The data set marks what it files: SECRET… codes (a project filing, or every
            # subject and the department itself under a whole-department filing).
            filed = subject.code.startswith("SECRET") or subject.department.code.startswith(
                "SECRET"
            )
            if filed:
                assert where == set(), subject.code  # a filed record is public nowhere
            elif in_scope:
                owed_public.add(subject.id)
                if where != {ReleaseKind.BUDGET, ReleaseKind.FINAL_ACCOUNTS}:
                    not_public.add(subject.id)
                else:  # its target rides the budget, its self-assessment the final accounts
                    owed = set()
                    if subject.kind is not SubjectKind.DEPARTMENT_OVERALL:  # none filed
                        owed.add((f"{key}/target/ANNUAL", ReleaseKind.BUDGET))
                    if subject.kind is SubjectKind.PROJECT:
                        owed.add((f"{key}/self-assessment", ReleaseKind.FINAL_ACCOUNTS))
                    assert owed <= public, subject.code

        reported = {p.record for p in year.problems if p.rule == "DR-3"}
        assert reported == {f"subject#{i}" for i in not_public}
        assert (year.subjects.due, year.subjects.missing) == (len(owed_public), len(not_public))
        selected = plan.policy and 0 not in plan.whole_department_filings
        assert any(p.rule == "DR-4e" for p in year.problems) == (not selected)
        # `publish --all` succeeds with no problem exactly when everything owed is public.
        if not year.problems:
            assert not_public == set() and selected
        if not plan.without_releases - set(plan.whole_department_filings) and selected:
            assert year.problems == []
        messages = " ".join(p.message for p in year.problems)
        assert [m for m in built.filed_markers if m in messages] == []
    finally:
        await database.close()
        await databases.drop(url)


async def test_a_years_facts_say_which_subjects_have_money(db: str) -> None:
    """The year's facts (the coverage check's and the publisher's) are read as columns, and
    `budgeted` is the one fact computed from others: a subject with no money at the start or
    over the year is not budgeted, every other one is."""
    built = await dataset.build(dataset.Plan(departments=2, projects=2, policy=True))
    unbudgeted = await models.Subject.get(code="PUBP1-1Q")
    unbudgeted.initial_total = unbudgeted.full_year_total = Decimal("0.00")
    unbudgeted.initial_appropriation = unbudgeted.full_year_appropriation = Decimal("0.00")
    await unbudgeted.save()
    facts = await load_year(built.jurisdiction.id, dataset.YEAR)
    whole = await models.Subject.filter(
        department__jurisdiction=built.jurisdiction, fiscal_year=dataset.YEAR
    )
    money = {s.id: bool(s.initial_total) or bool(s.full_year_total) for s in whole}
    assert {i: f.budgeted for i, f in facts.subjects.items()} == money
    assert facts.subjects[unbudgeted.id].budgeted is False
    assert set(money.values()) == {True, False}
