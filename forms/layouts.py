"""The three standard forms as data: how each is recognised (its title), the labels of its
header cells with the synonyms real forms use, its amounts block and its indicator table.

The reader (`forms.read`) finds every label wherever it sits on the sheet, so a form that moves
a row, merges cells differently or writes 「项目名称：」 for 「项目名称」 still reads; the writer
(`forms.write`) lays the canonical form out from the same description, so what it writes reads
back the same. Labels are compared after `values.label_key` (full-width folded, no spaces).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FormKind(str, Enum):
    TARGET = "TARGET"
    PROJECT_SELF_ASSESSMENT = "PROJECT_SELF_ASSESSMENT"
    DEPARTMENT_SELF_ASSESSMENT = "DEPARTMENT_SELF_ASSESSMENT"


@dataclass(frozen=True)
class Column:
    """A column of the indicator table: its key, its heading as written on the canonical
    form, the other headings that mean it, and its width in the written workbook."""

    key: str
    heading: str
    synonyms: tuple[str, ...] = ()
    width: float = 12
    required: bool = True

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.heading, *self.synonyms)


@dataclass(frozen=True)
class Field:
    """A header cell: the label on the form, its synonyms; the value is the cell to its right."""

    key: str
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = True

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.synonyms)


@dataclass(frozen=True)
class Layout:
    kind: FormKind
    #: the title as the canonical form writes it (the year line follows: 「（2024年度）」)
    title: str
    #: a title cell is this form's when it contains one of these (after `label_key`)
    title_marks: tuple[str, ...]
    #: … and none of these (a 部门整体 self-assessment also contains 「支出绩效自评表」)
    title_excludes: tuple[str, ...]
    fields: tuple[Field, ...]
    #: the amount columns the block has (年初预算数 only on the 申报表)
    amount_columns: tuple[Column, ...]
    columns: tuple[Column, ...]
    #: the label of the last row of the table (合计 / 总分): the table ends there
    total_label: str
    #: the sheet name the writer gives a form, with the subject's code
    sheet_prefix: str


#: the amounts block's rows (资金来源), keys as in `storage.validation.AMOUNT_ROWS` plus total
AMOUNT_ROWS: tuple[Field, ...] = (
    Field("total", "年度资金总额", ("资金总额",)),
    Field("appropriation", "其中：当年财政拨款", ("当年财政拨款", "其中：财政拨款", "财政拨款")),
    Field("carry_over", "上年结转资金", ("上年结转",)),
    Field("other", "其他资金", ("其中：其他资金",)),
)
AMOUNTS_LABEL = "项目资金"
AMOUNTS_LABEL_SYNONYMS = ("项目资金（万元）", "项目资金（元）", "年度预算资金", "资金情况")
GOAL_LABEL = "年度总体目标"
GOAL_SYNONYMS = ("年度绩效目标", "总体目标", "年度目标")
EXPECTED_LABEL = "预期目标"
ACTUAL_LABEL = "实际完成情况"
#: the words that start a trailing note: the table (and the form) end before them
NOTE_MARKS = ("注", "填报说明", "说明", "备注")
UNIT_LABEL = {"万元": "单位：万元", "元": "单位：元"}

_INDICATOR_LEVELS = (
    Column("level1", "一级指标", width=10),
    Column("level2", "二级指标", width=14),
    Column("name", "三级指标", ("指标名称", "三级指标名称"), width=24),
)

TARGET = Layout(
    kind=FormKind.TARGET,
    title="项目支出绩效目标申报表",
    title_marks=("绩效目标申报表", "绩效目标表"),
    title_excludes=("整体支出",),
    fields=(
        Field("name", "项目名称"),
        Field("code", "项目编码", ("项目代码", "项目编号")),
        Field("department", "主管部门", ("预算主管部门", "主管部门及代码")),
        Field("unit", "实施单位", ("项目实施单位",), required=False),
        Field("budget_book", "预算类型", ("资金性质", "预算类别")),
    ),
    amount_columns=(Column("initial", "年初预算数", ("预算数", "申报数")),),
    columns=(
        *_INDICATOR_LEVELS,
        Column("target", "指标值", ("年度指标值", "目标值"), width=14),
        Column("unit", "计量单位", ("单位",), width=10, required=False),
        Column("weight", "分值", ("权重",), width=8, required=False),
        Column("explanation", "指标解释", ("指标说明",), width=24, required=False),
    ),
    total_label="合计",
    sheet_prefix="申报表",
)

_ASSESSMENT_COLUMNS = (
    *_INDICATOR_LEVELS,
    Column("target", "年度指标值", ("指标值", "目标值"), width=14),
    Column("actual", "实际完成值", ("实际值", "完成值"), width=14),
    Column("weight", "分值", ("权重",), width=8),
    Column("score", "得分", width=8),
    # Not on every printed form: the SR-5 band of a qualitative row. Without it the band is
    # the one the score's share of the weight falls in.
    Column("band", "达成程度", ("定性评价", "完成程度"), width=12, required=False),
    Column("deviation", "偏差原因分析及改进措施", ("偏差原因分析", "偏差原因"), width=30),
)
_ASSESSMENT_AMOUNTS = (
    Column("initial", "年初预算数"),
    Column("full_year", "全年预算数", ("调整后预算数",)),
    Column("executed", "全年执行数", ("执行数", "实际支出数")),
    Column("weight", "分值", required=False),
    Column("rate", "执行率", ("预算执行率",), required=False),
    Column("score", "得分", required=False),
)

PROJECT_SELF_ASSESSMENT = Layout(
    kind=FormKind.PROJECT_SELF_ASSESSMENT,
    title="项目支出绩效自评表",
    title_marks=("项目支出绩效自评表",),
    title_excludes=("整体支出",),
    fields=(
        Field("name", "项目名称"),
        Field("code", "项目编码", ("项目代码", "项目编号")),
        Field("department", "主管部门", ("预算主管部门",)),
        Field("unit", "实施单位", ("项目实施单位",), required=False),
    ),
    amount_columns=_ASSESSMENT_AMOUNTS,
    columns=_ASSESSMENT_COLUMNS,
    total_label="总分",
    sheet_prefix="自评表",
)

DEPARTMENT_SELF_ASSESSMENT = Layout(
    kind=FormKind.DEPARTMENT_SELF_ASSESSMENT,
    title="部门整体支出绩效自评表",
    title_marks=("整体支出绩效自评表",),
    title_excludes=(),
    fields=(
        Field("department", "部门（单位）名称", ("部门名称", "单位名称", "主管部门")),
        Field("code", "部门整体支出编码", ("编码",), required=False),
    ),
    amount_columns=_ASSESSMENT_AMOUNTS,
    columns=_ASSESSMENT_COLUMNS,
    total_label="总分",
    sheet_prefix="整体自评表",
)

LAYOUTS: tuple[Layout, ...] = (DEPARTMENT_SELF_ASSESSMENT, PROJECT_SELF_ASSESSMENT, TARGET)
BY_KIND = {layout.kind: layout for layout in LAYOUTS}
