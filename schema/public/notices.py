"""Correction notices (更正/撤回公告, decisions.md D7, D12) as a Relay connection.

The one public read outside `disclosure`: a `CorrectionNotice` row is written by the publisher
in the transaction that publishes a corrected version, or that withdraws a whole release, so it
is published data like a snapshot row. It holds a date, a kind and a note that never names a
withdrawn record, and the release it corrects only while that release is public (a whole
withdrawal leaves none: naming the release would name the department). Even so, what it says
about its release is read from the release's own snapshot row, never from the `release` table:
a release that is not published has no such row, so the notice answers without it.

Notices are sorted by when they were issued (oldest first, `last: n` gives the newest), with
keyset cursors of (time, id). They are read through the ORM, which compares datetimes the same
way on SQLite (text) and PostgreSQL (timestamptz).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from publishers.rules import SHANGHAI
from schema import pagination
from schema.pagination import Page, PageRequest
from schema.rows import BadInput, decode_cursor, encode_cursor
from storage import models
from storage.enums import CorrectionKind, RecordType, ReleaseKind

#: the length of `Jurisdiction.code`
JURISDICTION_CODE_MAX: int = models.Jurisdiction._meta.fields_map["code"].max_length  # type: ignore[attr-defined]
FIELDS = (
    "id",
    "jurisdiction__code",
    "fiscal_year",
    "published_at",
    "kind",
    "note",
    "release_id",
    "version",
)


async def notice_page(
    fiscal_year: int | None, jurisdiction_code: str | None, request: PageRequest
) -> Page:
    size, forward = request.limit()
    matching = models.CorrectionNotice.all()
    if fiscal_year is not None:
        matching = matching.filter(fiscal_year=fiscal_year)
    if jurisdiction_code is not None and len(jurisdiction_code) > JURISDICTION_CODE_MAX:
        # No jurisdiction has so long a code (Tortoise would refuse the filter value with an
        # unexpected error: make fuzz found it): nothing matches.
        matching = matching.filter(id__in=[])
    elif jurisdiction_code is not None:
        matching = matching.filter(jurisdiction__code=jurisdiction_code)
    keyset = matching
    for cursor, after in ((request.after, True), (request.before, False)):
        if cursor is not None:
            keyset = keyset.filter(_beyond(cursor, after))
    # Walking backwards is walking forwards in the opposite order, then reversing the page.
    order = ("published_at", "id") if forward else ("-published_at", "-id")
    rows = await keyset.order_by(*order).limit(size + 1).values(*FIELDS)
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    nodes = await _nodes(rows)
    return Page(
        nodes=nodes,
        cursors=[encode_cursor([r["published_at"].isoformat(), r["id"]]) for r in rows],
        has_next=more if forward else request.before is not None,
        has_previous=more if not forward else request.after is not None,
        count=lambda: _count(matching),
    )


def _beyond(cursor: str, after: bool) -> Q:
    """Notices after (or before) the one a cursor points at, in (time, id) order."""
    moment, ident = decode_cursor(cursor)
    try:
        at = datetime.fromisoformat(moment)
    except (TypeError, ValueError):
        raise BadInput(f"not a cursor of this API: {cursor!r}") from None
    if not isinstance(ident, int) or at.tzinfo is None:
        raise BadInput(f"not a cursor of this API: {cursor!r}")
    if after:
        return Q(published_at__gt=at) | Q(published_at=at, id__gt=ident)
    return Q(published_at__lt=at) | Q(published_at=at, id__lt=ident)


async def _count(matching: QuerySet[models.CorrectionNotice]) -> int:
    """The notices matching, up to `COUNT_LIMIT` + 1: their ids read with a LIMIT (Tortoise's
    `.limit().count()` counts every row and clamps the number afterwards)."""
    ids = await matching.limit(pagination.COUNT_LIMIT + 1).values_list("id", flat=True)
    return len(ids)


async def _nodes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The notices as the schema reads them; release facts only from published RELEASE rows."""
    releases = {
        r["release_id"]: r
        for r in await models.Disclosure.filter(
            record_type=RecordType.RELEASE,
            release_id__in=sorted({n["release_id"] for n in rows if n["release_id"]}),
        ).values("release_id", "record_key", "release_kind")
    }
    nodes = []
    for n in rows:
        release = releases.get(n["release_id"])
        kind = CorrectionKind(n["kind"])
        release_kind = ReleaseKind(release["release_kind"]) if release else None
        nodes.append(
            {
                "date": n["published_at"].astimezone(SHANGHAI).date().isoformat(),
                "kind": kind.value,
                "kindLabel": kind.label,
                "jurisdictionCode": n["jurisdiction__code"],
                "fiscalYear": n["fiscal_year"],
                "releaseKey": release["record_key"] if release else None,
                "releaseKind": release_kind.value if release_kind else None,
                "releaseKindLabel": release_kind.label if release_kind else None,
                "note": n["note"],
                # the version it produced, with its release: only while that release is public
                "version": n["version"] if release else None,
            }
        )
    return nodes
