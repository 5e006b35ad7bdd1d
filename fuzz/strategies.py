"""Values for the generated queries: the custom scalars (money as `Decimal`, dates, moments,
JSON, uploads) and the built-in ones (`ID`, `Int`, `String`) drawn mostly from what the
database holds, so that most generated queries get past validation and argument checks and
reach the resolvers — where the bugs are — while a share stays arbitrary.

Left to itself schemathesis draws any string for an `ID` and any 32-bit integer for `first`,
and about nine queries in ten stop at the argument checks (a page of 1,804,289,383 nodes, a
global ID that decodes to nothing). With these strategies most pass; `fuzz.run` counts both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

#: the share of draws that stay arbitrary (the edges: huge numbers, odd strings)
ARBITRARY = 0.15


@dataclass
class Pool:
    """Values seen in the API's own answers, by kind."""

    ids: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)
    ints: set[int] = field(default_factory=set)
    cursors: set[str] = field(default_factory=set)

    def add(self, answer: Any, key: str | None = None) -> None:
        """Every leaf of a JSON answer: `id` values as IDs, other strings and ints by type."""
        if isinstance(answer, dict):
            for name, value in answer.items():
                self.add(value, name)
        elif isinstance(answer, list):
            for value in answer:
                self.add(value, key)
        elif isinstance(answer, str) and len(answer) <= 80:
            if key == "cursor":
                self.cursors.add(answer)
            (self.ids if key == "id" else self.strings).add(answer)
        elif isinstance(answer, int) and not isinstance(answer, bool):
            self.ints.add(answer)


def _mostly(known: Iterable[Any], arbitrary: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A known value, or now and then (`ARBITRARY`) an arbitrary one."""
    values = sorted(known, key=str)
    if not values:
        return arbitrary
    return st.integers(min_value=0, max_value=99).flatmap(
        lambda roll: arbitrary if roll < ARBITRARY * 100 else st.sampled_from(values)
    )


def register(pool: Pool) -> None:
    """Register the scalar strategies with schemathesis (global: one endpoint at a time)."""
    page_sizes = st.integers(min_value=1, max_value=100)
    years = st.integers(min_value=2020, max_value=2027)
    ints = _mostly(
        pool.ints,
        st.one_of(page_sizes, st.integers(min_value=-(2**31), max_value=2**31 - 1)),
    )
    schemathesis.graphql.scalar("Int", st.one_of(page_sizes, years, ints).map(nodes.Int))
    schemathesis.graphql.scalar("ID", _mostly(pool.ids, st.text(max_size=40)).map(nodes.String))
    schemathesis.graphql.scalar(
        "String", _mostly(pool.strings, st.text(max_size=60)).map(nodes.String)
    )
    money = st.decimals(
        min_value=Decimal(0), max_value=Decimal(10**9), places=2, allow_nan=False
    ).map(str)
    schemathesis.graphql.scalar(
        "Decimal", _mostly({"0", "100.00", "12345.67"}, money).map(nodes.String)
    )
    days = st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31))
    schemathesis.graphql.scalar("Date", days.map(date.isoformat).map(nodes.String))
    moments = st.builds(
        lambda day, minutes: (
            (datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)).isoformat()
            + "+08:00"
        ),
        days,
        st.integers(min_value=0, max_value=24 * 60 - 1),
    )
    schemathesis.graphql.scalar("DateTime", moments.map(nodes.String))
    schemathesis.graphql.scalar(
        "JSON", st.sampled_from([nodes.String("x"), nodes.Int(1), nodes.Null])
    )
    # A JSON request cannot carry a file: an upload argument gets a placeholder the scalar
    # refuses with a clear error (multipart uploads have their own tests).
    schemathesis.graphql.scalar("Upload", st.just(nodes.String("report.pdf")))


def register_plain() -> None:
    """Schemathesis's defaults for the built-in scalars (the baseline of the report); the
    custom ones still need a strategy to be generated at all."""
    from schemathesis.specs.graphql.scalars import CUSTOM_SCALARS

    for name in ("Int", "ID", "String"):
        CUSTOM_SCALARS.pop(name, None)
