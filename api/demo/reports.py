"""The demo's PDF files: finance key evaluation reports (正文 and annexes) and the annual
statements, in Chinese, built with reportlab.

`STSong-Light` is one of reportlab's CID fonts and needs no font file; `invariant=1` fixes the
creation date and document id, so the same text always gives the same bytes (decisions.md
D20). Every page says 演示数据, and so do the title and subject metadata (D4).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

DEMO_LABEL = "演示数据"
DEMO_NOTICE = (
    "演示数据：本文件由系统根据虚构数据自动生成，所涉单位、项目和数字均为虚构，不代表任何真实情况。"
)

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=26, alignment=TA_CENTER)
NOTICE = ParagraphStyle(
    "notice", fontName=FONT, fontSize=9, leading=14, alignment=TA_CENTER, textColor=colors.grey
)
HEADING = ParagraphStyle("heading", fontName=FONT, fontSize=12.5, leading=22, spaceBefore=6)
BODY = ParagraphStyle(
    "body", fontName=FONT, fontSize=10.5, leading=18, wordWrap="CJK", firstLineIndent=21
)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")

TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
)


def _page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.setFillColor(colors.grey)
    canvas.drawString(20 * mm, 287 * mm, f"{DEMO_LABEL} · 虚构示例")
    canvas.drawRightString(190 * mm, 10 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def _pdf(title: str, author: str, story: list[Flowable]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        title=title,
        subject=f"{DEMO_LABEL}（虚构示例）",
        author=author,
        creator="gongkai demo",
        keywords=DEMO_LABEL,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
    )
    head: list[Flowable] = [Paragraph(title, TITLE), Paragraph(DEMO_NOTICE, NOTICE), Spacer(1, 6)]
    doc.build(head + story, onFirstPage=_page, onLaterPages=_page)
    return buffer.getvalue()


def _table(rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    cells = [[Paragraph(cell, CELL) for cell in row] for row in rows]
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def _wan(amount: Decimal) -> str:
    return f"{amount / 10000:,.2f}"


@dataclass(frozen=True)
class Dimension:
    """A level-1 item of the evaluation framework (决策/过程/产出/效益) with its points."""

    name: str
    weight: Decimal
    score: Decimal


@dataclass(frozen=True)
class IndicatorResult:
    level: str
    name: str
    target: str
    actual: str


@dataclass(frozen=True)
class EvaluationFacts:
    """Everything a finance key evaluation report states. Amounts in 元."""

    jurisdiction: str
    authority: str
    third_party: str
    department: str
    unit: str | None
    subject_name: str
    subject_code: str
    kind_label: str
    fiscal_year: int
    goal: str
    initial: Decimal
    full_year: Decimal
    executed: Decimal
    score: Decimal
    grade_label: str
    dimensions: tuple[Dimension, ...]
    indicators: tuple[IndicatorResult, ...]
    findings: tuple[tuple[str, str], ...]
    recommendations: tuple[str, ...]
    participants: tuple[str, ...]
    period: str
    cost_benefit: bool

    @property
    def title(self) -> str:
        return f"{self.subject_name}{self.fiscal_year}年度财政重点绩效评价报告（{DEMO_LABEL}）"


def evaluation_main_text(facts: EvaluationFacts) -> bytes:
    """评价报告正文 following the outline of the 财预〔2020〕10号 annex."""
    rate = facts.executed / facts.full_year * 100 if facts.full_year else Decimal(0)
    implementer = facts.unit or facts.department
    story: list[Flowable] = [
        Paragraph("一、基本情况", HEADING),
        Paragraph(
            f"（一）项目概况。{facts.subject_name}（编码 {facts.subject_code}）"
            f"为{facts.kind_label}，主管部门为{facts.department}，实施单位为{implementer}。"
            f"{facts.goal}",
            BODY,
        ),
        Paragraph(
            f"（二）资金情况。{facts.fiscal_year}年年初预算数{_wan(facts.initial)}万元，"
            f"全年预算数{_wan(facts.full_year)}万元，全年执行数{_wan(facts.executed)}万元，"
            f"预算执行率{rate:.2f}%。",
            BODY,
        ),
        _table(
            [
                ["资金来源", "年初预算数（万元）", "全年预算数（万元）", "全年执行数（万元）"],
                ["年度资金总额", _wan(facts.initial), _wan(facts.full_year), _wan(facts.executed)],
            ],
            (40, 40, 40, 40),
        ),
        Paragraph("二、绩效评价工作开展情况", HEADING),
        Paragraph(
            f"（一）评价目的、对象和范围。受{facts.authority}委托，{facts.third_party}对"
            f"{facts.subject_name}{facts.fiscal_year}年度资金使用情况开展财政重点绩效评价，"
            "客观评价项目的决策、过程、产出和效益，为预算安排和管理改进提供依据。",
            BODY,
        ),
        Paragraph(
            "（二）评价指标体系、评价方法和评价标准。评价采用“决策—过程—产出—效益”指标框架，"
            "综合运用比较法、因素分析法、公众评判法"
            + ("和成本效益分析法" if facts.cost_benefit else "")
            + "，以计划标准、行业标准和历史标准为依据。",
            BODY,
        ),
        Paragraph(
            f"（三）评价工作过程。评价工作于{facts.period}开展，经方案评审、现场核查、"
            f"问卷调查、初稿评审和结果确认等环节，{'、'.join(facts.participants)}参与了评审。",
            BODY,
        ),
        Paragraph("三、综合评价情况及评价结论", HEADING),
        Paragraph(
            f"经综合评价，{facts.subject_name}{facts.fiscal_year}年度绩效评价得分为"
            f"{facts.score}分，评价等级为“{facts.grade_label}”。各部分得分如下：",
            BODY,
        ),
        _table(
            [["一级指标", "分值", "得分", "得分率"]]
            + [
                [d.name, f"{d.weight}", f"{d.score}", f"{d.score / d.weight * 100:.2f}%"]
                for d in facts.dimensions
            ]
            + [["合计", "100.00", f"{facts.score}", f"{facts.score:.2f}%"]],
            (45, 35, 35, 35),
        ),
        Paragraph("四、绩效评价指标分析", HEADING),
        Paragraph("对照年初设定的绩效目标，项目主要绩效指标的完成情况如下表所示。", BODY),
        _table(
            [["指标类别", "三级指标", "年度指标值", "实际完成值"]]
            + [[i.level, i.name, i.target, i.actual] for i in facts.indicators],
            (30, 60, 35, 35),
        ),
        Paragraph("五、主要经验及做法、存在的问题及原因分析", HEADING),
        Paragraph(
            "项目单位能够按照预算管理和绩效管理要求组织实施，建立了相应的管理制度。"
            "评价中发现的主要问题如下：",
            BODY,
        ),
        *(
            Paragraph(f"{index}. {label}：{text}", BODY)
            for index, (label, text) in enumerate(facts.findings, start=1)
        ),
        Paragraph("六、有关建议", HEADING),
        *(
            Paragraph(f"{index}. {text}", BODY)
            for index, text in enumerate(facts.recommendations, start=1)
        ),
        Paragraph("七、其他需要说明的问题", HEADING),
        Paragraph(f"本报告的评价结论仅针对{facts.fiscal_year}年度项目资金。{DEMO_NOTICE}", BODY),
    ]
    return _pdf(facts.title, facts.authority, story)


def evaluation_score_sheet(facts: EvaluationFacts) -> bytes:
    """附件：绩效评价指标体系及评分表 (internal, DR-8)."""
    title = f"{facts.subject_name}绩效评价指标体系及评分表（{DEMO_LABEL}）"
    rows = [["一级指标", "分值", "得分", "评分说明"]] + [
        [
            d.name,
            f"{d.weight}",
            f"{d.score}",
            "按评分标准逐项核定" if d.score < d.weight else "符合评分标准，得满分",
        ]
        for d in facts.dimensions
    ]
    story: list[Flowable] = [
        Paragraph(f"附件1：{facts.fiscal_year}年度绩效评价指标体系及评分表", HEADING),
        _table(rows, (40, 25, 25, 70)),
        Spacer(1, 8),
        Paragraph(
            f"评价机构：{facts.third_party}。总分{facts.score}分，等级“{facts.grade_label}”。", BODY
        ),
    ]
    return _pdf(title, facts.third_party, story)


def evaluation_survey(
    facts: EvaluationFacts, respondents: int, items: Sequence[tuple[str, Decimal]]
) -> bytes:
    """附件：满意度调查问卷统计分析 (internal, DR-8). `items` are (question, percent satisfied)."""
    title = f"{facts.subject_name}满意度调查统计分析（{DEMO_LABEL}）"
    overall = sum((share for _, share in items), Decimal(0)) / len(items)
    story: list[Flowable] = [
        Paragraph("附件2：满意度调查问卷统计分析", HEADING),
        Paragraph(
            f"本次评价共发放问卷{respondents}份，回收有效问卷{respondents}份，"
            f"综合满意度为{overall:.2f}%。",
            BODY,
        ),
        _table([["调查项目", "满意度"]] + [[q, f"{share}%"] for q, share in items], (80, 40)),
    ]
    return _pdf(title, facts.third_party, story)


def story_pdf(title: str, story: list[Flowable]) -> bytes:
    """A page or more of the demo's own layout: an addition to another file (demo/leaks.py)."""
    return _pdf(title, "演示数据", story)


def statement(title: str, author: str, paragraphs: Sequence[str]) -> bytes:
    """全面实施预算绩效管理情况说明: headings are the paragraphs that end without 。."""
    story: list[Flowable] = [
        Paragraph(text, HEADING if not text.endswith("。") else BODY) for text in paragraphs
    ]
    return _pdf(title, author, story)
