"""`gongkai import FILE… [--department CODE] [--year N] [--check]`: the standard forms from
.xlsx/.xls/.ods workbooks into the database, through the internal API's write path
(`schema.internal.imports`) as an operator with the admin role. The files are read and imported
one at a time, each in a transaction of its own: a file with a problem stores nothing (every
problem of it is printed with its cell), the valid ones are stored."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
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


def read_files(paths: list[Path], year: int | None) -> Iterator[ReadResult]:
    """Each workbook read when the import asks for it: one in memory at a time."""
    for path in paths:
        try:
            data = path.read_bytes()
            files.recognise_workbook(data)
        except OSError as error:
            problem = Problem(str(path), "", "", "file-unreadable", f"无法读取文件：{error}")
            yield ReadResult(str(path), [], [problem], [])
        except InvalidRecord:
            problem = Problem(str(path), "", "", "file-type", "不是 .xlsx、.xls 或 .ods 工作簿")
            yield ReadResult(str(path), [], [problem], [])
        else:
            yield read_workbook(data, str(path), year)


async def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    if args.year is not None and not 2000 <= args.year <= 2100:
        console.print("[red]--year lies in 2000–2100[/]")
        return 2
    async with database.connected(settings.database_url):
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("importing workbooks", total=len(args.files))
            outcome = await import_forms(
                InternalContext(caller=OPERATOR),
                read_files(args.files, args.year),
                check_only=args.check,
                department_code=args.department,
                on_workbook=lambda _: progress.advance(task),
            )
    return report(outcome, args.check, console)


def report(outcome: Outcome, check: bool, console: Console) -> int:
    for problem in outcome.problems:
        # escaped: a rule code in brackets is not rich markup
        console.print(escape(f"{problem.file} {problem.where}  [{problem.rule}] {problem.message}"))
    verb = "将" if check else "已"
    valid = outcome.workbooks - len(outcome.refused)
    if outcome.problems:
        console.print(
            f"[red]{len(outcome.problems)} 个问题[/]：{len(outcome.refused)} 个工作簿有问题，"
            "其中的记录均未导入"
        )
    if valid:
        console.print(
            f"{valid} 个工作簿无问题：{verb}新建 {outcome.created} 条、"
            f"{verb}更新 {outcome.updated} 条记录，{outcome.unchanged} 张表无变化"
            + ("（--check：未写入）" if check else "")
        )
    return 1 if outcome.problems else 0
