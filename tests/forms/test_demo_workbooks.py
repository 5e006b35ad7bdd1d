"""`gongkai demo`'s sample workbooks: the good ones import without a change, the one with
mistakes is refused cell by cell, and the .xls (an OLE2 file) reads like the .xlsx it was
saved from, and imports without a change."""

from __future__ import annotations

from pathlib import Path

from api.demo.workbooks import write_workbooks
from forms.read import read_workbook
from storage import database, models
from tests.conftest import Databases
from tests.forms.conftest import run_import


async def test_the_sample_workbooks_import(
    databases: Databases, demo_template: str, tmp_path: Path
) -> None:
    url = await databases.copy(demo_template)
    async with database.connected(url):
        written = await write_workbooks(tmp_path / "forms", 2024)
        good = [p for p in written if p.suffix == ".xlsx" and "含错误" not in p.name]
        wrong = [p for p in written if "含错误" in p.name]
        assert len(good) == 6 and len(wrong) == 1
        assert (tmp_path / "forms" / "README.txt").read_text(encoding="utf-8").startswith("演示")
        audit = await models.AuditEntry.all().count()

        fine = await run_import(*(read_workbook(p.read_bytes(), p.name) for p in good))
        refused = await run_import(read_workbook(wrong[0].read_bytes(), wrong[0].name))

        assert fine.problems == [] and fine.created == fine.updated == 0
        assert {p.rule for p in refused.problems} >= {
            "form-computed-mismatch",
            "indicator-level2-child",
            "money-two-places",
        }
        assert await models.AuditEntry.all().count() == audit
        xls = [p for p in written if p.suffix == ".xls"]
        assert len(xls) == 1 and xls[0].read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
        converted = read_workbook(xls[0].read_bytes(), xls[0].name)
        original = read_workbook(xls[0].with_suffix(".xlsx").read_bytes(), "x.xlsx")
        assert converted.problems == []
        assert [(f.code, f.total_score, len(f.lines)) for f in converted.forms] == [
            (f.code, f.total_score, len(f.lines)) for f in original.forms
        ]
        again = await run_import(converted)
        assert again.problems == [] and again.created == again.updated == 0
        assert again.unchanged == len(original.forms) > 0
    await databases.drop(url)
