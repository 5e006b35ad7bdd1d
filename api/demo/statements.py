"""The finance authority's annual statement (全面实施预算绩效管理情况说明) of a demo jurisdiction.

The seeds are real statements of real bodies and are never attached to a fictitious
jurisdiction (decisions.md D4). These texts follow their outline instead (work done → problems →
next steps, as in Wujing's 2024 statement) and state the generated year's own figures. Filed
records are left out of every figure (D7), so a statement never reveals what a filing covers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from api.demo.reports import DEMO_LABEL

PROBLEMS = (
    "部分项目绩效目标与预算、实施计划不够匹配，目标值设定偏保守，指标可衡量性有待提高。",
    "部分单位预算执行进度与时间进度不匹配，年中调整比例偏高，结转结余资金仍需压减。",
    "部分单位自评对实施过程中的问题关注不够，存在避重就轻倾向，自评质量有待提高。",
    "核心绩效指标和标准体系建设仍有差距，部分行业指标设置较为粗放。",
    "政府购买服务项目的考核验收机制不够完善，奖惩约束作用尚未充分发挥。",
)

PLANS = (
    "进一步完善绩效指标体系，推动行业核心指标标准化建设，提高绩效目标编报质量。",
    "深化成本预算绩效管理，将成本分析结果运用于预算编制和支出标准制定。",
    "强化绩效运行监控，对执行偏差较大的项目及时调整预算安排。",
    "加强评价结果应用，将评价结果与下一年度预算安排和政策调整挂钩。",
    "加强业务培训和第三方机构管理，提升预算绩效管理的专业化水平。",
)


@dataclass(frozen=True)
class Figures:
    """One year's figures, counting only records that no filing covers. Amounts in 元."""

    year: int
    departments: int
    projects: int
    project_amount: Decimal
    policies: int
    ex_ante: int
    ex_ante_requested: Decimal
    ex_ante_reduction: Decimal
    monitored: int
    monitored_amount: Decimal
    monitored_departments: int
    monitored_units: int
    key_monitored: int
    key_monitored_amount: Decimal
    self_assessed: int
    self_assessed_amount: Decimal
    self_assessed_average: Decimal
    key_evaluations: int
    key_policy_subsidy: int
    key_overall: int
    key_amount: Decimal
    key_departments: int
    key_units: int
    grades: tuple[int, int, int, int]
    department_evaluations: int
    findings: int
    rectified: int


def _yi(amount: Decimal) -> Decimal:
    return (amount / 100_000_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _wan(amount: Decimal) -> Decimal:
    return (amount / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _percent(part: Decimal | int, whole: Decimal | int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def title(jurisdiction: str, year: int) -> str:
    return f"{jurisdiction}{year}年全面实施预算绩效管理情况说明（{DEMO_LABEL}）"


def paragraphs(
    rng: random.Random, jurisdiction: str, authority: str, we: str, f: Figures
) -> list[str]:
    """The statement as paragraphs; headings are the ones without a final 。.

    `we` is how the text names its own level: 我区 or 我镇.
    """
    excellent, good, average, poor = f.grades
    others = f.key_evaluations - f.key_policy_subsidy - f.key_overall
    return [
        f"（{DEMO_LABEL}：本说明由系统根据虚构数据自动生成，所涉单位和数字均为虚构。）",
        f"{f.year}年，{jurisdiction}认真落实《中共中央 国务院关于全面实施预算绩效管理的意见》"
        "等文件精神，按照“全方位、全过程、全覆盖”的要求推进预算和绩效管理一体化，着力形成"
        "“预算编制有目标、预算执行有监控、预算完成有评价、评价结果有应用”的管理机制。"
        f"现将{we}{f.year}年度预算绩效管理工作情况说明如下。",
        "一、工作开展情况",
        "（一）绩效目标管理",
        f"{f.year}年度编报项目绩效目标{f.projects}个，涉及金额{_yi(f.project_amount)}亿元，"
        f"实现绩效目标编报全覆盖；{f.departments}个预算部门编报部门整体支出绩效目标，"
        f"覆盖率100%；{f.policies}项财政政策编报了绩效目标。绩效目标随同部门预算同步批复。",
        "（二）事前绩效评估",
        f"对{f.ex_ante}个新增项目开展事前绩效评估，申请预算{_wan(f.ex_ante_requested)}万元，"
        f"核减{_wan(f.ex_ante_reduction)}万元，核减率"
        f"{_percent(f.ex_ante_reduction, f.ex_ante_requested)}%，评估结果作为预算安排的重要依据。",
        "（三）绩效运行监控",
        f"{f.year}年度绩效运行监控共计{f.monitored}个项目，资金{_yi(f.monitored_amount)}亿元，"
        f"涉及{f.monitored_departments}个预算部门、{f.monitored_units}个预算单位。其中部门重点跟踪"
        f"项目{f.key_monitored}个，资金{_yi(f.key_monitored_amount)}亿元，其余项目实施绩效简易跟踪。",
        "（四）绩效自评",
        f"{f.self_assessed}个项目、政策和部门整体支出开展了绩效自评，涉及资金"
        f"{_yi(f.self_assessed_amount)}亿元，平均自评得分{f.self_assessed_average}分。",
        "（五）财政重点评价和部门评价",
        f"财政重点评价共计{f.key_evaluations}个，其中政策补贴类{f.key_policy_subsidy}个、"
        f"部门整体{f.key_overall}个、其他{others}个，评价资金总量{_wan(f.key_amount)}万元，"
        f"涉及{f.key_departments}个预算部门、{f.key_units}个预算单位。评价结果为“优秀”"
        f"{excellent}个、“良好”{good}个、“中等”{average}个、“差”{poor}个。"
        f"各部门共开展部门评价{f.department_evaluations}个。",
        "（六）结果应用和信息公开",
        f"财政重点评价共发现问题{f.findings}个，已完成整改{f.rectified}个，整改完成率"
        f"{_percent(f.rectified, f.findings)}%。{we}实行预算绩效信息“双同步”公开：绩效目标和"
        "事前绩效评估结果随预算同步公开，运行监控和绩效评价结果随决算同步公开。涉密（敏感）"
        f"部门、含涉密（敏感）项目的部门按规定填报备案表，报{authority}备案。",
        "二、存在问题",
        *(f"{n}. {text}" for n, text in enumerate(rng.sample(PROBLEMS, 3), start=1)),
        "三、下一步工作计划",
        *(f"{n}. {text}" for n, text in enumerate(rng.sample(PLANS, 3), start=1)),
    ]
