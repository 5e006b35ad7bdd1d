"""`node(id:)` and `nodes(ids:)`: any record by its global ID, through the same visibility as the
lists. A record the caller may not see — another department's, one under a CLASSIFIED filing,
content of a stub — is null exactly like a missing one or a malformed ID: no error, no message.
The lookups by id (`department(id:)`, `subject(id:)` …) are the same resolution, typed.

IDs are grouped by type, so a `nodes` list costs one query per type, not one per ID.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from schema.internal import ids
from schema.internal import types as t
from schema.internal.context import InternalContext
from schema.internal.permissions import Action, Visibility, allows
from schema.internal.visible import (
    audit_query,
    content_subject_filter,
    departments_query,
    filings_query,
    releases_query,
    subjects_query,
    visible_file_ids,
)
from storage import models

N = TypeVar("N", bound=t.Node)
ContentModel = (
    models.PerformanceTarget
    | models.SelfAssessment
    | models.MonitoringRecord
    | models.ExAnteAssessment
    | models.Evaluation
)
Found = Mapping[int, t.Node]
Loader = Callable[[InternalContext, Visibility, list[int]], Awaitable[Found]]


async def _departments(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await departments_query(vis).filter(id__in=pks)
    return {r.id: t.Department.from_model(r) for r in rows}


async def _subjects(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await subjects_query(vis).filter(id__in=pks)
    return {r.id: t.Subject.from_model(r, stub=vis.is_stub(r.id)) for r in rows}


def _content(model: type[ContentModel], build: Callable[[Any], t.Node]) -> Loader:
    """A loader of rows that belong to a subject: none of a stub's, none the caller can't see."""

    async def load(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
        rows = await model.filter(id__in=pks, subject_id__in=content_subject_filter(vis))
        return {r.id: build(r) for r in rows}

    return load


async def _reports(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await models.EvaluationReport.filter(
        id__in=pks, evaluation__subject_id__in=content_subject_filter(vis)
    ).prefetch_related("main_text", "annexes")
    return {r.id: t.EvaluationReport.from_model(r, r.main_text, list(r.annexes)) for r in rows}


async def _rectifications(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await models.Rectification.filter(
        id__in=pks, finding__evaluation__subject_id__in=content_subject_filter(vis)
    ).prefetch_related("finding")
    today = ctx.today()
    return {r.id: t.Rectification.from_model(r, r.finding, today) for r in rows}


async def _filings(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await (await filings_query(vis)).filter(id__in=pks)
    projects = await project_ids([r.id for r in rows])
    return {r.id: t.SensitivityFiling.from_model(r, projects[r.id]) for r in rows}


async def _releases(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await releases_query(vis).filter(id__in=pks)
    today = ctx.today()
    return {r.id: t.Release.from_model(r, today) for r in rows}


async def _files(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    rows = await models.StoredFile.filter(id__in=list(await visible_file_ids(vis, pks)))
    return {r.id: t.StoredFile.from_model(r) for r in rows}


async def _audit_entries(ctx: InternalContext, vis: Visibility, pks: list[int]) -> Found:
    if not allows(ctx.caller, Action.READ_AUDIT):
        return {}
    rows = await (await audit_query(vis)).filter(id__in=pks)
    return {r.id: t.AuditEntry.from_model(r) for r in rows}


#: GraphQL type name (the first part of a global ID) → how to load visible ones
LOADERS: dict[str, Loader] = {
    "Department": _departments,
    "Subject": _subjects,
    "PerformanceTarget": _content(models.PerformanceTarget, t.PerformanceTarget.from_model),
    "SelfAssessment": _content(models.SelfAssessment, t.SelfAssessment.from_model),
    "MonitoringRecord": _content(models.MonitoringRecord, t.MonitoringRecord.from_model),
    "ExAnteAssessment": _content(models.ExAnteAssessment, t.ExAnteAssessment.from_model),
    "Evaluation": _content(models.Evaluation, t.Evaluation.from_model),
    "EvaluationReport": _reports,
    "Rectification": _rectifications,
    "SensitivityFiling": _filings,
    "Release": _releases,
    "StoredFile": _files,
    "AuditEntry": _audit_entries,
}


async def project_ids(filing_ids: list[int]) -> dict[int, list[int]]:
    """Filing id → the ids of the projects it lists."""
    projects: dict[int, list[int]] = {i: [] for i in filing_ids}
    links = await models.SensitivityFiling.filter(id__in=filing_ids).values_list(
        "id", "projects__id"
    )
    for filing_id, project_id in links:
        if project_id is not None:
            projects[filing_id].append(project_id)
    return projects


async def resolve(ctx: InternalContext, values: Sequence[str]) -> list[t.Node | None]:
    """Each global ID's record, or None where the caller may not see one."""
    parsed = [ids.parse(v) for v in values]
    wanted: dict[str, set[int]] = defaultdict(set)
    for item in parsed:
        if item is not None and item[0] in LOADERS:
            wanted[item[0]].add(item[1])
    vis = await ctx.visibility()
    found = {name: await LOADERS[name](ctx, vis, sorted(pks)) for name, pks in wanted.items()}
    return [None if p is None else found.get(p[0], {}).get(p[1]) for p in parsed]


async def one(ctx: InternalContext, kind: type[N], value: str) -> N | None:
    """A record of one type by its global ID (an ID of another type finds nothing)."""
    if ids.pk_of(value, kind.__name__) is None:
        return None
    node = (await resolve(ctx, [value]))[0]
    return node if isinstance(node, kind) else None
