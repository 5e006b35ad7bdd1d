"""The `gongkai` command line.

    gongkai migrate                                apply database migrations
    gongkai demo --scale town|district|city        load the synthetic demo data set
    gongkai check --release ID|KEY                 list every problem; write nothing
    gongkai check --year N [--jurisdiction CODE]   the year's whole obligation (DR-3, DR-4e)
    gongkai check --published [--release ID|KEY]   personal data in what is public (DR-10)
    gongkai publish --release ID|KEY | --due | --all   publish to the object store
    gongkai withdraw [--release ID]                enforce filings added after publication
    gongkai flag-overdue                           store OVERDUE on late rectifications (daily)
    gongkai import FILE… [--check]                 import 申报表 / 自评表 workbooks
    gongkai token --role R [--dept CODE]           mint a development JWT (HS secret only)
    gongkai user add|disable|reset-password NAME   the web console's local accounts
    gongkai revoke --jti ID | --sub SUBJECT        put tokens on the deny-list (lost device)
    gongkai revoke --purge                         delete deny-list entries past their expiry
    gongkai verify URL-or-PATH [--key FINGERPRINT] check a bucket's signatures, chain, objects
    gongkai keys create FILE | rotate NEW_FILE     the publisher's signing keys
    gongkai backup --to DIR                        the database and the bucket into DIR
    gongkai restore --from DIR                     both back, into an empty database and store
    gongkai serve --host H --port P [--workers N]  serve the API

A release is named by its database id (`7`) or by its public key, as in the catalog and the
object names: `<jurisdiction>/<year>/<budget|final-accounts|finance-annual>/<department>`, e.g.
`990102/2024/budget/103` (`finance` as the department of a finance-annual release).

Every command reads the settings first, so a malformed setting stops it with a message naming
the variable. Exit status: 0 on success, 1 when the work failed, 2 for bad settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from api import backup, forms_cli, keys_cli, revocation, users_cli
from api import settings as settings_module
from api.auth import AuthenticationError, Role, mint
from api.devkey import DEV_KEY_PATH, DevKeyError, with_dev_key
from api.metrics import PublishMetrics
from api.publishing import make_publisher
from api.settings import PREFIX, Settings, SettingsError
from publishers import allocator, coverage, privacy, verify
from publishers.lease import DEFAULT_LEASE
from publishers.releases import KIND_SLUGS, Publisher
from publishers.rules import SHANGHAI
from schema.internal.overdue import flag_overdue_rectifications
from storage import database, models
from storage.enums import ReleaseKind
from storage.errors import GongkaiError, NotFound

console = Console(stderr=True, highlight=False)


def _years(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected YEAR or FIRST-LAST, e.g. 2022-2024: {value!r}")
    first, last = int(match[1]), int(match[2] or match[1])
    if last < first or last - first > 10:
        raise argparse.ArgumentTypeError(f"a range of 1–11 years, first ≤ last: {value!r}")
    return first, last


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 <= seconds <= 86400:
        raise argparse.ArgumentTypeError(f"between 0 and 86400 seconds, not {value}")
    return seconds


def _as_of(value: str) -> datetime | str:
    if value == "history":
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time or 'history': {value!r}") from None
    # D3: times without a zone are Shanghai times.
    return when if when.tzinfo else when.replace(tzinfo=SHANGHAI)


@dataclass(frozen=True)
class ReleaseKey:
    """A release's public key: the part of its object names after ``releases/``."""

    jurisdiction: str
    fiscal_year: int
    kind: ReleaseKind
    department: str | None

    def __str__(self) -> str:
        return (
            f"{self.jurisdiction}/{self.fiscal_year}/{KIND_SLUGS[self.kind]}/"
            f"{self.department or 'finance'}"
        )


RELEASE_KEY = re.compile(r"([^/\s]+)/(\d{4})/([a-z-]+)/([^/\s]+)")


def _release(value: str) -> int | ReleaseKey:
    """`--release`: a database id, or a public key such as ``990102/2024/budget/103``."""
    if value.isdigit():
        return int(value)
    match = RELEASE_KEY.fullmatch(value.strip().strip("/"))
    kinds = {slug: kind for kind, slug in KIND_SLUGS.items()}
    if not match or match[3] not in kinds:
        raise argparse.ArgumentTypeError(
            f"expected a release id or a key JURISDICTION/YEAR/{'|'.join(kinds)}/DEPARTMENT "
            f"(e.g. 990102/2024/budget/103), not {value!r}"
        )
    kind = kinds[match[3]]
    department = match[4]
    if kind is ReleaseKind.FINANCE_ANNUAL:
        if department != "finance":
            raise argparse.ArgumentTypeError(
                f"a finance-annual release belongs to the finance authority: "
                f"{match[1]}/{match[2]}/finance-annual/finance, not {value!r}"
            )
        return ReleaseKey(match[1], int(match[2]), kind, None)
    return ReleaseKey(match[1], int(match[2]), kind, department)


async def resolve_release(release: int | ReleaseKey) -> int:
    """The database id of `release`; a key no release has is an error naming it."""
    if isinstance(release, int):
        return release
    query = models.Release.filter(
        jurisdiction__code=release.jurisdiction,
        fiscal_year=release.fiscal_year,
        kind=release.kind,
    )
    if release.department is None:
        query = query.filter(department_id__isnull=True)
    else:
        query = query.filter(department__code=release.department)
    found = await query.values_list("id", flat=True)
    if not found:
        raise NotFound(f"no release has the key {release}")
    return int(str(found[0]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gongkai", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="apply database migrations")

    demo = commands.add_parser("demo", help="load the synthetic demo data set (演示数据)")
    demo.add_argument("--scale", choices=("town", "district", "city"), default="town")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--years", type=_years, default=(2022, 2024), metavar="FIRST-LAST")
    demo.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database has data already"
    )
    demo.add_argument(
        "--forms-dir",
        type=Path,
        default=Path("var/demo-forms"),
        metavar="DIR",
        help="where the sample workbooks go (申报表, 自评表, one with mistakes)",
    )

    check = commands.add_parser("check", help="check a release; nothing is written")
    check.add_argument("--release", type=_release, metavar="ID|KEY")
    check.add_argument(
        "--year", type=int, metavar="N", help="check a fiscal year's coverage instead (DR-3, DR-4e)"
    )
    check.add_argument("--jurisdiction", metavar="CODE", help="with --year: only this one")
    check.add_argument(
        "--published",
        action="store_true",
        help="search what is already public for personal data (DR-10); with --release: only it",
    )

    publish = commands.add_parser("publish", help="publish releases to the object store")
    which = publish.add_mutually_exclusive_group(required=True)
    which.add_argument("--release", type=_release, metavar="ID|KEY")
    which.add_argument("--due", action="store_true", help="every scheduled release now due")
    which.add_argument("--all", action="store_true", help="every release (unchanged: no writes)")
    publish.add_argument(
        "--as-of",
        type=_as_of,
        metavar="WHEN",
        help="back-fill: an ISO date-time, or 'history' for a plausible day after each approval",
    )
    publish.add_argument("--note", help="the correction note of a new version")
    publish.add_argument(
        "--wait",
        type=_seconds,
        default=DEFAULT_LEASE.total_seconds(),
        metavar="SECONDS",
        help="how long to wait for a release that another live worker is publishing before "
        "leaving it to that worker (default: one lease, %(default)g); neither is a failure",
    )
    publish.add_argument(
        "--metrics-file",
        metavar="PATH",
        help="write the run's publish counters there (Prometheus text, for node_exporter's "
        "textfile collector)",
    )

    withdraw = commands.add_parser(
        "withdraw", help="remove what filings added after publication now cover"
    )
    withdraw.add_argument("--release", type=int, metavar="ID")

    commands.add_parser(
        "flag-overdue",
        help="store OVERDUE on open rectifications past their due date (for a daily cron line)",
    )

    forms_cli.add_parser(commands)
    users_cli.add_parser(commands)
    keys_cli.add_parser(commands)
    verify.add_arguments(
        commands.add_parser(
            "verify", help="check a published bucket (signatures, chain, every object); no database"
        )
    )

    token = commands.add_parser("token", help="mint a development token (needs an HS secret)")
    token.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="repeat for several roles",
    )
    token.add_argument("--dept", help="department code (department editors)")
    token.add_argument("--sub", default="dev-user", help="subject (user id)")
    token.add_argument("--classified", action="store_true", help="grant the classified clearance")
    token.add_argument("--hours", type=int, default=8, help="lifetime in hours")

    revoke = commands.add_parser(
        "revoke", help="refuse internal tokens from now on (a lost device, a person who left)"
    )
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--jti", help="the token's id (its `jti` claim; logged with each request)")
    target.add_argument("--sub", help="every token of this subject issued up to now")
    target.add_argument(
        "--purge", action="store_true", help="delete the entries past their expiry (daily)"
    )
    revoke.add_argument(
        "--until",
        type=_as_of,
        metavar="WHEN",
        help=f"keep the entry until then (ISO date-time; default: {DENY_DAYS} days from now); "
        "no earlier than the tokens' own expiry",
    )
    revoke.add_argument("--reason", default="", help="why, for the record")

    backup = commands.add_parser(
        "backup", help="copy the database (pg_dump, or SQLite's backup) and the bucket to DIR"
    )
    backup.add_argument("--to", required=True, type=Path, metavar="DIR")
    restore = commands.add_parser(
        "restore", help="restore a `gongkai backup` into an empty database and an empty store"
    )
    restore.add_argument("--from", dest="source", required=True, type=Path, metavar="DIR")

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="processes of the API on this address (default 1; about one per CPU core)",
    )
    return parser


#: More worker processes than this on one host is a mistake, not a deployment.
MAX_WORKERS = 64


def _workers(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_WORKERS}, not {value!r}")
    return int(value)


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
        from api.demo.workbooks import write_workbooks

        books = await write_workbooks(args.forms_dir, args.years[1])
    console.print(f"demo data ({args.scale}, seed {args.seed}) loaded in {elapsed:.1f} s:")
    for table, count in counts.items():
        console.print(f"  {table:<28} {count:>8}")
    console.print(
        f"{len(books)} sample workbooks in {args.forms_dir}/ (see its README.txt): "
        f"try `gongkai import {args.forms_dir}/*.xlsx --check`"
    )
    return 0


def _publisher(settings: Settings) -> Publisher:
    """The command line's publisher: `publish` and `withdraw` do each jurisdiction's releases
    and pages in a process of its own (decisions.md D33)."""
    return make_publisher(settings, apart=True)


def _print_peaks(publisher: Publisher) -> None:
    """The peak memory of this process and of the largest part it ran in a process of its own
    (a jurisdiction's releases, its pages, or the portal's pages, D33): what a host needs for
    this command."""
    if publisher.apart is not None and publisher.apart.peaks:
        own = allocator.peak_resident_kib() / 1024
        peaks = publisher.apart.peaks
        console.print(
            f"peak memory: {own:.0f} MiB in this process, {max(peaks):.0f} MiB in its largest "
            f"part (of {len(peaks)}: a jurisdiction's releases or pages, or the portal's, "
            "each a process)"
        )


def _print_coverage(found: Sequence[coverage.YearCoverage]) -> int:
    """Print each year's coverage problems and tallies; the number of problems."""
    problems = 0
    for year in found:
        for problem in year.problems:
            console.print(f"[red]{problem.rule}[/] {problem.record}: {problem.message}")
        d, s = year.departments, year.subjects
        console.print(
            f"{year.jurisdiction_code} FY {year.fiscal_year}: departments {d.published} of "
            f"{d.due} published ({d.exempt} exempt under filings), subjects {s.published} of "
            f"{s.due} ({s.exempt} exempt); {len(year.problems)} coverage problems"
        )
        problems += len(year.problems)
    return problems


async def _jurisdictions(code: str | None) -> list[models.Jurisdiction]:
    if code is None:
        return list(await models.Jurisdiction.all().order_by("code"))
    found = await models.Jurisdiction.get_or_none(code=code)
    if found is None:
        raise GongkaiError(f"no jurisdiction with code {code!r}")
    return [found]


async def _check_year(settings: Settings, args: argparse.Namespace) -> int:
    async with database.connected(settings.database_url):
        found = await coverage.check_years(await _jurisdictions(args.jurisdiction), [args.year])
    return 1 if _print_coverage(found) else 0


async def _check_published(settings: Settings, args: argparse.Namespace) -> int:
    """DR-10 after publication: a finding in published text or files (a detector or a term
    added since) is listed; the officer withdraws through the withdrawal path."""
    async with database.connected(settings.database_url):
        only = None if args.release is None else [await resolve_release(args.release)]
        found = await privacy.check_published(only)
    for release_id, problem in found:
        console.print(
            f"[red]{problem.rule}[/] release {release_id} {problem.record}: {problem.message}"
        )
    console.print(f"published text and files: {len(found)} findings")
    return 1 if found else 0


async def _privacy_decisions(settings: Settings, release_id: int) -> list[str]:
    """The DR-10 decisions standing on a release: each is shown with every check, so that an
    exception is never silent."""
    async with database.connected(settings.database_url):
        excepted = await models.PersonalDataException.filter(release_id=release_id).order_by("id")
        redacted = await models.FieldRedaction.filter(release_id=release_id).order_by("id")
    return [
        "[yellow]DR-10 not personal data[/] "
        + escape(
            f"{e.location} {e.field}: {e.masked} (finding {e.finding}) — {e.reason} "
            f"({e.created_by}, {e.created_at:%Y-%m-%d})"
        )
        for e in excepted
    ] + [
        "[yellow]DR-10 redacted[/] "
        + escape(f"{r.record_key} {r.field}: {r.basis} ({r.created_by}, {r.created_at:%Y-%m-%d})")
        for r in redacted
    ]


async def _check(settings: Settings, args: argparse.Namespace) -> int:
    if args.published:
        return await _check_published(settings, args)
    if args.year is not None:
        return await _check_year(settings, args)
    async with database.connected(settings.database_url):
        release = await resolve_release(args.release)
        selection = await _publisher(settings).check(release)
    name = f"release {release}"
    if isinstance(args.release, ReleaseKey):
        name += f" ({args.release})"
    if selection.exempt:
        console.print(f"{name}: under a whole-department filing; not published")
        return 0
    for problem in selection.problems:
        console.print(f"[red]{problem.rule}[/] {problem.record}: {problem.message}")
    for line in await _privacy_decisions(settings, release):
        console.print(line)
    console.print(
        f"{name}: {len(selection.records)} records, {len(selection.files)} files, "
        f"{len(selection.problems)} problems"
    )
    return 1 if selection.problems else 0


def history_time(release: models.Release) -> datetime:
    """A plausible publication time for back-filled history: 5–22 days after approval at 10:00
    Shanghai time, so about one release in nine is late; never in the future."""
    days = 5 + (release.id * 7) % 18
    when = datetime.combine(release.approval_date, dtime(10), SHANGHAI) + timedelta(days=days)
    return min(when, datetime.now(UTC))


async def _publish(settings: Settings, args: argparse.Namespace) -> int:
    if args.as_of is not None and settings.production:
        # DR-6: back-filling history is a demo tool; in production a release is published when
        # it is published.
        console.print("[red]--as-of back-fills dates: refused when GONGKAI_ENV=production[/]")
        return 2
    registry = CollectorRegistry()
    counters = PublishMetrics(registry) if args.metrics_file else None
    async with database.connected(settings.database_url):
        publisher = make_publisher(
            settings,
            observer=counters.observe if counters else None,
            wait=timedelta(seconds=args.wait),
            apart=True,
        )
        if args.release is not None:
            ids = [await resolve_release(args.release)]
        elif args.due:
            ids = await publisher.due()
        else:
            ids = [
                int(str(i))
                for i in await models.Release.all().order_by("id").values_list("id", flat=True)
            ]
        fixed = args.as_of if isinstance(args.as_of, datetime) else None

        def when(release: models.Release) -> datetime | None:
            return history_time(release) if args.as_of == "history" else fixed

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("publishing", total=len(ids))
            batch = await publisher.publish_many(
                ids, as_of=when, note=args.note, progress=lambda _: progress.advance(task)
            )
        # `--all` answers for the whole obligation (应公开尽公开), not only the releases that
        # exist: a department with no release leaves its subjects undisclosed (DR-3).
        found = await coverage.check_years(await _jurisdictions(None)) if args.all else []
    if args.metrics_file:
        write_to_textfile(args.metrics_file, registry)
    for release_id, error in batch.failures:
        console.print(f"[red]release {release_id}[/] {error}")
    for release_id, holder in batch.left:
        # Not a failure: a publisher on another cron host (or started by hand) is publishing
        # it, and renews its lease; should it die, the next run takes the release over.
        console.print(
            f"release {release_id} left to {holder}, a live worker still publishing it "
            f"after {args.wait:g} s"
        )
    failures = len(batch.failures)
    exempt = sum(1 for r in batch.results if r.outcome == "exempt")
    left = len(batch.left)
    console.print(
        f"{len(ids) - failures - left} of {len(ids)} releases done ({exempt} under "
        f"whole-department filings, not public"
        + (f"; {left} left to another live worker" if left else "")
        + f"); {batch.stats.written} objects ({batch.stats.bytes:,} bytes) "
        f"written, {batch.stats.skipped} unchanged"
        + (f", {batch.stats.deleted} withdrawn or orphaned deleted" if batch.stats.deleted else "")
    )
    _print_peaks(publisher)
    incomplete = _print_coverage([y for y in found if y.problems])
    if incomplete:
        console.print(f"[red]the obligation is incomplete[/]: {incomplete} coverage problems")
    return 1 if failures or incomplete else 0


async def _withdraw(settings: Settings, args: argparse.Namespace) -> int:
    async with database.connected(settings.database_url):
        publisher = _publisher(settings)
        report = await publisher.withdraw([args.release] if args.release is not None else None)
    for release_id, holder in report.blocked:
        console.print(
            f"[red]release {release_id}[/] not withdrawn: a live worker ({holder}) holds it; "
            "rerun `gongkai withdraw` when it is done"
        )
    whole = sum(1 for r in report.results if r.outcome == "withdrawn")
    console.print(
        f"{len(report.results) - whole} releases republished without withdrawn records, "
        f"{whole} taken out whole; {report.stats.deleted} objects and versions deleted"
        + (f"; {len(report.blocked)} releases blocked" if report.blocked else "")
    )
    _print_peaks(publisher)
    return 1 if report.blocked else 0


async def _flag_overdue(settings: Settings) -> int:
    async with database.connected(settings.database_url):
        flagged = await flag_overdue_rectifications(datetime.now(SHANGHAI).date())
    console.print(f"{len(flagged)} rectifications flagged overdue")
    return 0


#: how long a deny-list entry is kept unless `--until` says otherwise: longer than any token
#: `gongkai token` mints by default; set `--until` past the expiry of longer-lived tokens
DENY_DAYS = 30


async def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    async with database.connected(settings.database_url):
        if args.purge:
            purged = await revocation.purge(now)
            console.print(f"{purged} deny-list entries past their expiry deleted")
            return 0
        until = args.until if isinstance(args.until, datetime) else now + timedelta(DENY_DAYS)
        if until <= now:
            console.print(f"[red]--until must be in the future, not {until.isoformat()}[/]")
            return 2
        done = await revocation.revoke(
            jti=args.jti,
            subject=args.sub,
            now=now,
            expires_at=until,
            revoked_by=f"cli:{getpass.getuser()}",
            reason=args.reason,
        )
    what = f"token {done.jti}" if done.jti else f"every token of {done.subject!r} issued up to now"
    console.print(f"revoked {what}; the entry is kept until {done.expires_at.isoformat()}")
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    if settings.production and settings.jwt_key is None:
        console.print(
            "[red]error[/] GONGKAI_ENV=production creates no development key: tokens come from "
            "the identity provider, or set GONGKAI_JWT_KEY to an HS secret"
        )
        return 1
    settings, _ = with_dev_key(settings)
    print(
        mint(
            settings,
            subject=args.sub,
            roles=[Role(r) for r in args.role],
            department=args.dept,
            classified=args.classified,
            ttl_seconds=args.hours * 3600,
        )
    )
    return 0


def origin(host: str, port: int) -> str:
    """The address a browser on this machine uses for a server bound to `host`."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serving_settings(
    settings: Settings, host: str, port: int, key_path: Path = DEV_KEY_PATH
) -> tuple[Settings, Path | None]:
    """The settings `gongkai serve` runs with: the development key where none is configured
    (never in production), and a public base URL at this server's own /open/ unless
    GONGKAI_PUBLIC_BASE_URL says otherwise."""
    settings, used = with_dev_key(settings, key_path)
    if not settings_module.is_set("PUBLIC_BASE_URL"):
        settings = replace(settings, public_base_url=f"{origin(host, port)}/open")
    return settings, used


def banner(settings: Settings, host: str, port: int, key_file: Path | None) -> list[str]:
    """What `gongkai serve` prints before it listens: where everything is."""
    base = origin(host, port)
    lines = [
        f"gongkai ({settings.env}) serving at {base}",
        f"  public GraphQL API     {base}/graphql",
        f"  internal GraphQL API   {base}/internal/graphql  (bearer JWT)",
    ]
    if not settings.production:  # production serves no GraphiQL
        lines.append(
            "  GraphiQL               open either GraphQL address in a browser "
            "(the internal one has a field for the token)"
        )
    if settings.console_secret is not None or not settings.production:
        lines.append(
            f"  web console            {base}/console/  (accounts: gongkai user add; "
            "its cookie is Secure: HTTPS, or a browser on this machine)"
        )
    if settings.store_url.startswith("file://"):
        lines.append(f"  open-data site         {base}/open/")
    lines.append(
        f"  health                 {base}/healthz  (liveness {base}/livez, readiness {base}/readyz)"
    )
    if settings.metrics_address is not None:
        host, metrics_port = settings.metrics_address
        lines.append(f"  metrics (not public)   {origin(host, metrics_port)}/metrics")
    if key_file is not None:
        lines.append(
            f"  development key        {key_file}; a token: "
            ".venv/bin/gongkai token --role finance_officer"
        )
    elif settings.jwt_key is None and settings.jwt_jwks_file is None:
        lines.append(
            f"  internal tokens        none accepted: set {PREFIX}JWT_KEY or {PREFIX}JWT_JWKS_FILE"
        )
    return lines


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from api import serving

    settings, key_file = serving_settings(settings, args.host, args.port)
    if args.workers > 1 and settings.metrics_address is not None:
        raise GongkaiError(
            f"--workers {args.workers} with {PREFIX}METRICS_ADDRESS: each worker counts for "
            "itself, so one listener cannot serve them all; run one worker per process "
            "behind the load balancer to keep /metrics, or unset it"
        )
    lines = banner(settings, args.host, args.port, key_file)
    if args.workers > 1:
        lines[0] += f" with {args.workers} worker processes"
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    if args.workers == 1:
        serving.run(settings, args.host, args.port)
        return
    # The workers build their apps from the environment: give them what was decided here.
    os.environ[f"{PREFIX}PUBLIC_BASE_URL"] = settings.public_base_url
    if key_file is not None and settings.jwt_key is not None:
        os.environ[f"{PREFIX}JWT_KEY"] = settings.jwt_key  # the development key, never production
    serving.run_workers(settings, args.host, args.port, args.workers)


def main(argv: Sequence[str] | None = None) -> int:
    allocator.limit_arenas()  # before any thread: a publish's steps share their memory
    args = build_parser().parse_args(argv)
    try:
        settings = settings_module.load()
    except SettingsError as error:
        console.print(f"[red]invalid setting[/] {error}")
        return 2
    if (
        args.command == "check"
        and not args.published
        and (args.release is None) == (args.year is None)
    ):
        console.print("[red]check needs one of --release ID, --year N or --published[/]")
        return 2
    if args.command == "check" and args.published and args.year is not None:
        console.print("[red]--published goes with --release or alone, not with --year[/]")
        return 2
    if args.command == "check" and args.jurisdiction and args.year is None:
        console.print("[red]--jurisdiction goes with --year[/]")
        return 2
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "demo":
            return asyncio.run(_demo(settings, args))
        elif args.command == "check":
            return asyncio.run(_check(settings, args))
        elif args.command == "publish":
            return asyncio.run(_publish(settings, args))
        elif args.command == "withdraw":
            return asyncio.run(_withdraw(settings, args))
        elif args.command == "flag-overdue":
            return asyncio.run(_flag_overdue(settings))
        elif args.command == "import":
            return asyncio.run(forms_cli.run(settings, args, console))
        elif args.command == "verify":
            return asyncio.run(verify.run(args, console))
        elif args.command == "keys":
            return asyncio.run(keys_cli.run(settings, args, console))
        elif args.command == "user":
            return asyncio.run(users_cli.run(settings, args, console))
        elif args.command == "token":
            return _token(settings, args)
        elif args.command == "revoke":
            return asyncio.run(_revoke(settings, args))
        elif args.command == "backup":
            return asyncio.run(backup.backup(settings, args.to, console.print))
        elif args.command == "restore":
            return asyncio.run(backup.restore(settings, args.source, console.print))
        elif args.command == "serve":
            _serve(settings, args)
    except (GongkaiError, AuthenticationError, DevKeyError, backup.BackupError) as error:
        console.print(f"[red]error[/] {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
