"""Personal data planted in the demo, and the decisions taken on it (DR-10), so that `check`
shows the guard at work and the tests can prove that no planted datum is ever published.

- A self-assessment's deviation reason names the clerk who handled it with an ID number and a
  mobile number (as happens when a form is filled in by hand). The finance officer redacted
  the field (区分处理): it is published as a marked redaction with its legal basis.
- A finance key evaluation's main text ends with a contact page giving the evaluation firm's
  office landline. The guard finds it; the officer marked it as not personal data (an
  organisation's published number), with that reason.

Every planted datum is fictitious (a birth year of 1900, China Mobile's service number), and
`PLANTED` lists them for the leak scan. Runs after the generator, on the stored rows, picking
the first eligible record by id: the same seed plants the same data.
"""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader, PdfWriter
from reportlab.platypus import Paragraph

from api.demo import reports
from publishers import file_text, privacy
from publishers import records as build
from storage import models
from storage.enums import EvaluationKind, ReleaseKind, SubjectKind

#: A valid GB 11643 number (county 110101, born 1 January 1900) and China Mobile's own service
#: number: found by the detectors, and nobody's.
PLANTED_ID = "110101190001010014"
PLANTED_MOBILE = "13800138000"
PLANTED = (PLANTED_ID, PLANTED_MOBILE)
CLERK = f"（经办人：王某，身份证号{PLANTED_ID}，联系电话{PLANTED_MOBILE}）"
FIRM_LANDLINE = "021-6232 0000"
FIRM_REASON = "评价机构的办公电话，机构对外公开的联系方式，不属于个人信息"
ACTOR = "demo"


async def plant(jurisdiction_code: str) -> None:
    jurisdiction = await models.Jurisdiction.get(code=jurisdiction_code)
    await _deviation_reason(jurisdiction)
    await _report_contact_page(jurisdiction)


async def _filed(department_id: int, year: int) -> bool:
    return await models.SensitivityFiling.filter(
        department_id=department_id, fiscal_year=year
    ).exists()


async def _release(
    jurisdiction: models.Jurisdiction, kind: ReleaseKind, year: int, department_id: int | None
) -> models.Release:
    return await models.Release.get(
        jurisdiction_id=jurisdiction.id, kind=kind, fiscal_year=year, department_id=department_id
    )


async def _deviation_reason(jurisdiction: models.Jurisdiction) -> None:
    rows = models.SelfAssessmentRow.filter(
        assessment__subject__department__jurisdiction_id=jurisdiction.id,
        assessment__subject__kind=SubjectKind.DEPARTMENT_OVERALL,
        deviation_reason__not="",
    ).order_by("id")
    async for row in rows.prefetch_related("assessment__subject__department"):
        subject = row.assessment.subject
        department = subject.department
        owner = department.parent_id or department.id
        if await _filed(department.id, subject.fiscal_year) or await _filed(
            owner, subject.fiscal_year
        ):
            continue
        await models.SelfAssessmentRow.filter(id=row.id).update(
            deviation_reason=row.deviation_reason + CLERK
        )
        release = await _release(
            jurisdiction, ReleaseKind.FINAL_ACCOUNTS, subject.fiscal_year, owner
        )
        key = build.subject_key(
            jurisdiction.code, department.code, str(subject.kind), subject.code, subject.fiscal_year
        )
        await models.FieldRedaction.create(
            release_id=release.id,
            record_key=f"{key}/self-assessment",
            field=f"rows[{row.position}].deviationReason",
            basis=privacy.DEFAULT_BASIS,
            created_by=ACTOR,
        )
        return
    raise RuntimeError("the demo has no deviation reason to plant personal data in")


def _with_contact_page(data: bytes, title: str) -> bytes:
    """The report with a last page giving the firm's contact details (same bytes every time)."""
    page = reports.story_pdf(
        title,
        [
            Paragraph("附：联系方式", reports.HEADING),
            Paragraph(f"评价机构联系电话：{FIRM_LANDLINE}（工作日9:00—17:00）。", reports.BODY),
        ],
    )
    writer = PdfWriter()
    for source in (data, page):
        for sheet in PdfReader(io.BytesIO(source)).pages:
            writer.add_page(sheet)
    writer.add_metadata({"/Title": title, "/Producer": "gongkai demo"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def _report_contact_page(jurisdiction: models.Jurisdiction) -> None:
    last_year = (
        await models.Release.filter(jurisdiction_id=jurisdiction.id)
        .order_by("-fiscal_year")
        .first()
    )
    assert last_year is not None
    evaluations = models.Evaluation.filter(
        kind=EvaluationKind.FINANCE_KEY,
        subject__department__jurisdiction_id=jurisdiction.id,
        score__isnull=False,
        grade__isnull=False,
        fiscal_year__lt=last_year.fiscal_year,
    ).order_by("id")
    if not await evaluations.exists():
        # A demo of one year: its evaluations are published with the next year's finance
        # annual, which it does not have, so no report of it is public to plant in.
        return
    async for evaluation in evaluations.prefetch_related("subject__department"):
        subject = evaluation.subject
        department = subject.department
        owner = department.parent_id or department.id
        if await _filed(department.id, subject.fiscal_year) or await _filed(
            owner, subject.fiscal_year
        ):
            continue
        report = await models.EvaluationReport.get_or_none(evaluation_id=evaluation.id)
        if report is None:
            continue
        stored = await models.StoredFile.get(id=report.main_text_id)
        content = await models.FileContent.get(sha256=stored.sha256)
        data = _with_contact_page(bytes(content.data), stored.title)
        sha = hashlib.sha256(data).hexdigest()
        await models.FileContent.create(sha256=sha, data=data)
        await models.StoredFile.filter(id=stored.id).update(sha256=sha, size=len(data))
        stored.sha256, stored.size = sha, len(data)
        release = await _release(
            jurisdiction, ReleaseKind.FINANCE_ANNUAL, evaluation.fiscal_year + 1, None
        )
        location = f"file#{stored.id}"
        pages = file_text.pages(data, stored.content_type)
        for finding in privacy.file_findings(location, pages, ()):
            if finding.match.value != FIRM_LANDLINE.replace(" ", ""):
                continue  # anything else the guard finds stays open, for `check` to show
            await models.PersonalDataException.create(
                release_id=release.id,
                finding=finding.id,
                location=location,
                field=finding.field,
                kind=finding.match.kind.value,
                masked=finding.match.masked,
                reason=FIRM_REASON,
                created_by=ACTOR,
            )
        return
    raise RuntimeError("the demo has no finance key report to add a contact page to")
