"""The public schema object: types, root query, limits and caches."""

from __future__ import annotations

from operator import getitem
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema import limits
from schema.public import types as t
from schema.public.as_of import PublishedAsOf, as_of
from schema.public.queries import Query as ListQueries
from schema.public.queries import SubjectFilter
from schema.public.statistics import StatisticsBucket, StatisticsDimension, statistics


@strawberry.type(description="Published budget-performance information (预算绩效信息公开).")
class Query(ListQueries):
    @strawberry.field(
        description="Counts, sums, execution rate and grade distribution of published subjects, "
        "grouped by one dimension. Covers published records only (D7)."
    )
    async def statistics(
        self,
        groupBy: StatisticsDimension,
        filter: SubjectFilter | None = None,
    ) -> list[StatisticsBucket]:
        return await statistics(groupBy, filter)

    asOf: PublishedAsOf = strawberry.field(
        resolver=as_of,
        description="What was public at the end of a past day (Asia/Shanghai): the root lists, "
        "`node` and `statistics` as they were then. Records keep their `versions`; a withdrawn "
        "record is answered for no day.",
    )


def build(*, production: bool = False) -> strawberry.Schema:
    """The public schema. In production, errors are masked (always) and introspection is off."""
    extensions: list[Any] = limits.extensions()
    if production:
        from strawberry.extensions import DisableIntrospection

        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        types=t.NODE_TYPES,
        extensions=extensions,
        # Field names are the published JSON keys; plain fields read the snapshot dicts.
        config=StrawberryConfig(
            auto_camel_case=False, default_resolver=getitem, scalar_map=t.SCALARS
        ),
    )
