"""Overdue rectifications (逾期未整改), stored.

A rectification is due 30 days after its notice is received (S:000). Reads never wait for a
job: an open one past its due date reads OVERDUE at once (`types.Rectification`), and the
dashboard counts it. What this module adds is the stored status, so the record itself — its
audit trail, exports, anything that reads the table — says OVERDUE too: the finance bureau's
`flagOverdueRectifications` mutation, or `flag_overdue_rectifications` from a daily job (the
CLI), writes it, one audited compare-and-set per record. Queries do not write it as a side
effect: a read that writes would need every reader to hold write permission and would audit
reads as writes.
"""

from __future__ import annotations

from datetime import date

import strawberry

from schema.internal import types as t
from schema.internal import writes
from schema.internal.context import Info, InternalContext
from schema.internal.permissions import Action, Caller
from schema.internal.visible import content_subject_ids
from schema.internal.writes import need
from storage import enums, models

#: who a scheduled job acts as: every department, cleared (it must see classified records to
#: flag them; its audit entries about them are classified like any other)
SYSTEM = Caller(subject="system", roles=("admin",), department=None, classified=True)
ACTION = "flagOverdueRectifications"
_STILL_OPEN = [enums.RectificationStatus.OPEN, enums.RectificationStatus.IN_PROGRESS]


async def flag_overdue_rectifications(
    today: date, caller: Caller = SYSTEM
) -> list[models.Rectification]:
    """Store OVERDUE on every open rectification past its due date that `caller` may see;
    returns those it flagged. Safe to rerun: a flagged one is not open any more."""
    return await _flag(InternalContext(caller), today)


async def _flag(ctx: InternalContext, today: date) -> list[models.Rectification]:
    vis = await ctx.visibility()
    due = await models.Rectification.filter(
        finding__evaluation__subject_id__in=await content_subject_ids(vis),
        status__in=_STILL_OPEN,
        due_date__lt=today,
    ).order_by("id")
    flagged = []
    for row in due:
        changes = {"status": enums.RectificationStatus.OVERDUE}
        try:
            flagged.append(await writes.update_versioned(ctx, row, row.version, changes, ACTION))
        except writes.Failed:
            continue  # reported (or flagged) since we read it: its new state stands
    return flagged


@strawberry.type
class OverdueMutations:
    @strawberry.mutation(
        description="Store OVERDUE on open rectifications past their due date (finance bureau)."
    )
    async def flag_overdue_rectifications(self, info: Info) -> t.OverdueResult:
        ctx = info.context

        async def work() -> t.OverdueFlagged:
            need(ctx, Action.RECORD_EVALUATION)
            today = ctx.today()
            flagged = await _flag(ctx, today)
            findings = {
                f.id: f for f in await models.Finding.filter(id__in=[r.finding_id for r in flagged])
            }
            views = [t.Rectification.from_model(r, findings[r.finding_id], today) for r in flagged]
            return t.OverdueFlagged(flagged=len(flagged), rectifications=views)

        result: t.OverdueResult = await writes.guarded(work)
        return result
