"""The personal-data gate (DR-10) on a small data set: a finding is a check problem that refuses
the publish and writes nothing; the officer's exception, a redaction or the department's
correction clears it; a report file is cleared by a redacted replacement; registered terms are
searched; `check_published` finds what is public already."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from publishers import file_text, privacy
from publishers import personal_data as pd
from publishers.releases import ReleaseRefused
from storage import models
from storage.objects.memory import MemoryObjectStore
from tests.internal import samples
from tests.publishers import dataset
from tests.publishers.test_releases import decoded, everything, publisher

MOBILE = "13912345678"
#: written in full width with separators, as a hand-typed form may have it
MOBILE_WRITTEN = "１３９－１２３４－５６７８"
ID = "11010519491231002X"


async def _budget_with_a_leak() -> tuple[models.Release, models.PerformanceTarget]:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    target = await models.PerformanceTarget.get(overall_goal="PUBP0-0目标")
    target.overall_goal = f"PUBP0-0目标，联系人电话{MOBILE_WRITTEN}"
    await target.save()
    return built.releases[0], target


def _text(objects: dict[str, bytes]) -> str:
    return "\n".join(key + decoded(data) for key, data in objects.items())


async def test_a_finding_is_a_problem_and_refuses_the_publish(db: str) -> None:
    release, _ = await _budget_with_a_leak()
    store = MemoryObjectStore()
    p = publisher(store)
    selection = await p.check(release.id)
    (problem,) = [x for x in selection.problems if x.rule == "DR-10"]
    (finding,) = selection.findings
    assert "/target/" in problem.record
    assert problem.message.startswith("overallGoal: 手机号码 139****5678 (finding ")
    assert MOBILE not in problem.message and finding.id in problem.message
    with pytest.raises(ReleaseRefused, match="DR-10"):
        await p.publish(release.id)
    assert store.puts == 0
    assert await models.Disclosure.all().count() == 0


async def test_the_officers_exception_lets_exactly_that_finding_through(db: str) -> None:
    release, _ = await _budget_with_a_leak()
    store = MemoryObjectStore()
    p = publisher(store)
    (finding,) = (await p.check(release.id)).findings
    # Another finding's id clears nothing.
    await models.PersonalDataException.create(
        release_id=release.id,
        finding="0" * 16,
        location=finding.location,
        field=finding.field,
        kind=finding.match.kind.value,
        masked=finding.match.masked,
        reason="—",
        created_by="officer",
    )
    p = publisher(store)  # a run reads the decisions once: a new run sees new ones
    assert (await p.check(release.id)).findings == [finding]
    await models.PersonalDataException.create(
        release_id=release.id,
        finding=finding.id,
        location=finding.location,
        field=finding.field,
        kind=finding.match.kind.value,
        masked=finding.match.masked,
        reason="单位的公开服务电话",
        created_by="officer",
    )
    p = publisher(store)
    assert not (await p.check(release.id)).problems
    result = await p.publish(release.id)
    assert result.outcome == "published"
    assert MOBILE_WRITTEN in _text(await everything(store))


async def test_the_departments_correction_clears_the_finding(db: str) -> None:
    release, target = await _budget_with_a_leak()
    store = MemoryObjectStore()
    p = publisher(store)
    assert (await p.check(release.id)).findings
    target.overall_goal = "PUBP0-0目标，联系人电话见部门网站"
    await target.save()
    p = publisher(store)  # a run reads the working rows once: a new one sees the correction
    assert not (await p.check(release.id)).problems
    await p.publish(release.id)
    assert "１３９" not in _text(await everything(store))


async def test_a_redacted_field_is_published_as_a_marked_redaction(db: str) -> None:
    release, _ = await _budget_with_a_leak()
    store = MemoryObjectStore()
    p = publisher(store)
    (finding,) = (await p.check(release.id)).findings
    basis = "《政府信息公开条例》第十五条"
    await models.FieldRedaction.create(
        release_id=release.id,
        record_key=finding.location,
        field=finding.field,
        basis=basis,
        created_by="officer",
    )
    p = publisher(store)
    selection = await p.check(release.id)
    assert not selection.problems  # DR-3 too: the record itself is still published
    await p.publish(release.id)
    text = _text(await everything(store))
    assert MOBILE_WRITTEN not in text and MOBILE not in text
    (row,) = await models.Disclosure.filter(record_key=finding.location).values_list(
        "data", flat=True
    )
    assert row["overallGoal"] == pd.redacted_marker(basis)
    assert row["redactions"] == [
        {"field": "overallGoal", "redacted": True, "redactionBasis": basis}
    ]
    assert row["indicators"]  # the rest of the record stays public


async def test_a_redaction_of_a_field_that_is_not_there_changes_nothing(db: str) -> None:
    release, _ = await _budget_with_a_leak()
    p = publisher(MemoryObjectStore())
    (finding,) = (await p.check(release.id)).findings
    for field in ("overallGoalX", "indicators[99].name", "fiscalYear"):
        await models.FieldRedaction.create(
            release_id=release.id,
            record_key=finding.location,
            field=field,
            basis="x",
            created_by="officer",
        )
    p = publisher(MemoryObjectStore())
    assert (await p.check(release.id)).findings == [finding]


async def test_a_registered_term_is_a_finding(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    budget = built.releases[0]
    p = publisher(MemoryObjectStore())
    assert not (await p.check(budget.id)).problems
    await models.ProtectedTerm.create(release_id=budget.id, term="PUBP0-0目标", created_by="e")
    p = publisher(MemoryObjectStore())
    (finding,) = (await p.check(budget.id)).findings
    assert finding.match.kind is pd.Kind.PROTECTED_TERM
    assert finding.match.masked == "P" + "*" * 8
    # Registered for another release: not searched here.
    await models.ProtectedTerm.filter(release_id=budget.id).update(release_id=built.releases[1].id)
    p = publisher(MemoryObjectStore())
    assert not (await p.check(budget.id)).findings


async def _replace_main_text(data: bytes) -> models.StoredFile:
    stored = await models.StoredFile.filter(title="PUBP0-0评价报告").first()
    assert stored is not None
    sha = hashlib.sha256(data).hexdigest()
    await models.FileContent.get_or_create(sha256=sha, defaults={"data": data})
    stored.sha256, stored.size = sha, len(data)
    await stored.save()
    return stored


async def test_a_report_file_is_refused_until_a_redacted_one_replaces_it(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    annual = built.releases[-1]
    store = MemoryObjectStore()
    p = publisher(store)
    await p.publish_many([r.id for r in built.releases[:-1]])
    stored = await _replace_main_text(samples.pdf("PUBP0-0评价报告", f"项目联系人身份证{ID}"))
    p = publisher(store)
    (problem,) = (await p.check(annual.id)).problems
    assert (problem.rule, problem.record) == ("DR-10", f"file#{stored.id}")
    assert problem.message.startswith("page 1: 居民身份证号码 1101**********002X")
    with pytest.raises(ReleaseRefused):
        await p.publish(annual.id)
    await _replace_main_text(samples.pdf("PUBP0-0评价报告", "项目联系人身份证（已删除）"))
    p = publisher(store)
    assert not (await p.check(annual.id)).problems
    assert (await p.publish(annual.id)).outcome == "published"


async def test_an_unreadable_file_is_a_problem(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    stored = await _replace_main_text(b"%PDF-1.4 truncated")
    (problem,) = (await publisher(MemoryObjectStore()).check(built.releases[-1].id)).problems
    assert (problem.rule, problem.record) == ("DR-10", f"file#{stored.id}")
    assert "cannot be read" in problem.message


async def test_check_published_finds_a_term_registered_after_publication(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for r in built.releases])
    assert await privacy.check_published() == []
    budget = built.releases[0]
    await models.ProtectedTerm.create(release_id=budget.id, term="PUBP0-0目标", created_by="e")
    found = await privacy.check_published()
    assert [(rid, p.rule) for rid, p in found] == [(budget.id, "DR-10")]
    assert await privacy.check_published([built.releases[1].id]) == []
    # A term that appears only in a published file's text is found there too.
    await models.ProtectedTerm.create(
        release_id=built.releases[-1].id, term="PUBP0-0评价报告", created_by="e"
    )
    records = {p.record.split("#")[0] for _, p in await privacy.check_published()}
    assert "file" in records


def test_docx_and_xlsx_text_is_searched() -> None:
    for data, content_type in (
        (samples.docx("正文", f"联系电话{MOBILE}"), file_text.DOCX.media_type),
        (samples.xlsx("表头", f"电话{MOBILE}"), file_text.XLSX.media_type),
    ):
        pages = file_text.pages(data, content_type)
        (finding,) = privacy.file_findings("file#1", pages, ())
        assert finding.match.value == MOBILE
    with pytest.raises(file_text.FileUnreadable):
        file_text.pages(b"PK\x03\x04 broken", file_text.XLSX.media_type)
    with pytest.raises(file_text.FileUnreadable):
        file_text.pages(b"text", "text/plain")


def test_redaction_paths_reach_nested_fields() -> None:
    from publishers.render import Record
    from storage.enums import RecordType

    record = Record(
        RecordType.SELF_ASSESSMENT,
        "k",
        2024,
        None,
        "n",
        {"key": "k", "rows": [{"deviationReason": "a"}, {"deviationReason": "b"}]},
    )
    out = privacy.redact(record, {("k", "rows[1].deviationReason"): "basis"})
    assert out.data["rows"][0]["deviationReason"] == "a"
    assert out.data["rows"][1]["deviationReason"] == pd.redacted_marker("basis")
    assert record.data["rows"][1]["deviationReason"] == "b"  # the built record is not changed
    assert privacy.redact(record, {("other", "rows[1].deviationReason"): "b"}) is record
    assert privacy.valid_field(record.data, "rows[0].deviationReason")
    assert not privacy.valid_field(record.data, "key")  # machine fields are not text
    assert orjson.dumps(out.data)


async def test_a_files_text_is_extracted_once_and_kept_by_its_digest(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    stored = await _replace_main_text(samples.pdf("PUBP0-0评价报告", f"身份证{ID}"))
    first = await privacy.FileTexts().pages(stored)
    kept = await models.FileText.get(sha256=stored.sha256)
    assert kept.pages == [[p.where, p.text] for p in first] and kept.error is None
    # A later run reads the kept text and never the bytes again.
    await models.FileContent.filter(sha256=stored.sha256).update(data=b"%PDF-1.4 gone")
    assert await privacy.FileTexts().pages(stored) == first
    (problem,) = (await publisher(MemoryObjectStore()).check(built.releases[-1].id)).problems
    assert "1101**********002X" in problem.message
    # An unreadable file is kept as such, with the reason.
    broken = await _replace_main_text(b"%PDF-1.4 truncated")
    with pytest.raises(file_text.FileUnreadable):
        await privacy.FileTexts().pages(broken)
    assert (await models.FileText.get(sha256=broken.sha256)).pages is None
    with pytest.raises(file_text.FileUnreadable):
        await privacy.FileTexts().pages(broken)
