"""The text of a report or document file, page by page, for the personal-data guard (DR-10).

Pure: bytes in, text out. A PDF's text layer by pypdf (pure Python, maintained, already how the
tests read the demo's PDFs; a scanned page without a text layer yields no text, which the guard
cannot see into — the department's upload is then its responsibility, see docs/rules.md); a
DOCX's paragraphs and table cells by python-docx; an XLSX's cells by python-calamine (a binding
of the Rust calamine reader: fast, and no formulas are evaluated).

A file that cannot be read is not skipped: `FileUnreadable` makes it a problem of the release,
because a file the guard cannot read is a file it cannot vouch for.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from storage.files import DOCX, PDF, XLSX

#: pypdf reports recoverable oddities of a file through logging; they say nothing to an officer.
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class Page:
    """One part of a file's text: `where` is "page 3" (PDF), "sheet 收支表" (XLSX) or
    "document" (DOCX, which has no fixed pages)."""

    where: str
    text: str


class FileUnreadable(ValueError):
    """The file's text could not be extracted."""


def pages(data: bytes, content_type: str) -> list[Page]:
    """The text of a PDF, DOCX or XLSX file by page, sheet or document."""
    try:
        if content_type == PDF.media_type:
            return _pdf(data)
        if content_type == DOCX.media_type:
            return _docx(data)
        if content_type == XLSX.media_type:
            return _xlsx(data)
    except Exception as error:  # every reader has its own errors; all mean "unreadable"
        raise FileUnreadable(f"{type(error).__name__}: {error}") from None
    raise FileUnreadable(f"no text reader for {content_type}")


def _pdf(data: bytes) -> list[Page]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [
        Page(f"page {number}", page.extract_text() or "")
        for number, page in enumerate(reader.pages, start=1)
    ]


def _docx(data: bytes) -> list[Page]:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        for block in (section.header, section.footer):
            parts.extend(p.text for p in block.paragraphs)
    return [Page("document", "\n".join(parts))]


def _xlsx(data: bytes) -> list[Page]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    found = []
    for name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(name).to_python()
        text = "\n".join("\t".join(_cell(c) for c in row) for row in rows)
        found.append(Page(f"sheet {name}", text))
    return found


def _cell(value: object) -> str:
    # A number typed into a cell comes back as a float: 13812345678.0 is still a phone number.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
