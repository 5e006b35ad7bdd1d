"""The data dictionary (issue #15): every published field's Chinese title and description, and the
unit of every money column. Pure data and two lookups, used by the data packages' table schemas
(`publishers/render.py`) and the Excel CSV's header row.

A column of a CSV is a field of a record, or a dotted path into a nested object
(`amounts.fullYear.total`); a code's Chinese label travels beside it as `<field>Label`.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Money is published in 元 with two places (D1); a money column's title and description say so.
MONEY_UNIT = "元"

#: field → (title, description)
FIELDS: dict[str, tuple[str, str]] = {
    "key": ("记录键", "记录在各年度、各次发布中不变的唯一键。"),
    "parentKey": ("上级记录键", "所属上级记录的键（明细表指向其主表记录）。"),
    "subjectKey": ("项目键", "所属项目（或政策、部门整体支出）的记录键。"),
    "aboutKey": ("关联记录键", "文件所涉及记录的键。"),
    "code": ("编码", "项目或单位的编码。"),
    "name": ("名称", "名称。"),
    "level": ("行政级别", "行政区划的级别。"),
    "financeAuthority": ("财政部门", "本级财政部门的名称。"),
    "demo": ("演示数据", "为 true 时本记录是演示数据，不是真实信息。"),
    "jurisdictionCode": ("行政区划代码", "所属行政区划的代码。"),
    "tier": ("预算级次", "一级预算单位或下属单位。"),
    "orgType": ("单位类型", "行政单位、事业单位等。"),
    "parentCode": ("上级单位编码", "上级预算单位的编码。"),
    "kind": ("类型", "记录的类型（项目、政策、部门整体支出，或评价类型）。"),
    "fiscalYear": ("预算年度", "所属预算年度。"),
    "departmentCode": ("部门编码", "预算部门的编码。"),
    "departmentName": ("部门名称", "预算部门的名称。"),
    "releaseKind": ("公开类型", "记录所在的公开：部门预算、部门决算或财政部门年度公开。"),
    "implementingUnitCode": ("实施单位编码", "项目实施单位的编码。"),
    "implementingUnitName": ("实施单位名称", "项目实施单位的名称。"),
    "budgetBook": ("预算类别", "一般公共预算、政府性基金预算等。"),
    "fundingPurpose": ("资金用途", "资金的用途分类。"),
    "projectType": ("项目类型", "项目的分类。"),
    "attribute": ("项目属性", "新增项目或延续项目等。"),
    "transferType": ("转移支付类型", "转移支付的类别。"),
    "startDate": ("开始日期", "项目的开始日期。"),
    "endDate": ("结束日期", "项目的结束日期。"),
    "basis": ("立项依据", "项目的立项依据。"),
    "summary": ("概述", "内容概述。"),
    "horizon": ("目标期限", "年度目标或中长期目标。"),
    "overallGoal": ("总体目标", "绩效目标的总体目标。"),
    "approvedOn": ("批复日期", "绩效目标随预算批复的日期。"),
    "position": ("序号", "在表中的顺序。"),
    "level1": ("一级指标", "绩效指标的一级分类。"),
    "level2": ("二级指标", "绩效指标的二级分类。"),
    "nature": ("指标性质", "定量或定性。"),
    "comparator": ("比较方式", "≥、≤、＝等。"),
    "targetValue": ("指标值", "指标的目标值，按表格原样。"),
    "targetNumber": ("指标值（数值）", "目标值中的数值部分。"),
    "unit": ("计量单位", "指标值的计量单位。"),
    "weight": ("分值", "指标的分值（权重）。"),
    "core": ("核心指标", "为 true 时是核心绩效指标。"),
    "conductedBy": ("评估主体", "部门自行评估或财政部门评估。"),
    "conclusion": ("评估结论", "事前绩效评估的结论。"),
    "requestedAmount": ("申请金额", "申请的预算金额。"),
    "recommendedReduction": ("建议核减金额", "评估建议核减的金额。"),
    "mode": ("监控方式", "绩效运行监控的方式。"),
    "asOfDate": ("监控截止日期", "监控数据的截止日期。"),
    "budgetToDate": ("截至监控日预算数", "截至监控日的预算数。"),
    "executedToDate": ("截至监控日执行数", "截至监控日的执行数。"),
    "executionRate": ("执行率（%）", "预算执行率，百分数，两位小数。"),
    "deviationLevel": ("偏差程度", "运行偏离绩效目标的程度。"),
    "correctiveActions": ("纠偏措施", "纠偏措施，多项以“；”分隔。"),
    "fullYearBudget": ("全年预算数", "全年预算数。"),
    "executed": ("全年执行数", "全年执行数。"),
    "executionScore": ("预算执行得分", "预算执行率的得分。"),
    "annualGoalExpected": ("年度目标（预期）", "预期的年度总体目标。"),
    "annualGoalActual": ("年度目标（实际完成）", "年度总体目标的实际完成情况。"),
    "totalScore": ("总分", "自评总分。"),
    "grade": ("等级", "评价等级：优、良、中、差。"),
    "indicatorName": ("三级指标", "绩效指标名称。"),
    "actualValue": ("实际完成值", "指标的实际完成值，按表格原样。"),
    "score": ("得分", "得分。"),
    "deviationReason": ("偏差原因", "未完成原因和改进措施。"),
    "organiser": ("组织单位", "组织评价的单位。"),
    "thirdParty": ("第三方机构", "受托开展评价的第三方机构。"),
    "amountEvaluated": ("评价资金额", "评价涉及的资金额。"),
    "reportFileKey": ("评价报告文件键", "评价报告正文文件的记录键。"),
    "year": ("年度", "情况说明所述年度。"),
    "title": ("标题", "标题。"),
    "text": ("正文", "正文。"),
    "docKind": ("文件类型", "文件的种类。"),
    "path": ("文件路径", "文件在本发布目录中的路径。"),
    "contentType": ("媒体类型", "文件的媒体类型（MIME）。"),
    "bytes": ("字节数", "文件大小，字节。"),
    "sha256": ("SHA-256摘要", "文件内容的 SHA-256 摘要。"),
    "field": ("隐去的字段", "依法隐去个人信息的字段名。"),
    "redacted": ("已隐去", "为 true 时该字段的内容已隐去。"),
    "redactionBasis": ("隐去依据", "隐去个人信息的法律依据。"),
    "language": ("语言", "文件的语言。"),
    # the parts of the amounts block: amounts.<column>.<source>
    "amounts": ("资金", "项目资金。"),
    "initial": ("年初预算数", "年初预算数。"),
    "fullYear": ("全年预算数", "全年预算数（调整后）。"),
    "total": ("合计", "合计。"),
    "appropriation": ("财政拨款", "其中：财政拨款。"),
    "carryOver": ("上年结转", "其中：上年结转。"),
    "other": ("其他资金", "其中：其他资金。"),
}
#: Fields that hold money in 元 (the last part of a dotted column).
MONEY_FIELDS = frozenset(
    {
        "requestedAmount",
        "recommendedReduction",
        "budgetToDate",
        "executedToDate",
        "fullYearBudget",
        "executed",
        "amountEvaluated",
        "total",
        "appropriation",
        "carryOver",
        "other",
    }
)
LABEL_SUFFIX = "Label"


#: Fields published with a Chinese label beside them (their value is an identifier).
LABELLED = frozenset(
    {
        "level",
        "tier",
        "orgType",
        "kind",
        "budgetBook",
        "fundingPurpose",
        "projectType",
        "attribute",
        "transferType",
        "horizon",
        "level1",
        "level2",
        "nature",
        "comparator",
        "conductedBy",
        "conclusion",
        "mode",
        "deviationLevel",
        "grade",
        "docKind",
    }
)


def _parts(column: str) -> tuple[list[str], bool]:
    """The dotted parts of a column with a label's suffix taken off, and whether the column is
    the identifier of a labelled value."""
    parts = column.split(".")
    last = parts[-1]
    base = last.removesuffix(LABEL_SUFFIX)
    if last != base and base in LABELLED:
        return [*parts[:-1], base], False
    return parts, last in LABELLED


def is_money(column: str) -> bool:
    """Whether a column holds an amount of money (in 元)."""
    parts = column.split(".")
    if parts[-1] == "executed" and len(parts) > 1:  # amounts.executed is a block, not a value
        return False
    return parts[-1] in MONEY_FIELDS and not (parts[0] == "amounts" and len(parts) < 3)


def describe(column: str) -> tuple[str, str]:
    """A column's Chinese title and description; money says its unit, a code says it is one."""
    parts, code = _parts(column)
    known = [FIELDS.get(part) for part in parts]
    if any(k is None for k in known):
        return column, f"字段 {column}。"
    titles = [k[0] for k in known if k is not None]
    if parts[0] == "amounts" and len(parts) == 3:
        column_title = {"initial": "年初预算数", "fullYear": "全年预算数", "executed": "执行数"}
        titles = [column_title.get(parts[1], titles[1]), titles[2]]
    title = "·".join(titles)
    description = "".join(k[1] for k in known[-1:] if k is not None)
    if parts[0] == "amounts" and len(parts) == 3:
        description = f"{titles[0]}，{FIELDS[parts[2]][1]}"
    if code:
        title += "（代码）"
        description += "取值为英文标识，其中文名称见同名“名称”列。"
    if is_money(column):
        title += f"（{MONEY_UNIT}）"
        description += f"金额，单位：{MONEY_UNIT}，两位小数。"
    return title, description


def titles(columns: Sequence[str]) -> list[str]:
    """The Chinese header of a table: each column's title, made unique within the table."""
    seen: dict[str, int] = {}
    out = []
    for column in columns:
        title = describe(column)[0]
        seen[title] = seen.get(title, 0) + 1
        out.append(title if seen[title] == 1 else f"{title}（{column}）")
    return out
