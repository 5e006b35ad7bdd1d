"""Release mutations (公开批次): create with an approval date, schedule, check, publish and
withdraw — the last three through the publisher (publishers/releases.py), which does its own
object-store I/O and transactions (D10); the version bump and the audit entry follow it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from tortoise.transactions import in_transaction

from publishers import preview, rules, site
from publishers.releases import (
    Claimed,
    Embargoed,
    NoteRequired,
    NotScheduled,
    ReleaseError,
    ReleaseRefused,
)
from schema.internal import privacy, writes
from schema.internal import types as t
from schema.internal.context import Info, InternalContext
from schema.internal.ids import global_id
from schema.internal.input_rules import FREE_TEXT, argument
from schema.internal.inputs import ReleaseInput
from schema.internal.permissions import Action, Visibility, release_transition
from schema.internal.writes import need
from storage import enums, models, records
from storage.errors import InvalidRecord


def _release_view(ctx: InternalContext, row: models.Release) -> t.Release:
    return t.Release.from_model(row, ctx.today())


@strawberry.type
class ReleaseMutations:
    @strawberry.mutation(description="Create a release; its due date is approval + 20 days.")
    async def create_release(self, info: Info, input: ReleaseInput) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.MANAGE_RELEASE)
            department = None
            if input.department_id is not None:
                department, _ = await writes.department(
                    ctx, input.department_id, Action.MANAGE_RELEASE
                )
                jurisdiction = await models.Jurisdiction.get(id=department.jurisdiction_id)
            else:
                jurisdiction = await writes.jurisdiction(
                    ctx, input.jurisdiction_code, Action.MANAGE_RELEASE
                )
            await writes.refuse_duplicate(
                models.Release,
                "input.kind",
                f"there is a {input.kind.value} release of {input.fiscal_year} for "
                f"{'this department' if department else 'this jurisdiction'} already",
                jurisdiction_id=jurisdiction.id,
                department_id=department.id if department else None,
                kind=input.kind,
                fiscal_year=input.fiscal_year,
            )
            async with in_transaction():
                row = await records.create_release(
                    jurisdiction,
                    kind=input.kind,
                    fiscal_year=input.fiscal_year,
                    approval_date=input.approval_date,
                    department=department,
                )
                await writes.created(ctx, "createRelease", row)
            return t.ReleaseSuccess(release=_release_view(ctx, row))

        return await writes.guarded(work)

    @strawberry.mutation(description="Schedule a release: not public before `publishAt`.")
    async def schedule_release(
        self, info: Info, id: strawberry.ID, version: int, publish_at: datetime
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.MANAGE_RELEASE)
            row, _ = await writes.release(ctx, id, Action.MANAGE_RELEASE)
            if release_transition(row.status, enums.ReleaseStatus.SCHEDULED) is None:
                raise InvalidRecord("id", "release-not-published", "it is published already")
            if publish_at.tzinfo is None:
                raise InvalidRecord("publishAt", "timezone-required", "give a UTC offset")
            changes = {"publish_at": publish_at, "status": enums.ReleaseStatus.SCHEDULED}
            fresh = await writes.update_versioned(ctx, row, version, changes, "scheduleRelease")
            return t.ReleaseSuccess(release=_release_view(ctx, fresh))

        return await writes.guarded(work)

    @strawberry.mutation(description="Check a release: what a publish would carry and refuse.")
    async def check_release(self, info: Info, id: strawberry.ID) -> t.ReleaseCheckResult:
        ctx = info.context

        async def work() -> t.ReleaseCheck:
            need(ctx, Action.MANAGE_RELEASE)
            row, vis = await writes.release(ctx, id, Action.MANAGE_RELEASE)
            publisher = _publisher(ctx)
            selection = await publisher.check(row.id)
            problems = _problems(selection.problems, vis)
            public_style = f"{publisher.base_url or '/open'}/{site.STYLE_KEY}"
            return t.ReleaseCheck(
                release=_release_view(ctx, row),
                ok=not problems,
                records=len(selection.records),
                selected=[
                    t.SelectedRecord(
                        record_type=str(getattr(r.record_type, "value", r.record_type)),
                        key=r.key,
                        name=r.name,
                        department_code=r.department_code,
                    )
                    for r in selection.records
                ],
                files=[f.title for f in selection.files],
                problems=problems,
                render_page=lambda style: preview.release_page(
                    row.id, selection, ctx.clock(), style or public_style
                ),
                **await privacy.decisions(row.id),
            )

        return await writes.guarded(work)

    @strawberry.mutation(
        description="Publish a SCHEDULED release now, or correct a published one (through the "
        "publisher). A correction, a new version with changed content, needs its `note`."
    )
    async def publish_release(
        self,
        info: Info,
        id: strawberry.ID,
        version: int,
        note: Annotated[str | None, argument(FREE_TEXT.max_length, multiline=True)] = None,
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.PUBLISH_RELEASE)
            row, vis = await writes.release(ctx, id, Action.PUBLISH_RELEASE)
            writes.check_version(row, version)
            if release_transition(row.status, enums.ReleaseStatus.PUBLISHED) is None:
                raise InvalidRecord(
                    "id",
                    "release-not-scheduled",
                    f"the release is {row.status.value}: schedule it before publishing (DR-12)",
                )
            publisher = _publisher(ctx)
            try:
                result = await publisher.publish(row.id, note=(note or "").strip() or None)
            except ReleaseRefused as error:
                problems = _problems(error.problems, vis)
                message = "; ".join(f"{p.rule} {p.record}: {p.message}" for p in problems[:20])
                raise InvalidRecord("id", problems[0].rule, message) from None
            except Embargoed:
                raise InvalidRecord(
                    "id", "embargoed", f"the release is embargoed until {row.publish_at}"
                ) from None
            except NoteRequired as error:
                raise InvalidRecord("note", "correction-note-required", str(error)) from None
            except NotScheduled as error:
                raise InvalidRecord("id", "release-not-scheduled", str(error)) from None
            except Claimed:
                raise writes.Failed(
                    t.Conflict(message="another worker is publishing it", current_version=version)
                ) from None
            except ReleaseError as error:
                raise InvalidRecord("id", "release-refused", str(error)) from None
            # The publish wrote its own transactions (objects first, then the flip, D10); the
            # version bump and the audit entry are recorded together once it succeeded.
            fresh = await writes.update_versioned(
                ctx, row, version, {}, f"publishRelease:{result.outcome}"
            )
            return t.ReleaseSuccess(release=_release_view(ctx, fresh))

        return await writes.guarded(work)

    @strawberry.mutation(description="Withdraw what late filings now cover from a release.")
    async def withdraw_release(
        self, info: Info, id: strawberry.ID, version: int
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.PUBLISH_RELEASE)
            row, _ = await writes.release(ctx, id, Action.PUBLISH_RELEASE)
            writes.check_version(row, version)
            if row.status is not enums.ReleaseStatus.PUBLISHED:
                raise InvalidRecord("id", "release-published", "only a published release")
            report = await _publisher(ctx).withdraw([row.id])
            if report.blocked:  # a live worker holds it: nothing of it was withdrawn yet
                raise writes.Failed(
                    t.Conflict(message="another worker is publishing it", current_version=version)
                )
            fresh = await writes.update_versioned(ctx, row, version, {}, "withdrawRelease")
            return t.ReleaseSuccess(release=_release_view(ctx, fresh))

        return await writes.guarded(work)


#: The GraphQL type of each kind of record a check's problem can name (`subject#12`).
_PROBLEM_TYPES = {
    "subject": "Subject",
    "target": "PerformanceTarget",
    "self_assessment": "SelfAssessment",
    "evaluation": "Evaluation",
    "file": "StoredFile",
}


def _problems(problems: Sequence[rules.Problem], vis: Visibility) -> list[t.ReleaseProblem]:
    """A check's problems, with references to records hidden from the caller withheld."""
    hidden = {f"subject#{i}" for i in vis.hidden_subjects()}
    return [
        t.ReleaseProblem(rule=p.rule, record="(withheld)", message=p.message)
        if p.record in hidden
        else t.ReleaseProblem(
            rule=p.rule, record=p.record, message=p.message, record_id=_record_id(p.record)
        )
        for p in problems
    ]


def _record_id(record: str) -> strawberry.ID | None:
    kind, _, number = record.partition("#")
    type_name = _PROBLEM_TYPES.get(kind)
    return None if type_name is None or not number.isdigit() else global_id(type_name, int(number))


def _publisher(ctx: InternalContext) -> Any:
    if ctx.publisher is None:
        raise InvalidRecord("id", "no-object-store", "this server has no object store to publish")
    return ctx.publisher
