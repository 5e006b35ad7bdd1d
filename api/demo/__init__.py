"""`gongkai demo`: a deterministic synthetic data set (演示数据) of fictitious jurisdictions.

A town (示例镇: ~25 departments, 18 units, ~190–260 projects a year), a district (示例区: 60
departments with their units, ~2,000 projects a year), or a city (示例市 and its sixteen
districts, ~100,000 subjects a year), with the proportions of domain.md §7: targets and
indicators, self-assessments scored by `storage.scoring`, monitoring, ex-ante assessments,
finance key and department evaluations with Chinese PDF reports, sensitivity filings, the
releases of every year and the finance authority's annual statements. Every name is invented and
every file says 演示数据 (decisions.md D4). The same seed gives the same data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tortoise import connections

from api.demo import leaks
from api.demo.context import Context
from api.demo.fingerprint import fingerprint
from api.demo.generator import run
from api.demo.scales import jurisdictions
from api.demo.store import LINKS, TABLES, Batch, Ids, table_name
from storage import database, models

__all__ = ["fingerprint", "generate"]


async def generate(
    scale: str,
    seed: int = 1,
    years: tuple[int, int] = (2022, 2024),
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write the demo data set into the database Tortoise is connected to; returns the rows
    written per table. Refuses a jurisdiction that is already there."""
    specs = jurisdictions(scale)
    first, last = years
    if not 2001 <= first <= last <= 2099:
        raise ValueError(f"years must be an ascending range within 2001–2099, not {years}")
    for spec in specs:
        if await models.Jurisdiction.filter(code=spec.code).exists():
            raise ValueError(f"the demo jurisdiction {spec.name} ({spec.code}) is loaded already")
    counts: Counter[str] = Counter()
    # One jurisdiction after another, each written year by year: memory stays that of one.
    for spec in specs:
        parent = await models.Jurisdiction.get(code=spec.parent) if spec.parent else None
        ctx = Context(spec, seed, first, last, await Ids.load(), Batch())
        ctx.parent_id = parent.id if parent else None
        await run(ctx, progress or (lambda message: None))
        await leaks.plant(spec.code)
        counts.update(ctx.batch.counts)
    tables = [table_name(model) for model in TABLES] + list(LINKS)
    if database.dialect() == "postgres":
        # A bulk load leaves the planner believing the tables empty until autovacuum comes
        # round; with those estimates one join of the publisher's took seconds instead of ms.
        await connections.get("default").execute_script(
            "; ".join(f'ANALYZE "{table}"' for table in tables)
        )
    return {table: counts.get(table, 0) for table in tables}
