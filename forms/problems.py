"""What the reader and the checks report: each problem names the file, the sheet, the cell
(`Sheet1!D14`) and the rule, with a message in Chinese a department can act on."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from storage.errors import InvalidRecord


@functools.cache
def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@functools.lru_cache(maxsize=65536)
def cell_name(row: int, column: int) -> str:
    """A 0-based row and column as A1 notation."""
    return f"{column_letters(column)}{row + 1}"


def sheet_ref(sheet: str, cell: str) -> str:
    """`Sheet1!D14`, quoting a sheet name as a spreadsheet would (`'自评表 1'!A1`)."""
    if re.fullmatch(r"[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff（）()-]*", sheet):
        return f"{sheet}!{cell}"
    return "'" + sheet.replace("'", "''") + f"'!{cell}"


@dataclass(frozen=True)
class Problem:
    file: str
    sheet: str
    cell: str
    rule: str
    message: str

    @property
    def where(self) -> str:
        return sheet_ref(self.sheet, self.cell) if self.sheet else self.file

    def __str__(self) -> str:
        return f"{self.file} {self.where}: {self.message} [{self.rule}]"


#: The rules of `storage` (validation, scoring) in the words of the form. The rule code stays
#: the storage one, so a problem found here and the same refusal from a mutation name one rule.
STORAGE_MESSAGES: dict[str, str] = {
    "required": "必填项为空",
    "max-length": "内容过长",
    "no-control-characters": "含有不可见的控制字符",
    "number-finite": "应为有限的数字",
    "number-range": "数字超出范围",
    "indicator-level2-child": "二级指标不属于该一级指标",
    "indicator-comparator-nature": "定量指标须以 ≥、≤、＝、＞、＜ 给出指标值，定性指标不用",
    "indicator-quantitative-value": "定量指标的指标值须含数字",
    "indicators-required": "没有填写任何绩效指标",
    "rows-required": "没有填写任何绩效指标",
    "weight-range": "分值应在 0–100 之间",
    "amount-non-negative": "金额不能为负数",
    "amounts-rows-add-up": "年度资金总额应等于当年财政拨款、上年结转资金、其他资金之和",
    "weights-total-100": "各指标分值之和加上预算执行率的 10 分应为 100 分",
    "execution-rate-budget-positive": "全年预算数应大于 0，才能计算预算执行率",
    "execution-rate-range": "预算执行率过高，请检查全年预算数和全年执行数",
    "qualitative-band": "定性指标的得分不在所选达成程度对应的区间内",
    "qualitative-band-required": "定性指标须给出达成程度和得分",
    "qualitative-met-full-weight": "实际完成值与指标值相同，应为达成年度指标并得满分",
    "deviation-reason-required": "得分低于分值，须填写偏差原因分析及改进措施",
    "value-non-negative": "指标值和实际完成值不能为负数",
    "quantitative-values-required": "定量指标须填写含数字的实际完成值",
    "fiscal-year-range": "年度应在 2000–2100 之间",
    "score-range": "得分应在 0–100 之间",
    "classified-stub-only": "该项目属于涉密备案，只保留基本信息，不能导入绩效内容",
    "target-editable": "绩效目标已进入审核流程，不能通过导入修改",
}


def chinese(error: InvalidRecord, detail: str = "") -> str:
    """A storage refusal in Chinese: the rule's sentence, then what the form holds."""
    base = STORAGE_MESSAGES.get(error.rule, "不符合规则")
    return f"{base}（{detail}）" if detail else base
