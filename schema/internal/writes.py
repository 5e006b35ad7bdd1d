"""The steps every internal mutation shares: the role check, the lookup through the caller's
visibility, the versioned write with its audit entry in one transaction, and the mapping of
expected failures to typed results.

A mutation's body runs inside `guarded`: the helpers here raise `Failed` (carrying a result)
or `InvalidRecord`, and `guarded` turns either into the result the client gets, after the
transaction rolled back — so a refused write changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from tortoise.exceptions import IntegrityError, ValidationError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from schema.internal import audit, ids
from schema.internal import types as t
from schema.internal.context import InternalContext
from schema.internal.permissions import Action, Visibility, allows
from storage import models
from storage.enums import ReviewStatus
from storage.errors import InvalidRecord
from storage.money import yuan

R = TypeVar("R")
M = TypeVar("M", bound=models.VersionedModel)
V = TypeVar("V", bound=Model)
#: a row that belongs to a subject (content, in D6's sense)
C = TypeVar(
    "C",
    models.PerformanceTarget,
    models.MonitoringRecord,
    models.ExAnteAssessment,
    models.Evaluation,
)
Snapshot = dict[str, Any]

#: a target's goal and indicators change only before review or after a rejection
EDITABLE_TARGETS = frozenset({ReviewStatus.DRAFT, ReviewStatus.REJECTED})

STUB_MESSAGE = (
    "this subject is under a CLASSIFIED filing (涉密): gongkai keeps only its identity stub and "
    "refuses its content — targets, amounts, assessments and files (decisions.md D6)"
)


class Failed(Exception):
    """Carries a failure result out of a transaction, which it rolls back."""

    def __init__(self, result: Any) -> None:
        super().__init__(type(result).__name__)
        self.result = result


def forbidden(action: Action) -> Failed:
    return Failed(t.Forbidden(message=f"forbidden: your roles do not allow `{action.value}` here"))


def not_found(kind: str, id: object) -> Failed:
    # The message repeats what the caller sent and nothing else: no name, no department.
    return Failed(t.NotFound(message=f"no {kind} with id {id} that you may see"))


def stale(version: int, current: int) -> Failed:
    return Failed(
        t.Conflict(
            message=f"stale version {version}: reload the record and apply your change again",
            current_version=current,
        )
    )


def need(ctx: InternalContext, action: Action) -> None:
    """The role half of the check, before any lookup: a role without the action is refused
    the same way whether or not the record exists."""
    if not allows(ctx.caller, action):
        raise forbidden(action)


def check_version(row: models.VersionedModel, version: int) -> None:
    """An early stale-version answer, for writes that do work before their compare-and-set
    (a review step's checks, a publish's object-store I/O); the compare-and-set still guards
    the race."""
    if row.version != version:
        raise stale(version, row.version)


async def guarded(work: Callable[[], Awaitable[R]]) -> R | Any:
    """Run a write; turn the expected failures into results (the transaction rolled back)."""
    try:
        return await work()
    except Failed as failure:
        return failure.result
    except InvalidRecord as error:
        return t.InvalidInput(field=error.field, rule=error.rule, message=error.message)
    except IntegrityError:
        # Each creating mutation checks its unique identifiers first (`refuse_duplicate`), naming
        # the field; this is the same answer for a twin written at the same moment.
        return t.InvalidInput(
            field="input",
            rule="unique",
            message="a record with these identifiers was just written by someone else: reload",
        )
    except ValidationError as error:
        # A value a column cannot hold that no input rule caught (input_rules.py): named by its
        # column, never echoed (tortoise's message repeats the value).
        column = str(error).split(":", 1)[0].strip() or "input"
        return t.InvalidInput(
            field=column, rule="column-constraint", message="the value does not fit its column"
        )


async def refuse_duplicate(model: type[Model], field: str, message: str, **identity: Any) -> None:
    """The unique constraint of `model` over `identity`, checked before the write so that the
    caller learns which field makes the twin: `field` and `message` say it."""
    if await model.filter(**identity).exists():
        raise InvalidRecord(field, "unique", message)


# --- writes ----------------------------------------------------------------------------------


async def compare_and_set(
    ctx: InternalContext, row: M, version: int, changes: dict[str, Any]
) -> bool:
    """UPDATE … WHERE id = ? AND version = ?: False when someone wrote first."""
    count = (
        await type(row)
        .filter(id=row.id, version=version)
        .update(**changes, version=version + 1, updated_at=ctx.clock())
    )
    return count > 0


async def update_versioned(
    ctx: InternalContext,
    row: M,
    version: int,
    changes: dict[str, Any],
    action: str,
    *,
    classified: bool = False,
    also: Callable[[], Awaitable[None]] | None = None,
    detail: Callable[[M], Awaitable[Snapshot]] | None = None,
) -> M:
    """The one way an existing record changes: compare-and-set on `version`, then `also` (writes
    to related rows, such as a target's indicators), then the audit entry — one transaction.
    `detail` adds related rows to the audited before/after. Returns the row as stored."""
    before = audit.snapshot(row) | (await detail(row) if detail else {})
    async with in_transaction():
        if not await compare_and_set(ctx, row, version, changes):
            current = await type(row).get_or_none(id=row.id)
            raise stale(version, current.version if current else 0)
        if also is not None:
            await also()
        fresh = await type(row).get(id=row.id)
        after = audit.snapshot(fresh) | (await detail(fresh) if detail else {})
        await audit.record(
            ctx.caller,
            action,
            fresh,
            before=before,
            after=after,
            classified=classified,
            request_id=ctx.request_id,
        )
    return fresh


async def created(
    ctx: InternalContext,
    action: str,
    row: Model,
    *,
    classified: bool = False,
    extra: Snapshot | None = None,
) -> None:
    """The audit entry of a new record; call it inside the transaction that created it."""
    after = audit.snapshot(row) | (extra or {})
    await audit.record(
        ctx.caller,
        action,
        row,
        before=None,
        after=after,
        classified=classified,
        request_id=ctx.request_id,
    )


def patch_changes(values: dict[str, Any]) -> dict[str, Any]:
    """The fields a patch sets: an omitted (null) field stays as it is."""
    return {name: value for name, value in values.items() if value is not None}


def money(field: str, value: Decimal) -> Decimal:
    try:
        return yuan(value)
    except ValueError as error:
        raise InvalidRecord(field, "money-two-places", str(error)) from None


def score(value: Decimal | None, field: str = "score") -> Decimal | None:
    """A score out of 100 with at most two decimal places."""
    if value is None:
        return None
    if not (0 <= value <= 100) or value != value.quantize(Decimal("0.01")):
        raise InvalidRecord(field, "score-range", "a score lies in 0–100 with two places")
    return value.quantize(Decimal("0.01"))


# --- lookups through the caller's visibility ---------------------------------------------------
# What the caller may not read is "not found", worded exactly as for a missing id; what it may
# read but not change is "forbidden".


async def by_global_id(model: type[V], id: strawberry.ID | None) -> V | None:
    """The row a global ID of this model's type names, if there is one."""
    pk = ids.pk_of(id, model.__name__)
    return await model.get_or_none(id=pk) if pk is not None else None


async def jurisdiction(
    ctx: InternalContext, code: str | None, action: Action
) -> models.Jurisdiction:
    """A jurisdiction by code, for a write above any one department (scope ALL only)."""
    vis = await ctx.visibility()
    if not vis.in_scope(action, None):
        raise forbidden(action)
    found = await models.Jurisdiction.get_or_none(code=code)
    if found is None:
        raise not_found("jurisdiction", code)
    return found


async def department(
    ctx: InternalContext, id: strawberry.ID | None, action: Action
) -> tuple[models.Department, Visibility]:
    vis = await ctx.visibility()
    row = await by_global_id(models.Department, id)
    if row is None or not vis.can_read_department(row):
        raise not_found("department", id)
    if not vis.in_scope(action, row.id):
        raise forbidden(action)
    return row, vis


async def subject(
    ctx: InternalContext, id: strawberry.ID | None, action: Action
) -> tuple[models.Subject, Visibility]:
    vis = await ctx.visibility()
    row = await by_global_id(models.Subject, id)
    if row is None or not vis.can_read_subject(row):
        raise not_found("subject", id)
    if not vis.in_scope(action, row.department_id):
        raise forbidden(action)
    return row, vis


async def subject_for_content(
    ctx: InternalContext, id: strawberry.ID | None, action: Action
) -> models.Subject:
    """The subject new content is recorded for: found as `subject` finds it, and refused when
    it is a CLASSIFIED stub, which keeps no content (D6)."""
    row, vis = await subject(ctx, id, action)
    if vis.is_stub(row.id):
        raise InvalidRecord("subjectId", "classified-stub-only", STUB_MESSAGE)
    return row


async def subject_content(
    ctx: InternalContext, model: type[C], id: strawberry.ID, action: Action, kind: str
) -> tuple[C, models.Subject]:
    """A row that belongs to a subject: found when its subject may be read and is no stub (a
    CLASSIFIED subject has no content for anyone, D6)."""
    row = await by_global_id(model, id)
    if row is None:
        raise not_found(kind, id)
    owner, _ = await _owning_subject(ctx, row.subject_id, id, action, kind)
    return row, owner


async def _owning_subject(
    ctx: InternalContext, subject_id: int, id: object, action: Action, kind: str
) -> tuple[models.Subject, Visibility]:
    try:
        owner, vis = await subject(ctx, ids.global_id("Subject", subject_id), action)
    except Failed as failure:
        if isinstance(failure.result, t.NotFound):
            raise not_found(kind, id) from None
        raise
    if vis.is_stub(owner.id):
        raise not_found(kind, id)
    return owner, vis


async def rectification(
    ctx: InternalContext, id: strawberry.ID, action: Action
) -> tuple[models.Rectification, models.Finding]:
    row = await by_global_id(models.Rectification, id)
    if row is None:
        raise not_found("rectification", id)
    finding = await models.Finding.get(id=row.finding_id).prefetch_related("evaluation")
    await _owning_subject(ctx, finding.evaluation.subject_id, id, action, "rectification")
    return row, finding


async def release(
    ctx: InternalContext, id: strawberry.ID, action: Action
) -> tuple[models.Release, Visibility]:
    vis = await ctx.visibility()
    row = await by_global_id(models.Release, id)
    if row is None or row.department_id in vis.hidden_departments():
        raise not_found("release", id)
    if not vis.in_scope(Action.READ, row.department_id):
        raise not_found("release", id)
    if not vis.in_scope(action, row.department_id):
        raise forbidden(action)
    return row, vis


async def filing(
    ctx: InternalContext, id: strawberry.ID, action: Action
) -> tuple[models.SensitivityFiling, Visibility]:
    vis = await ctx.visibility()
    row = await by_global_id(models.SensitivityFiling, id)
    if row is None or not vis.in_scope(Action.READ, row.department_id):
        raise not_found("filing", id)
    if row.id in vis.hidden_filings([(row.id, row.department_id)]):
        raise not_found("filing", id)
    if not vis.in_scope(action, row.department_id):
        raise forbidden(action)
    return row, vis
