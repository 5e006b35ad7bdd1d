"""`gongkai import FILE… [--department CODE] [--year N] [--check]`: the standard forms from
.xlsx/.xls/.ods workbooks into the database, through the internal API's write path
(`schema.internal.imports`) as an operator with the admin role. Every problem of every file is
printed with its cell; nothing is stored unless all files are valid (one transaction)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from api.settings import Settings
from forms.problems import Problem
from forms.read import ReadResult, read_workbook
from schema.internal.context import InternalContext
from schema.internal.imports import Outcome, import_forms
from schema.internal.permissions import Caller
from storage import database, files
from storage.errors import InvalidRecord

#: the operator running the command: it may write every department's forms
OPERATOR = Caller(subject="cli:import", roles=("admin",), department=None, classified=False)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import", help="import 申报表 and 自评表 workbooks (.xlsx, .xls, .ods)"
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--department", metavar="CODE", help="every form must be this one's")
    parser.add_argument("--year", type=int, metavar="N", help="every form must be of this year")
    parser.add_argument("--check", action="store_true", help="report problems; store nothing")


def read_files(paths: list[Path], year: int | None, console: Console) -> list[ReadResult]:
    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading workbooks", total=len(paths))
        for path in paths:
            try:
                data = path.read_bytes()
                files.recognise_workbook(data)
            except OSError as error:
                problem = Problem(str(path), "", "", "file-unreadable", f"无法读取文件：{error}")
                results.append(ReadResult(str(path), [], [problem], []))
            except InvalidRecord:
                problem = Problem(str(path), "", "", "file-type", "不是 .xlsx、.xls 或 .ods 工作簿")
                results.append(ReadResult(str(path), [], [problem], []))
            else:
                results.append(read_workbook(data, str(path), year))
            progress.advance(task)
    return results


async def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    if args.year is not None and not 2000 <= args.year <= 2100:
        console.print("[red]--year lies in 2000–2100[/]")
        return 2
    results = read_files(args.files, args.year, console)
    async with database.connected(settings.database_url):
        outcome = await import_forms(
            InternalContext(caller=OPERATOR),
            results,
            check_only=args.check,
            department_code=args.department,
        )
    return report(outcome, args.check, console)


def report(outcome: Outcome, check: bool, console: Console) -> int:
    for problem in outcome.problems:
        # escaped: a rule code in brackets is not rich markup
        console.print(escape(f"{problem.file} {problem.where}  [{problem.rule}] {problem.message}"))
    if outcome.problems:
        console.print(
            f"[red]{len(outcome.problems)} 个问题[/]（{outcome.forms} 张表）；未导入任何记录"
        )
        return 1
    verb = "将" if check else "已"
    console.print(
        f"{outcome.forms} 张表：{verb}新建 {outcome.created} 条、"
        f"{verb}更新 {outcome.updated} 条记录，{outcome.unchanged} 张表无变化"
        + ("（--check：未写入）" if check else "")
    )
    return 0
