"""Aggregates for journalists, computed only from published rows (D7): counts, budget and
executed sums, execution rate and grade distribution, by year, department, budget book or
funding purpose. Filed records have no rows, so they are in no count and no sum."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from publishers.records import KEY_SEPARATOR
from schema import rows
from schema.public import types as t
from schema.public.queries import SubjectFilter, subject_where
from storage import enums
from storage.money import from_fen, half_up


@strawberry.enum(description="What to group statistics by.")
class StatisticsDimension(Enum):
    YEAR = "CAST(d.fiscal_year AS TEXT)"
    # The department key (publishers.records.department_key), built in SQL.
    DEPARTMENT = f"d.jurisdiction_code || '{KEY_SEPARATOR}' || d.department_code"
    BUDGET_BOOK = "d.budget_book"
    FUNDING_PURPOSE = "COALESCE(d.funding_purpose, '')"


@strawberry.type(description="How many self-assessments earned each grade.")
class GradeCounts:
    EXCELLENT: int = strawberry.field(description="优 (90–100).")
    GOOD: int = strawberry.field(description="良 (80–89.99).")
    AVERAGE: int = strawberry.field(description="中 (60–79.99).")
    POOR: int = strawberry.field(description="差 (below 60).")


@strawberry.type(
    description="One group of published subjects. Totals cover published records only and can "
    "differ from the official budget totals (filed records are never counted)."
)
class StatisticsBucket:
    key: str = strawberry.field(description="The group: a year, jurisdiction/department code, …")
    label: str = strawberry.field(description="The group's name in Chinese.")
    subjects: int = strawberry.field(description="Published subjects in the group.")
    budget: Decimal = strawberry.field(
        description="Sum of 全年预算数 (年初预算数 where only the budget is published), 元."
    )
    executed: Decimal | None = strawberry.field(
        description="Sum of 全年执行数 over subjects whose final accounts are published, 元."
    )
    executionRate: Decimal | None = strawberry.field(
        description="executed / budget of the same subjects, percent, two places."
    )
    assessed: int = strawberry.field(description="Subjects with a published self-assessment.")
    grades: GradeCounts = strawberry.field(description="Self-assessment grade distribution.")


async def statistics(
    groupBy: StatisticsDimension,
    filter: SubjectFilter | None,
    source: rows.Source = rows.CURRENT_ROWS,
) -> list[dict[str, Any]]:
    group = groupBy.value
    where = subject_where(filter)
    where.add("d.record_type = 'SUBJECT'")
    where.add(rows.CURRENT)
    totals = await rows.fetch(
        f"SELECT {group} AS k, COUNT(*) AS n, SUM(d.budget_fen) AS budget,"
        " SUM(CASE WHEN d.executed_fen IS NOT NULL THEN d.budget_fen END) AS executed_budget,"
        f" SUM(d.executed_fen) AS executed FROM disclosure d WHERE {where.sql()} GROUP BY 1",
        where.params,
        source,
    )
    grades = await rows.fetch(
        f"SELECT {group} AS k, a.grade AS grade, COUNT(*) AS n FROM disclosure a"
        f" JOIN disclosure d ON d.record_key = a.subject_key"
        f" WHERE a.record_type = 'SELF_ASSESSMENT' AND {rows.current('a')} AND {where.sql()}"
        " GROUP BY 1, 2",
        where.params,
        source,
    )
    by_group: dict[str, dict[str, int]] = {}
    for row in grades:
        by_group.setdefault(str(row["k"]), {})[str(row["grade"])] = int(row["n"])
    labels = await _labels(groupBy, [str(r["k"]) for r in totals], source)
    buckets = []
    for row in sorted(totals, key=lambda r: str(r["k"])):
        key = str(row["k"])
        counts = by_group.get(key, {})
        executed = row["executed"]
        base = row["executed_budget"]
        rate = (
            half_up(Decimal(int(executed)) * 100 / Decimal(int(base)))
            if executed is not None and base
            else None
        )
        buckets.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "subjects": int(row["n"]),
                "budget": from_fen(int(row["budget"] or 0)),
                "executed": None if executed is None else from_fen(int(executed)),
                "executionRate": rate,
                "assessed": sum(counts.values()),
                "grades": {g.value: counts.get(g.value, 0) for g in enums.Grade},
            }
        )
    return buckets


async def _labels(
    dimension: StatisticsDimension, keys: list[str], source: rows.Source
) -> dict[str, str]:
    match dimension:
        case StatisticsDimension.YEAR:
            return {k: f"{k}年" for k in keys}
        case StatisticsDimension.DEPARTMENT:
            found = await rows.current_by_keys(enums.RecordType.DEPARTMENT, keys, source)
            return {k: str(v["name"]) for k, v in found.items()}
        case StatisticsDimension.BUDGET_BOOK:
            return {k: enums.BudgetBook(k).label for k in keys if k}
        case StatisticsDimension.FUNDING_PURPOSE:
            return {k: enums.FundingPurpose(k).label if k else "未分类" for k in keys}


__all__ = ["StatisticsBucket", "StatisticsDimension", "statistics", "t"]
