"""Issue 20: the disclosure rules a release could pass while the law says it is incomplete, each
triggered by the smallest change to the valid data set of `tests/publishers/dataset.py`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from api import cli
from api.settings import Settings
from publishers import coverage
from publishers.releases import (
    DateRefused,
    NoteRequired,
    NotScheduled,
    Publisher,
    ReleaseRefused,
)
from publishers.rules import SHANGHAI
from storage import models, records
from storage.enums import EvaluationKind, FilingReason, ReleaseKind, ReleaseStatus, SubjectKind
from storage.errors import InvalidRecord
from storage.objects.memory import MemoryObjectStore
from tests.publishers import dataset

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def publisher(store: MemoryObjectStore, now: datetime = NOW) -> Publisher:
    return Publisher(store, worker="test", clock=lambda: now)


def release_of(built: dataset.Built, kind: ReleaseKind) -> models.Release:
    (release,) = [r for r in built.releases if r.kind is kind]
    return release


# --- DR-4(c)/(f): self-assessment results ride the final accounts ----------------------------


async def test_a_final_accounts_release_without_a_self_assessment_fails_dr4c(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    final = release_of(built, ReleaseKind.FINAL_ACCOUNTS)
    store = MemoryObjectStore()
    assert (await publisher(store).check(final.id)).problems == []  # the valid data set

    project = await models.Subject.get(code="PUBP0-0Q")
    await models.SelfAssessment.filter(subject_id=project.id).delete()
    problems = (await publisher(store).check(final.id)).problems
    assert [(p.rule, p.record) for p in problems] == [("DR-4c", f"subject#{project.id}")]
    assert "PUBP0-0Q" in problems[0].message
    with pytest.raises(ReleaseRefused, match="DR-4c"):
        await publisher(store).publish(final.id)
    # The budget release does not carry self-assessments and is not held up by them.
    budget = release_of(built, ReleaseKind.BUDGET)
    assert (await publisher(store).check(budget.id)).problems == []


# --- DR-4(h): the main texts of finance key evaluations ---------------------------------------


async def _annual_files(p: Publisher, built: dataset.Built) -> set[str]:
    selection = await p.check(release_of(built, ReleaseKind.FINANCE_ANNUAL).id)
    return {f.title for f in selection.files}


async def test_a_key_evaluation_with_a_result_but_no_report_fails_dr4h(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    annual = release_of(built, ReleaseKind.FINANCE_ANNUAL)
    store = MemoryObjectStore()
    assert (await publisher(store).check(annual.id)).problems == []
    evaluation = await models.Evaluation.get(kind=EvaluationKind.FINANCE_KEY)
    await models.EvaluationReport.filter(evaluation_id=evaluation.id).delete()
    problems = (await publisher(store).check(annual.id)).problems
    assert [(p.rule, p.record) for p in problems] == [("DR-4h", f"evaluation#{evaluation.id}")]
    assert "PUBP0-0Q" in problems[0].message


async def test_a_planned_key_evaluation_has_no_main_text_published(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    p = publisher(MemoryObjectStore())
    assert await _annual_files(p, built) == {"PUBP0-0评价报告"}
    await models.Evaluation.all().update(score=None, grade=None)  # back to PLANNED, no result
    p = publisher(MemoryObjectStore())
    assert await _annual_files(p, built) == set()
    assert (await p.check(release_of(built, ReleaseKind.FINANCE_ANNUAL).id)).problems == []


@pytest.mark.parametrize("outside", ["project", "policy"])
async def test_key_evaluation_texts_of_subjects_outside_the_scope_flag_are_published(
    db: str, outside: str
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    if outside == "project":
        await models.Subject.filter(code="PUBP0-0Q").update(in_disclosure_scope=False)
    else:  # a policy the finance bureau did not select for publication
        await models.Subject.filter(code="PUBP0-0Q").update(
            kind=SubjectKind.POLICY, publication_selected=False
        )
    assert await _annual_files(publisher(MemoryObjectStore()), built) == {"PUBP0-0评价报告"}


async def test_an_evaluation_links_only_to_a_main_text_that_is_public(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    final = release_of(built, ReleaseKind.FINAL_ACCOUNTS)
    annual = release_of(built, ReleaseKind.FINANCE_ANNUAL)
    store = MemoryObjectStore()
    await publisher(store).publish(release_of(built, ReleaseKind.BUDGET).id)
    await publisher(store).publish(final.id)
    (evaluation,) = await models.Disclosure.filter(release_id=final.id, record_type="EVALUATION")
    assert evaluation.data["reportFileKey"] is None  # the main text is not public yet
    await publisher(store).publish(annual.id)
    (main_text,) = await models.Disclosure.filter(release_id=annual.id, record_type="FILE")
    main_text_key = main_text.record_key
    # Republished once the text is public, the result links to it.
    result = await publisher(store).publish(final.id)
    assert result.version == 2
    (evaluation,) = await models.Disclosure.filter(release_id=final.id, record_type="EVALUATION")
    assert evaluation.data["reportFileKey"] == main_text_key


async def test_in_one_batch_a_result_links_to_its_main_text_from_the_first_version(
    db: str,
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    store = MemoryObjectStore()
    batch = await publisher(store).publish_many([r.id for r in built.releases])
    assert batch.failures == []
    final = release_of(built, ReleaseKind.FINAL_ACCOUNTS)
    (evaluation,) = await models.Disclosure.filter(release_id=final.id, record_type="EVALUATION")
    assert evaluation.data["reportFileKey"] is not None
    catalog = orjson.loads(await store.get("catalog.json"))
    assert [r["currentVersion"] for r in catalog["releases"]] == [1, 1, 1]


# --- DR-5: a record rides the release of its subject's year ----------------------------------


async def test_a_record_of_another_year_than_its_subject_is_refused_on_write(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    project = await models.Subject.get(code="PUBP0-0Q")
    target = await models.PerformanceTarget.get(subject_id=project.id)
    target.fiscal_year = dataset.YEAR - 1
    with pytest.raises(InvalidRecord, match=r"FY 2023.*FY 2024") as refused:
        await target.save()
    assert refused.value.rule == "fiscal-year-of-subject"
    target.fiscal_year = dataset.YEAR
    await target.save()  # the subject's own year is accepted
    assessment = await models.SelfAssessment.get(subject_id=project.id)
    assessment.fiscal_year = dataset.YEAR + 1
    with pytest.raises(InvalidRecord, match="fiscal-year-of-subject"):
        await assessment.save()
    assert built.releases


async def test_check_names_records_of_another_year_than_their_subject(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    project = await models.Subject.get(code="PUBP0-0Q")
    budget = release_of(built, ReleaseKind.BUDGET)
    final = release_of(built, ReleaseKind.FINAL_ACCOUNTS)
    # Written before the rule (update() bypasses save): one year off each way.
    target = await models.PerformanceTarget.get(subject_id=project.id)
    await models.PerformanceTarget.filter(id=target.id).update(fiscal_year=dataset.YEAR - 1)
    assessment = await models.SelfAssessment.get(subject_id=project.id)
    await models.SelfAssessment.filter(id=assessment.id).update(fiscal_year=dataset.YEAR + 1)

    budget_check = await publisher(MemoryObjectStore()).check(budget.id)
    problems = {(p.rule, p.record) for p in budget_check.problems}
    # …named under DR-5, and not published: the subject now lacks an approved target of its year
    assert problems == {("DR-5", f"target#{target.id}"), ("DR-7", f"subject#{project.id}")}
    assert not [r for r in budget_check.records if r.record_type == "TARGET"]
    dr5 = next(p for p in budget_check.problems if p.rule == "DR-5")
    assert "FY 2023" in dr5.message and "PUBP0-0Q" in dr5.message

    final_check = await publisher(MemoryObjectStore()).check(final.id)
    problems = {(p.rule, p.record) for p in final_check.problems}
    assert problems == {
        ("DR-5", f"self_assessment#{assessment.id}"),
        ("DR-4c", f"subject#{project.id}"),
    }


# --- DR-3 and DR-4(e) for the jurisdiction's year ---------------------------------------------


async def test_a_department_without_releases_leaves_its_subjects_undisclosed(db: str) -> None:
    plan = dataset.Plan(departments=2, projects=1, policy=True, without_releases=frozenset({1}))
    built = await dataset.build(plan)
    batch = await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
    assert batch.failures == []  # every release that exists is fine…
    found = await coverage.check_year(built.jurisdiction, dataset.YEAR)
    project = await models.Subject.get(code="PUBP1-0Q")
    overall = await models.Subject.get(code="PUBD1X-OV")
    # …but department 1's subjects are public nowhere: named once for each release they lack
    assert sorted((p.rule, p.record) for p in found.problems) == sorted(
        [("DR-3", f"subject#{s.id}") for s in (project, overall) for _ in range(2)]
    )
    assert all("PUBD1部门" in p.message for p in found.problems)
    assert (found.departments.due, found.departments.published, found.departments.missing) == (
        2,
        1,
        1,
    )
    assert (found.subjects.due, found.subjects.published, found.subjects.missing) == (5, 3, 2)


async def test_a_complete_year_has_no_coverage_problem(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=2, projects=1, policy=True))
    found = await coverage.check_year(built.jurisdiction, dataset.YEAR)
    # Before publication every due subject is missing from a release that is not published.
    assert {p.rule for p in found.problems} == {"DR-3"}
    assert all("is SCHEDULED" in p.message for p in found.problems)
    await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
    found = await coverage.check_year(built.jurisdiction, dataset.YEAR)
    assert found.problems == []
    assert (found.subjects.due, found.subjects.published) == (5, 5)


async def test_a_year_without_a_selected_policy_fails_dr4e(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))  # no policy
    await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
    found = await coverage.check_year(built.jurisdiction, dataset.YEAR)
    assert [(p.rule, p.record) for p in found.problems] == [
        ("DR-4e", f"jurisdiction#{built.jurisdiction.id}")
    ]
    # A filed policy does not count; an unfiled selected one does.
    await models.Subject.filter(code="PUBP0-0Q").update(
        kind=SubjectKind.POLICY, publication_selected=True
    )
    found = await coverage.check_year(built.jurisdiction, dataset.YEAR)
    assert "DR-4e" not in {p.rule for p in found.problems}


async def test_filed_departments_are_exempt_and_never_named(db: str) -> None:
    plan = dataset.Plan(
        departments=2,
        projects=1,
        policy=True,
        whole_department_filings={1: FilingReason.CLASSIFIED},
        without_releases=frozenset({1}),
    )
    built = await dataset.build(plan)
    await publisher(MemoryObjectStore()).publish_many([r.id for r in built.releases])
    found = await coverage.check_year(built.jurisdiction, dataset.YEAR)
    assert found.problems == []
    assert (found.departments.exempt, found.subjects.exempt) == (1, 2)


async def gongkai(
    db_url: str,
    store: Path,
    *args: str,
    env: dict[str, str] | None = None,
    module: str = "api.cli",
) -> Run:
    """The command line (or `module`, which runs it), a process of its own against the test
    database."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env={
            **os.environ,
            "GONGKAI_DATABASE_URL": db_url,
            "GONGKAI_STORE_URL": f"file://{store}",
            "COLUMNS": "200",
            **(env or {}),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return Run(process.returncode or 0, out.decode() + err.decode())


@dataclass
class Run:
    code: int
    output: str


async def test_check_year_and_publish_all_report_an_incomplete_year(
    db: str, tmp_path: Path
) -> None:
    plan = dataset.Plan(departments=2, projects=1, policy=True, without_releases=frozenset({1}))
    await dataset.build(plan)
    await models.Release.all().update(status=ReleaseStatus.SCHEDULED)
    published = await gongkai(db, tmp_path, "publish", "--all")
    assert published.code == 1, published.output
    assert "3 of 3 releases done" in published.output
    assert "DR-3" in published.output and "PUBP1-0Q" in published.output
    assert "obligation is incomplete" in published.output
    checked = await gongkai(db, tmp_path, "check", "--year", str(dataset.YEAR))
    assert checked.code == 1 and "PUBP1-0Q" in checked.output, checked.output
    assert "departments 1 of 2 published" in checked.output
    other = await gongkai(db, tmp_path, "check", "--year", str(dataset.YEAR), "--jurisdiction", "x")
    assert other.code == 1 and "no jurisdiction with code 'x'" in other.output
    # The year before has nothing due: nothing to report.
    assert (await gongkai(db, tmp_path, "check", "--year", str(dataset.YEAR - 1))).code == 0
    assert (await gongkai(db, tmp_path, "check")).code == 2


async def test_publish_all_of_a_complete_year_succeeds(db: str, tmp_path: Path) -> None:
    await dataset.build(dataset.Plan(departments=1, projects=1, policy=True))
    await models.Release.all().update(status=ReleaseStatus.SCHEDULED)
    published = await gongkai(db, tmp_path, "publish", "--all")
    assert published.code == 0, published.output
    assert "incomplete" not in published.output


# --- DR-12: the release state machine -------------------------------------------------------


async def test_a_draft_release_is_not_published(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = release_of(built, ReleaseKind.BUDGET)
    await models.Release.filter(id=budget.id).update(status=ReleaseStatus.DRAFT)
    store = MemoryObjectStore()
    with pytest.raises(NotScheduled, match="DRAFT"):
        await publisher(store).publish(budget.id)
    assert store.puts == 0
    batch = await publisher(store).publish_many([budget.id])
    assert [type(e) for _, e in batch.failures] == [NotScheduled]
    await models.Release.filter(id=budget.id).update(status=ReleaseStatus.SCHEDULED)
    assert (await publisher(store).publish(budget.id)).outcome == "published"


async def test_a_second_release_of_one_owner_kind_and_year_is_refused(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    department = await models.Department.get(code="PUBD0X")
    with pytest.raises(InvalidRecord, match="release-unique"):
        await records.create_release(
            built.jurisdiction,
            kind=ReleaseKind.FINANCE_ANNUAL,
            fiscal_year=dataset.YEAR + 1,
            approval_date=date(dataset.YEAR + 2, 3, 1),
        )
    with pytest.raises(InvalidRecord, match="release-unique"):
        await records.create_release(
            built.jurisdiction,
            kind=ReleaseKind.BUDGET,
            fiscal_year=dataset.YEAR,
            approval_date=date(dataset.YEAR, 2, 1),
            department=department,
        )
    # Another year, or another kind, is another release.
    await records.create_release(
        built.jurisdiction,
        kind=ReleaseKind.FINANCE_ANNUAL,
        fiscal_year=dataset.YEAR,
        approval_date=date(dataset.YEAR + 1, 3, 1),
    )
    await records.create_release(
        built.jurisdiction,
        kind=ReleaseKind.BUDGET,
        fiscal_year=dataset.YEAR + 1,
        approval_date=date(dataset.YEAR + 1, 2, 1),
        department=department,
    )
    assert await models.Release.filter(kind=ReleaseKind.FINANCE_ANNUAL).count() == 2
    # Saving an existing release again is not a duplicate of itself.
    annual = release_of(built, ReleaseKind.FINANCE_ANNUAL)
    await annual.save()


async def test_a_correction_needs_its_reason(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = release_of(built, ReleaseKind.BUDGET)
    store = MemoryObjectStore()
    await publisher(store).publish(budget.id)
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（更正）")
    writes = store.puts
    for note in (None, "", "   "):
        with pytest.raises(NoteRequired, match="reason"):
            await publisher(store).publish(budget.id, note=note)
    assert store.puts == writes  # refused before anything was written
    result = await publisher(store).publish(budget.id, note="更正项目名称")
    assert result.version == 2
    notice = await models.CorrectionNotice.get(release_id=budget.id)
    assert notice.note == "更正项目名称"


# --- DR-6: honest dates -------------------------------------------------------------------------


async def test_a_back_filled_date_lies_between_approval_and_now(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = release_of(built, ReleaseKind.BUDGET)  # approved 2024-01-25
    store = MemoryObjectStore()
    eve = datetime(2024, 1, 24, 23, 59, tzinfo=SHANGHAI)
    with pytest.raises(DateRefused, match="before its approval"):
        await publisher(store).publish(budget.id, as_of=eve)
    with pytest.raises(DateRefused, match="future"):
        await publisher(store).publish(budget.id, as_of=NOW + timedelta(seconds=1))
    batch = await publisher(store).publish_many([budget.id], as_of=lambda r: eve)
    assert [type(e) for _, e in batch.failures] == [DateRefused]
    assert store.puts == 0 and await models.AuditEntry.all().count() == 0
    # The day of approval itself, in Shanghai, is the earliest; now is the latest.
    day = datetime(2024, 1, 25, 0, 0, tzinfo=SHANGHAI)
    assert (await publisher(store).publish(budget.id, as_of=day)).version == 1
    final = release_of(built, ReleaseKind.FINAL_ACCOUNTS)
    assert (await publisher(store).publish(final.id, as_of=NOW)).version == 1
    audited = await models.AuditEntry.filter(action="backfillPublishedAt").order_by("id")
    assert [(a.record_id, a.after["publishedAt"]) for a in audited] == [
        (str(budget.id), day.isoformat()),
        (str(final.id), NOW.isoformat()),
    ]
    # A publish at the publisher's own time is no back-fill and leaves no such entry.
    await publisher(store).publish(release_of(built, ReleaseKind.FINANCE_ANNUAL).id)
    assert await models.AuditEntry.filter(action="backfillPublishedAt").count() == 2


async def test_back_filling_is_refused_in_production() -> None:
    for as_of in ("history", datetime(2024, 2, 1, tzinfo=SHANGHAI)):
        args = argparse.Namespace(as_of=as_of, release=1, due=False, all=False, note=None)
        assert await cli._publish(Settings(env="production"), args) == 2


# --- A refused publish writes nothing ----------------------------------------------------------


async def test_a_refused_publish_writes_nothing_not_even_pointers(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    await models.SelfAssessment.all().delete()  # DR-4c: the final accounts are refused
    final = release_of(built, ReleaseKind.FINAL_ACCOUNTS)
    store = MemoryObjectStore()
    with pytest.raises(ReleaseRefused):
        await publisher(store).publish(final.id)
    batch = await publisher(store).publish_many([final.id])
    assert len(batch.failures) == 1
    assert store.puts == 0 and await store.keys() == []
    assert await models.Disclosure.all().count() == 0
