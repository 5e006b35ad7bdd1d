"""The per-request context of the internal schema: the caller, what it may see (computed once),
DataLoaders, and the collaborators mutations need (the release publisher, the clock)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.dataloader import DataLoader

from publishers.releases import Publisher
from publishers.rules import SHANGHAI
from schema.internal.permissions import Caller, Visibility, visibility
from storage import models

if TYPE_CHECKING:  # types imports this module for `Info`
    from schema.internal.types import EvaluationReport


def _indicator_loader() -> DataLoader[int, list[models.Indicator]]:
    async def load(target_ids: list[int]) -> list[list[models.Indicator]]:
        found: dict[int, list[models.Indicator]] = defaultdict(list)
        for row in await models.Indicator.filter(target_id__in=target_ids).order_by("position"):
            found[row.target_id].append(row)
        return [found[i] for i in target_ids]

    return DataLoader(load_fn=load)


def _row_loader() -> DataLoader[int, list[models.SelfAssessmentRow]]:
    async def load(ids: list[int]) -> list[list[models.SelfAssessmentRow]]:
        found: dict[int, list[models.SelfAssessmentRow]] = defaultdict(list)
        rows = await models.SelfAssessmentRow.filter(assessment_id__in=ids).order_by("position")
        for row in rows:
            found[row.assessment_id].append(row)
        return [found[i] for i in ids]

    return DataLoader(load_fn=load)


def _report_loader() -> DataLoader[int, EvaluationReport | None]:
    """Evaluation id → its report, main text and annexes (callers load visible evaluations only)."""

    async def load(evaluation_ids: list[int]) -> list[EvaluationReport | None]:
        from schema.internal.types import EvaluationReport

        rows = await models.EvaluationReport.filter(
            evaluation_id__in=evaluation_ids
        ).prefetch_related("main_text", "annexes")
        found = {
            r.evaluation_id: EvaluationReport.from_model(r, r.main_text, list(r.annexes))
            for r in rows
        }
        return [found.get(i) for i in evaluation_ids]

    return DataLoader(load_fn=load)


@dataclass
class InternalContext:
    caller: Caller
    #: publishes and withdraws releases; None where the deployment gives no object store
    publisher: Publisher | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: the HTTP request's id (X-Request-ID), stored with every audit entry it writes
    request_id: str | None = None
    indicators: DataLoader[int, list[models.Indicator]] = field(default_factory=_indicator_loader)
    assessment_rows: DataLoader[int, list[models.SelfAssessmentRow]] = field(
        default_factory=_row_loader
    )
    reports: DataLoader[int, EvaluationReport | None] = field(default_factory=_report_loader)
    _visibility: Visibility | None = None
    #: fields resolved side by side (aliases, `nodes`) ask at once: they wait for one answer
    _visibility_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def today(self) -> date:
        """The calendar date in Asia/Shanghai (D3): due dates and lateness are counted in it."""
        return self.clock().astimezone(SHANGHAI).date()

    async def visibility(self, *, fresh: bool = False) -> Visibility:
        """What the caller may see; `fresh` after a write that can change it (a filing)."""
        async with self._visibility_lock:
            if self._visibility is None or fresh:
                self._visibility = await visibility(self.caller)
            return self._visibility


Info = strawberry.Info[InternalContext, None]
