"""Uploads of report and document files (GraphQL multipart requests, see api/internal_http.py).

Files are recognised by their content (`storage.files`: PDF, DOCX, XLSX), their sha256 is
recorded, and their bytes stay in the database: working files never sit in the public bucket,
the publisher copies the disclosed ones. What the models let a file belong to:

- a department's (or unit's) document of a fiscal year — budget, target table, final accounts,
  self-assessment form — which the department's BUDGET or FINAL_ACCOUNTS release carries;
- an evaluation's report: its main text (正文) and its internal annexes.

The audit entry records the file's metadata (sha256, size, media type, name), never its bytes.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from tortoise.transactions import in_transaction

from schema.internal import audit, ids, writes
from schema.internal import types as t
from schema.internal.context import Info, InternalContext
from schema.internal.input_rules import argument
from schema.internal.inputs import DocumentInput
from schema.internal.permissions import Action
from schema.internal.writes import STUB_MESSAGE, Snapshot, need
from storage import enums, files, models
from storage.errors import InvalidRecord


def _upload(value: Any, field: str) -> files.Upload:
    # The Upload scalar accepts any JSON value; only the HTTP layer's multipart parsing makes
    # a real file out of one.
    if not isinstance(value, files.Upload):
        raise InvalidRecord(
            field,
            "multipart-upload",
            "send the file as a part of a multipart request (GraphQL multipart request spec)",
        )
    return value


@strawberry.type
class UploadMutations:
    @strawberry.mutation(
        description="Upload a department's budget or final-accounts document (PDF, DOCX, XLSX)."
    )
    async def upload_document(self, info: Info, input: DocumentInput, file: Upload) -> t.FileResult:
        ctx = info.context

        async def work() -> t.FileSuccess:
            need(ctx, Action.UPLOAD_DOCUMENT)
            department, vis = await writes.department(
                ctx, input.department_id, Action.UPLOAD_DOCUMENT
            )
            if input.doc_kind not in files.DEPARTMENT_DOCUMENTS:
                allowed = ", ".join(sorted(k.value for k in files.DEPARTMENT_DOCUMENTS))
                raise InvalidRecord(
                    "input.docKind",
                    "doc-kind-of-department",
                    f"a department uploads {allowed}; reports go with their evaluation",
                )
            if not 2000 <= input.fiscal_year <= 2100:
                raise InvalidRecord(
                    "input.fiscalYear", "fiscal-year-range", "a fiscal year lies in 2000–2100"
                )
            if vis.would_be_stub(input.fiscal_year, department.id):
                raise InvalidRecord("input.departmentId", "classified-stub-only", STUB_MESSAGE)
            upload = _upload(file, "file")
            async with in_transaction():
                row = await files.store(
                    upload,
                    title=input.title,
                    doc_kind=input.doc_kind,
                    jurisdiction_id=department.jurisdiction_id,
                    department_id=department.id,
                    fiscal_year=input.fiscal_year,
                    uploaded_by=ctx.caller.subject,
                    title_field="input.title",
                )
                await writes.created(ctx, "uploadDocument", row)
            return t.FileSuccess(file=t.StoredFile.from_model(row))

        return await writes.guarded(work)

    @strawberry.mutation(
        description="Upload an evaluation's report main text (正文). Leave `version` out to "
        "create the report; pass the report's version to replace its main text."
    )
    async def upload_evaluation_report(
        self,
        info: Info,
        evaluation_id: strawberry.ID,
        title: Annotated[str, argument(files.MAX_TITLE)],
        main_text: Upload,
        version: int | None = None,
    ) -> t.EvaluationReportResult:
        ctx = info.context

        async def work() -> t.EvaluationReportSuccess:
            need(ctx, Action.RECORD_EVALUATION)
            evaluation, subject = await writes.subject_content(
                ctx, models.Evaluation, evaluation_id, Action.RECORD_EVALUATION, "evaluation"
            )
            upload = _upload(main_text, "mainText")
            report = await models.EvaluationReport.get_or_none(evaluation_id=evaluation.id)
            _expect_report_version(report, version)
            async with in_transaction():
                stored = await _store_report_file(
                    ctx,
                    upload,
                    title,
                    evaluation,
                    subject,
                    enums.DocKind.EVALUATION_REPORT_MAIN_TEXT,
                )
                fresh = await _save_main_text(ctx, report, version, evaluation, title, stored)
            return await _report_success(fresh)

        return await writes.guarded(work)

    @strawberry.mutation(description="Add an internal annex to an evaluation's report.")
    async def add_evaluation_report_annex(
        self,
        info: Info,
        report_id: strawberry.ID,
        version: int,
        title: Annotated[str, argument(files.MAX_TITLE)],
        file: Upload,
    ) -> t.EvaluationReportResult:
        ctx = info.context

        async def work() -> t.EvaluationReportSuccess:
            need(ctx, Action.RECORD_EVALUATION)
            report, evaluation, subject = await _report(ctx, report_id)
            upload = _upload(file, "file")
            async with in_transaction():
                stored = await _store_report_file(
                    ctx, upload, title, evaluation, subject, enums.DocKind.EVALUATION_REPORT_ANNEX
                )

                async def link() -> None:
                    await report.annexes.add(stored)

                fresh = await writes.update_versioned(
                    ctx,
                    report,
                    version,
                    {},
                    "addEvaluationReportAnnex",
                    also=link,
                    detail=_report_files,
                )
            return await _report_success(fresh)

        return await writes.guarded(work)


async def _report(
    ctx: InternalContext, id: strawberry.ID
) -> tuple[models.EvaluationReport, models.Evaluation, models.Subject]:
    """A report, found when its evaluation is (same visibility, same scope)."""
    report = await writes.by_global_id(models.EvaluationReport, id)
    if report is None:
        raise writes.not_found("evaluation report", id)
    try:
        evaluation, subject = await writes.subject_content(
            ctx,
            models.Evaluation,
            ids.global_id("Evaluation", report.evaluation_id),
            Action.RECORD_EVALUATION,
            "evaluation",
        )
    except writes.Failed as failure:
        if isinstance(failure.result, t.NotFound):
            raise writes.not_found("evaluation report", id) from None
        raise
    return report, evaluation, subject


def _expect_report_version(report: models.EvaluationReport | None, version: int | None) -> None:
    """Creating needs no report yet, replacing names the version it is based on."""
    if report is None and version is not None:
        raise InvalidRecord(
            "version", "no-report-yet", "the evaluation has no report yet: leave `version` out"
        )
    if report is not None and version is None:
        raise writes.Failed(
            t.Conflict(
                message="the evaluation has a report already: pass its version to replace "
                "the main text",
                current_version=report.version,
            )
        )


async def _store_report_file(
    ctx: InternalContext,
    upload: files.Upload,
    title: str,
    evaluation: models.Evaluation,
    subject: models.Subject,
    kind: enums.DocKind,
) -> models.StoredFile:
    department = await models.Department.get(id=subject.department_id)
    # A report documents the evaluation's year of spending: that is where it rides (D9).
    return await files.store(
        upload,
        title=title,
        doc_kind=kind,
        jurisdiction_id=department.jurisdiction_id,
        department_id=department.id,
        fiscal_year=evaluation.fiscal_year,
        uploaded_by=ctx.caller.subject,
    )


async def _save_main_text(
    ctx: InternalContext,
    report: models.EvaluationReport | None,
    version: int | None,
    evaluation: models.Evaluation,
    title: str,
    stored: models.StoredFile,
) -> models.EvaluationReport:
    action = "uploadEvaluationReport"
    if report is None or version is None:
        created = await models.EvaluationReport.create(
            evaluation=evaluation, title=title.strip(), main_text=stored
        )
        await writes.created(ctx, action, created, extra=await _report_files(created))
        return created
    changes = {"title": title.strip(), "main_text_id": stored.id}
    return await writes.update_versioned(
        ctx, report, version, changes, action, detail=_report_files
    )


async def _report_files(report: models.EvaluationReport) -> Snapshot:
    """The report's files for its audit entry: metadata and sha256, never the bytes."""
    main = await models.StoredFile.get(id=report.main_text_id)
    annexes = await report.annexes.all().order_by("id")
    return {
        "mainText": audit.snapshot(main),
        "annexes": [audit.snapshot(a) for a in annexes],
    }


async def _report_success(report: models.EvaluationReport) -> t.EvaluationReportSuccess:
    main = await models.StoredFile.get(id=report.main_text_id)
    annexes = list(await report.annexes.all())
    return t.EvaluationReportSuccess(report=t.EvaluationReport.from_model(report, main, annexes))
