"""The project library: which projects run in each fiscal year.

Recurring projects continue under their code (``101-2019-0007``: department, year started,
sequence) with drifting amounts; one-off ones end and new ones take their place, drawn so that
the funding-purpose mix of each year stays near domain.md §7.2.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from api.demo import names
from api.demo.context import Context, Dept, Project, Unit
from api.demo.draws import round_fen, weighted
from api.demo.names import ASSETS, CAPITAL, INFO, PROFESSIONAL, SERVICES, SUBSIDY, Topic
from storage.enums import (
    BudgetBook,
    FundingPurpose,
    TransferType,
)

#: domain.md §7.2, in percent.
PURPOSE_MIX = (
    (SERVICES, 30),
    (PROFESSIONAL, 25),
    (CAPITAL, 15),
    (INFO, 10),
    (SUBSIDY, 10),
    (ASSETS, 10),
)
BOOK_MIX = (
    (BudgetBook.GENERAL_PUBLIC, 88),
    (BudgetBook.GOVERNMENT_FUND, 10),
    (BudgetBook.STATE_CAPITAL_OPERATION, 2),
)
#: Relative size of a project by funding purpose (construction is dear, training cheap).
PURPOSE_SIZE = {
    CAPITAL: 2.5,
    INFO: 1.2,
    SUBSIDY: 1.5,
    SERVICES: 1.0,
    ASSETS: 0.6,
    PROFESSIONAL: 0.5,
}
#: Percent of projects that recur every year, by funding purpose.
RECURRING = {CAPITAL: 0, INFO: 50, SUBSIDY: 85, SERVICES: 85, ASSETS: 10, PROFESSIONAL: 85}
IN_SCOPE_PERCENT = 93
CHINESE_DIGITS = "一二三四五六七八九十"


class Projects:
    """The project library: which projects run in a year, continuing ones under their code."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.active: dict[str, list[Project]] = {d.code: [] for d in ctx.departments}
        self.sequence: dict[str, int] = {d.code: 0 for d in ctx.departments}
        self.used_names: dict[str, set[str]] = {d.code: set() for d in ctx.departments}
        rng = ctx.rng("filed-projects")
        self.filed = [self._filed(rng, spec) for spec in ctx.scale.filed_projects]

    def for_year(self, year: int) -> list[Project]:
        ctx = self.ctx
        rng = ctx.rng("projects", year)
        total = rng.randint(*ctx.scale.projects_per_year)
        quotas = _allocate(total, [d.weight for d in ctx.departments])
        index = ctx.year_index(year)
        kept: list[tuple[Dept, list[Project], int]] = []
        for dept, quota in zip(ctx.departments, quotas, strict=True):
            filed = [p for p in self.filed if p.dept is dept and p.filed and index >= p.filed.since]
            room = max(quota - len(filed), 0)
            going = [p for p in self.active[dept.code] if self._continues(rng, p, year)]
            if len(going) > room:
                keep = set(rng.sample(range(len(going)), room))
                going = [p for i, p in enumerate(going) if i in keep]
            kept.append((dept, filed + going, room - len(going)))
        # New projects make up what the continuing ones lack of the purpose mix (§7.2): one-off
        # purposes (construction, purchases) end sooner and would otherwise dwindle.
        have = {purpose: 0 for purpose, _ in PURPOSE_MIX}
        for _, projects, _ in kept:
            for project in projects:
                have[project.topic.purpose] += 1
        want = {purpose: total * share // 100 for purpose, share in PURPOSE_MIX}
        running: list[Project] = []
        for dept, projects, missing in kept:
            fresh = []
            for _ in range(missing):
                gaps = [(p, max(want[p] - have[p], 0) + 1) for p, _ in PURPOSE_MIX]
                purpose = weighted(rng, gaps)
                have[purpose] += 1
                fresh.append(self._new(rng, dept, year, purpose))
            self.active[dept.code] = [p for p in projects if not p.filed] + fresh
            running += projects + fresh
        return running

    @staticmethod
    def _continues(rng: random.Random, project: Project, year: int) -> bool:
        if project.last_year is not None:
            return year <= project.last_year
        return project.recurring and rng.randrange(100) < 92

    def _code(self, dept: Dept, first_year: int) -> str:
        self.sequence[dept.code] += 1
        return f"{dept.code}-{first_year}-{self.sequence[dept.code]:04d}"

    def _new(self, rng: random.Random, dept: Dept, year: int, purpose: FundingPurpose) -> Project:
        topic = rng.choice([t for t in names.TOPICS[dept.spec.sector] if t.purpose is purpose])
        unit = rng.choice(dept.units) if dept.units and rng.randrange(100) < 60 else None
        recurring = topic.maintenance or rng.randrange(100) < RECURRING[purpose]
        first_year, last_year = year, None
        if not recurring:
            last_year = year + (rng.randint(0, 2) if purpose is CAPITAL else 0)
        # The library predates the first year: most recurring projects started earlier.
        if year == self.ctx.first_year and recurring and rng.randrange(100) < 85:
            first_year = year - rng.randint(1, 6)
        return self._project(rng, dept, unit, topic, first_year, recurring, last_year, None)

    def _filed(self, rng: random.Random, spec: names.FiledProject) -> Project:
        dept = self.ctx.dept(spec.department)
        first_year = self.ctx.first_year - rng.randint(1, 4)
        return self._project(rng, dept, None, spec.topic, first_year, True, None, spec)

    def _project(
        self,
        rng: random.Random,
        dept: Dept,
        unit: Unit | None,
        topic: Topic,
        first_year: int,
        recurring: bool,
        last_year: int | None,
        filed: names.FiledProject | None,
    ) -> Project:
        scale = self.ctx.scale
        median = scale.median_project * PURPOSE_SIZE[topic.purpose]
        yuan = min(rng.lognormvariate(math.log(median), 1.5), 800_000_000.0)
        book = weighted(rng, BOOK_MIX)
        transfer_roll = rng.randrange(1000)
        transfer = TransferType.NONE
        for kind, share in scale.transfers:
            if transfer_roll < share:
                transfer = kind
                break
            transfer_roll -= share
        name = topic.name if filed else self._name(rng, dept, unit, topic)
        self.used_names[dept.code].add(name)
        return Project(
            code=self._code(dept, first_year),
            name=name,
            dept=dept,
            unit=unit,
            topic=topic,
            first_year=first_year,
            base_fen=round_fen(max(yuan, 20_000.0)),
            recurring=recurring,
            last_year=last_year,
            book=book,
            transfer=transfer,
            functional_code=rng.choice(names.FUNCTIONAL_CODES[dept.spec.sector]),
            fiscal_settlement=rng.randrange(100) < 3,
            in_scope=filed is not None or rng.randrange(100) < IN_SCOPE_PERCENT,
            filed=filed,
        )

    def _name(self, rng: random.Random, dept: Dept, unit: Unit | None, topic: Topic) -> str:
        suffix = {CAPITAL: "工程", INFO: "项目", SERVICES: "项目", PROFESSIONAL: "经费"}.get(
            topic.purpose, ""
        )
        # A department filed as a whole names its projects after itself, so that a leak scan
        # for the department's name finds them as well.
        prefix = dept.name if dept.filed else ""
        base = prefix + topic.name + suffix
        qualifiers = [unit.name] if unit and not dept.filed else []
        qualifiers += ["", *rng.sample(names.PLACES, 4)]
        candidates = [prefix + qualifier + topic.name + suffix for qualifier in qualifiers]
        used = self.used_names[dept.code]
        for candidate in candidates:
            if candidate not in used:
                return candidate
        phase = 2
        while f"{base}（{_ordinal(phase)}期）" in used:
            phase += 1
        return f"{base}（{_ordinal(phase)}期）"


def _ordinal(number: int) -> str:
    return CHINESE_DIGITS[number - 1] if number <= 10 else str(number)


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split by `weights` (largest remainder), every share at least 1."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [max(1, math.floor(r)) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: max(total - sum(shares), 0)]:
        shares[i] += 1
    return shares
