"""Relay cursor connections over snapshot rows, with keyset cursors.

A cursor holds the sort value and the record key of its row, not an offset, so it stays valid
and points at the same place when rows are published before it. Every list needs `first` or
`last`, at most 100 (architecture conventions).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from schema.rows import (
    CURRENT,
    CURRENT_ROWS,
    BadInput,
    Source,
    Where,
    as_node,
    decode_cursor,
    encode_cursor,
    fetch,
)
from storage.enums import RecordType

MAX_PAGE = 100
#: `totalCount` counts matching rows up to this many, then stops (D30, docs/decisions.md). A
#: count reads every row it counts — the rows, the current-row probe of each, for a search its
#: postings — so an unbounded one grows with the data: over the whole demo city, every subject
#: took 3.6 s to count and a common word's matches 1.5 s, while a page and a lookup stay flat.
#: Beyond the limit a list answers `totalCount: 1000` and `totalCountIsExact: false`, as a
#: search engine answers "1,000+".
COUNT_LIMIT = 1_000


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def limit(self) -> tuple[int, bool]:
        """(page size, forward?) — or a BadInput naming the argument at fault."""
        if (self.first is None) == (self.last is None):
            raise BadInput("give exactly one of `first` or `last` (at most 100)")
        size = self.first if self.first is not None else self.last
        assert size is not None
        if not 1 <= size <= MAX_PAGE:
            name = "first" if self.first is not None else "last"
            raise BadInput(f"`{name}` must be between 1 and {MAX_PAGE}, not {size}")
        return size, self.first is not None


@dataclass
class Page:
    nodes: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    #: Counts the rows that match across all pages, up to `COUNT_LIMIT` + 1 (one more says
    #: there are more); run only when `totalCount` or `totalCountIsExact` is asked for.
    count: Callable[[], Awaitable[int]]
    _counted: int | None = field(default=None, init=False, repr=False)

    async def counted(self) -> int:
        """The rows counted, at most `COUNT_LIMIT` + 1; counted once for both fields."""
        if self._counted is None:
            self._counted = await self.count()
        return self._counted

    async def total(self) -> int:
        return min(await self.counted(), COUNT_LIMIT)

    async def exact(self) -> bool:
        return await self.counted() <= COUNT_LIMIT


def count_sql(where: str) -> str:
    """The SQL of a list's capped count: the rows of `disclosure d` matching `where`, counted
    until one more than `COUNT_LIMIT`."""
    return (
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM disclosure d WHERE {where}"
        f" LIMIT {COUNT_LIMIT + 1}) counted"
    )


async def _count(where: Where, source: Source) -> int:
    rows = await fetch(count_sql(where.sql()), where.params, source)
    return int(rows[0]["n"])


@dataclass(frozen=True)
class PageQuery:
    """The SQL of one page: `matching` (every row of the list, for the total) and `keyset`
    (those beyond the cursors), sorted `order` then the record key in `direction` — the
    direction of the walk, which is reversed afterwards when walking backwards (`forward`)."""

    matching: Where
    keyset: Where
    order: str
    direction: str
    size: int
    forward: bool


#: The orderings whose sort value is text; every other one sorts by an integer (a year, 分,
#: hundredths of a point).
TEXT_ORDERS = frozenset({"d.record_key", "d.name"})
_BIGINT = range(-(2**63), 2**63)


def _cursor_values(cursor: str, order: str) -> tuple[Any, str]:
    """The sort value and record key of a cursor made for this ordering. A cursor of another
    ordering (text where a number sorts, or the reverse) is refused here: PostgreSQL would fail
    the comparison, which the client could only see as an unexpected error."""
    value, key = decode_cursor(cursor)
    if order in TEXT_ORDERS:
        fits = value is None or isinstance(value, str)
    else:
        fits = value is None or (type(value) is int and value in _BIGINT)
    if not fits or not isinstance(key, str):
        raise BadInput(f"not a cursor of this list and order: {cursor!r}")
    return value, key


def page_query(
    record_type: RecordType, where: Where, order: str, descending: bool, request: PageRequest
) -> PageQuery:
    """The page's SQL pieces, or a `BadInput` for page arguments or cursors this API would
    refuse. `where` is left as it is."""
    size, forward = request.limit()
    matching = Where(list(where.parts), list(where.params))
    matching.add("d.record_type = ?", record_type.value)
    matching.add(CURRENT)
    # Walking backwards is walking forwards in the opposite order, then reversing the page.
    ascending = forward != descending
    keyset = Where(list(matching.parts), list(matching.params))
    for cursor, after in ((request.after, True), (request.before, False)):
        if cursor is not None:
            value, key = _cursor_values(cursor, order)
            greater = after != descending
            mark = "?" if order in TEXT_ORDERS else "CAST(? AS BIGINT)"
            keyset.add(f"({order}, d.record_key) {'>' if greater else '<'} ({mark}, ?)", value, key)
    return PageQuery(matching, keyset, order, "ASC" if ascending else "DESC", size, forward)


async def page(
    record_type: RecordType,
    where: Where,
    order: str,
    descending: bool,
    request: PageRequest,
    source: Source = CURRENT_ROWS,
) -> Page:
    """One page of current rows of `record_type` matching `where`, sorted by the SQL expression
    `order` (then the record key), in either direction; of the rows public on a past day with
    such a `source`."""
    q = page_query(record_type, where, order, descending, request)
    rows = await fetch(
        f"SELECT d.data, {order} AS sort_value, d.record_key FROM disclosure d"
        f" WHERE {q.keyset.sql()} ORDER BY {order} {q.direction}, d.record_key {q.direction}"
        f" LIMIT {q.size + 1}",
        q.keyset.params,
        source,
    )
    size, forward = q.size, q.forward
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    matching = q.matching
    return Page(
        nodes=[as_node(record_type, r["data"], source) for r in rows],
        cursors=[encode_cursor([r["sort_value"], r["record_key"]]) for r in rows],
        has_next=more if forward else request.before is not None,
        has_previous=more if not forward else request.after is not None,
        count=lambda: _count(matching, source),
    )
