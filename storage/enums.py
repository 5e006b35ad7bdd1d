"""The domain's enumerations, each value with its Chinese label (domain.md §2–§3).

Values are the stable English identifiers stored in the database and published in data files;
`label` is the Chinese term as it appears on the official forms.
"""

from __future__ import annotations

from enum import Enum
from typing import Self


class LabelledEnum(str, Enum):
    """A string enum whose members carry a Chinese label: ``Grade.EXCELLENT.label == "优"``."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    def __str__(self) -> str:
        return self.value


class FiscalLevel(LabelledEnum):
    MUNICIPAL = "MUNICIPAL", "市级"
    DISTRICT = "DISTRICT", "区级"
    TOWN = "TOWN", "镇级"
    SUBDISTRICT = "SUBDISTRICT", "街道"


class FinanceAuthorityRole(LabelledEnum):
    FINANCE_BUREAU = "FINANCE_BUREAU", "财政局"
    TOWN_FINANCE_OFFICE = "TOWN_FINANCE_OFFICE", "财政所"
    DEPARTMENT_FINANCE_DIVISION = "DEPARTMENT_FINANCE_DIVISION", "计财处"


class DepartmentTier(LabelledEnum):
    DEPARTMENT = "DEPARTMENT", "主管部门"
    UNIT = "UNIT", "所属预算单位"


class OrgType(LabelledEnum):
    ADMINISTRATIVE = "ADMINISTRATIVE", "行政单位"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION", "事业单位"
    OTHER = "OTHER", "其他"


class SubjectKind(LabelledEnum):
    PROJECT = "PROJECT", "项目支出"
    POLICY = "POLICY", "财政政策"
    DEPARTMENT_OVERALL = "DEPARTMENT_OVERALL", "部门（单位）整体支出"


class BudgetBook(LabelledEnum):
    GENERAL_PUBLIC = "GENERAL_PUBLIC", "一般公共预算"
    GOVERNMENT_FUND = "GOVERNMENT_FUND", "政府性基金预算"
    STATE_CAPITAL_OPERATION = "STATE_CAPITAL_OPERATION", "国有资本经营预算"
    SOCIAL_INSURANCE_FUND = "SOCIAL_INSURANCE_FUND", "社会保险基金预算"


class FundingPurpose(LabelledEnum):
    CAPITAL_CONSTRUCTION = "CAPITAL_CONSTRUCTION", "基本建设工程类"
    INFORMATIZATION = "INFORMATIZATION", "信息化建设类"
    POLICY_SUBSIDY = "POLICY_SUBSIDY", "政策补贴类"
    GOV_PURCHASE_OF_SERVICES = "GOV_PURCHASE_OF_SERVICES", "政府购买服务"
    ASSET_PURCHASE = "ASSET_PURCHASE", "资产购置类"
    OTHER_PROFESSIONAL = "OTHER_PROFESSIONAL", "其他事业专业类"


class ProjectType(LabelledEnum):
    NEW_MANDATED = "NEW_MANDATED", "市委市政府已确定的新增项目"
    CARRY_OVER = "CARRY_OVER", "结转项目"
    OTHER_ONE_OFF = "OTHER_ONE_OFF", "其他一次性项目"
    RECURRING_SPECIAL_OPS = "RECURRING_SPECIAL_OPS", "经常性专项业务费"
    OTHER_RECURRING = "OTHER_RECURRING", "其他经常性项目"


class ProjectAttribute(LabelledEnum):
    NEW = "NEW", "新增项目"
    CONTINUING = "CONTINUING", "延续项目"


class InvestmentKind(LabelledEnum):
    INVESTMENT_CONSTRUCTION = "INVESTMENT_CONSTRUCTION", "投资建设类"
    RECURRING_OPS_MAINTENANCE = "RECURRING_OPS_MAINTENANCE", "经常性运行维护类"


class TransferType(LabelledEnum):
    NONE = "NONE", "无"
    MUNICIPAL_TO_DISTRICT_SPECIAL = "MUNICIPAL_TO_DISTRICT_SPECIAL", "市对区专项转移支付"
    SHARED_RESPONSIBILITY = "SHARED_RESPONSIBILITY", "共同事权转移支付"
    CENTRAL_TO_LOCAL_SPECIAL = "CENTRAL_TO_LOCAL_SPECIAL", "中央对地方专项转移支付"
    OTHER = "OTHER", "其他"


class AmountSource(LabelledEnum):
    """The rows of the amounts block (资金来源)."""

    TOTAL = "TOTAL", "年度资金总额"
    APPROPRIATION = "APPROPRIATION", "当年财政拨款"
    CARRY_OVER = "CARRY_OVER", "上年结转资金"
    OTHER = "OTHER", "其他资金"


class AmountColumn(LabelledEnum):
    """The columns of the amounts block."""

    INITIAL = "INITIAL", "年初预算数"
    FULL_YEAR = "FULL_YEAR", "全年预算数"
    EXECUTED = "EXECUTED", "全年执行数"


class TargetHorizon(LabelledEnum):
    ANNUAL = "ANNUAL", "年度目标"
    OVERALL = "OVERALL", "总体目标"


class ReviewStatus(LabelledEnum):
    DRAFT = "DRAFT", "草稿"
    SUBMITTED = "SUBMITTED", "已提交"
    DEPT_REVIEWED = "DEPT_REVIEWED", "主管部门已审核"
    THIRD_PARTY_REVIEWED = "THIRD_PARTY_REVIEWED", "第三方机构已审核"
    FINANCE_APPROVED = "FINANCE_APPROVED", "财政审核通过"
    REJECTED = "REJECTED", "退回"


class IndicatorL1(LabelledEnum):
    OUTPUT = "OUTPUT", "产出指标"
    BENEFIT = "BENEFIT", "效益指标"
    SATISFACTION = "SATISFACTION", "满意度指标"
    COST = "COST", "成本指标"


class IndicatorL2(LabelledEnum):
    QUANTITY = "QUANTITY", "数量指标"
    QUALITY = "QUALITY", "质量指标"
    TIMELINESS = "TIMELINESS", "时效指标"
    OUTPUT_COST = "OUTPUT_COST", "成本指标"
    ECONOMIC_BENEFIT = "ECONOMIC_BENEFIT", "经济效益指标"
    SOCIAL_BENEFIT = "SOCIAL_BENEFIT", "社会效益指标"
    ECOLOGICAL_BENEFIT = "ECOLOGICAL_BENEFIT", "生态效益指标"
    SUSTAINABLE_IMPACT = "SUSTAINABLE_IMPACT", "可持续影响指标"
    SERVICE_RECIPIENT_SATISFACTION = "SERVICE_RECIPIENT_SATISFACTION", "服务对象满意度指标"
    ECONOMIC_COST = "ECONOMIC_COST", "经济成本指标"
    SOCIAL_COST = "SOCIAL_COST", "社会成本指标"
    ECO_ENVIRONMENTAL_COST = "ECO_ENVIRONMENTAL_COST", "生态环境成本指标"


#: Which level-2 indicators may sit under each level-1 indicator (domain.md §3.6).
INDICATOR_CHILDREN: dict[IndicatorL1, frozenset[IndicatorL2]] = {
    IndicatorL1.OUTPUT: frozenset(
        {IndicatorL2.QUANTITY, IndicatorL2.QUALITY, IndicatorL2.TIMELINESS, IndicatorL2.OUTPUT_COST}
    ),
    IndicatorL1.BENEFIT: frozenset(
        {
            IndicatorL2.ECONOMIC_BENEFIT,
            IndicatorL2.SOCIAL_BENEFIT,
            IndicatorL2.ECOLOGICAL_BENEFIT,
            IndicatorL2.SUSTAINABLE_IMPACT,
        }
    ),
    IndicatorL1.SATISFACTION: frozenset({IndicatorL2.SERVICE_RECIPIENT_SATISFACTION}),
    IndicatorL1.COST: frozenset(
        {IndicatorL2.ECONOMIC_COST, IndicatorL2.SOCIAL_COST, IndicatorL2.ECO_ENVIRONMENTAL_COST}
    ),
}


class IndicatorNature(LabelledEnum):
    QUANTITATIVE = "QUANTITATIVE", "定量"
    QUALITATIVE = "QUALITATIVE", "定性"


class Comparator(LabelledEnum):
    EQ = "EQ", "＝"
    GE = "GE", "≥"
    LE = "LE", "≤"
    GT = "GT", "＞"
    LT = "LT", "＜"
    QUALITATIVE = "QUALITATIVE", "定性"


class QualitativeBand(LabelledEnum):
    """SR-5: the three bands an assessor picks from for a qualitative indicator."""

    ACHIEVED = "ACHIEVED", "达成年度指标"
    PARTLY_ACHIEVED = "PARTLY_ACHIEVED", "部分达成并具有一定效果"
    NOT_ACHIEVED = "NOT_ACHIEVED", "未达成且效果较差"


class Grade(LabelledEnum):
    EXCELLENT = "EXCELLENT", "优"
    GOOD = "GOOD", "良"
    AVERAGE = "AVERAGE", "中"
    POOR = "POOR", "差"


class AssessmentConductor(LabelledEnum):
    DEPARTMENT = "DEPARTMENT", "部门"
    FINANCE = "FINANCE", "财政"


class ExAnteConclusion(LabelledEnum):
    SUPPORT = "SUPPORT", "予以支持"
    SUPPORT_WITH_REDUCTION = "SUPPORT_WITH_REDUCTION", "核减后支持"
    NOT_SUPPORTED = "NOT_SUPPORTED", "不予支持"


class MonitoringMode(LabelledEnum):
    KEY = "KEY", "部门重点跟踪"
    SIMPLE = "SIMPLE", "绩效简易跟踪"


class DeviationLevel(LabelledEnum):
    NONE = "NONE", "无偏差"
    MINOR = "MINOR", "轻微偏差"
    MAJOR = "MAJOR", "较大偏差"


class EvaluationKind(LabelledEnum):
    DEPARTMENT = "DEPARTMENT", "部门评价"
    DEPARTMENT_SIMPLE = "DEPARTMENT_SIMPLE", "部门简易评价"
    FINANCE_KEY = "FINANCE_KEY", "财政重点评价"
    RE_EVALUATION = "RE_EVALUATION", "绩效再评价"


class EvaluationStatus(LabelledEnum):
    PLANNED = "PLANNED", "已立项"
    PLAN_REVIEWED = "PLAN_REVIEWED", "方案已评审"
    DRAFT_REVIEWED = "DRAFT_REVIEWED", "初稿已评审"
    RESULT_CONFIRMED = "RESULT_CONFIRMED", "结果已确认"
    FEEDBACK_ISSUED = "FEEDBACK_ISSUED", "已下发整改通知"
    RECTIFIED = "RECTIFIED", "已整改"
    RECHECKED = "RECHECKED", "已复核"
    CLOSED = "CLOSED", "已办结"


class EvaluationCategory(LabelledEnum):
    POLICY_SUBSIDY = "POLICY_SUBSIDY", "政策补贴类"
    DEPARTMENT_OVERALL = "DEPARTMENT_OVERALL", "部门整体"
    OTHER = "OTHER", "其他"


class FindingCategory(LabelledEnum):
    TARGET_BUDGET_PLAN_MISMATCH = "TARGET_BUDGET_PLAN_MISMATCH", "绩效目标与预算计划不匹配"
    INSUFFICIENT_FEASIBILITY_STUDY = "INSUFFICIENT_FEASIBILITY_STUDY", "可行性研究不充分"
    UNREASONABLE_BUDGET_ESTIMATE = "UNREASONABLE_BUDGET_ESTIMATE", "预算测算不合理"
    LOW_EXECUTION_RATE = "LOW_EXECUTION_RATE", "预算执行率偏低"
    HIGH_ADJUSTMENT_RATIO = "HIGH_ADJUSTMENT_RATIO", "预算调整比例较高"
    UNCLEAR_POLICY_GOAL = "UNCLEAR_POLICY_GOAL", "政策目标不明确"
    INACCURATE_BENEFICIARY_ESTIMATE = "INACCURATE_BENEFICIARY_ESTIMATE", "受益对象测算不准确"
    LOW_FUND_UTILISATION = "LOW_FUND_UTILISATION", "资金使用效益不高"
    NO_INCENTIVE_PENALTY_IN_SERVICE_CONTRACT = (
        "NO_INCENTIVE_PENALTY_IN_SERVICE_CONTRACT",
        "购买服务合同缺少奖惩条款",
    )
    PERFUNCTORY_ACCEPTANCE = "PERFUNCTORY_ACCEPTANCE", "验收流于形式"
    COARSE_INDICATORS = "COARSE_INDICATORS", "绩效指标设置粗放"
    LOW_SELF_ASSESSMENT_QUALITY = "LOW_SELF_ASSESSMENT_QUALITY", "自评质量不高"


class RectificationStatus(LabelledEnum):
    OPEN = "OPEN", "待整改"
    IN_PROGRESS = "IN_PROGRESS", "整改中"
    DONE = "DONE", "已整改"
    OVERDUE = "OVERDUE", "逾期未整改"
    VERIFIED = "VERIFIED", "已复核"


class Sensitivity(LabelledEnum):
    """Precedence CLASSIFIED > SENSITIVE > NONE (see `publishers.rules.Coverage`)."""

    NONE = "NONE", "非涉密"
    SENSITIVE = "SENSITIVE", "敏感"
    CLASSIFIED = "CLASSIFIED", "涉密"


class FilingScope(LabelledEnum):
    WHOLE_DEPARTMENT = "WHOLE_DEPARTMENT", "涉密部门备案"
    PROJECTS = "PROJECTS", "涉密项目备案"


class FilingReason(LabelledEnum):
    CLASSIFIED = "CLASSIFIED", "涉密"
    SENSITIVE = "SENSITIVE", "敏感"


class FilingStatus(LabelledEnum):
    FILED = "FILED", "已备案"
    ACCEPTED = "ACCEPTED", "已接收"
    WITHDRAWN = "WITHDRAWN", "已撤回"
    REVOKED = "REVOKED", "已撤销"


#: D5: a filing is active unless withdrawn or revoked.
ACTIVE_FILING_STATUSES: frozenset[FilingStatus] = frozenset(
    {FilingStatus.FILED, FilingStatus.ACCEPTED}
)


class ReleaseKind(LabelledEnum):
    BUDGET = "BUDGET", "预算公开"
    FINAL_ACCOUNTS = "FINAL_ACCOUNTS", "决算公开"
    FINANCE_ANNUAL = "FINANCE_ANNUAL", "财政预算绩效管理情况公开"


class ReleaseStatus(LabelledEnum):
    DRAFT = "DRAFT", "草稿"
    SCHEDULED = "SCHEDULED", "已排期"
    PUBLISHED = "PUBLISHED", "已公开"


class CorrectionKind(LabelledEnum):
    CORRECTION = "CORRECTION", "更正"
    WITHDRAWAL = "WITHDRAWAL", "撤回"


class VersionKind(LabelledEnum):
    """What a release version did: the first publication, a correction, or a withdrawal of
    records a filing now covers (which, seen from a record still public, withdrew others)."""

    FIRST = "FIRST", "首次公开"
    CORRECTION = "CORRECTION", "更正"
    WITHDRAWAL_OF_OTHERS = "WITHDRAWAL_OF_OTHERS", "撤回其他记录"


class DocKind(LabelledEnum):
    BUDGET_DOC = "BUDGET_DOC", "部门预算"
    FINAL_ACCOUNTS_DOC = "FINAL_ACCOUNTS_DOC", "部门决算"
    TARGET_TABLE = "TARGET_TABLE", "绩效目标表"
    SELF_ASSESSMENT_FORM = "SELF_ASSESSMENT_FORM", "绩效自评表"
    EVALUATION_REPORT_MAIN_TEXT = "EVALUATION_REPORT_MAIN_TEXT", "评价报告正文"
    EVALUATION_REPORT_ANNEX = "EVALUATION_REPORT_ANNEX", "评价报告附件"
    ANNUAL_PM_STATEMENT = "ANNUAL_PM_STATEMENT", "全面实施预算绩效管理情况说明"


class RecordType(LabelledEnum):
    """Kinds of published snapshot rows (`Disclosure.record_type`)."""

    JURISDICTION = "JURISDICTION", "行政区划"
    DEPARTMENT = "DEPARTMENT", "部门"
    SUBJECT = "SUBJECT", "绩效主体"
    TARGET = "TARGET", "绩效目标"
    EX_ANTE_ASSESSMENT = "EX_ANTE_ASSESSMENT", "事前绩效评估"
    MONITORING = "MONITORING", "绩效运行监控"
    SELF_ASSESSMENT = "SELF_ASSESSMENT", "绩效自评"
    EVALUATION = "EVALUATION", "绩效评价"
    ANNUAL_STATEMENT = "ANNUAL_STATEMENT", "情况说明"
    FILE = "FILE", "文件"
    RELEASE = "RELEASE", "公开批次"
