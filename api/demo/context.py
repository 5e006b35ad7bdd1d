"""What the generator's stages share: the run's parameters, the organisation, the projects that
live across years and one year's subjects."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal

from api.demo import indicators
from api.demo.names import DepartmentSpec, FiledDepartment, FiledProject, Topic
from api.demo.scales import Scale
from api.demo.store import Batch, Ids
from storage import models
from storage.enums import (
    BudgetBook,
    DocKind,
    FilingReason,
    FundingPurpose,
    SubjectKind,
    TransferType,
)


@dataclass(eq=False)
class Unit:
    id: int
    code: str
    name: str


@dataclass(eq=False)
class Dept:
    id: int
    code: str
    name: str
    spec: DepartmentSpec
    weight: float
    units: list[Unit] = field(default_factory=list)
    filed: FiledDepartment | None = None


@dataclass(eq=False)
class Project:
    """A project as it lives across years: its code and name stay, its amounts drift."""

    code: str
    name: str
    dept: Dept
    unit: Unit | None
    topic: Topic
    first_year: int
    base_fen: int
    recurring: bool
    last_year: int | None
    book: BudgetBook
    transfer: TransferType
    functional_code: str
    fiscal_settlement: bool
    in_scope: bool
    filed: FiledProject | None = None


@dataclass(eq=False)
class Record:
    """One subject of one fiscal year and what the later stages need to know about it."""

    subject: models.Subject
    kind: SubjectKind
    dept: Dept
    unit: Unit | None
    purpose: FundingPurpose | None
    indicator_subject: indicators.Subject | None
    goal: str
    #: The reason of the filing that covers this subject this year, if any.
    covered: FilingReason | None = None
    project: Project | None = None
    low_execution: bool = False
    drafts: list[indicators.Draft] = field(default_factory=list)
    indicator_ids: list[int] = field(default_factory=list)
    outcomes: list[indicators.Outcome] = field(default_factory=list)
    assessment: models.SelfAssessment | None = None

    @property
    def stub(self) -> bool:
        """D6: a CLASSIFIED subject is kept as an identity stub only."""
        return self.covered is FilingReason.CLASSIFIED

    @property
    def full_year(self) -> Decimal:
        return self.subject.full_year_total


@dataclass
class Context:
    scale: Scale
    seed: int
    first_year: int
    last_year: int
    ids: Ids
    batch: Batch
    jurisdiction_id: int = 0
    #: The jurisdiction above this one (a city's district), loaded already.
    parent_id: int | None = None
    departments: list[Dept] = field(default_factory=list)

    def rng(self, stage: str, year: int = 0) -> random.Random:
        """A generator of its own per stage and year, so that changing one stage leaves the
        others' draws alone. String seeds are hashed with SHA-512: stable across runs."""
        return random.Random(f"{self.seed}{self.scale.salt}/{stage}/{year}")

    def dept(self, spec_name: str) -> Dept:
        return next(d for d in self.departments if d.spec.name == spec_name)

    def year_index(self, year: int) -> int:
        return year - self.first_year

    def store_file(
        self,
        data: bytes,
        filename: str,
        title: str,
        kind: DocKind,
        year: int,
        department_id: int | None,
    ) -> int:
        """A PDF's bytes (stored once per content) and its metadata; returns the file's id."""
        sha = hashlib.sha256(data).hexdigest()
        self.batch.add_file(sha, data)
        file_id = self.ids.take(models.StoredFile)
        self.batch.add(
            models.StoredFile(
                id=file_id,
                sha256=sha,
                size=len(data),
                content_type="application/pdf",
                filename=filename,
                title=title,
                doc_kind=kind,
                department_id=department_id,
                jurisdiction_id=self.jurisdiction_id,
                fiscal_year=year,
                uploaded_by="demo",
            )
        )
        return file_id
