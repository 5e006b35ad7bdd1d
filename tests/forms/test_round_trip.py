"""Export → import of every demo department's forms changes no record: the forms read back
equal to the forms written, field by field, and the import finds every form unchanged and
writes nothing (the town on SQLite, the district on PostgreSQL; the latest demo year, to keep
the district within the suite's time)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from forms import from_storage
from forms.model import Form, Line
from forms.read import read_workbook
from forms.write import workbook_bytes
from schema.internal import visible
from schema.internal.context import InternalContext
from schema.internal.imports import import_forms
from schema.internal.permissions import visibility
from storage import database, models
from storage.enums import DepartmentTier
from tests.conftest import Databases
from tests.forms.conftest import ADMIN

YEAR = 2024
SKIPPED = {"file", "sheet", "cells"}


def _fields(item: Form | Line) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item) if f.name not in SKIPPED}


async def _state() -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every record the forms carry, as stored."""
    tables = (
        models.Subject,
        models.PerformanceTarget,
        models.Indicator,
        models.SelfAssessment,
        models.SelfAssessmentRow,
    )
    state = {}
    for table in tables:
        rows = await table.all().order_by("id").values()
        state[table.__name__] = [tuple(sorted(row.items())) for row in rows]
    return state


async def test_export_then_import_of_every_demo_department_changes_nothing(
    databases: Databases, demo_template: str
) -> None:
    url = await databases.copy(demo_template)
    async with database.connected(url):
        before = await _state()
        audit_before = await models.AuditEntry.all().count()
        vis = await visibility(ADMIN)
        departments = await models.Department.filter(tier=DepartmentTier.DEPARTMENT).order_by(
            "code"
        )
        written: list[Form] = []
        results = []
        for department in departments:
            subjects = (
                await visible.content_subjects(vis)
                .filter(department_id=department.id, fiscal_year=YEAR)
                .order_by("kind", "code")
            )
            forms = await from_storage.target_forms(subjects)
            forms += await from_storage.assessment_forms(subjects)
            if not forms:
                continue  # a department under a whole-department filing: nothing to show
            name = f"{department.code}.xlsx"
            result = read_workbook(workbook_bytes(forms), name)
            assert result.problems == []
            assert len(result.forms) == len(forms)
            for sent, got in zip(forms, result.forms, strict=True):
                assert _fields(got) | {"lines": None} == _fields(sent) | {"lines": None}
                assert [_fields(x) for x in got.lines] == [_fields(x) for x in sent.lines]
            written += forms
            results.append(result)

        outcome = await import_forms(InternalContext(caller=ADMIN), results)

        assert outcome.problems == []
        assert outcome.forms == len(written) > 100
        assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, len(written))
        assert not outcome.stored
        assert await _state() == before
        assert await models.AuditEntry.all().count() == audit_before
    await databases.drop(url)
