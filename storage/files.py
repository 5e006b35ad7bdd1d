"""Uploaded report and document files: recognised by their content, kept in the database.

Only PDF, DOCX and XLSX are accepted, and the bytes decide which one a file is — never its
name or the content type a client declared. A PDF starts with ``%PDF-``; DOCX and XLSX are zip
packages (Office Open XML) told apart by their main part, ``word/document.xml`` or
``xl/workbook.xml``, next to ``[Content_Types].xml``. A renamed zip, a text file called
``report.pdf`` or a legacy ``.doc`` is refused with `InvalidRecord` naming the field and rule.

puremagic (the house library for file types) is not used here: it reports every zip as
"DOCX, PPTX or XLSX" with the same confidence, which is exactly the distinction needed.

Bytes go to `FileContent` keyed by their sha256 (identical uploads share one row), metadata to
`StoredFile`; working files never reach the public bucket — the publisher copies disclosed ones.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass

from storage import models
from storage.enums import DocKind
from storage.errors import InvalidRecord

#: StoredFile.filename holds at most this many characters
MAX_FILENAME = 200
MAX_TITLE = 300


@dataclass(frozen=True)
class FileType:
    media_type: str
    extension: str


PDF = FileType("application/pdf", "pdf")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
#: media type → file name extension, for what was accepted (the publisher names objects by it)
EXTENSIONS = {t.media_type: t.extension for t in (PDF, DOCX, XLSX)}
_OOXML_MAIN_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX}
ACCEPTED = "PDF, DOCX or XLSX"
#: the documents a department (or unit) has for a fiscal year, carried by its BUDGET or
#: FINAL_ACCOUNTS release; report files belong to an evaluation instead
DEPARTMENT_DOCUMENTS = frozenset(
    {
        DocKind.BUDGET_DOC,
        DocKind.TARGET_TABLE,
        DocKind.FINAL_ACCOUNTS_DOC,
        DocKind.SELF_ASSESSMENT_FORM,
    }
)


def recognise(data: bytes, field: str = "file") -> FileType:
    """The type of a file by its content; refuses anything but PDF, DOCX and XLSX."""
    if not data:
        raise InvalidRecord(field, "file-not-empty", "the file is empty")
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office_package(data, field)
    raise InvalidRecord(
        field, "file-type", f"the content is not a {ACCEPTED} file, whatever its name says"
    )


def _office_package(data: bytes, field: str) -> FileType:
    # Only the central directory is read: no member is decompressed, so a zip bomb costs nothing.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, ValueError):
        raise InvalidRecord(field, "file-type", "the file is a damaged zip archive") from None
    found = [kind for part, kind in _OOXML_MAIN_PARTS.items() if part in names]
    if "[Content_Types].xml" not in names or len(found) != 1:
        raise InvalidRecord(
            field,
            "file-type",
            f"the zip archive is not a DOCX or XLSX document (accepted: {ACCEPTED})",
        )
    return found[0]


XLS = FileType("application/vnd.ms-excel", "xls")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods")
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
WORKBOOKS = "XLSX, XLS or ODS"


def recognise_workbook(data: bytes, field: str = "file") -> FileType:
    """A spreadsheet by its content: XLSX (Office Open XML), XLS (an OLE2 compound file, which
    the reader then opens or refuses) or ODS (OpenDocument: a zip whose ``mimetype`` member
    names it). Anything else — a PDF, a DOCX, a CSV called .xlsx — is refused."""
    if not data:
        raise InvalidRecord(field, "file-not-empty", "the file is empty")
    if data.startswith(_OLE2):
        return XLS
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                names = set(package.namelist())
                small = "mimetype" in names and package.getinfo("mimetype").file_size < 100
                if small and package.read("mimetype").strip() == ODS.media_type.encode():
                    return ODS
        except (zipfile.BadZipFile, ValueError):
            raise InvalidRecord(field, "file-type", "the file is a damaged zip archive") from None
        if _office_package(data, field) is XLSX:
            return XLSX
    raise InvalidRecord(
        field, "file-type", f"the content is not a {WORKBOOKS} workbook, whatever its name says"
    )


def clean_filename(name: str | None, kind: FileType, field: str = "file") -> str:
    """The client's file name without any folder part or control characters, ending in the
    extension its content earns: a name that claims another type is refused (a PDF called
    ``budget.xlsx`` would mislead whoever downloads it), a name without one gets it added."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable()).strip() or "file"
    stem, dot, extension = base.rpartition(".")
    if dot and stem and extension.lower() in {PDF.extension, DOCX.extension, XLSX.extension}:
        if extension.lower() != kind.extension:
            raise InvalidRecord(
                field,
                "file-extension-matches-content",
                f"the name ends in .{extension} but the content is a {kind.extension.upper()} file",
            )
        base = stem
    suffix = f".{kind.extension}"
    return base[: MAX_FILENAME - len(suffix)] + suffix


@dataclass(frozen=True)
class Upload:
    """What a caller uploaded, read into memory (the HTTP layer bounds its size)."""

    filename: str | None
    data: bytes


async def store(
    upload: Upload,
    *,
    title: str,
    doc_kind: DocKind,
    jurisdiction_id: int,
    department_id: int | None,
    fiscal_year: int,
    uploaded_by: str,
    field: str = "file",
    title_field: str = "title",
) -> models.StoredFile:
    """Check and store an upload; call it inside the caller's transaction. `field` and
    `title_field` are the input paths errors name."""
    if not title.strip():
        raise InvalidRecord(title_field, "required", "give the document a title")
    if len(title.strip()) > MAX_TITLE:
        raise InvalidRecord(
            title_field, "max-length", f"a title has at most {MAX_TITLE} characters"
        )
    kind = recognise(upload.data, field)
    filename = clean_filename(upload.filename, kind, field)
    sha256 = hashlib.sha256(upload.data).hexdigest()
    # Identical bytes share one row; ignoring the conflict keeps two concurrent uploads of the
    # same file from failing each other.
    await models.FileContent.bulk_create(
        [models.FileContent(sha256=sha256, data=upload.data)], ignore_conflicts=True
    )
    return await models.StoredFile.create(
        sha256=sha256,
        size=len(upload.data),
        content_type=kind.media_type,
        filename=filename,
        title=title.strip(),
        doc_kind=doc_kind,
        jurisdiction_id=jurisdiction_id,
        department_id=department_id,
        fiscal_year=fiscal_year,
        uploaded_by=uploaded_by[:100],
    )
