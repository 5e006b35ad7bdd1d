"""`gongkai user add|disable|reset-password|link`: the web console's local accounts
(api/console/accounts.py). The password is asked for at the terminal, twice, or read from the
first line of standard input with --password-stdin (for scripts); it is never an argument, which
the process list and the shell history would show."""

from __future__ import annotations

import argparse
import getpass
import sys

from rich.console import Console

from api.auth import Role
from api.console import accounts
from api.settings import Settings
from storage import database


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="the web console's local accounts")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument(
        "--role", action="append", required=True, choices=[r.value for r in Role], dest="roles"
    )
    add.add_argument("--dept", metavar="CODE", help="its department (主管部门) code")
    add.add_argument("--classified", action="store_true", help="holds the classified clearance")
    add.add_argument("--name", default="", help="the name shown in the console")
    add.add_argument("--password-stdin", action="store_true")
    add.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the account exists (make run's demo accounts)",
    )
    disable = actions.add_parser("disable", help="disable an account; its sessions end")
    disable.add_argument("username")
    reset = actions.add_parser("reset-password", help="a new password; its sessions end")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    link = actions.add_parser(
        "link", help="let a user of the OpenID Connect provider sign in as this account"
    )
    link.add_argument("username")
    link.add_argument("subject", help="the user's `sub` at the provider")
    link.add_argument("--issuer", help="the provider's issuer URL (default: GONGKAI_OIDC_ISSUER's)")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise accounts.AccountError("the two passwords differ")
    return first


async def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    try:
        if args.user_command == "link":
            return await _link(settings, args, console)
        password = "" if args.user_command == "disable" else _password(args.password_stdin)
        if password:
            accounts.check_password(password)
        async with database.connected(settings.database_url):
            if (
                args.user_command == "add"
                and args.if_missing
                and await accounts.exists(args.username)
            ):
                console.print(f"{args.username} exists already: left as it is")
            elif args.user_command == "add":
                user = await accounts.add_user(
                    args.username,
                    password,
                    args.roles,
                    args.dept,
                    classified=args.classified,
                    display_name=args.name,
                )
                console.print(f"added {user.username} ({', '.join(user.roles)})")
            elif args.user_command == "disable":
                user = await accounts.disable_user(args.username)
                console.print(f"disabled {user.username}; its sessions have ended")
            else:
                user = await accounts.reset_password(args.username, password)
                console.print(f"new password for {user.username}; its sessions have ended")
    except accounts.AccountError as error:
        console.print(f"[red]error[/] {error}")
        return 1
    return 0


async def _link(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    issuer = args.issuer or (settings.oidc.issuer if settings.oidc else None)
    if issuer is None:
        console.print("[red]error[/] no provider: give --issuer or set GONGKAI_OIDC_ISSUER")
        return 1
    async with database.connected(settings.database_url):
        user = await accounts.link_identity(args.username, issuer.rstrip("/"), args.subject)
    console.print(f"{args.subject!r} of {issuer} now signs in as {user.username}")
    return 0
