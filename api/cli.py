"""The `gongkai` command line.

    gongkai migrate                       apply database migrations
    gongkai demo --scale town|district    load the synthetic demo data set
    gongkai serve --host H --port P       serve the API

Every command reads the settings first, so a malformed setting stops it with a message naming
the variable. Exit status: 0 on success, 1 when the work failed, 2 for bad settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Sequence

from rich.console import Console

from api import settings as settings_module
from api.settings import Settings, SettingsError
from storage import database, models
from storage.errors import GongkaiError

console = Console(stderr=True, highlight=False)


def _years(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected YEAR or FIRST-LAST, e.g. 2022-2024: {value!r}")
    first, last = int(match[1]), int(match[2] or match[1])
    if last < first or last - first > 10:
        raise argparse.ArgumentTypeError(f"a range of 1–11 years, first ≤ last: {value!r}")
    return first, last


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gongkai", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="apply database migrations")

    demo = commands.add_parser("demo", help="load the synthetic demo data set (演示数据)")
    demo.add_argument("--scale", choices=("town", "district"), default="town")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--years", type=_years, default=(2022, 2024), metavar="FIRST-LAST")
    demo.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database has data already"
    )

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return parser


async def _migrate(settings: Settings) -> None:
    await database.migrate(settings.database_url)
    console.print("database migrated")


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from api import demo

    async with database.connected(settings.database_url):
        if await models.Jurisdiction.exists():
            if args.if_empty:
                console.print("database has data already; demo not loaded")
                return 0
            console.print("[red]the database is not empty; demo data goes into an empty one[/]")
            return 1
        started = time.perf_counter()
        with console.status("generating demo data") as status:
            counts = await demo.generate(
                args.scale, seed=args.seed, years=args.years, progress=status.update
            )
        elapsed = time.perf_counter() - started
    console.print(f"demo data ({args.scale}, seed {args.seed}) loaded in {elapsed:.1f} s:")
    for table, count in counts.items():
        console.print(f"  {table:<28} {count:>8}")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from api.app import create_app

    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, proxy_headers=True, log_level="info"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_module.load()
    except SettingsError as error:
        console.print(f"[red]invalid setting[/] {error}")
        return 2
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "demo":
            return asyncio.run(_demo(settings, args))
        elif args.command == "serve":
            _serve(settings, args)
    except GongkaiError as error:
        console.print(f"[red]error[/] {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
