from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from storage.enums import (
    AssessmentConductor,
    BudgetBook,
    Comparator,
    CorrectionKind,
    DepartmentTier,
    DeviationLevel,
    DocKind,
    EvaluationCategory,
    EvaluationKind,
    EvaluationStatus,
    ExAnteConclusion,
    FilingReason,
    FilingScope,
    FilingStatus,
    FinanceAuthorityRole,
    FindingCategory,
    FiscalLevel,
    FundingPurpose,
    Grade,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    InvestmentKind,
    MonitoringMode,
    OrgType,
    ProjectAttribute,
    ProjectType,
    QualitativeBand,
    RecordType,
    RectificationStatus,
    ReleaseKind,
    ReleaseStatus,
    ReviewStatus,
    SubjectKind,
    TargetHorizon,
    TransferType,
)
from storage.money import MoneyField
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "actor",
                    fields.CharField(description="the JWT subject, or 'system'", max_length=200),
                ),
                ("roles", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("department_code", fields.CharField(null=True, max_length=32)),
                ("action", fields.CharField(max_length=60)),
                ("record_type", fields.CharField(max_length=60)),
                ("record_id", fields.CharField(null=True, max_length=60)),
                ("before", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("after", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "classified",
                    fields.BooleanField(
                        default=False,
                        description="about a CLASSIFIED stub: visible only as the stub is (D6)",
                    ),
                ),
            ],
            options={
                "table": "audit_entry",
                "app": "models",
                "indexes": [Index(fields=["record_type", "record_id"])],
                "pk_attr": "id",
                "table_description": "Who did what to which record, when, with the record before and after (invariant 6).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FileContent",
            fields=[
                (
                    "sha256",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("data", fields.BinaryField()),
            ],
            options={
                "table": "file_content",
                "app": "models",
                "pk_attr": "sha256",
                "table_description": "The bytes of stored files, keyed by their sha256 (identical uploads share one row).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Jurisdiction",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "code",
                    fields.CharField(
                        unique=True, description="GB/T 2260 or local code", max_length=12
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "level",
                    fields.CharEnumField(
                        description="MUNICIPAL: MUNICIPAL\nDISTRICT: DISTRICT\nTOWN: TOWN\nSUBDISTRICT: SUBDISTRICT",
                        enum_type=FiscalLevel,
                        max_length=16,
                    ),
                ),
                (
                    "parent",
                    fields.ForeignKeyField(
                        "models.Jurisdiction",
                        source_field="parent_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="children",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("has_own_budget", fields.BooleanField(default=True)),
                (
                    "finance_authority_name",
                    fields.CharField(description="e.g. 七宝镇财政所", max_length=100),
                ),
                (
                    "finance_authority_role",
                    fields.CharEnumField(
                        description="FINANCE_BUREAU: FINANCE_BUREAU\nTOWN_FINANCE_OFFICE: TOWN_FINANCE_OFFICE\nDEPARTMENT_FINANCE_DIVISION: DEPARTMENT_FINANCE_DIVISION",
                        enum_type=FinanceAuthorityRole,
                        max_length=32,
                    ),
                ),
                (
                    "is_demo",
                    fields.BooleanField(
                        default=False, description="fictitious demo data (演示数据)"
                    ),
                ),
            ],
            options={
                "table": "jurisdiction",
                "app": "models",
                "pk_attr": "id",
                "table_description": "行政区划 / 财政层级: a fiscal level with its own finance authority.",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="Department",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "jurisdiction",
                    fields.ForeignKeyField(
                        "models.Jurisdiction",
                        source_field="jurisdiction_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="departments",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "code",
                    fields.CharField(
                        description="stable across years, e.g. 219 / 219001", max_length=32
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                (
                    "tier",
                    fields.CharEnumField(
                        description="DEPARTMENT: DEPARTMENT\nUNIT: UNIT",
                        enum_type=DepartmentTier,
                        max_length=16,
                    ),
                ),
                (
                    "org_type",
                    fields.CharEnumField(
                        description="ADMINISTRATIVE: ADMINISTRATIVE\nPUBLIC_INSTITUTION: PUBLIC_INSTITUTION\nOTHER: OTHER",
                        enum_type=OrgType,
                        max_length=24,
                    ),
                ),
                (
                    "parent",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="parent_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="units",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("disclosure_contact", fields.CharField(null=True, max_length=100)),
            ],
            options={
                "table": "department",
                "app": "models",
                "unique_together": (("jurisdiction", "code"),),
                "pk_attr": "id",
                "table_description": "预算主管部门 (tier DEPARTMENT) or one of its 所属预算单位 (tier UNIT, `parent` set).",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="Release",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "jurisdiction",
                    fields.ForeignKeyField(
                        "models.Jurisdiction",
                        source_field="jurisdiction_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="releases",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="releases",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="BUDGET: BUDGET\nFINAL_ACCOUNTS: FINAL_ACCOUNTS\nFINANCE_ANNUAL: FINANCE_ANNUAL",
                        enum_type=ReleaseKind,
                        max_length=24,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                ("approval_date", fields.DateField(description="人大批准 or 财政批复")),
                (
                    "due_date",
                    fields.DateField(description="approval date + 20 calendar days (DR-6)"),
                ),
                (
                    "publish_at",
                    fields.DatetimeField(
                        null=True,
                        description="embargo: not public before",
                        auto_now=False,
                        auto_now_add=False,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=ReleaseStatus.DRAFT,
                        description="DRAFT: DRAFT\nSCHEDULED: SCHEDULED\nPUBLISHED: PUBLISHED",
                        enum_type=ReleaseStatus,
                        max_length=16,
                    ),
                ),
                (
                    "published_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "current_version",
                    fields.IntField(default=0, description="0 until first published"),
                ),
                ("claimed_by", fields.CharField(null=True, max_length=100)),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "release",
                "app": "models",
                "unique_together": (("jurisdiction", "department", "kind", "fiscal_year"),),
                "pk_attr": "id",
                "table_description": "公开批次: what one department (or, for FINANCE_ANNUAL, the jurisdiction's finance",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="CorrectionNotice",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "jurisdiction",
                    fields.ForeignKeyField(
                        "models.Jurisdiction",
                        source_field="jurisdiction_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notices",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "release",
                    fields.ForeignKeyField(
                        "models.Release",
                        source_field="release_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="notices",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                ("published_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="CORRECTION: CORRECTION\nWITHDRAWAL: WITHDRAWAL",
                        enum_type=CorrectionKind,
                        max_length=16,
                    ),
                ),
                ("note", fields.TextField(unique=False)),
            ],
            options={
                "table": "correction_notice",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A public notice that published records were corrected or withdrawn (D7, D12).",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="Disclosure",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "release",
                    fields.ForeignKeyField(
                        "models.Release",
                        source_field="release_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="disclosures",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("release_version", fields.IntField()),
                (
                    "record_type",
                    fields.CharEnumField(
                        description="JURISDICTION: JURISDICTION\nDEPARTMENT: DEPARTMENT\nSUBJECT: SUBJECT\nTARGET: TARGET\nEX_ANTE_ASSESSMENT: EX_ANTE_ASSESSMENT\nMONITORING: MONITORING\nSELF_ASSESSMENT: SELF_ASSESSMENT\nEVALUATION: EVALUATION\nANNUAL_STATEMENT: ANNUAL_STATEMENT\nFILE: FILE\nRELEASE: RELEASE",
                        enum_type=RecordType,
                        max_length=24,
                    ),
                ),
                (
                    "record_key",
                    fields.CharField(description="stable public identifier", max_length=120),
                ),
                ("fiscal_year", fields.IntField()),
                ("jurisdiction_code", fields.CharField(max_length=12)),
                ("department_code", fields.CharField(null=True, max_length=32)),
                ("name", fields.CharField(default="", max_length=300)),
                ("data", fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                (
                    "release_kind",
                    fields.CharEnumField(
                        description="BUDGET: BUDGET\nFINAL_ACCOUNTS: FINAL_ACCOUNTS\nFINANCE_ANNUAL: FINANCE_ANNUAL",
                        enum_type=ReleaseKind,
                        max_length=24,
                    ),
                ),
                (
                    "precedence",
                    fields.IntField(
                        default=1,
                        description="a record in several releases is answered from the highest",
                    ),
                ),
                (
                    "subject_key",
                    fields.CharField(null=True, description="the record's subject", max_length=120),
                ),
                ("subject_kind", fields.CharField(null=True, max_length=24)),
                ("budget_book", fields.CharField(null=True, max_length=32)),
                ("funding_purpose", fields.CharField(null=True, max_length=32)),
                ("transfer_type", fields.CharField(null=True, max_length=40)),
                ("grade", fields.CharField(null=True, max_length=16)),
                ("score_hundredths", fields.IntField(null=True)),
                (
                    "budget_fen",
                    fields.BigIntField(null=True, description="全年预算数 (or 年初预算数) in 分"),
                ),
                ("executed_fen", fields.BigIntField(null=True, description="全年执行数 in 分")),
            ],
            options={
                "table": "disclosure",
                "app": "models",
                "unique_together": (("release", "record_type", "record_key"),),
                "indexes": [
                    Index(fields=["record_type", "fiscal_year"]),
                    Index(fields=["jurisdiction_code", "department_code"]),
                    Index(fields=["record_type", "record_key"]),
                    Index(fields=["subject_key"]),
                ],
                "pk_attr": "id",
                "table_description": "A published snapshot row: one record exactly as a release version published it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReleaseVersion",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "release",
                    fields.ForeignKeyField(
                        "models.Release",
                        source_field="release_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="versions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("number", fields.IntField()),
                ("published_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("manifest_key", fields.CharField(max_length=300)),
                ("manifest_sha256", fields.CharField(max_length=64)),
                (
                    "content_sha256",
                    fields.CharField(
                        default="",
                        description="digest of the (path, sha256) list of its objects",
                        max_length=64,
                    ),
                ),
                (
                    "input_sha256",
                    fields.CharField(
                        default="",
                        description="digest of the records and files it was made of",
                        max_length=64,
                    ),
                ),
                ("correction_note", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "release_version",
                "app": "models",
                "unique_together": (("release", "number"),),
                "pk_attr": "id",
                "table_description": "One published version of a release: the first publish, a correction or a withdrawal.",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="SearchGram",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "disclosure",
                    fields.ForeignKeyField(
                        "models.Disclosure",
                        source_field="disclosure_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="grams",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("gram", fields.CharField(max_length=2)),
            ],
            options={
                "table": "search_gram",
                "app": "models",
                "unique_together": (("disclosure", "gram"),),
                "indexes": [Index(fields=["gram", "disclosure_id"])],
                "pk_attr": "id",
                "table_description": "The Chinese search index (D14): each character bigram (and single character) of a",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StoredFile",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("sha256", fields.CharField(db_index=True, max_length=64)),
                ("size", fields.BigIntField()),
                ("content_type", fields.CharField(max_length=100)),
                ("filename", fields.CharField(max_length=200)),
                ("title", fields.CharField(max_length=300)),
                (
                    "doc_kind",
                    fields.CharEnumField(
                        description="BUDGET_DOC: BUDGET_DOC\nFINAL_ACCOUNTS_DOC: FINAL_ACCOUNTS_DOC\nTARGET_TABLE: TARGET_TABLE\nSELF_ASSESSMENT_FORM: SELF_ASSESSMENT_FORM\nEVALUATION_REPORT_MAIN_TEXT: EVALUATION_REPORT_MAIN_TEXT\nEVALUATION_REPORT_ANNEX: EVALUATION_REPORT_ANNEX\nANNUAL_PM_STATEMENT: ANNUAL_PM_STATEMENT",
                        enum_type=DocKind,
                        max_length=40,
                    ),
                ),
                ("language", fields.CharField(default="zh-CN", max_length=10)),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="files",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "jurisdiction",
                    fields.ForeignKeyField(
                        "models.Jurisdiction",
                        source_field="jurisdiction_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="files",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                ("uploaded_by", fields.CharField(default="system", max_length=100)),
            ],
            options={
                "table": "stored_file",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Metadata of an uploaded report or document. Its bytes live in `FileContent`, inside the",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="AnnualStatement",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "jurisdiction",
                    fields.ForeignKeyField(
                        "models.Jurisdiction",
                        source_field="jurisdiction_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="annual_statements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("year", fields.IntField(description="the year the statement covers")),
                ("title", fields.CharField(max_length=300)),
                ("text", fields.TextField(unique=False)),
                (
                    "file",
                    fields.ForeignKeyField(
                        "models.StoredFile",
                        source_field="file_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="statement_of",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "annual_statement",
                "app": "models",
                "unique_together": (("jurisdiction", "year"),),
                "pk_attr": "id",
                "table_description": "全面实施预算绩效管理情况说明: the finance authority's annual statement (DR-4g).",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="Subject",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="PROJECT: PROJECT\nPOLICY: POLICY\nDEPARTMENT_OVERALL: DEPARTMENT_OVERALL",
                        enum_type=SubjectKind,
                        max_length=24,
                    ),
                ),
                (
                    "code",
                    fields.CharField(
                        description="stable across years with fiscal_year", max_length=40
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                ("name", fields.CharField(max_length=200)),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="subjects",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "implementing_unit",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="implementing_unit_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="implemented_subjects",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "parent",
                    fields.ForeignKeyField(
                        "models.Subject",
                        source_field="parent_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="children",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "budget_book",
                    fields.CharEnumField(
                        description="GENERAL_PUBLIC: GENERAL_PUBLIC\nGOVERNMENT_FUND: GOVERNMENT_FUND\nSTATE_CAPITAL_OPERATION: STATE_CAPITAL_OPERATION\nSOCIAL_INSURANCE_FUND: SOCIAL_INSURANCE_FUND",
                        enum_type=BudgetBook,
                        max_length=32,
                    ),
                ),
                (
                    "funding_purpose",
                    fields.CharEnumField(
                        null=True,
                        description="CAPITAL_CONSTRUCTION: CAPITAL_CONSTRUCTION\nINFORMATIZATION: INFORMATIZATION\nPOLICY_SUBSIDY: POLICY_SUBSIDY\nGOV_PURCHASE_OF_SERVICES: GOV_PURCHASE_OF_SERVICES\nASSET_PURCHASE: ASSET_PURCHASE\nOTHER_PROFESSIONAL: OTHER_PROFESSIONAL",
                        enum_type=FundingPurpose,
                        max_length=32,
                    ),
                ),
                (
                    "project_type",
                    fields.CharEnumField(
                        null=True,
                        description="NEW_MANDATED: NEW_MANDATED\nCARRY_OVER: CARRY_OVER\nOTHER_ONE_OFF: OTHER_ONE_OFF\nRECURRING_SPECIAL_OPS: RECURRING_SPECIAL_OPS\nOTHER_RECURRING: OTHER_RECURRING",
                        enum_type=ProjectType,
                        max_length=32,
                    ),
                ),
                (
                    "attribute",
                    fields.CharEnumField(
                        null=True,
                        description="NEW: NEW\nCONTINUING: CONTINUING",
                        enum_type=ProjectAttribute,
                        max_length=16,
                    ),
                ),
                (
                    "investment_kind",
                    fields.CharEnumField(
                        null=True,
                        description="INVESTMENT_CONSTRUCTION: INVESTMENT_CONSTRUCTION\nRECURRING_OPS_MAINTENANCE: RECURRING_OPS_MAINTENANCE",
                        enum_type=InvestmentKind,
                        max_length=32,
                    ),
                ),
                (
                    "transfer_type",
                    fields.CharEnumField(
                        default=TransferType.NONE,
                        description="NONE: NONE\nMUNICIPAL_TO_DISTRICT_SPECIAL: MUNICIPAL_TO_DISTRICT_SPECIAL\nSHARED_RESPONSIBILITY: SHARED_RESPONSIBILITY\nCENTRAL_TO_LOCAL_SPECIAL: CENTRAL_TO_LOCAL_SPECIAL\nOTHER: OTHER",
                        enum_type=TransferType,
                        max_length=40,
                    ),
                ),
                (
                    "extra_flags",
                    fields.JSONField(
                        default=list,
                        description="财力结算, 政府性基金 …",
                        encoder=JSON_DUMPS,
                        decoder=loads,
                    ),
                ),
                ("start_date", fields.DateField(null=True)),
                ("end_date", fields.DateField(null=True)),
                ("term_years", fields.IntField(null=True)),
                ("basis", fields.TextField(default="", description="立项依据", unique=False)),
                (
                    "necessity",
                    fields.TextField(default="", description="项目设立的必要性", unique=False),
                ),
                (
                    "summary",
                    fields.TextField(
                        default="", description="项目概况 / 部门职责 / 政策内容", unique=False
                    ),
                ),
                ("functional_class_code", fields.CharField(null=True, max_length=20)),
                (
                    "in_disclosure_scope",
                    fields.BooleanField(default=True, description="纳入预决算信息公开范围"),
                ),
                (
                    "publication_selected",
                    fields.BooleanField(
                        default=False,
                        description="policy chosen by the finance bureau for publication (DR-4e)",
                    ),
                ),
                ("policy_period", fields.CharField(null=True, max_length=40)),
                ("initial_total", MoneyField(default=0)),
                ("initial_appropriation", MoneyField(default=0)),
                ("initial_carry_over", MoneyField(default=0)),
                ("initial_other", MoneyField(default=0)),
                ("full_year_total", MoneyField(default=0)),
                ("full_year_appropriation", MoneyField(default=0)),
                ("full_year_carry_over", MoneyField(default=0)),
                ("full_year_other", MoneyField(default=0)),
                ("executed_total", MoneyField(default=0)),
                ("executed_appropriation", MoneyField(default=0)),
                ("executed_carry_over", MoneyField(default=0)),
                ("executed_other", MoneyField(default=0)),
            ],
            options={
                "table": "subject",
                "app": "models",
                "unique_together": (("department", "kind", "code", "fiscal_year"),),
                "indexes": [Index(fields=["fiscal_year", "kind"])],
                "pk_attr": "id",
                "table_description": "A performance subject (绩效主体): a project, a fiscal policy or a department's overall",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="Evaluation",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "subject",
                    fields.ForeignKeyField(
                        "models.Subject",
                        source_field="subject_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="evaluations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="DEPARTMENT: DEPARTMENT\nDEPARTMENT_SIMPLE: DEPARTMENT_SIMPLE\nFINANCE_KEY: FINANCE_KEY\nRE_EVALUATION: RE_EVALUATION",
                        enum_type=EvaluationKind,
                        max_length=24,
                    ),
                ),
                ("fiscal_year", fields.IntField(description="the year of spending evaluated")),
                ("organiser", fields.CharField(max_length=200)),
                ("third_party", fields.CharField(null=True, max_length=200)),
                (
                    "category",
                    fields.CharEnumField(
                        null=True,
                        description="POLICY_SUBSIDY: POLICY_SUBSIDY\nDEPARTMENT_OVERALL: DEPARTMENT_OVERALL\nOTHER: OTHER",
                        enum_type=EvaluationCategory,
                        max_length=24,
                    ),
                ),
                (
                    "budget_book",
                    fields.CharEnumField(
                        description="GENERAL_PUBLIC: GENERAL_PUBLIC\nGOVERNMENT_FUND: GOVERNMENT_FUND\nSTATE_CAPITAL_OPERATION: STATE_CAPITAL_OPERATION\nSOCIAL_INSURANCE_FUND: SOCIAL_INSURANCE_FUND",
                        enum_type=BudgetBook,
                        max_length=32,
                    ),
                ),
                ("amount_evaluated", MoneyField(default=0)),
                ("score", fields.DecimalField(null=True, max_digits=5, decimal_places=2)),
                (
                    "grade",
                    fields.CharEnumField(
                        null=True,
                        description="EXCELLENT: EXCELLENT\nGOOD: GOOD\nAVERAGE: AVERAGE\nPOOR: POOR",
                        enum_type=Grade,
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=EvaluationStatus.PLANNED,
                        description="PLANNED: PLANNED\nPLAN_REVIEWED: PLAN_REVIEWED\nDRAFT_REVIEWED: DRAFT_REVIEWED\nRESULT_CONFIRMED: RESULT_CONFIRMED\nFEEDBACK_ISSUED: FEEDBACK_ISSUED\nRECTIFIED: RECTIFIED\nRECHECKED: RECHECKED\nCLOSED: CLOSED",
                        enum_type=EvaluationStatus,
                        max_length=24,
                    ),
                ),
                ("uses_cost_benefit_analysis", fields.BooleanField(default=False)),
                ("participants", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "evaluation",
                "app": "models",
                "pk_attr": "id",
                "table_description": "绩效评价: a department, finance key or re-evaluation of a subject's spending.",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="EvaluationReport",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "evaluation",
                    fields.OneToOneField(
                        "models.Evaluation",
                        source_field="evaluation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="report",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("title", fields.CharField(max_length=300)),
                (
                    "main_text",
                    fields.ForeignKeyField(
                        "models.StoredFile",
                        source_field="main_text_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="main_text_of",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "annexes",
                    fields.ManyToManyField(
                        "models.StoredFile",
                        unique=True,
                        db_constraint=True,
                        through="evaluation_report_annex",
                        forward_key="storedfile_id",
                        backward_key="evaluation_report_id",
                        related_name="annex_of",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "evaluation_report",
                "app": "models",
                "pk_attr": "id",
                "table_description": "评价报告: the main text (正文, publishable under DR-8) and internal annexes.",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="ExAnteAssessment",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "subject",
                    fields.ForeignKeyField(
                        "models.Subject",
                        source_field="subject_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ex_ante_assessments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                (
                    "conducted_by",
                    fields.CharEnumField(
                        description="DEPARTMENT: DEPARTMENT\nFINANCE: FINANCE",
                        enum_type=AssessmentConductor,
                        max_length=16,
                    ),
                ),
                (
                    "conclusion",
                    fields.CharEnumField(
                        description="SUPPORT: SUPPORT\nSUPPORT_WITH_REDUCTION: SUPPORT_WITH_REDUCTION\nNOT_SUPPORTED: NOT_SUPPORTED",
                        enum_type=ExAnteConclusion,
                        max_length=32,
                    ),
                ),
                ("requested_amount", MoneyField(default=0)),
                ("recommended_reduction", MoneyField(default=0)),
                (
                    "dimensions",
                    fields.JSONField(
                        default=list,
                        description="[{name, score, comment}]",
                        encoder=JSON_DUMPS,
                        decoder=loads,
                    ),
                ),
                ("methodology", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("summary", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "ex_ante_assessment",
                "app": "models",
                "pk_attr": "id",
                "table_description": "事前绩效评估 of a new major project or policy, for the budget year being prepared.",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="Finding",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "evaluation",
                    fields.ForeignKeyField(
                        "models.Evaluation",
                        source_field="evaluation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="findings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "category",
                    fields.CharEnumField(
                        description="TARGET_BUDGET_PLAN_MISMATCH: TARGET_BUDGET_PLAN_MISMATCH\nINSUFFICIENT_FEASIBILITY_STUDY: INSUFFICIENT_FEASIBILITY_STUDY\nUNREASONABLE_BUDGET_ESTIMATE: UNREASONABLE_BUDGET_ESTIMATE\nLOW_EXECUTION_RATE: LOW_EXECUTION_RATE\nHIGH_ADJUSTMENT_RATIO: HIGH_ADJUSTMENT_RATIO\nUNCLEAR_POLICY_GOAL: UNCLEAR_POLICY_GOAL\nINACCURATE_BENEFICIARY_ESTIMATE: INACCURATE_BENEFICIARY_ESTIMATE\nLOW_FUND_UTILISATION: LOW_FUND_UTILISATION\nNO_INCENTIVE_PENALTY_IN_SERVICE_CONTRACT: NO_INCENTIVE_PENALTY_IN_SERVICE_CONTRACT\nPERFUNCTORY_ACCEPTANCE: PERFUNCTORY_ACCEPTANCE\nCOARSE_INDICATORS: COARSE_INDICATORS\nLOW_SELF_ASSESSMENT_QUALITY: LOW_SELF_ASSESSMENT_QUALITY",
                        enum_type=FindingCategory,
                        max_length=48,
                    ),
                ),
                ("description", fields.TextField(unique=False)),
            ],
            options={
                "table": "finding",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A problem found by an evaluation (问题), which gets a rectification (整改).",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="MonitoringRecord",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "subject",
                    fields.ForeignKeyField(
                        "models.Subject",
                        source_field="subject_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="monitoring_records",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                (
                    "mode",
                    fields.CharEnumField(
                        description="KEY: KEY\nSIMPLE: SIMPLE",
                        enum_type=MonitoringMode,
                        max_length=16,
                    ),
                ),
                ("as_of_date", fields.DateField()),
                ("budget_to_date", MoneyField(default=0)),
                ("executed_to_date", MoneyField(default=0)),
                (
                    "execution_rate",
                    fields.DecimalField(description="percent", max_digits=7, decimal_places=2),
                ),
                (
                    "deviation_level",
                    fields.CharEnumField(
                        description="NONE: NONE\nMINOR: MINOR\nMAJOR: MAJOR",
                        enum_type=DeviationLevel,
                        max_length=16,
                    ),
                ),
                (
                    "corrective_actions",
                    fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
                ),
                (
                    "indicator_progress",
                    fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
                ),
                ("notes", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "monitoring_record",
                "app": "models",
                "pk_attr": "id",
                "table_description": '绩效运行监控 ("双监控"): budget execution and target attainment during the year.',
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="PerformanceTarget",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "subject",
                    fields.ForeignKeyField(
                        "models.Subject",
                        source_field="subject_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="targets",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                (
                    "horizon",
                    fields.CharEnumField(
                        default=TargetHorizon.ANNUAL,
                        description="ANNUAL: ANNUAL\nOVERALL: OVERALL",
                        enum_type=TargetHorizon,
                        max_length=16,
                    ),
                ),
                ("overall_goal", fields.TextField(description="年度总体目标", unique=False)),
                (
                    "review_status",
                    fields.CharEnumField(
                        default=ReviewStatus.DRAFT,
                        description="DRAFT: DRAFT\nSUBMITTED: SUBMITTED\nDEPT_REVIEWED: DEPT_REVIEWED\nTHIRD_PARTY_REVIEWED: THIRD_PARTY_REVIEWED\nFINANCE_APPROVED: FINANCE_APPROVED\nREJECTED: REJECTED",
                        enum_type=ReviewStatus,
                        max_length=24,
                    ),
                ),
                ("rejection_reason", fields.TextField(null=True, unique=False)),
                ("approved_with_budget_on", fields.DateField(null=True)),
                ("spot_checked", fields.BooleanField(default=False)),
            ],
            options={
                "table": "performance_target",
                "app": "models",
                "unique_together": (("subject", "horizon"),),
                "pk_attr": "id",
                "table_description": "绩效目标: the goal of a subject for a year, reviewed before the budget is approved.",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="Indicator",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "target",
                    fields.ForeignKeyField(
                        "models.PerformanceTarget",
                        source_field="target_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="indicators",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                (
                    "level1",
                    fields.CharEnumField(
                        description="OUTPUT: OUTPUT\nBENEFIT: BENEFIT\nSATISFACTION: SATISFACTION\nCOST: COST",
                        enum_type=IndicatorL1,
                        max_length=16,
                    ),
                ),
                (
                    "level2",
                    fields.CharEnumField(
                        description="QUANTITY: QUANTITY\nQUALITY: QUALITY\nTIMELINESS: TIMELINESS\nOUTPUT_COST: OUTPUT_COST\nECONOMIC_BENEFIT: ECONOMIC_BENEFIT\nSOCIAL_BENEFIT: SOCIAL_BENEFIT\nECOLOGICAL_BENEFIT: ECOLOGICAL_BENEFIT\nSUSTAINABLE_IMPACT: SUSTAINABLE_IMPACT\nSERVICE_RECIPIENT_SATISFACTION: SERVICE_RECIPIENT_SATISFACTION\nECONOMIC_COST: ECONOMIC_COST\nSOCIAL_COST: SOCIAL_COST\nECO_ENVIRONMENTAL_COST: ECO_ENVIRONMENTAL_COST",
                        enum_type=IndicatorL2,
                        max_length=40,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                (
                    "nature",
                    fields.CharEnumField(
                        description="QUANTITATIVE: QUANTITATIVE\nQUALITATIVE: QUALITATIVE",
                        enum_type=IndicatorNature,
                        max_length=16,
                    ),
                ),
                (
                    "comparator",
                    fields.CharEnumField(
                        description="EQ: EQ\nGE: GE\nLE: LE\nGT: GT\nLT: LT\nQUALITATIVE: QUALITATIVE",
                        enum_type=Comparator,
                        max_length=16,
                    ),
                ),
                (
                    "target_value_raw",
                    fields.CharField(description="as published, e.g. ≥95%", max_length=100),
                ),
                (
                    "target_value_number",
                    fields.DecimalField(null=True, max_digits=20, decimal_places=4),
                ),
                ("unit", fields.CharField(null=True, max_length=20)),
                (
                    "weight",
                    fields.DecimalField(
                        null=True, description="分值", max_digits=5, decimal_places=2
                    ),
                ),
                ("is_core", fields.BooleanField(default=False)),
                ("explanation", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "indicator",
                "app": "models",
                "unique_together": (("target", "position"),),
                "pk_attr": "id",
                "table_description": "绩效指标: a level-3 indicator row of a target.",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="Rectification",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "finding",
                    fields.OneToOneField(
                        "models.Finding",
                        source_field="finding_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="rectification",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("notice_issued_at", fields.DateField()),
                ("received_at", fields.DateField()),
                ("due_date", fields.DateField()),
                ("measures", fields.TextField(default="", unique=False)),
                ("reported_at", fields.DateField(null=True)),
                ("recheck_by", fields.CharField(null=True, max_length=200)),
                ("recheck_on_site", fields.BooleanField(default=False)),
                ("recheck_result", fields.TextField(null=True, unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=RectificationStatus.OPEN,
                        description="OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nDONE: DONE\nOVERDUE: OVERDUE\nVERIFIED: VERIFIED",
                        enum_type=RectificationStatus,
                        max_length=16,
                    ),
                ),
                ("result_uses", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "rectification",
                "app": "models",
                "pk_attr": "id",
                "table_description": "整改: due 30 days after the department receives the notice (S:000).",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="SelfAssessment",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                (
                    "subject",
                    fields.ForeignKeyField(
                        "models.Subject",
                        source_field="subject_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="self_assessments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("fiscal_year", fields.IntField()),
                ("full_year_budget", MoneyField(description="全年预算数")),
                ("executed", MoneyField(description="全年执行数")),
                (
                    "execution_rate",
                    fields.DecimalField(description="percent", max_digits=9, decimal_places=4),
                ),
                ("execution_score", fields.DecimalField(max_digits=5, decimal_places=2)),
                ("annual_goal_expected", fields.TextField(default="", unique=False)),
                ("annual_goal_actual", fields.TextField(default="", unique=False)),
                ("total_score", fields.DecimalField(max_digits=5, decimal_places=2)),
                (
                    "grade",
                    fields.CharEnumField(
                        description="EXCELLENT: EXCELLENT\nGOOD: GOOD\nAVERAGE: AVERAGE\nPOOR: POOR",
                        enum_type=Grade,
                        max_length=16,
                    ),
                ),
                ("report_text", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "self_assessment",
                "app": "models",
                "unique_together": (("subject", "fiscal_year"),),
                "pk_attr": "id",
                "table_description": "绩效自评: the year-end self-assessment form (项目支出绩效自评表) of a subject.",
            },
            bases=["VersionedModel"],
        ),
        ops.CreateModel(
            name="SelfAssessmentRow",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "assessment",
                    fields.ForeignKeyField(
                        "models.SelfAssessment",
                        source_field="assessment_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="rows",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                (
                    "indicator",
                    fields.ForeignKeyField(
                        "models.Indicator",
                        source_field="indicator_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="assessment_rows",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "level1",
                    fields.CharEnumField(
                        description="OUTPUT: OUTPUT\nBENEFIT: BENEFIT\nSATISFACTION: SATISFACTION\nCOST: COST",
                        enum_type=IndicatorL1,
                        max_length=16,
                    ),
                ),
                (
                    "level2",
                    fields.CharEnumField(
                        description="QUANTITY: QUANTITY\nQUALITY: QUALITY\nTIMELINESS: TIMELINESS\nOUTPUT_COST: OUTPUT_COST\nECONOMIC_BENEFIT: ECONOMIC_BENEFIT\nSOCIAL_BENEFIT: SOCIAL_BENEFIT\nECOLOGICAL_BENEFIT: ECOLOGICAL_BENEFIT\nSUSTAINABLE_IMPACT: SUSTAINABLE_IMPACT\nSERVICE_RECIPIENT_SATISFACTION: SERVICE_RECIPIENT_SATISFACTION\nECONOMIC_COST: ECONOMIC_COST\nSOCIAL_COST: SOCIAL_COST\nECO_ENVIRONMENTAL_COST: ECO_ENVIRONMENTAL_COST",
                        enum_type=IndicatorL2,
                        max_length=40,
                    ),
                ),
                ("indicator_name", fields.CharField(max_length=200)),
                (
                    "comparator",
                    fields.CharEnumField(
                        description="EQ: EQ\nGE: GE\nLE: LE\nGT: GT\nLT: LT\nQUALITATIVE: QUALITATIVE",
                        enum_type=Comparator,
                        max_length=16,
                    ),
                ),
                ("target_value_raw", fields.CharField(max_length=100)),
                (
                    "target_value_number",
                    fields.DecimalField(null=True, max_digits=20, decimal_places=4),
                ),
                ("actual_value_raw", fields.CharField(max_length=100)),
                (
                    "actual_value_number",
                    fields.DecimalField(null=True, max_digits=20, decimal_places=4),
                ),
                (
                    "qualitative_band",
                    fields.CharEnumField(
                        null=True,
                        description="ACHIEVED: ACHIEVED\nPARTLY_ACHIEVED: PARTLY_ACHIEVED\nNOT_ACHIEVED: NOT_ACHIEVED",
                        enum_type=QualitativeBand,
                        max_length=24,
                    ),
                ),
                ("weight", fields.DecimalField(max_digits=5, decimal_places=2)),
                ("score", fields.DecimalField(max_digits=5, decimal_places=2)),
                (
                    "deviation_reason",
                    fields.TextField(
                        default="", description="偏差原因分析及改进措施", unique=False
                    ),
                ),
            ],
            options={
                "table": "self_assessment_row",
                "app": "models",
                "unique_together": (("assessment", "position"),),
                "pk_attr": "id",
                "table_description": "One indicator row of a self-assessment form.",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="SensitivityFiling",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                ("fiscal_year", fields.IntField()),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="filings",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "scope",
                    fields.CharEnumField(
                        description="WHOLE_DEPARTMENT: WHOLE_DEPARTMENT\nPROJECTS: PROJECTS",
                        enum_type=FilingScope,
                        max_length=24,
                    ),
                ),
                (
                    "reason",
                    fields.CharEnumField(
                        description="CLASSIFIED: CLASSIFIED\nSENSITIVE: SENSITIVE",
                        enum_type=FilingReason,
                        max_length=16,
                    ),
                ),
                (
                    "reference",
                    fields.CharField(description="filing reference number", max_length=60),
                ),
                ("filed_with", fields.CharField(max_length=100)),
                ("filed_at", fields.DateField()),
                (
                    "status",
                    fields.CharEnumField(
                        default=FilingStatus.FILED,
                        description="FILED: FILED\nACCEPTED: ACCEPTED\nWITHDRAWN: WITHDRAWN\nREVOKED: REVOKED",
                        enum_type=FilingStatus,
                        max_length=16,
                    ),
                ),
                (
                    "projects",
                    fields.ManyToManyField(
                        "models.Subject",
                        unique=True,
                        db_constraint=True,
                        through="sensitivity_filing_project",
                        forward_key="subject_id",
                        backward_key="sensitivity_filing_id",
                        related_name="filings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "sensitivity_filing",
                "app": "models",
                "pk_attr": "id",
                "table_description": "涉密/敏感备案 for one fiscal year: a whole department, or listed projects of it.",
            },
            bases=["VersionedModel"],
        ),
    ]
