"""Small files for upload tests, built in memory: what counts is the content, not the name."""

from __future__ import annotations

import io
import zipfile

CONTENT_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def pdf(text: str = "绩效评价报告") -> bytes:
    body = f"BT /F1 12 Tf ({text.encode('unicode_escape').decode()}) Tj ET"
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
        + f"2 0 obj\n<< /Length {len(body)} >>\nstream\n{body}\nendstream\nendobj\n".encode()
        + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


#: every member's timestamp: `writestr` with a bare name would stamp the current time, so two
#: calls a second apart would make different bytes (and different sha256 digests)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _package(parts: dict[str, str]) -> bytes:
    """A zip of these members, the same bytes whenever it is made."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts.items():
            member = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(member, text)
    return buffer.getvalue()


def docx() -> bytes:
    return _package({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w:document/>"})


def xlsx() -> bytes:
    return _package({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": "<workbook/>"})


def plain_zip() -> bytes:
    """A zip archive that is no Office document: renaming it .docx must not help."""
    return _package({"readme.txt": "not a document"})


def text() -> bytes:
    return "这不是PDF，只是文本。\n".encode()


def legacy_doc() -> bytes:
    """The OLE2 signature of a pre-2007 .doc / .xls: not accepted."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504
