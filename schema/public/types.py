"""The public types. Each one is a published record as its data file holds it: GraphQL field
names are the JSON keys of the published records (camelCase in Python too, on purpose), and the
schema resolves plain fields straight from the snapshot dicts (`default_resolver=getitem`), so
an answer equals the published record field for field (invariant 1).

Only relations have resolvers, and they go through the request's DataLoaders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, NewType

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from publishers import history
from publishers.records import department_key
from schema import rows
from schema.context import Context
from storage import enums
from storage.enums import RecordType

# Published records hold dates as ISO strings already: these scalars pass them through.
Date = NewType("Date", str)
DateTime = NewType("DateTime", str)
SCALARS: dict[object, Any] = {
    Date: strawberry.scalar(
        name="Date",
        description="A calendar date, ISO 8601 (2024-02-14), Asia/Shanghai.",
        serialize=str,
        parse_value=str,
    ),
    DateTime: strawberry.scalar(
        name="DateTime",
        description="A moment, ISO 8601 with its UTC offset (2024-02-14T10:00:00+08:00).",
        serialize=str,
        parse_value=str,
    ),
}


def _enum(cls: type[enums.LabelledEnum], description: str) -> Any:
    return strawberry.enum(cls, description=description)


FiscalLevel = _enum(enums.FiscalLevel, "财政层级: fiscal level of a jurisdiction.")
DepartmentTier = _enum(enums.DepartmentTier, "主管部门 or 所属预算单位.")
OrgType = _enum(enums.OrgType, "行政单位 / 事业单位 / 其他.")
SubjectKind = _enum(enums.SubjectKind, "项目支出 / 财政政策 / 部门（单位）整体支出.")
BudgetBook = _enum(enums.BudgetBook, "三本预算: the budget book a subject is funded from.")
FundingPurpose = _enum(enums.FundingPurpose, "资金用途 (Shanghai target form).")
ProjectType = _enum(enums.ProjectType, "项目类型 (Shanghai target form).")
ProjectAttribute = _enum(enums.ProjectAttribute, "新增项目 / 延续项目.")
TransferType = _enum(enums.TransferType, "转移支付: the transfer that funds a project, if any.")
TargetHorizon = _enum(enums.TargetHorizon, "年度目标 / 总体目标.")
IndicatorL1 = _enum(enums.IndicatorL1, "一级指标.")
IndicatorL2 = _enum(enums.IndicatorL2, "二级指标.")
IndicatorNature = _enum(enums.IndicatorNature, "定量 / 定性.")
Comparator = _enum(enums.Comparator, "How the actual value is compared with the target.")
Grade = _enum(enums.Grade, "评价等级: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 < 60.")
EvaluationKind = _enum(
    enums.EvaluationKind, "Who evaluated: department, finance (key), re-evaluation."
)
AssessmentConductor = _enum(enums.AssessmentConductor, "Who conducted an ex-ante assessment.")
ExAnteConclusion = _enum(enums.ExAnteConclusion, "The conclusion of an ex-ante assessment.")
MonitoringMode = _enum(enums.MonitoringMode, "重点跟踪 / 简易跟踪.")
DeviationLevel = _enum(enums.DeviationLevel, "How far in-year monitoring found execution off plan.")
DocKind = _enum(enums.DocKind, "The kind of a published document.")
ReleaseKind = _enum(
    enums.ReleaseKind, "预算公开 / 决算公开 / the finance authority's annual release."
)
CorrectionKind = _enum(
    enums.CorrectionKind, "更正 (a corrected version) / 撤回 (a withdrawal under a filing)."
)


def _label(what: str) -> Any:
    return strawberry.field(description=f"Chinese label of `{what}`.")


def _f(description: str) -> Any:
    return strawberry.field(description=description)


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    id: strawberry.ID = _f("Global ID: stable across releases for the same record.")


def _typed(name: str) -> Any:
    """`is_type_of` for types whose values are snapshot dicts tagged with their type name."""

    @classmethod
    def is_type_of(cls: type, obj: Any, info: Any) -> bool:
        return isinstance(obj, dict) and obj.get("_type") == name

    return is_type_of


VersionKind = _enum(
    enums.VersionKind,
    "What a release version did: first publication, a correction, or the withdrawal of other "
    "records under a filing.",
)


@strawberry.type(description="One published version of a record: a version of a release.")
class RecordVersion:
    releaseKey: str = _f("Key of the release whose version carried the record.")
    number: int = _f("Version number within that release, from 1.")
    publishedAt: DateTime = _f("When the version was published.")
    date: Date = _f("Its day in Asia/Shanghai: `asOf` answers it from this day on.")
    kind: VersionKind = _f("What that version of the release did.")
    kindLabel: str = _label("kind")
    changed: bool = _f(
        "The record differs from the release's previous version that carried it (true when "
        "there is none)."
    )

    @strawberry.field(description="The release, as currently published.")
    async def release(self, info: Info[Context, None]) -> Release | None:
        return await info.context.loaders.record(RecordType.RELEASE).load(self["releaseKey"])


@strawberry.type(description="A field of a record that differs between two of its versions.")
class FieldChange:
    field: str = _f(
        "Dotted path into the published record, list items by position from 0: `name`, "
        "`amounts.fullYear.total`, `indicators[2].targetValue`."
    )
    old: JSON | None = _f("Its value in the older version asked for; null where absent.")
    new: JSON | None = _f("Its value in the newer version asked for; null where absent.")


From = Annotated[int, strawberry.argument(name="from", description="A version number.")]
To = Annotated[int, strawberry.argument(description="Another version number.")]
ReleaseKeyArgument = Annotated[
    str | None,
    strawberry.argument(
        description="The release whose versions to compare; by default the one the record is "
        "answered from (a subject is in its budget and its final-accounts release)."
    ),
]


@strawberry.interface(
    description="A published record with its history: every version that carried it, and "
    "what changed between two. A withdrawn record has none."
)
class Versioned:
    @strawberry.field(
        description="Every published version that carried this record, oldest first (of a "
        "record read `asOf` a day: those published by then)."
    )
    async def versions(self, info: Info[Context, None]) -> list[RecordVersion]:
        return record_versions(await _history(self, info))

    @strawberry.field(
        description="Field-level differences of this record from version `from` to version "
        "`to` of one release."
    )
    async def changes(
        self,
        info: Info[Context, None],
        from_: From,
        to: To,
        releaseKey: ReleaseKeyArgument = None,
    ) -> list[FieldChange]:
        found = await _history(self, info)
        release = releaseKey or _answering_release(found, rows.source_of(self))
        numbered = {r["release_version"]: r for r in found if r["release_key"] == release}
        for number in (from_, to):
            if number not in numbered:
                held = ", ".join(str(n) for n in sorted(numbered)) or "none"
                raise rows.BadInput(
                    f"`changes`: {self['key']} is not in version {number} of release "
                    f"{release}; its versions there: {held}"
                )
        old, new = numbered[from_]["data"], numbered[to]["data"]
        return [dataclasses.asdict(c) for c in history.changes(old, new)]


async def _history(node: Any, info: Info[Context, None]) -> list[dict[str, Any]]:
    key = (rows.RECORD_TYPES[node["_type"]], node["key"])
    return await info.context.loaders_of(node).history().load(key)


def _answering_release(found: list[dict[str, Any]], source: rows.Source) -> str | None:
    """The release of the row a record is answered from (the current-row rule of
    `schema.rows`: the highest precedence, then the latest published)."""
    live = [
        r
        for r in found
        if r["superseded_day"] is None
        or (source.day is not None and r["superseded_day"] > source.day)
    ]
    best = max(live, key=lambda r: (r["precedence"], r["id"]), default=None)
    return None if best is None else str(best["release_key"])


def record_versions(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows as `RecordVersion`s, each marked changed or not against the previous
    version of its release that carried the record."""
    last: dict[str, Any] = {}
    out = []
    for row in found:
        kind = enums.VersionKind(row["change"])
        previous = last.get(row["release_key"])
        published = row["published_at"].astimezone(history.SHANGHAI)
        out.append(
            {
                "releaseKey": row["release_key"],
                "number": row["release_version"],
                "publishedAt": published.isoformat(),
                "date": published.date().isoformat(),
                "kind": kind.value,
                "kindLabel": kind.label,
                "changed": previous is None or previous != row["data"],
            }
        )
        last[row["release_key"]] = row["data"]
    return out


@strawberry.type(description="行政区划: a jurisdiction with its own finance authority.")
class Jurisdiction(Node, Versioned):
    is_type_of = _typed("Jurisdiction")
    key: str = _f("Stable key: the jurisdiction code.")
    code: str = _f("Jurisdiction code (fictitious in demo data).")
    name: str = _f("Name, e.g. 示例区.")
    level: FiscalLevel = _f("Fiscal level.")
    levelLabel: str = _label("level")
    financeAuthority: str = _f("Its finance authority, e.g. 示例区财政局.")
    demo: bool = _f("True for fictitious demonstration data (演示数据).")


@strawberry.type(description="预算主管部门 or 所属预算单位, as last published.")
class Department(Node, Versioned):
    is_type_of = _typed("Department")
    key: str = _f("Stable key: jurisdiction code / department code.")
    code: str = _f("Department code, stable across years.")
    name: str = _f("Name.")
    jurisdictionCode: str = _f("Code of its jurisdiction.")
    tier: DepartmentTier = _f("Department or unit.")
    tierLabel: str = _label("tier")
    orgType: OrgType = _f("Organisation type.")
    orgTypeLabel: str = _label("orgType")
    parentCode: str | None = _f("For a unit: the code of its department.")

    @strawberry.field(description="Its jurisdiction.")
    async def jurisdiction(self, info: Info[Context, None]) -> Jurisdiction | None:
        return (
            await info.context.loaders_of(self)
            .record(RecordType.JURISDICTION)
            .load(self["jurisdictionCode"])
        )

    @strawberry.field(description="For a unit: its department.")
    async def parent(self, info: Info[Context, None]) -> Department | None:
        code = self["parentCode"]
        if code is None:
            return None
        key = department_key(self["jurisdictionCode"], code)
        return await info.context.loaders_of(self).record(RecordType.DEPARTMENT).load(key)


@strawberry.type(description="One row of an amounts block, in 元 (two decimals).")
class Amounts:
    total: Decimal = _f("年度资金总额.")
    appropriation: Decimal = _f("其中：当年财政拨款.")
    carryOver: Decimal = _f("上年结转资金.")
    other: Decimal = _f("其他资金.")


@strawberry.type(description="The amounts block: 年初预算数 / 全年预算数 / 全年执行数, in 元.")
class AmountBlock:
    initial: Amounts = _f("年初预算数 (approved initial budget).")

    @strawberry.field(description="全年预算数 (adjusted): published with the final accounts.")
    def fullYear(self) -> Amounts | None:
        return self.get("fullYear")

    @strawberry.field(description="全年执行数 (executed): published with the final accounts.")
    def executed(self) -> Amounts | None:
        return self.get("executed")


@strawberry.type(description="A level-3 performance indicator (三级指标) of a target.")
class Indicator:
    position: int = _f("Order within the target.")
    level1: IndicatorL1 = _f("一级指标.")
    level1Label: str = _label("level1")
    level2: IndicatorL2 = _f("二级指标.")
    level2Label: str = _label("level2")
    name: str = _f("三级指标名称.")
    nature: IndicatorNature = _f("定量 or 定性.")
    natureLabel: str = _label("nature")
    comparator: Comparator = _f("Comparison with the target value.")
    comparatorLabel: str = _label("comparator")
    targetValue: str = _f("Target value as published, e.g. ≥95%.")
    targetNumber: Decimal | None = _f("The number in the target value, when quantitative.")
    unit: str | None = _f("计量单位.")
    weight: Decimal | None = _f("分值 (points) in self-assessment.")
    core: bool = _f("Core indicator (★).")


@strawberry.type(description="绩效目标: a subject's performance target, approved with the budget.")
class PerformanceTarget(Node, Versioned):
    is_type_of = _typed("PerformanceTarget")
    key: str = _f("Stable key.")
    subjectKey: str = _f("Key of its subject.")
    fiscalYear: int = _f("Fiscal year.")
    horizon: TargetHorizon = _f("Annual or overall target.")
    horizonLabel: str = _label("horizon")
    overallGoal: str = _f("年度总体目标.")
    approvedOn: Date | None = _f("Approved together with the budget on this date.")
    indicators: list[Indicator] = _f("Its indicators, in order.")

    @strawberry.field(description="The subject of this target.")
    async def subject(self, info: Info[Context, None]) -> Subject | None:
        return await _subject(self, info)


@strawberry.type(description="One indicator row of a self-assessment form.")
class SelfAssessmentRow:
    position: int = _f("Order within the form.")
    level1: IndicatorL1 = _f("一级指标.")
    level1Label: str = _label("level1")
    level2: IndicatorL2 = _f("二级指标.")
    level2Label: str = _label("level2")
    indicatorName: str = _f("三级指标.")
    comparator: Comparator = _f("Comparison with the target value.")
    comparatorLabel: str = _label("comparator")
    targetValue: str = _f("年度指标值.")
    actualValue: str = _f("实际完成值.")
    weight: Decimal = _f("分值.")
    score: Decimal = _f("得分.")
    deviationReason: str = _f("偏差原因分析及改进措施.")


@strawberry.enum(description="Where a row of a subject's budget-against-actuals table comes from.")
class OutcomeSource(Enum):
    BOTH = "BOTH"
    TARGET_ONLY = "TARGET_ONLY"
    ASSESSMENT_ONLY = "ASSESSMENT_ONLY"


@strawberry.type(
    description="One indicator of a subject: its target as approved with the budget (预算公开) "
    "beside its actual value in the final accounts' self-assessment (决算公开), matched by "
    "一级、二级 and 三级指标."
)
class IndicatorOutcome:
    level1: IndicatorL1 = _f("一级指标.")
    level1Label: str = _label("level1")
    level2: IndicatorL2 = _f("二级指标.")
    level2Label: str = _label("level2")
    name: str = _f("三级指标.")
    budgetTarget: str | None = _f(
        "指标值 in the budget's performance target; none when only the "
        "self-assessment has the indicator."
    )
    unit: str | None = _f("计量单位 (from the target).")
    assessedTarget: str | None = _f("年度指标值 as the self-assessment restates it.")
    actualValue: str | None = _f("实际完成值; none before the final accounts are published.")
    weight: Decimal | None = _f("分值.")
    score: Decimal | None = _f("得分.")
    deviationReason: str | None = _f("偏差原因分析及改进措施.")
    source: OutcomeSource = _f("Which of the two records hold the indicator.")


def outcomes(
    target: Mapping[str, Any] | None, assessment: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The target's indicators in their order, each with the self-assessment row of the same
    一级/二级/三级指标 (the n-th of a repeated name with the n-th), then the rows the target does
    not have."""
    rows: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for row in (assessment or {}).get("rows", []):
        rows.setdefault((row["level1"], row["level2"], row["indicatorName"]), []).append(row)
    out = []
    for indicator in (target or {}).get("indicators", []):
        same = rows.get((indicator["level1"], indicator["level2"], indicator["name"]))
        row = same.pop(0) if same else None
        out.append(_outcome(indicator, row))
    out += [_outcome(None, row) for left in rows.values() for row in left]
    return out


def _outcome(indicator: Mapping[str, Any] | None, row: Mapping[str, Any] | None) -> dict[str, Any]:
    either: Mapping[str, Any] = indicator or row or {}
    return {
        "level1": either["level1"],
        "level1Label": either["level1Label"],
        "level2": either["level2"],
        "level2Label": either["level2Label"],
        "name": indicator["name"] if indicator else either["indicatorName"],
        "budgetTarget": indicator["targetValue"] if indicator else None,
        "unit": indicator.get("unit") if indicator else None,
        "assessedTarget": row["targetValue"] if row else None,
        "actualValue": row["actualValue"] if row else None,
        "weight": row["weight"] if row else (indicator or {}).get("weight"),
        "score": row["score"] if row else None,
        "deviationReason": row["deviationReason"] if row else None,
        "source": OutcomeSource.BOTH
        if indicator and row
        else OutcomeSource.TARGET_ONLY
        if indicator
        else OutcomeSource.ASSESSMENT_ONLY,
    }


@strawberry.type(description="绩效自评: the year-end self-assessment (项目支出绩效自评表).")
class SelfAssessment(Node, Versioned):
    is_type_of = _typed("SelfAssessment")
    key: str = _f("Stable key.")
    subjectKey: str = _f("Key of its subject.")
    fiscalYear: int = _f("The fiscal year assessed.")
    fullYearBudget: Decimal = _f("全年预算数, 元.")
    executed: Decimal = _f("全年执行数, 元.")
    executionRate: Decimal = _f("执行率 = 全年执行数 / 全年预算数, percent, two places (half-up).")
    executionScore: Decimal = _f("Execution score, at most 10.")
    annualGoalExpected: str = _f("年度总体目标 – 预期目标.")
    annualGoalActual: str = _f("实际完成情况.")
    totalScore: Decimal = _f("总分, out of 100.")
    grade: Grade = _f("Grade earned by the total score.")
    gradeLabel: str = _label("grade")
    rows: list[SelfAssessmentRow] = _f("Indicator rows, in order.")

    @strawberry.field(description="The subject assessed.")
    async def subject(self, info: Info[Context, None]) -> Subject | None:
        return await _subject(self, info)


@strawberry.type(description="A published document: a report's main text, a budget document …")
class PublishedFile(Node, Versioned):
    is_type_of = _typed("PublishedFile")
    key: str = _f("Stable key: file/<sha256>.")
    title: str = _f("Title.")
    docKind: DocKind = _f("Kind of document.")
    docKindLabel: str = _label("docKind")
    fiscalYear: int = _f("Fiscal year documented.")
    departmentCode: str | None = _f("Department it belongs to, if any.")
    aboutKey: str | None = _f("Key of the record it documents (e.g. an evaluation).")
    path: str = _f("Path inside its release folder.")
    contentType: str = _f("Media type.")
    bytes: int = _f("Size in bytes.")
    sha256: str = _f("SHA-256 of the file, hex.")
    language: str = _f("Language (zh-CN).")


@strawberry.type(description="绩效评价: a department or finance evaluation's result.")
class Evaluation(Node, Versioned):
    is_type_of = _typed("Evaluation")
    key: str = _f("Stable key.")
    subjectKey: str = _f("Key of the subject evaluated.")
    fiscalYear: int = _f("The year of spending evaluated.")
    kind: EvaluationKind = _f("Kind of evaluation.")
    kindLabel: str = _label("kind")
    organiser: str = _f("Who organised it.")
    thirdParty: str | None = _f("Third-party institution, if any.")
    budgetBook: BudgetBook = _f("Budget book of the money evaluated.")
    budgetBookLabel: str = _label("budgetBook")
    amountEvaluated: Decimal = _f("Money evaluated, 元.")
    score: Decimal | None = _f("Score out of 100.")
    grade: Grade | None = _f("Grade.")
    gradeLabel: str | None = _label("grade")
    reportFileKey: str | None = _f("Key of the report's main text, once published (D9).")

    @strawberry.field(description="The subject evaluated.")
    async def subject(self, info: Info[Context, None]) -> Subject | None:
        return await _subject(self, info)

    @strawberry.field(description="The report's main text (正文), when it has been published.")
    async def report(self, info: Info[Context, None]) -> PublishedFile | None:
        key = self["reportFileKey"]
        if key is None:
            return None
        return await info.context.loaders_of(self).record(RecordType.FILE).load(key)


@strawberry.type(description="绩效运行监控: in-year tracking of execution and target attainment.")
class MonitoringRecord(Node, Versioned):
    is_type_of = _typed("MonitoringRecord")
    key: str = _f("Stable key.")
    subjectKey: str = _f("Key of its subject.")
    fiscalYear: int = _f("Fiscal year monitored.")
    mode: MonitoringMode = _f("Key or simple tracking.")
    modeLabel: str = _label("mode")
    asOfDate: Date = _f("As of this date.")
    budgetToDate: Decimal = _f("Budget to date, 元.")
    executedToDate: Decimal = _f("Executed to date, 元.")
    executionRate: Decimal = _f("Execution rate to date, percent.")
    deviationLevel: DeviationLevel = _f("Deviation found.")
    deviationLevelLabel: str = _label("deviationLevel")
    correctiveActions: list[str] = _f("Corrective actions decided.")


@strawberry.type(
    description="事前绩效评估: assessment of a new project or policy before budgeting."
)
class ExAnteAssessment(Node, Versioned):
    is_type_of = _typed("ExAnteAssessment")
    key: str = _f("Stable key.")
    subjectKey: str = _f("Key of its subject.")
    fiscalYear: int = _f("Budget year prepared.")
    conductedBy: AssessmentConductor = _f("Department or finance.")
    conductedByLabel: str = _label("conductedBy")
    conclusion: ExAnteConclusion = _f("Conclusion.")
    conclusionLabel: str = _label("conclusion")
    requestedAmount: Decimal = _f("Amount requested, 元.")
    recommendedReduction: Decimal = _f("Reduction recommended, 元.")
    summary: str = _f("Summary.")


@strawberry.type(
    description="A performance subject (绩效主体): a project, a fiscal policy or a department's "
    "overall expenditure, for one fiscal year."
)
class Subject(Node, Versioned):
    is_type_of = _typed("Subject")
    key: str = _f("Stable key: jurisdiction/department/kind/code/year.")
    kind: SubjectKind = _f("Project, policy or department overall.")
    kindLabel: str = _label("kind")
    code: str = _f("Project code, stable across years.")
    fiscalYear: int = _f("Fiscal year.")
    name: str = _f("Name.")
    jurisdictionCode: str = _f("Jurisdiction code.")
    departmentCode: str = _f("Code of its 主管部门.")
    departmentName: str = _f("Name of its 主管部门.")
    implementingUnitCode: str | None = _f("Code of its 实施单位.")
    implementingUnitName: str | None = _f("Name of its 实施单位.")
    parentKey: str | None = _f("For a 二级项目: key of its 一级项目.")
    budgetBook: BudgetBook = _f("Budget book.")
    budgetBookLabel: str = _label("budgetBook")
    fundingPurpose: FundingPurpose | None = _f("资金用途.")
    fundingPurposeLabel: str | None = _label("fundingPurpose")
    projectType: ProjectType | None = _f("项目类型.")
    projectTypeLabel: str | None = _label("projectType")
    attribute: ProjectAttribute | None = _f("新增 or 延续.")
    attributeLabel: str | None = _label("attribute")
    transferType: TransferType = _f("转移支付.")
    transferTypeLabel: str = _label("transferType")
    startDate: Date | None = _f("Start date.")
    endDate: Date | None = _f("End date.")
    basis: str = _f("立项依据.")
    summary: str = _f("项目概况.")
    amounts: AmountBlock = _f("The amounts block, 元.")

    @strawberry.field(description="Its 主管部门.")
    async def department(self, info: Info[Context, None]) -> Department | None:
        key = department_key(self["jurisdictionCode"], self["departmentCode"])
        return await info.context.loaders_of(self).record(RecordType.DEPARTMENT).load(key)

    @strawberry.field(description="Its performance target (annual), published with the budget.")
    async def target(self, info: Info[Context, None]) -> PerformanceTarget | None:
        found = await info.context.loaders_of(self).children(RecordType.TARGET).load(self["key"])
        return found[0] if found else None

    @strawberry.field(description="Its self-assessment, published with the final accounts.")
    async def selfAssessment(self, info: Info[Context, None]) -> SelfAssessment | None:
        found = (
            await info.context.loaders_of(self)
            .children(RecordType.SELF_ASSESSMENT)
            .load(self["key"])
        )
        return found[0] if found else None

    @strawberry.field(
        description="Its target's indicators as approved with the budget beside the actual values "
        "of its self-assessment in the final accounts, matched by indicator (issue 16): what the "
        "project page of the site shows, without a join by the portal."
    )
    async def targetsAgainstActuals(self, info: Info[Context, None]) -> list[IndicatorOutcome]:
        loaders = info.context.loaders_of(self)
        targets = await loaders.children(RecordType.TARGET).load(self["key"])
        assessments = await loaders.children(RecordType.SELF_ASSESSMENT).load(self["key"])
        return outcomes(  # type: ignore[return-value] # snapshot dicts, read by getitem
            targets[0] if targets else None, assessments[0] if assessments else None
        )

    @strawberry.field(description="Its evaluations, published with the final accounts.")
    async def evaluations(self, info: Info[Context, None]) -> list[Evaluation]:
        loader = info.context.loaders_of(self).children(RecordType.EVALUATION)
        return await loader.load(self["key"])

    @strawberry.field(description="Its in-year monitoring records.")
    async def monitoring(self, info: Info[Context, None]) -> list[MonitoringRecord]:
        loader = info.context.loaders_of(self).children(RecordType.MONITORING)
        return await loader.load(self["key"])

    @strawberry.field(description="Its ex-ante assessments.")
    async def exAnteAssessments(self, info: Info[Context, None]) -> list[ExAnteAssessment]:
        loader = info.context.loaders_of(self).children(RecordType.EX_ANTE_ASSESSMENT)
        return await loader.load(self["key"])


@strawberry.type(
    description="全面实施预算绩效管理情况说明: a finance authority's annual statement."
)
class AnnualStatement(Node, Versioned):
    is_type_of = _typed("AnnualStatement")
    key: str = _f("Stable key.")
    jurisdictionCode: str = _f("Jurisdiction code.")
    year: int = _f("The year it covers.")
    title: str = _f("Title.")
    text: str = _f("Full text.")


@strawberry.type(description="One published version of a release.")
class ReleaseVersion:
    number: int = _f("Version number, from 1.")
    publishedAt: DateTime = _f("When it was published.")
    manifest: str = _f("Object key of its manifest.")
    correctionNote: str | None = _f("Why it was corrected (never names a withdrawn record).")

    @strawberry.field(
        description="What it did; none for versions published before gongkai recorded it."
    )
    def kind(self) -> VersionKind | None:
        return self.get("kind")

    @strawberry.field(description="Chinese label of `kind`.")
    def kindLabel(self) -> str | None:
        return self.get("kindLabel")

    @strawberry.field(description="Absolute URL of its manifest.")
    def manifestUrl(self, info: Info[Context, None]) -> str:
        return info.context.public_url(self["manifest"])


@strawberry.type(
    description="公开批次: what a department (or the finance authority) disclosed for a year, "
    "in step with its budget or final accounts."
)
class Release(Node):
    is_type_of = _typed("Release")
    key: str = _f("Stable key: jurisdiction/year/kind/department.")
    title: str = _f("Title.")
    kind: ReleaseKind = _f("Budget, final accounts or the finance authority's annual release.")
    kindLabel: str = _label("kind")
    fiscalYear: int = _f("Fiscal year.")
    jurisdictionCode: str = _f("Jurisdiction code.")
    departmentCode: str | None = _f("Department code (none for the finance authority's).")
    departmentName: str | None = _f("Department name.")
    approvalDate: Date = _f("人大批准 or 财政批复 date.")
    dueDate: Date = _f("Approval date + 20 calendar days.")
    publishedAt: DateTime = _f("First published.")
    onTime: bool = _f("Published on or before its due date.")
    currentVersion: int = _f("Number of the current version.")
    manifest: str = _f("Object key of the current manifest.")
    datapackage: str = _f("Object key of the current data package.")
    versions: list[ReleaseVersion] = _f("Every version, oldest first, with correction notes.")
    demo: bool = _f("True for fictitious demonstration data.")

    @strawberry.field(description="Absolute URL of the current manifest.")
    def manifestUrl(self, info: Info[Context, None]) -> str:
        return info.context.public_url(self["manifest"])

    @strawberry.field(description="Absolute URL of the current Frictionless data package.")
    def datapackageUrl(self, info: Info[Context, None]) -> str:
        return info.context.public_url(self["datapackage"])

    @strawberry.field(description="Its department, if it is a department's release.")
    async def department(self, info: Info[Context, None]) -> Department | None:
        if self["departmentCode"] is None:
            return None
        key = department_key(self["jurisdictionCode"], self["departmentCode"])
        return await info.context.loaders_of(self).record(RecordType.DEPARTMENT).load(key)

    @strawberry.field(description="Its jurisdiction.")
    async def jurisdiction(self, info: Info[Context, None]) -> Jurisdiction | None:
        return (
            await info.context.loaders_of(self)
            .record(RecordType.JURISDICTION)
            .load(self["jurisdictionCode"])
        )


@strawberry.type(
    description="更正/撤回公告: published information of a jurisdiction and year was corrected "
    "or withdrawn. It gives the date and the kind, never a withdrawn record nor a count (D7)."
)
class CorrectionNotice:
    date: Date = _f("When it was corrected or withdrawn (Asia/Shanghai).")
    kind: CorrectionKind = _f("Correction or withdrawal.")
    kindLabel: str = _label("kind")
    jurisdictionCode: str = _f("Code of the jurisdiction whose published information changed.")
    fiscalYear: int = _f("Fiscal year of the release concerned.")
    releaseKey: str | None = _f(
        "Key of the release corrected, while it is published; none when a whole release was "
        "withdrawn (naming it would name its department)."
    )
    releaseKind: ReleaseKind | None = _f("Kind of that release.")
    releaseKindLabel: str | None = _label("releaseKind")
    note: str = _f("What was done (Chinese); never names a withdrawn record.")
    version: int | None = _f(
        "The version of that release it produced (see `versions` and `changes` of its "
        "records); none when a whole release was withdrawn."
    )

    @strawberry.field(description="The release corrected, while it is published.")
    async def release(self, info: Info[Context, None]) -> Release | None:
        key = self["releaseKey"]
        if key is None:
            return None
        return await info.context.loaders_of(self).record(RecordType.RELEASE).load(key)


async def _subject(record: Any, info: Info[Context, None]) -> Subject | None:
    return (
        await info.context.loaders_of(record).record(RecordType.SUBJECT).load(record["subjectKey"])
    )


NODE_TYPES: list[type] = [
    Jurisdiction,
    Department,
    Subject,
    PerformanceTarget,
    SelfAssessment,
    Evaluation,
    MonitoringRecord,
    ExAnteAssessment,
    AnnualStatement,
    PublishedFile,
    Release,
]
