"""`gongkai demo` also writes a folder of sample workbooks to try the import on at once: a few
departments' 申报表 and 自评表 as the export gives them (importing them changes nothing), one
saved again as .xls (old Excel), and one with deliberate
mistakes, which the import reports cell by cell."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import python_calamine
import xlwt

from forms import from_storage
from forms.model import Form
from forms.write import workbook_bytes
from schema.internal import visible
from schema.internal.permissions import Caller, visibility
from storage import models
from storage.enums import DepartmentTier, IndicatorL2

#: how many departments get their forms written
DEPARTMENTS = 3
README = """演示工作簿（演示数据）

用 gongkai import 试导入，例如：
  gongkai import {folder}/*.xlsx --check        只检查、不写入
  gongkai import {folder}/{first}               导入（与库中记录相同：无变化）
  gongkai import {folder}/{mistakes} --check    含错误的表：逐个单元格列出问题

{files}
"""


async def write_workbooks(folder: Path, year: int) -> list[Path]:
    """Write the sample workbooks of `year` into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before any query
    vis = await visibility(Caller("demo", ("admin",), None, False))
    written: list[tuple[Path, str]] = []
    chosen: list[tuple[models.Department, list[Form], list[Form]]] = []
    for department in await models.Department.filter(tier=DepartmentTier.DEPARTMENT).order_by(
        "code"
    ):
        subjects = (
            await visible.content_subjects(vis)
            .filter(department_id=department.id, fiscal_year=year)
            .order_by("kind", "code")
        )
        targets = await from_storage.target_forms(subjects)
        assessments = await from_storage.assessment_forms(subjects)
        if targets and assessments:
            chosen.append((department, targets, assessments))
        if len(chosen) == DEPARTMENTS:
            break
    for department, targets, assessments in chosen:
        for label, forms in (("申报表", targets), ("自评表", assessments)):
            path = folder / f"{department.code}-{department.name}-{year}-{label}.xlsx"
            path.write_bytes(workbook_bytes(forms))
            written.append((path, f"{department.name}的{label}（{len(forms)} 张）"))
    if chosen:
        department, targets, assessments = chosen[0]
        xls = _as_xls(written[1][0])
        written.append((xls, f"{department.name}的自评表，另存为 .xls（旧版 Excel）"))
        path = folder / f"示例-含错误-{year}-自评表.xlsx"
        path.write_bytes(workbook_bytes(_with_mistakes(assessments[:3])))
        written.append((path, "含有意设置错误的自评表：试试 --check"))
    lines = "\n".join(f"  {p.name}：{what}" for p, what in written)
    (folder / "README.txt").write_text(
        README.format(
            folder=folder,
            first=written[0][0].name if written else "",
            mistakes=written[-1][0].name if written else "",
            files=lines,
        ),
        encoding="utf-8",
    )
    return [p for p, _ in written]


def _as_xls(source: Path) -> Path:
    """`source` saved again as an old-format .xls, as a department's "另存为" gives it: every
    sheet's values and merged cells (read back with calamine, written by xlwt, BIFF8)."""
    book = python_calamine.CalamineWorkbook.from_path(str(source))
    out = xlwt.Workbook(encoding="utf-8")
    for name in book.sheet_names:
        sheet = book.get_sheet_by_name(name)
        target = out.add_sheet(name)
        merged = dict(sheet.merged_cell_ranges or ())
        for r, values in enumerate(sheet.to_python(skip_empty_area=False)):
            for c, value in enumerate(values):
                if (r, c) in merged:
                    (r1, c1) = merged[(r, c)]
                    target.write_merge(r, r1, c, c1, value)
                elif value != "":
                    target.write(r, c, value)
    path = source.with_suffix(".xls")
    out.save(str(path))
    return path


def _with_mistakes(forms: list[Form]) -> list[Form]:
    """The forms with mistakes a department makes: a weight that breaks the 100 points, a
    wrong execution rate, a level-2 indicator under the wrong level 1, a missing deviation
    reason, an amount below 1 分."""
    out = [dataclasses.replace(f, lines=[dataclasses.replace(x) for x in f.lines]) for f in forms]
    first = out[0]
    first.lines[0].weight = (first.lines[0].weight or Decimal(0)) + 5
    first.execution_rate = (first.execution_rate or Decimal(0)) + 3
    if len(out) > 1:
        second = out[1]
        second.lines[-1].level2 = IndicatorL2.QUANTITY
        below = [x for x in second.lines if x.score is not None and x.weight and x.score < x.weight]
        for line in below[:1]:
            line.deviation = ""
    if len(out) > 2:
        third = out[2]
        third.amounts["executed"]["other"] = Decimal("0.001")
    return out
