"""Writing the demo rows fast: explicit primary keys, validation, bulk inserts.

`bulk_create` sends each batch through the driver's executemany and never reads back generated
keys (tortoise-orm 1.1.9, on SQLite and PostgreSQL alike), so the generator assigns every id
itself, which also makes the ids deterministic.
It also bypasses `Model.save()`, so `Batch.add` runs the same single-record checks the models
run on save. On PostgreSQL the id sequences are moved past the explicit ids afterwards, or
the next ordinary insert would collide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from storage import database, models, validation

#: Insert order: every table after the tables its rows point at.
TABLES: tuple[type[Model], ...] = (
    models.Jurisdiction,
    models.Department,
    models.Subject,
    models.PerformanceTarget,
    models.Indicator,
    models.ExAnteAssessment,
    models.MonitoringRecord,
    models.SelfAssessment,
    models.SelfAssessmentRow,
    models.FileContent,
    models.StoredFile,
    models.Evaluation,
    models.EvaluationReport,
    models.Finding,
    models.Rectification,
    models.SensitivityFiling,
    models.AnnualStatement,
    models.Release,
)

#: Many-to-many through tables (storage/migrations/0001_initial.py): the two columns and the
#: models they point at.
LINKS: dict[str, tuple[tuple[str, type[Model]], tuple[str, type[Model]]]] = {
    "evaluation_report_annex": (
        ("evaluation_report_id", models.EvaluationReport),
        ("storedfile_id", models.StoredFile),
    ),
    "sensitivity_filing_project": (
        ("sensitivity_filing_id", models.SensitivityFiling),
        ("subject_id", models.Subject),
    ),
}

CHECKS: dict[type[Model], Callable[[Any], None]] = {
    models.Department: lambda d: validation.check_department_tier(d.tier, d.parent_id),
    models.Subject: validation.check_subject,
    models.Indicator: validation.check_indicator,
    models.Evaluation: lambda e: validation.check_evaluation_grade(e.score, e.grade),
    models.Release: validation.check_release,
}

BATCH_SIZE = 1000


def table_name(model: type[Model]) -> str:
    return model._meta.db_table


class Ids:
    """Hands out primary keys after the largest one each table holds."""

    def __init__(self, last: dict[type[Model], int]) -> None:
        self._last = last

    @classmethod
    async def load(cls) -> Ids:
        conn = connections.get("default")
        last: dict[type[Model], int] = {}
        for model in TABLES:
            if model is models.FileContent:
                continue
            rows = await conn.execute_query_dict(
                f'SELECT MAX(id) AS last FROM "{table_name(model)}"'  # noqa: S608 - fixed names
            )
            last[model] = int(rows[0]["last"] or 0)
        return cls(last)

    def take(self, model: type[Model]) -> int:
        self._last[model] += 1
        return self._last[model]


class Batch:
    """Validated rows waiting to be inserted, with the counts of everything written so far."""

    def __init__(self) -> None:
        self._rows: dict[type[Model], list[Model]] = {model: [] for model in TABLES}
        self._links: dict[str, list[tuple[int, int]]] = {table: [] for table in LINKS}
        self._files: set[str] = set()
        self.counts: dict[str, int] = {}

    def add(self, row: Model) -> None:
        check = CHECKS.get(type(row))
        if check is not None:
            check(row)
        self._rows[type(row)].append(row)

    def add_file(self, sha256: str, data: bytes) -> None:
        """File bytes, once per content (`FileContent` is keyed by its sha256)."""
        if sha256 not in self._files:
            self._files.add(sha256)
            self.add(models.FileContent(sha256=sha256, data=data))

    def link(self, table: str, left: int, right: int) -> None:
        self._links[table].append((left, right))

    async def flush(self) -> None:
        """Insert everything added since the last flush, in one transaction."""
        async with in_transaction() as conn:
            for model, rows in self._rows.items():
                if rows:
                    await model.bulk_create(
                        rows,
                        batch_size=BATCH_SIZE,
                        # Identical bytes may already be stored by an earlier upload.
                        ignore_conflicts=model is models.FileContent,
                        using_db=conn,
                    )
                    self._count(table_name(model), len(rows))
                    rows.clear()
            postgres = database.dialect() == "postgres"
            for table, pairs in self._links.items():
                if pairs:
                    (left, _), (right, _) = LINKS[table]
                    marks = "$1, $2" if postgres else "?, ?"
                    await conn.execute_many(
                        f'INSERT INTO "{table}" ("{left}", "{right}") VALUES ({marks})',  # noqa: S608
                        [list(pair) for pair in pairs],
                    )
                    self._count(table, len(pairs))
                    pairs.clear()

    def _count(self, table: str, rows: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + rows


async def reset_sequences() -> None:
    """PostgreSQL: let each id sequence continue after the largest id (explicit ids leave the
    sequences behind). SQLite's AUTOINCREMENT follows explicit ids by itself."""
    if database.dialect() != "postgres":
        return
    conn = connections.get("default")
    for model in TABLES:
        if model is models.FileContent:
            continue
        table = table_name(model)
        await conn.execute_script(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), MAX(id)) "  # noqa: S608
            f'FROM "{table}" HAVING MAX(id) IS NOT NULL'
        )
