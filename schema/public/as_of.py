"""`asOf(date:)`: the root lists as they were at the end of a past day (issue 16).

Each list runs the same `ListSpec` and SQL as its root field, over `rows.Source(day)`: every
published version's rows (`disclosure_version`) that were public then. A withdrawn record has
no row there, so it answers for no day at all. Its nodes carry the day, and their relations
are read as of the same day (`Context.loaders_of`).

The search filter is not answered here: the search index covers the current rows only.
"""

from __future__ import annotations

import inspect
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from publishers import history
from schema import rows
from schema.context import Context
from schema.pagination import PageRequest, page
from schema.public import queries as q
from schema.public import types as t
from schema.public.statistics import StatisticsBucket, StatisticsDimension, statistics

#: The first day anything could have been published: earlier days answer empty lists anyway,
#: but a year like 0001 is more likely a typing slip, which deserves a clear refusal.
FIRST_DAY = date(2000, 1, 1)


def parse_day(value: str) -> int:
    """`asOf`'s date as YYYYMMDD, or a `BadInput` naming it."""
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise rows.BadInput(f"`asOf(date:)`: not a date (YYYY-MM-DD): {value!r}")
    if day < FIRST_DAY:
        raise rows.BadInput(f"`asOf(date:)`: {value} is before {FIRST_DAY.isoformat()}")
    return history.day_number(day)


def _no_search(filter: Any) -> None:
    if getattr(filter, "search", None) is not None:
        raise rows.BadInput(
            "`filter.search` is answered for the current records only, not `asOf` a day"
        )


def _source(root: Any) -> rows.Source:
    return rows.Source(int(root["_day"]))


def past_list(name: str) -> q.RootList:
    """The root list `name`, answered from the rows of the day of its parent (`asOf`): the
    same arguments as the root field (strawberry reads them from the signature)."""
    spec_of = q.SPECS[name]
    own = list(inspect.signature(spec_of).parameters.values())

    async def resolver(root: Any, **arguments: Any) -> dict[str, Any]:
        request = PageRequest(**{p.name: arguments.pop(p.name, None) for p in q.PAGE_ARGUMENTS})
        _no_search(arguments.get("filter"))
        spec = spec_of(**arguments)
        found = await page(
            spec.record_type, spec.where, spec.order, spec.descending, request, _source(root)
        )
        return q.connection(found)

    root = inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    resolver.__signature__ = inspect.Signature([root, *own, *q.PAGE_ARGUMENTS])  # type: ignore[attr-defined]
    # The spec's module: strawberry resolves the filters' annotations there.
    resolver.__module__ = spec_of.__module__
    resolver.__name__ = resolver.__qualname__ = f"{name}_as_of"
    return resolver


async def past_node(root: Any, info: Info[Context, None], id: strawberry.ID) -> t.Node | None:
    record_type, key = rows.parse_node_id(str(id))
    node = {"_day": root["_day"]}
    return await info.context.loaders_of(node).record(record_type).load(key)


def _described(name: str) -> str:
    field = next(f for f in q.Query.__strawberry_definition__.fields if f.python_name == name)
    return f"{field.description} As they were at the end of the day."


@strawberry.type(
    description="What was public at the end of a day (Asia/Shanghai), answered from every "
    "published version's rows: the values of the version public then, without what later "
    "versions added. A withdrawn record is in none of it, on any day."
)
class PublishedAsOf:
    date: t.Date = strawberry.field(description="The day asked for.")
    node: t.Node | None = strawberry.field(
        resolver=past_node, description="A record by its global ID, as it was that day."
    )
    jurisdictions: q.Connection[t.Jurisdiction] = strawberry.field(
        resolver=past_list("jurisdictions"), description=_described("jurisdictions")
    )
    departments: q.Connection[t.Department] = strawberry.field(
        resolver=past_list("departments"), description=_described("departments")
    )
    subjects: q.Connection[t.Subject] = strawberry.field(
        resolver=past_list("subjects"),
        description=_described("subjects") + " `filter.search` is not answered here.",
    )
    targets: q.Connection[t.PerformanceTarget] = strawberry.field(
        resolver=past_list("targets"), description=_described("targets")
    )
    selfAssessments: q.Connection[t.SelfAssessment] = strawberry.field(
        resolver=past_list("selfAssessments"), description=_described("selfAssessments")
    )
    evaluations: q.Connection[t.Evaluation] = strawberry.field(
        resolver=past_list("evaluations"), description=_described("evaluations")
    )
    releases: q.Connection[t.Release] = strawberry.field(
        resolver=past_list("releases"), description=_described("releases")
    )
    annualStatements: q.Connection[t.AnnualStatement] = strawberry.field(
        resolver=past_list("annualStatements"), description=_described("annualStatements")
    )

    @strawberry.field(description="The statistics of the root field, as they were that day.")
    async def statistics(
        self,
        groupBy: StatisticsDimension,
        filter: q.SubjectFilter | None = None,
    ) -> list[StatisticsBucket]:
        _no_search(filter)
        return await statistics(groupBy, filter, _source(self))


def as_of(date: t.Date) -> PublishedAsOf:
    return {"date": date, "_day": parse_day(str(date))}  # type: ignore[return-value]
