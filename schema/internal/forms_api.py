"""The standard forms in the internal API: `importWorkbook` (a multipart upload of a .xlsx,
.xls or .ods workbook, recognised by its content like every upload) and `formWorkbook` (a
department's forms filled with its current records, or a blank template, as .xlsx)."""

from __future__ import annotations

import base64
import hashlib
import re
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from forms import from_storage
from forms.layouts import FormKind as Kind
from forms.read import read_workbook
from forms.write import workbook_bytes
from schema.internal import types as t
from schema.internal import visible, writes
from schema.internal.context import Info
from schema.internal.imports import import_forms
from schema.internal.permissions import Action, allows, requires
from storage import files
from storage.errors import InvalidRecord
from storage.files import XLSX


@strawberry.enum(description="The standard forms.")
class FormKind(Enum):
    TARGET = "TARGET"
    PROJECT_SELF_ASSESSMENT = "PROJECT_SELF_ASSESSMENT"
    DEPARTMENT_SELF_ASSESSMENT = "DEPARTMENT_SELF_ASSESSMENT"


@strawberry.type(description="One problem of an imported workbook, at its cell.")
class FormProblem:
    file: str
    sheet: str
    cell: str = strawberry.field(description="The cell, e.g. `D14`; empty for the whole file.")
    rule: str = strawberry.field(description="Identifier of the rule it breaks.")
    message: str = strawberry.field(description="What is wrong, in Chinese.")


@strawberry.type(description="What an import did: nothing is stored while there is a problem.")
class ImportReport:
    stored: bool = strawberry.field(description="The records were written (not a dry run).")
    forms: int = strawberry.field(description="Forms recognised in the workbook.")
    created: int
    updated: int
    unchanged: int
    problems: list[FormProblem]


@strawberry.type(description="A workbook to download (its bytes in base64).")
class FormWorkbook:
    filename: str
    media_type: str
    size: int
    sha256: str
    forms: int = strawberry.field(description="Filled forms in it (0 for a blank template).")
    content_base64: str


ImportResult = Annotated[
    ImportReport | t.InvalidInput | t.NotFound | t.Forbidden | t.Conflict,
    strawberry.union("ImportResult"),
]


def _workbook(data: bytes, filename: str, count: int) -> FormWorkbook:
    return FormWorkbook(
        filename=filename,
        media_type=XLSX.media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        forms=count,
        content_base64=base64.b64encode(data).decode(),
    )


@strawberry.type
class FormMutations:
    @strawberry.mutation(
        description="Import a workbook of 申报表 and 自评表 (.xlsx, .xls, .ods): every problem is "
        "reported at its cell and nothing is stored unless the whole workbook is valid; "
        "`check: true` only reports."
    )
    async def import_workbook(
        self,
        info: Info,
        file: Upload,
        fiscal_year: int | None = None,
        check: bool = False,
    ) -> ImportResult:
        ctx = info.context

        async def work() -> ImportReport:
            if not (
                allows(ctx.caller, Action.EDIT_TARGET)
                or allows(ctx.caller, Action.RECORD_ASSESSMENT)
            ):
                raise writes.forbidden(Action.EDIT_TARGET)
            if fiscal_year is not None and not 2000 <= fiscal_year <= 2100:
                raise InvalidRecord(
                    "fiscalYear", "fiscal-year-range", "a fiscal year lies in 2000–2100"
                )
            if not isinstance(file, files.Upload):
                raise InvalidRecord(
                    "file",
                    "multipart-upload",
                    "send the file as a part of a multipart request (GraphQL multipart spec)",
                )
            files.recognise_workbook(file.data)
            # The name only labels the problems (nothing is stored under it): kept as sent,
            # less any folder part and unprintable characters.
            base = re.split(r"[\\/]", file.filename or "")[-1]
            name = "".join(c for c in base if c.isprintable())[: files.MAX_FILENAME] or "workbook"
            result = read_workbook(file.data, name, fiscal_year)
            outcome = await import_forms(ctx, [result], check_only=check)
            return ImportReport(
                stored=outcome.stored,
                forms=outcome.forms,
                created=outcome.created,
                updated=outcome.updated,
                unchanged=outcome.unchanged,
                problems=[FormProblem(**vars(p)) for p in outcome.problems],
            )

        return await writes.guarded(work)


@strawberry.type
class FormQueries:
    @strawberry.field(
        description="A department's forms of a year filled with its current records (one sheet "
        "per form, .xlsx), to correct and import again.",
        permission_classes=[requires(Action.READ)],
    )
    async def form_workbook(
        self, info: Info, department_id: strawberry.ID, fiscal_year: int, form: FormKind
    ) -> FormWorkbook | None:
        ctx = info.context
        try:
            department, vis = await writes.department(ctx, department_id, Action.READ)
        except writes.Failed:
            return None
        subjects = (
            await visible.content_subjects(vis)
            .filter(department_id=department.id, fiscal_year=fiscal_year)
            .order_by("kind", "code")
        )
        kind = Kind(form.value)
        if kind is Kind.TARGET:
            found = await from_storage.target_forms(subjects)
        else:
            found = [f for f in await from_storage.assessment_forms(subjects) if f.kind is kind]
        data = workbook_bytes(found)
        return _workbook(
            data, f"{department.code}-{fiscal_year}-{kind.value.lower()}.xlsx", len(found)
        )

    @strawberry.field(
        description="A blank template of a form (.xlsx).",
        permission_classes=[requires(Action.READ)],
    )
    def blank_form(self, form: FormKind) -> FormWorkbook:
        kind = Kind(form.value)
        return _workbook(workbook_bytes([], blank=[kind]), f"blank-{kind.value.lower()}.xlsx", 0)
