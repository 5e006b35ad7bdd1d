"""`gongkai import` over several files: each read when its turn comes and imported in a
transaction of its own; the report names the problems and what the valid files stored."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from api.forms_cli import read_files, report
from storage import models
from tests.forms.conftest import FIXTURES, FormWorld, counts, run_import


async def test_the_cli_stores_the_valid_files_and_reports_the_others(
    form_world: FormWorld, tmp_path: Path
) -> None:
    broken = tmp_path / "not-a-workbook.xlsx"
    broken.write_bytes(b"plain text, not a workbook")
    paths = [broken, FIXTURES / "shaped.xlsx", tmp_path / "missing.xlsx"]
    before = await counts()

    outcome = await run_import(*read_files(paths, None))
    console = Console(record=True, width=200)
    code = report(outcome, False, console)

    assert code == 1
    assert outcome.refused == [str(broken), str(tmp_path / "missing.xlsx")]
    assert [(p.file, p.rule) for p in outcome.problems] == [
        (str(broken), "file-type"),
        (str(tmp_path / "missing.xlsx"), "file-unreadable"),
    ]
    # the valid file in between is stored whole
    assert outcome.stored and (outcome.created, outcome.updated) == (3, 1)
    assert await models.PerformanceTarget.filter(subject_id=form_world.project.id).exists()
    assert (await counts())["SelfAssessment"] == before["SelfAssessment"] + 2
    text = console.export_text()
    assert "2 个工作簿有问题" in text and "1 个工作簿无问题：已新建 3 条、已更新 1 条记录" in text


async def test_the_cli_exits_0_when_every_file_is_valid(form_world: FormWorld) -> None:
    outcome = await run_import(*read_files([FIXTURES / "shaped.ods"], None), check_only=True)
    console = Console(record=True, width=200)

    assert report(outcome, True, console) == 0
    assert not outcome.stored
    assert "（--check：未写入）" in console.export_text()
