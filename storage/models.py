"""Every persisted record of gongkai, in one module (domain.md §3).

Working data (jurisdictions … rectifications) is what internal clients write. `Release`,
`ReleaseVersion` and `Disclosure` are the publication side: `Disclosure` rows are the published
snapshots, the only table the public API reads. Money is `MoneyField` (分 in the database, `Decimal`
元 in Python). Single-record invariants run in `save()` so nothing invalid is ever stored; rules
that span several rows live in `storage.records`.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model, ModelMeta

from storage import enums, scoring, validation
from storage.errors import InvalidRecord
from storage.money import MoneyField


class _NoCommentsMeta(ModelMeta):
    """Tortoise takes `#:` comments above a field as its description, and finds them by reading
    each model class's source (`inspect.getsource`, which parses this whole module again for
    every class): 1.5 s of CPU at the start of every process that imports the models — each CLI
    command, server worker and publisher. The models carry no such comments: `_no_comments`,
    which Tortoise looks for in each class's own body, turns the reading off for all of them."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> ModelMeta:
        return super().__new__(mcs, name, bases, {"_no_comments": True, **attrs})


class BaseModel(Model, metaclass=_NoCommentsMeta):
    class Meta:
        abstract = True


class TimestampedModel(BaseModel):
    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimestampedModel):
    """An editable record: `version` grows on every update (optimistic concurrency)."""

    version = fields.IntField(default=1)

    class Meta:
        abstract = True


class Jurisdiction(TimestampedModel):
    """行政区划 / 财政层级: a fiscal level with its own finance authority."""

    code = fields.CharField(max_length=12, unique=True, description="GB/T 2260 or local code")
    name = fields.CharField(max_length=100)
    level = fields.CharEnumField(enums.FiscalLevel, max_length=16)
    parent: fields.ForeignKeyNullableRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    has_own_budget = fields.BooleanField(default=True)
    finance_authority_name = fields.CharField(max_length=100, description="e.g. 七宝镇财政所")
    finance_authority_role = fields.CharEnumField(enums.FinanceAuthorityRole, max_length=32)
    is_demo = fields.BooleanField(default=False, description="fictitious demo data (演示数据)")

    class Meta:
        table = "jurisdiction"


class Department(VersionedModel):
    """预算主管部门 (tier DEPARTMENT) or one of its 所属预算单位 (tier UNIT, `parent` set)."""

    jurisdiction: fields.ForeignKeyRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="departments", on_delete=fields.RESTRICT
    )
    jurisdiction_id: int
    code = fields.CharField(max_length=32, description="stable across years, e.g. 219 / 219001")
    name = fields.CharField(max_length=200)
    tier = fields.CharEnumField(enums.DepartmentTier, max_length=16)
    org_type = fields.CharEnumField(enums.OrgType, max_length=24)
    parent: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="units", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    disclosure_contact = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "department"
        unique_together = (("jurisdiction", "code"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        validation.check_department_tier(self.tier, self.parent_id)
        await super().save(*args, **kwargs)


class Subject(VersionedModel):
    """A performance subject (绩效主体): a project, a fiscal policy or a department's overall
    expenditure, for one fiscal year. Targets, assessments and evaluations point at one.

    The amounts block (年初预算数 / 全年预算数 / 全年执行数 × 资金来源) is stored as twelve
    columns, ``<column>_<source>``; `validation.check_amounts` keeps each column's total equal to
    the sum of its rows.
    """

    kind = fields.CharEnumField(enums.SubjectKind, max_length=24)
    code = fields.CharField(max_length=40, description="stable across years with fiscal_year")
    fiscal_year = fields.IntField()
    name = fields.CharField(max_length=200)
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="subjects", on_delete=fields.RESTRICT
    )
    department_id: int
    implementing_unit: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department",
        related_name="implemented_subjects",
        null=True,
        on_delete=fields.RESTRICT,
    )
    implementing_unit_id: int | None
    parent: fields.ForeignKeyNullableRelation[Subject] = fields.ForeignKeyField(
        "models.Subject", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    budget_book = fields.CharEnumField(enums.BudgetBook, max_length=32)
    funding_purpose = fields.CharEnumField(enums.FundingPurpose, max_length=32, null=True)
    project_type = fields.CharEnumField(enums.ProjectType, max_length=32, null=True)
    attribute = fields.CharEnumField(enums.ProjectAttribute, max_length=16, null=True)
    investment_kind = fields.CharEnumField(enums.InvestmentKind, max_length=32, null=True)
    transfer_type = fields.CharEnumField(
        enums.TransferType, max_length=40, default=enums.TransferType.NONE
    )
    extra_flags = fields.JSONField(default=list, description="财力结算, 政府性基金 …")
    start_date = fields.DateField(null=True)
    end_date = fields.DateField(null=True)
    term_years = fields.IntField(null=True)
    basis = fields.TextField(default="", description="立项依据")
    necessity = fields.TextField(default="", description="项目设立的必要性")
    summary = fields.TextField(default="", description="项目概况 / 部门职责 / 政策内容")
    functional_class_code = fields.CharField(max_length=20, null=True)
    in_disclosure_scope = fields.BooleanField(default=True, description="纳入预决算信息公开范围")
    publication_selected = fields.BooleanField(
        default=False, description="policy chosen by the finance bureau for publication (DR-4e)"
    )
    policy_period = fields.CharField(max_length=40, null=True)

    initial_total = MoneyField(default=0)
    initial_appropriation = MoneyField(default=0)
    initial_carry_over = MoneyField(default=0)
    initial_other = MoneyField(default=0)
    full_year_total = MoneyField(default=0)
    full_year_appropriation = MoneyField(default=0)
    full_year_carry_over = MoneyField(default=0)
    full_year_other = MoneyField(default=0)
    executed_total = MoneyField(default=0)
    executed_appropriation = MoneyField(default=0)
    executed_carry_over = MoneyField(default=0)
    executed_other = MoneyField(default=0)

    class Meta:
        table = "subject"
        unique_together = (("department", "kind", "code", "fiscal_year"),)
        indexes = (("fiscal_year", "kind"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        validation.check_subject(self)
        await super().save(*args, **kwargs)


class PerformanceTarget(VersionedModel):
    """绩效目标: the goal of a subject for a year, reviewed before the budget is approved."""

    subject: fields.ForeignKeyRelation[Subject] = fields.ForeignKeyField(
        "models.Subject", related_name="targets", on_delete=fields.CASCADE
    )
    subject_id: int
    fiscal_year = fields.IntField()
    horizon = fields.CharEnumField(
        enums.TargetHorizon, max_length=16, default=enums.TargetHorizon.ANNUAL
    )
    overall_goal = fields.TextField(description="年度总体目标")
    review_status = fields.CharEnumField(
        enums.ReviewStatus, max_length=24, default=enums.ReviewStatus.DRAFT
    )
    rejection_reason = fields.TextField(null=True)
    approved_with_budget_on = fields.DateField(null=True)
    spot_checked = fields.BooleanField(default=False)

    class Meta:
        table = "performance_target"
        unique_together = (("subject", "horizon"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        await _check_subject_year(self)
        await super().save(*args, **kwargs)


class Indicator(TimestampedModel):
    """绩效指标: a level-3 indicator row of a target."""

    target: fields.ForeignKeyRelation[PerformanceTarget] = fields.ForeignKeyField(
        "models.PerformanceTarget", related_name="indicators", on_delete=fields.CASCADE
    )
    target_id: int
    position = fields.IntField()
    level1 = fields.CharEnumField(enums.IndicatorL1, max_length=16)
    level2 = fields.CharEnumField(enums.IndicatorL2, max_length=40)
    name = fields.CharField(max_length=200)
    nature = fields.CharEnumField(enums.IndicatorNature, max_length=16)
    comparator = fields.CharEnumField(enums.Comparator, max_length=16)
    target_value_raw = fields.CharField(max_length=100, description="as published, e.g. ≥95%")
    target_value_number = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    unit = fields.CharField(max_length=20, null=True)
    weight = fields.DecimalField(max_digits=5, decimal_places=2, null=True, description="分值")
    is_core = fields.BooleanField(default=False)
    explanation = fields.TextField(null=True)

    class Meta:
        table = "indicator"
        unique_together = (("target", "position"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        validation.check_indicator(self)
        await super().save(*args, **kwargs)


class ExAnteAssessment(VersionedModel):
    """事前绩效评估 of a new major project or policy, for the budget year being prepared."""

    subject: fields.ForeignKeyRelation[Subject] = fields.ForeignKeyField(
        "models.Subject", related_name="ex_ante_assessments", on_delete=fields.CASCADE
    )
    subject_id: int
    fiscal_year = fields.IntField()
    conducted_by = fields.CharEnumField(enums.AssessmentConductor, max_length=16)
    conclusion = fields.CharEnumField(enums.ExAnteConclusion, max_length=32)
    requested_amount = MoneyField(default=0)
    recommended_reduction = MoneyField(default=0)
    dimensions = fields.JSONField(default=list, description="[{name, score, comment}]")
    methodology = fields.JSONField(default=list)
    summary = fields.TextField(default="")

    class Meta:
        table = "ex_ante_assessment"


class MonitoringRecord(VersionedModel):
    """绩效运行监控 ("双监控"): budget execution and target attainment during the year."""

    subject: fields.ForeignKeyRelation[Subject] = fields.ForeignKeyField(
        "models.Subject", related_name="monitoring_records", on_delete=fields.CASCADE
    )
    subject_id: int
    fiscal_year = fields.IntField()
    mode = fields.CharEnumField(enums.MonitoringMode, max_length=16)
    as_of_date = fields.DateField()
    budget_to_date = MoneyField(default=0)
    executed_to_date = MoneyField(default=0)
    execution_rate = fields.DecimalField(max_digits=7, decimal_places=2, description="percent")
    deviation_level = fields.CharEnumField(enums.DeviationLevel, max_length=16)
    corrective_actions = fields.JSONField(default=list)
    indicator_progress = fields.JSONField(default=list)
    notes = fields.TextField(default="")

    class Meta:
        table = "monitoring_record"


class SelfAssessment(VersionedModel):
    """绩效自评: the year-end self-assessment form (项目支出绩效自评表) of a subject.

    `execution_rate`, `execution_score`, `total_score` and `grade` follow the scoring rules
    (`storage.scoring`); `storage.records.create_self_assessment` computes and checks them.
    """

    subject: fields.ForeignKeyRelation[Subject] = fields.ForeignKeyField(
        "models.Subject", related_name="self_assessments", on_delete=fields.CASCADE
    )
    subject_id: int
    fiscal_year = fields.IntField()
    full_year_budget = MoneyField(description="全年预算数")
    executed = MoneyField(description="全年执行数")
    # Two places, as every rate is shown (monitoring records, aggregates); the scores are
    # computed from the exact ratio of the amounts, not from this figure.
    execution_rate = fields.DecimalField(max_digits=7, decimal_places=2, description="percent")
    execution_score = fields.DecimalField(max_digits=5, decimal_places=2)
    annual_goal_expected = fields.TextField(default="")
    annual_goal_actual = fields.TextField(default="")
    total_score = fields.DecimalField(max_digits=5, decimal_places=2)
    grade = fields.CharEnumField(enums.Grade, max_length=16)
    report_text = fields.TextField(null=True)

    class Meta:
        table = "self_assessment"
        unique_together = (("subject", "fiscal_year"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        await _check_subject_year(self)
        await super().save(*args, **kwargs)


class SelfAssessmentRow(TimestampedModel):
    """One indicator row of a self-assessment form."""

    assessment: fields.ForeignKeyRelation[SelfAssessment] = fields.ForeignKeyField(
        "models.SelfAssessment", related_name="rows", on_delete=fields.CASCADE
    )
    assessment_id: int
    position = fields.IntField()
    indicator: fields.ForeignKeyNullableRelation[Indicator] = fields.ForeignKeyField(
        "models.Indicator", related_name="assessment_rows", null=True, on_delete=fields.SET_NULL
    )
    indicator_id: int | None
    level1 = fields.CharEnumField(enums.IndicatorL1, max_length=16)
    level2 = fields.CharEnumField(enums.IndicatorL2, max_length=40)
    indicator_name = fields.CharField(max_length=200)
    comparator = fields.CharEnumField(enums.Comparator, max_length=16)
    target_value_raw = fields.CharField(max_length=100)
    target_value_number = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    actual_value_raw = fields.CharField(max_length=100)
    actual_value_number = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    qualitative_band = fields.CharEnumField(enums.QualitativeBand, max_length=24, null=True)
    weight = fields.DecimalField(max_digits=5, decimal_places=2)
    score = fields.DecimalField(max_digits=5, decimal_places=2)
    deviation_reason = fields.TextField(default="", description="偏差原因分析及改进措施")

    class Meta:
        table = "self_assessment_row"
        unique_together = (("assessment", "position"),)


class StoredFile(TimestampedModel):
    """Metadata of an uploaded report or document. Its bytes live in `FileContent`, inside the
    database, so working files never sit in the public bucket; publishing copies the disclosed
    ones to the object store."""

    sha256 = fields.CharField(max_length=64, db_index=True)
    size = fields.BigIntField()
    content_type = fields.CharField(max_length=100)
    filename = fields.CharField(max_length=200)
    title = fields.CharField(max_length=300)
    doc_kind = fields.CharEnumField(enums.DocKind, max_length=40)
    language = fields.CharField(max_length=10, default="zh-CN")
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="files", null=True, on_delete=fields.RESTRICT
    )
    department_id: int | None
    jurisdiction: fields.ForeignKeyRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="files", on_delete=fields.RESTRICT
    )
    jurisdiction_id: int
    fiscal_year = fields.IntField()
    uploaded_by = fields.CharField(max_length=100, default="system")

    class Meta:
        table = "stored_file"


class FileContent(BaseModel):
    """The bytes of stored files, keyed by their sha256 (identical uploads share one row)."""

    sha256 = fields.CharField(max_length=64, primary_key=True)
    data = fields.BinaryField()

    class Meta:
        table = "file_content"


class Evaluation(VersionedModel):
    """绩效评价: a department, finance key or re-evaluation of a subject's spending."""

    subject: fields.ForeignKeyRelation[Subject] = fields.ForeignKeyField(
        "models.Subject", related_name="evaluations", on_delete=fields.CASCADE
    )
    subject_id: int
    kind = fields.CharEnumField(enums.EvaluationKind, max_length=24)
    fiscal_year = fields.IntField(description="the year of spending evaluated")
    organiser = fields.CharField(max_length=200)
    third_party = fields.CharField(max_length=200, null=True)
    category = fields.CharEnumField(enums.EvaluationCategory, max_length=24, null=True)
    budget_book = fields.CharEnumField(enums.BudgetBook, max_length=32)
    amount_evaluated = MoneyField(default=0)
    score = fields.DecimalField(max_digits=5, decimal_places=2, null=True)
    grade = fields.CharEnumField(enums.Grade, max_length=16, null=True)
    status = fields.CharEnumField(
        enums.EvaluationStatus, max_length=24, default=enums.EvaluationStatus.PLANNED
    )
    uses_cost_benefit_analysis = fields.BooleanField(default=False)
    participants = fields.JSONField(default=list)

    class Meta:
        table = "evaluation"

    async def save(self, *args: Any, **kwargs: Any) -> None:
        await _check_subject_year(self)
        if self.score is not None and self.grade is None:
            self.grade = scoring.grade_for(self.score)
        validation.check_evaluation_grade(self.score, self.grade)
        await super().save(*args, **kwargs)


class EvaluationReport(VersionedModel):
    """评价报告: the main text (正文, publishable under DR-8) and internal annexes."""

    evaluation: fields.OneToOneRelation[Evaluation] = fields.OneToOneField(
        "models.Evaluation", related_name="report", on_delete=fields.CASCADE
    )
    evaluation_id: int
    title = fields.CharField(max_length=300)
    main_text: fields.ForeignKeyRelation[StoredFile] = fields.ForeignKeyField(
        "models.StoredFile", related_name="main_text_of", on_delete=fields.RESTRICT
    )
    main_text_id: int
    annexes: fields.ManyToManyRelation[StoredFile] = fields.ManyToManyField(
        "models.StoredFile", related_name="annex_of", through="evaluation_report_annex"
    )

    class Meta:
        table = "evaluation_report"


class Finding(TimestampedModel):
    """A problem found by an evaluation (问题), which gets a rectification (整改)."""

    evaluation: fields.ForeignKeyRelation[Evaluation] = fields.ForeignKeyField(
        "models.Evaluation", related_name="findings", on_delete=fields.CASCADE
    )
    evaluation_id: int
    category = fields.CharEnumField(enums.FindingCategory, max_length=48)
    description = fields.TextField()

    class Meta:
        table = "finding"


class Rectification(VersionedModel):
    """整改: due 30 days after the department receives the notice (S:000)."""

    finding: fields.OneToOneRelation[Finding] = fields.OneToOneField(
        "models.Finding", related_name="rectification", on_delete=fields.CASCADE
    )
    finding_id: int
    notice_issued_at = fields.DateField()
    received_at = fields.DateField()
    due_date = fields.DateField()
    measures = fields.TextField(default="")
    reported_at = fields.DateField(null=True)
    recheck_by = fields.CharField(max_length=200, null=True)
    recheck_on_site = fields.BooleanField(default=False)
    recheck_result = fields.TextField(null=True)
    status = fields.CharEnumField(
        enums.RectificationStatus, max_length=16, default=enums.RectificationStatus.OPEN
    )
    result_uses = fields.JSONField(default=list)

    class Meta:
        table = "rectification"


class SensitivityFiling(VersionedModel):
    """涉密/敏感备案 for one fiscal year: a whole department, or listed projects of it.

    Active unless WITHDRAWN or REVOKED (D5). Create through `storage.records.file_filing`,
    which refuses a PROJECTS filing that lists no project.
    """

    fiscal_year = fields.IntField()
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="filings", on_delete=fields.RESTRICT
    )
    department_id: int
    scope = fields.CharEnumField(enums.FilingScope, max_length=24)
    reason = fields.CharEnumField(enums.FilingReason, max_length=16)
    reference = fields.CharField(max_length=60, description="filing reference number")
    filed_with = fields.CharField(max_length=100)
    filed_at = fields.DateField()
    status = fields.CharEnumField(
        enums.FilingStatus, max_length=16, default=enums.FilingStatus.FILED
    )
    projects: fields.ManyToManyRelation[Subject] = fields.ManyToManyField(
        "models.Subject", related_name="filings", through="sensitivity_filing_project"
    )

    class Meta:
        table = "sensitivity_filing"


class AnnualStatement(VersionedModel):
    """全面实施预算绩效管理情况说明: the finance authority's annual statement (DR-4g)."""

    jurisdiction: fields.ForeignKeyRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="annual_statements", on_delete=fields.RESTRICT
    )
    jurisdiction_id: int
    year = fields.IntField(description="the year the statement covers")
    title = fields.CharField(max_length=300)
    text = fields.TextField()
    file: fields.ForeignKeyNullableRelation[StoredFile] = fields.ForeignKeyField(
        "models.StoredFile", related_name="statement_of", null=True, on_delete=fields.RESTRICT
    )
    file_id: int | None

    class Meta:
        table = "annual_statement"
        unique_together = (("jurisdiction", "year"),)


class Release(VersionedModel):
    """公开批次: what one department (or, for FINANCE_ANNUAL, the jurisdiction's finance
    authority) discloses for a fiscal year, in step with its budget or final accounts (D8)."""

    jurisdiction: fields.ForeignKeyRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="releases", on_delete=fields.RESTRICT
    )
    jurisdiction_id: int
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="releases", null=True, on_delete=fields.RESTRICT
    )
    department_id: int | None
    kind = fields.CharEnumField(enums.ReleaseKind, max_length=24)
    fiscal_year = fields.IntField()
    approval_date = fields.DateField(description="人大批准 or 财政批复")
    due_date = fields.DateField(description="approval date + 20 calendar days (DR-6)")
    publish_at = fields.DatetimeField(null=True, description="embargo: not public before")
    status = fields.CharEnumField(
        enums.ReleaseStatus, max_length=16, default=enums.ReleaseStatus.DRAFT
    )
    published_at = fields.DatetimeField(null=True)
    current_version = fields.IntField(default=0, description="0 until first published")
    claimed_by = fields.CharField(max_length=100, null=True)
    claimed_until = fields.DatetimeField(null=True)

    versions: fields.ReverseRelation[ReleaseVersion]

    class Meta:
        table = "release"
        unique_together = (("jurisdiction", "department", "kind", "fiscal_year"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        validation.check_release(self)
        # DR-12: one release per owner, kind and year. The unique constraint cannot see the
        # finance authority's (its department is NULL, and NULLs never collide).
        twins = Release.filter(
            jurisdiction_id=self.jurisdiction_id, kind=self.kind, fiscal_year=self.fiscal_year
        )
        if self.department_id is None:
            twins = twins.filter(department_id__isnull=True)
        else:
            twins = twins.filter(department_id=self.department_id)
        if self.id is not None:
            twins = twins.exclude(id=self.id)
        if await twins.exists():
            raise InvalidRecord(
                "kind",
                "release-unique",
                f"there is a {enums.ReleaseKind(self.kind).value} release of FY "
                f"{self.fiscal_year} for this "
                + ("department" if self.department_id is not None else "jurisdiction")
                + " already: correct that one (a new version) instead of adding another",
            )
        await super().save(*args, **kwargs)


class ReleaseVersion(TimestampedModel):
    """One published version of a release: the first publish, a correction or a withdrawal."""

    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="versions", on_delete=fields.CASCADE
    )
    release_id: int
    number = fields.IntField()
    published_at = fields.DatetimeField()
    manifest_key = fields.CharField(max_length=300)
    manifest_sha256 = fields.CharField(max_length=64)
    content_sha256 = fields.CharField(
        max_length=64, default="", description="digest of the (path, sha256) list of its objects"
    )
    input_sha256 = fields.CharField(
        max_length=64, default="", description="digest of the records and files it was made of"
    )
    correction_note = fields.TextField(null=True)
    kind = fields.CharEnumField(
        enums.VersionKind, max_length=24, default=enums.VersionKind.FIRST, description="what it did"
    )
    objects = fields.IntField(
        default=0, description="objects of the version, its manifest included (publish summary)"
    )

    class Meta:
        table = "release_version"
        unique_together = (("release", "number"),)


class CorrectionNotice(TimestampedModel):
    """A public notice that published records were corrected or withdrawn (D7, D12).

    It gives the date and the kind of correction, never a count or a name of withdrawn records.
    `release` is empty when the whole release was withdrawn: naming it would name the department.
    """

    jurisdiction: fields.ForeignKeyRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="notices", on_delete=fields.RESTRICT
    )
    jurisdiction_id: int
    release: fields.ForeignKeyNullableRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="notices", null=True, on_delete=fields.SET_NULL
    )
    release_id: int | None
    fiscal_year = fields.IntField()
    published_at = fields.DatetimeField()
    kind = fields.CharEnumField(enums.CorrectionKind, max_length=16)
    note = fields.TextField()
    version = fields.IntField(
        null=True, description="the release version it produced, empty for a whole withdrawal"
    )

    class Meta:
        table = "correction_notice"


class Withdrawal(TimestampedModel):
    """撤回: the durable intent of one release's withdrawal (D12).

    Recorded before anything is deleted: the record keys a filing now covers and every object
    (each with all its versions) that holds or names one of them. A withdrawal that dies at any
    step leaves its row open (`finished_at` empty), and the next `withdraw` or publish of the
    release finishes it from these lists, which no later state of the store can give back (the
    manifests no longer name the objects once rewritten). When done, the lists are emptied:
    the row keeps no trace of what was withdrawn.
    """

    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="withdrawals", on_delete=fields.CASCADE
    )
    release_id: int
    whole = fields.BooleanField(default=False, description="the whole release goes")
    record_keys = fields.JSONField(default=list)
    object_keys = fields.JSONField(default=list)
    started_by = fields.CharField(max_length=100)
    finished_at = fields.DatetimeField(null=True, description="empty while the work is open")

    class Meta:
        table = "withdrawal"


class SnapshotColumns(BaseModel):
    """The columns of a published snapshot row, shared by the current rows (`Disclosure`) and
    every version's rows (`DisclosureVersion`), so that one SQL text reads either."""

    release_version = fields.IntField()
    record_type = fields.CharEnumField(enums.RecordType, max_length=24)
    record_key = fields.CharField(max_length=120, description="stable public identifier")
    fiscal_year = fields.IntField()
    jurisdiction_code = fields.CharField(max_length=12)
    department_code = fields.CharField(max_length=32, null=True)
    name = fields.CharField(max_length=300, default="")
    data = fields.JSONField()
    release_kind = fields.CharEnumField(enums.ReleaseKind, max_length=24)
    precedence = fields.IntField(
        default=1, description="a record in several releases is answered from the highest"
    )
    subject_key = fields.CharField(max_length=120, null=True, description="the record's subject")
    # Facets copied out of `data` at publish time, so that filters and aggregates are plain SQL
    # on both databases (money in 分, scores in hundredths: never text or floats, D1).
    subject_kind = fields.CharField(max_length=24, null=True)
    budget_book = fields.CharField(max_length=32, null=True)
    funding_purpose = fields.CharField(max_length=32, null=True)
    transfer_type = fields.CharField(max_length=40, null=True)
    grade = fields.CharField(max_length=16, null=True)
    score_hundredths = fields.IntField(null=True)
    budget_fen = fields.BigIntField(null=True, description="全年预算数 (or 年初预算数) in 分")
    executed_fen = fields.BigIntField(null=True, description="全年执行数 in 分")

    class Meta:
        abstract = True


class Disclosure(SnapshotColumns):
    """A published snapshot row: one record exactly as the current version of a release
    published it.

    The public API reads only this table and `DisclosureVersion` (invariant 1). Rows are written
    in the same transaction that marks the release PUBLISHED and removed when a filing
    withdraws their record.
    """

    id = fields.BigIntField(primary_key=True)
    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="disclosures", on_delete=fields.CASCADE
    )
    release_id: int
    search_text = fields.TextField(
        null=True,
        description="searchable text as runs, publishers/search.py: a search finds each run of"
        " its query in it, on PostgreSQL through a pg_trgm index",
    )

    grams: fields.ReverseRelation[SearchGram]

    class Meta:
        table = "disclosure"
        unique_together = (("release", "record_type", "record_key"),)
        indexes = (
            ("record_type", "fiscal_year"),
            ("jurisdiction_code", "department_code"),
            ("record_type", "record_key"),
            ("subject_key",),
        )


class DisclosureVersion(SnapshotColumns):
    """A record as one version of its release published it: the history behind `versions`,
    `changes` and `asOf` (issue 16). Written with the version, in the transaction that makes
    it public; a version's rows are public from the day it was published until the day the
    next version of the release was (days in Asia/Shanghai, as YYYYMMDD numbers, so that both
    databases compare them alike). A filing removes its records' rows from every version, in
    the transaction of the withdrawal: a withdrawn record has no history."""

    id = fields.BigIntField(primary_key=True)
    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="disclosure_versions", on_delete=fields.CASCADE
    )
    release_id: int
    release_key = fields.CharField(max_length=120, description="the public key of its release")
    change = fields.CharEnumField(enums.VersionKind, max_length=24)
    published_at = fields.DatetimeField()
    published_day = fields.IntField(description="YYYYMMDD, Shanghai time")
    superseded_day = fields.IntField(
        null=True, description="YYYYMMDD when the next version was published, empty while current"
    )

    class Meta:
        table = "disclosure_version"
        unique_together = (("release", "release_version", "record_type", "record_key"),)
        indexes = (
            ("record_type", "record_key"),
            ("record_type", "fiscal_year"),
            ("subject_key",),
            ("published_day", "superseded_day"),
        )


class SearchGram(BaseModel):
    """The Chinese search index (D14): each character bigram (and single character) of a
    published record's searchable text, written with its snapshot row."""

    id = fields.BigIntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="grams", on_delete=fields.CASCADE
    )
    disclosure_id: int
    gram = fields.CharField(max_length=2)

    class Meta:
        table = "search_gram"
        unique_together = (("disclosure", "gram"),)
        indexes = (("gram", "disclosure_id"),)


class ProtectedTerm(TimestampedModel):
    """A name or term a department wants kept out of one release (DR-10): the names of natural
    persons are not detected automatically, so they are registered here and matched whole."""

    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="protected_terms", on_delete=fields.CASCADE
    )
    release_id: int
    term = fields.CharField(max_length=100)
    created_by = fields.CharField(max_length=200)

    class Meta:
        table = "protected_term"
        unique_together = (("release", "term"),)


class PersonalDataException(TimestampedModel):
    """An officer's decision that one finding of the personal-data guard is not personal data
    (DR-10), with the reason: the finding (its digest: the datum at its place) no longer stops
    the release. Audited; only the masked datum is kept."""

    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="personal_data_exceptions", on_delete=fields.CASCADE
    )
    release_id: int
    finding = fields.CharField(max_length=16, description="the digest of the finding")
    location = fields.CharField(max_length=200, description="record key or file#ID")
    field = fields.CharField(max_length=200, description="the field path, or the page of a file")
    kind = fields.CharField(max_length=24)
    masked = fields.CharField(max_length=120)
    reason = fields.TextField()
    created_by = fields.CharField(max_length=200)

    class Meta:
        table = "personal_data_exception"
        unique_together = (("release", "finding"),)


class FileText(BaseModel):
    """The extracted text of a stored file, by its sha256 (DR-10): a file is read once, not at
    every check and publish of every release that carries it. Bytes never change under a
    sha256, so neither does this."""

    sha256 = fields.CharField(max_length=64, primary_key=True)
    pages = fields.JSONField(
        null=True, description="[[where, text], …], or null when the file is unreadable"
    )
    error = fields.TextField(null=True, description="why the text could not be read")

    class Meta:
        table = "file_text"


class FieldRedaction(TimestampedModel):
    """区分处理 (条例 Art. 37, DR-10): one field of one published record is replaced by a marked
    redaction with its legal basis, and the rest of the record stays public."""

    release: fields.ForeignKeyRelation[Release] = fields.ForeignKeyField(
        "models.Release", related_name="field_redactions", on_delete=fields.CASCADE
    )
    release_id: int
    record_key = fields.CharField(max_length=200)
    field = fields.CharField(
        max_length=200, description="path in the record, e.g. rows[2].deviationReason"
    )
    basis = fields.CharField(max_length=300, description="redactionBasis: the legal basis")
    created_by = fields.CharField(max_length=200)

    class Meta:
        table = "field_redaction"
        unique_together = (("release", "record_key", "field"),)


class AuditEntry(BaseModel):
    """Who did what to which record, when, with the record before and after (invariant 6)."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=200, description="the JWT subject, or 'system'")
    roles = fields.JSONField(default=list)
    department_code = fields.CharField(max_length=32, null=True)
    action = fields.CharField(max_length=60)
    record_type = fields.CharField(max_length=60)
    record_id = fields.CharField(max_length=60, null=True)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    classified = fields.BooleanField(
        default=False, description="about a CLASSIFIED stub: visible only as the stub is (D6)"
    )
    request_id = fields.CharField(
        max_length=64, null=True, description="X-Request-ID of the HTTP request that wrote it"
    )

    class Meta:
        table = "audit_entry"
        indexes = (("record_type", "record_id"),)


class RevokedToken(BaseModel):
    """A deny-list entry for internal tokens (a lost device): either one token by its `jti`, or
    every token of a `subject` issued at or before `issued_before` (seconds since the epoch,
    compared with the token's `iat`). Kept until `expires_at`, after which the tokens it names
    have expired anyway and `gongkai revoke --purge` may delete it."""

    id = fields.BigIntField(primary_key=True)
    jti = fields.CharField(max_length=200, null=True, unique=True)
    subject = fields.CharField(max_length=200, null=True, db_index=True)
    issued_before = fields.BigIntField(null=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(auto_now_add=True)
    revoked_by = fields.CharField(max_length=200)
    reason = fields.CharField(max_length=500, default="")

    class Meta:
        table = "revoked_token"


class ConsoleUser(BaseModel):
    """A local account of the web console (api/console/): a person who signs in with a password
    (argon2id hash, never the password). `roles`, `department` and `classified` are what a JWT's
    `roles`, `dept` and `clearance` claims say for a system; `session_epoch` is raised when the
    account is disabled or its password reset, which ends every session signed in before."""

    id = fields.BigIntField(primary_key=True)
    username = fields.CharField(max_length=100, unique=True)
    display_name = fields.CharField(max_length=100, default="")
    password_hash = fields.CharField(max_length=200)
    roles = fields.JSONField(default=list)
    department = fields.CharField(max_length=32, null=True, description="a 主管部门 code")
    classified = fields.BooleanField(default=False, description="holds the classified clearance")
    disabled = fields.BooleanField(default=False)
    session_epoch = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "console_user"


class ConsoleSignInFailures(BaseModel):
    """Consecutive failed console sign-ins of one user name (its SHA-256: a password typed into
    the name field is not stored), for the rate limit of api/console/accounts.py."""

    id = fields.BigIntField(primary_key=True)
    name_hash = fields.CharField(max_length=64, unique=True)
    failures = fields.IntField(default=0)
    last_failure_at = fields.FloatField(description="seconds since the epoch")

    class Meta:
        table = "console_sign_in_failures"


async def _check_subject_year(row: PerformanceTarget | SelfAssessment | Evaluation) -> None:
    """DR-5: refuse a record whose fiscal year is not its subject's (one query per save;
    these rows are written one at a time)."""
    years = await Subject.filter(id=row.subject_id).values_list("fiscal_year", flat=True)
    if years:
        validation.check_subject_year(row.fiscal_year, int(str(years[0])))
