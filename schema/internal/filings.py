"""Sensitivity filings (涉密/敏感备案): the finance bureau records them and may revoke one; the
filing department may withdraw its own. A filing is active until withdrawn or revoked (D5), and
while active it hides what it covers from every release.

Ending a filing makes its records publishable by the next release that carries them, so it is
never a side effect: it is these two mutations, audited, and ending a CLASSIFIED filing needs
the classified clearance just as filing one does.
"""

from __future__ import annotations

import strawberry
from tortoise.transactions import in_transaction

from schema.internal import types as t
from schema.internal import writes
from schema.internal.context import Info, InternalContext
from schema.internal.inputs import FilingInput
from schema.internal.nodes import project_ids
from schema.internal.permissions import Action
from schema.internal.writes import need
from storage import enums, records
from storage.errors import InvalidRecord

CLEARANCE_NEEDED = "a CLASSIFIED filing needs the classified clearance"


@strawberry.type
class FilingMutations:
    @strawberry.mutation(description="File a sensitivity filing (finance officer).")
    async def file_filing(self, info: Info, input: FilingInput) -> t.FilingResult:
        ctx = info.context

        async def work() -> t.FilingSuccess:
            need(ctx, Action.FILE_FILING)
            classified = input.reason is enums.FilingReason.CLASSIFIED
            if classified and not ctx.caller.classified:
                raise writes.Failed(t.Forbidden(message=CLEARANCE_NEEDED))
            department, _ = await writes.department(ctx, input.department_id, Action.FILE_FILING)
            projects = [
                (await writes.subject(ctx, p, Action.FILE_FILING))[0] for p in input.project_ids
            ]
            async with in_transaction():
                row = await records.file_filing(
                    department,
                    fiscal_year=input.fiscal_year,
                    scope=input.scope,
                    reason=input.reason,
                    reference=input.reference,
                    filed_with=input.filed_with,
                    filed_at=input.filed_at,
                    projects=projects,
                )
                extra = {"projects": [p.id for p in projects]}
                await writes.created(ctx, "fileFiling", row, classified=classified, extra=extra)
            await ctx.visibility(fresh=True)
            view = t.SensitivityFiling.from_model(row, [p.id for p in projects])
            return t.FilingSuccess(filing=view)

        return await writes.guarded(work)

    @strawberry.mutation(
        description="The filing department withdraws its own filing (已撤回); no longer active."
    )
    async def withdraw_filing(self, info: Info, id: strawberry.ID, version: int) -> t.FilingResult:
        return await _end(
            info.context, id, version, Action.WITHDRAW_FILING, enums.FilingStatus.WITHDRAWN
        )

    @strawberry.mutation(
        description="The finance bureau revokes a filing (已撤销); no longer active."
    )
    async def revoke_filing(self, info: Info, id: strawberry.ID, version: int) -> t.FilingResult:
        return await _end(info.context, id, version, Action.FILE_FILING, enums.FilingStatus.REVOKED)


async def _end(
    ctx: InternalContext,
    id: strawberry.ID,
    version: int,
    action: Action,
    status: enums.FilingStatus,
) -> t.FilingResult:
    name = "withdrawFiling" if status is enums.FilingStatus.WITHDRAWN else "revokeFiling"

    async def work() -> t.FilingSuccess:
        need(ctx, action)
        row, _ = await writes.filing(ctx, id, action)
        classified = row.reason is enums.FilingReason.CLASSIFIED
        if classified and not ctx.caller.classified:
            raise writes.Failed(t.Forbidden(message=CLEARANCE_NEEDED))
        if row.status not in enums.ACTIVE_FILING_STATUSES:
            raise InvalidRecord(
                "status", "filing-active", f"the filing is {row.status.value} already"
            )
        fresh = await writes.update_versioned(
            ctx, row, version, {"status": status}, name, classified=classified
        )
        await ctx.visibility(fresh=True)
        projects = await project_ids([row.id])
        return t.FilingSuccess(filing=t.SensitivityFiling.from_model(fresh, projects[row.id]))

    result: t.FilingResult = await writes.guarded(work)
    return result
