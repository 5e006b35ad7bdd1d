"""Small files for upload tests, built in memory: what counts is the content, not the name."""

from __future__ import annotations

import io
import zipfile

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

_CJK_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))

CONTENT_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def pdf(*lines: str) -> bytes:
    """A one-page PDF with these lines in its text layer (reportlab, with a CJK font), the same
    bytes whenever it is made (``invariant``)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.setFont(_CJK_FONT, 11)
    for number, line in enumerate(lines or ("绩效评价报告",)):
        page.drawString(72, 770 - 16 * number, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


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


_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE = "application/vnd.openxmlformats-officedocument"


def _types(main: str, part: str, extra: str = "") -> str:
    return (
        f'<?xml version="1.0"?><Types xmlns="{_CT}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main}"/>{extra}</Types>'
    )


def _root_rels(part: str) -> str:
    return (
        f'<?xml version="1.0"?><Relationships xmlns="{_PKG_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="{part}"/></Relationships>'
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx(*paragraphs: str) -> bytes:
    """A real (minimal) Word document with these paragraphs."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{_escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    return _package(
        {
            "[Content_Types].xml": _types(
                f"{_OFFICE}.wordprocessingml.document.main+xml", "word/document.xml"
            ),
            "_rels/.rels": _root_rels("word/document.xml"),
            "word/document.xml": f'<?xml version="1.0"?><w:document xmlns:w="{ns}">'
            f"<w:body>{body}</w:body></w:document>",
        }
    )


def xlsx(*cells: str) -> bytes:
    """A real (minimal) workbook with one sheet, these strings down column A."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{_escape(c)}</t></is></c></row>'
        for n, c in enumerate(cells, start=1)
    )
    sheet_type = f"{_OFFICE}.spreadsheetml.worksheet+xml"
    return _package(
        {
            "[Content_Types].xml": _types(
                f"{_OFFICE}.spreadsheetml.sheet.main+xml",
                "xl/workbook.xml",
                f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sheet_type}"/>',
            ),
            "_rels/.rels": _root_rels("xl/workbook.xml"),
            "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}" '
            f'xmlns:r="{_RELS}"><sheets><sheet name="表1" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>",
            "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships '
            f'xmlns="{_PKG_RELS}"><Relationship Id="rId1" Type="{_RELS}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
            "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{ns}">'
            f"<sheetData>{rows}</sheetData></worksheet>",
        }
    )


def plain_zip() -> bytes:
    """A zip archive that is no Office document: renaming it .docx must not help."""
    return _package({"readme.txt": "not a document"})


def text() -> bytes:
    return "这不是PDF，只是文本。\n".encode()


def legacy_doc() -> bytes:
    """The OLE2 signature of a pre-2007 .doc / .xls: not accepted."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504
