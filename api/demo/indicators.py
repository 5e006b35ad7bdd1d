"""Indicator templates (三级指标 with units and comparators) and how targets, actual values and
mid-year progress are drawn from them.

Weights follow SR-2: output rows share 50 points, benefit rows 30, the satisfaction row 10 (or
benefit 40 when there is none), so that the rows plus 10 for budget execution total 100. All
numbers are `Decimal`s drawn from integers: nothing stored passes through a float.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from api.demo.draws import weighted
from api.demo.names import (
    ASSETS,
    CAPITAL,
    COMPARATOR_SYMBOLS,
    INFO,
    PROFESSIONAL,
    SERVICES,
    SUBSIDY,
    Measure,
)
from storage.enums import (
    Comparator,
    FundingPurpose,
    IndicatorL1,
    IndicatorL2,
    IndicatorNature,
    QualitativeBand,
)
from storage.scoring import QUALITATIVE_BANDS

OUTPUT, BENEFIT, SATISFACTION = IndicatorL1.OUTPUT, IndicatorL1.BENEFIT, IndicatorL1.SATISFACTION
QUANTITY, QUALITY, TIMELINESS = IndicatorL2.QUANTITY, IndicatorL2.QUALITY, IndicatorL2.TIMELINESS
OUTPUT_COST = IndicatorL2.OUTPUT_COST
SOCIAL, ECONOMIC = IndicatorL2.SOCIAL_BENEFIT, IndicatorL2.ECONOMIC_BENEFIT
ECOLOGICAL, SUSTAINABLE = IndicatorL2.ECOLOGICAL_BENEFIT, IndicatorL2.SUSTAINABLE_IMPACT
RECIPIENTS = IndicatorL2.SERVICE_RECIPIENT_SATISFACTION
GE, LE, EQ, QUAL = Comparator.GE, Comparator.LE, Comparator.EQ, Comparator.QUALITATIVE

HUNDRED = Decimal(100)
FRACTIONAL_UNITS = frozenset({"%", "万元", "万人次", "万平方米", "万页"})
L2_ORDER = {l2: position for position, l2 in enumerate(IndicatorL2)}


@dataclass(frozen=True)
class Template:
    """A 三级指标 pattern: `values` are candidate targets (numbers, or words when qualitative);
    `money` rows take the subject's full-year budget in 万元 as their ceiling."""

    level1: IndicatorL1
    level2: IndicatorL2
    name: str
    comparator: Comparator
    unit: str | None = None
    values: tuple[str, ...] = ()
    money: bool = False


def _q(l1: IndicatorL1, l2: IndicatorL2, name: str, *words: str) -> Template:
    return Template(l1, l2, name, QUAL, None, words)


def _n(
    l1: IndicatorL1, l2: IndicatorL2, name: str, cmp: Comparator, unit: str, *values: str
) -> Template:
    return Template(l1, l2, name, cmp, unit, values)


def _money(name: str) -> Template:
    return Template(OUTPUT, OUTPUT_COST, name, LE, "万元", money=True)


@dataclass(frozen=True)
class Pool:
    outputs: tuple[Template, ...]
    benefits: tuple[Template, ...]


PURPOSE_POOLS: dict[FundingPurpose, Pool] = {
    CAPITAL: Pool(
        (
            _n(OUTPUT, QUANTITY, "工程完成率", EQ, "%", "100"),
            _n(OUTPUT, QUALITY, "工程验收合格率", EQ, "%", "100"),
            _n(OUTPUT, QUALITY, "施工质量安全事故", LE, "起", "0"),
            _q(OUTPUT, QUALITY, "工程质量", "符合相关标准", "达到设计要求"),
            _n(OUTPUT, TIMELINESS, "工程按期完工率", GE, "%", "95", "100"),
            _q(OUTPUT, TIMELINESS, "项目完成时限", "按期完成"),
            _money("工程建设成本"),
        ),
        (
            _q(BENEFIT, SOCIAL, "{people}使用条件", "明显改善"),
            _n(BENEFIT, SUSTAINABLE, "设施设计使用年限", GE, "年", "15", "20", "25"),
            _n(BENEFIT, SOCIAL, "安全隐患消除率", GE, "%", "95", "100"),
            _n(BENEFIT, ECOLOGICAL, "施工扬尘投诉", LE, "次", "3", "5"),
        ),
    ),
    INFO: Pool(
        (
            _n(OUTPUT, QUANTITY, "数据对接部门数", GE, "个", "3", "5", "8", "10"),
            _n(OUTPUT, QUALITY, "系统正常运行率", GE, "%", "98", "99", "99.5"),
            _q(OUTPUT, QUALITY, "网络安全等级保护测评", "通过"),
            _n(OUTPUT, QUALITY, "系统故障修复率", EQ, "%", "100"),
            _n(OUTPUT, TIMELINESS, "故障响应时间", LE, "小时", "1", "2", "4"),
            _q(OUTPUT, TIMELINESS, "系统上线时间", "按期上线", "年内完成"),
            _money("系统建设运维成本"),
        ),
        (
            _n(BENEFIT, SOCIAL, "业务办理效率提升", GE, "%", "10", "15", "20", "30"),
            _q(BENEFIT, SUSTAINABLE, "数据共享能力", "有效提升"),
            _n(BENEFIT, SOCIAL, "信息安全事件", LE, "起", "0"),
            _n(BENEFIT, ECONOMIC, "节约人工成本", GE, "万元", "5", "10", "20"),
        ),
    ),
    SUBSIDY: Pool(
        (
            _n(OUTPUT, QUANTITY, "补贴标准执行率", EQ, "%", "100"),
            _n(OUTPUT, QUALITY, "补贴对象认定准确率", EQ, "%", "100"),
            _q(OUTPUT, QUALITY, "资金发放合规性", "合规"),
            _n(OUTPUT, TIMELINESS, "补贴资金发放及时率", GE, "%", "95", "98", "100"),
            _q(OUTPUT, TIMELINESS, "补贴发放时效", "及时"),
            _money("补贴资金总额"),
        ),
        (
            _q(BENEFIT, SOCIAL, "{people}基本保障水平", "有效提高"),
            _n(BENEFIT, SOCIAL, "政策知晓率", GE, "%", "80", "85", "90"),
            _n(BENEFIT, ECONOMIC, "带动相关投入", GE, "万元", "50", "100", "200"),
            _q(BENEFIT, SUSTAINABLE, "补贴政策持续发挥作用", "长期"),
        ),
    ),
    SERVICES: Pool(
        (
            _n(OUTPUT, QUANTITY, "服务合同履约率", EQ, "%", "100"),
            _n(OUTPUT, QUALITY, "服务质量考核合格率", GE, "%", "90", "95"),
            _q(OUTPUT, QUALITY, "服务规范性", "符合合同约定"),
            _n(OUTPUT, TIMELINESS, "服务按期完成率", EQ, "%", "100"),
            _q(OUTPUT, TIMELINESS, "费用结算及时性", "及时"),
            _money("购买服务费用"),
        ),
        (
            _q(BENEFIT, SOCIAL, "{people}获得感", "明显提升"),
            _n(BENEFIT, SOCIAL, "投诉问题办结率", GE, "%", "95", "100"),
            _q(BENEFIT, SUSTAINABLE, "服务长效管理机制", "建立健全"),
            _n(BENEFIT, SOCIAL, "有效投诉", LE, "次", "3", "5", "10"),
        ),
    ),
    ASSETS: Pool(
        (
            _n(OUTPUT, QUANTITY, "资产登记入账率", EQ, "%", "100"),
            _n(OUTPUT, QUALITY, "设备验收合格率", EQ, "%", "100"),
            _n(OUTPUT, QUALITY, "设备完好率", GE, "%", "95", "98"),
            _n(OUTPUT, TIMELINESS, "采购按期完成率", GE, "%", "95", "100"),
            _q(OUTPUT, TIMELINESS, "到货安装时限", "按合同约定完成"),
            _money("设备采购成本"),
        ),
        (
            _n(BENEFIT, SOCIAL, "设备使用率", GE, "%", "80", "85", "90"),
            _n(BENEFIT, SUSTAINABLE, "设备使用年限", GE, "年", "5", "6", "8", "10"),
            _q(BENEFIT, SOCIAL, "{obj}保障能力", "有效提升"),
        ),
    ),
    PROFESSIONAL: Pool(
        (
            _n(OUTPUT, QUANTITY, "工作任务完成率", GE, "%", "95", "100"),
            _n(OUTPUT, QUALITY, "工作质量达标率", GE, "%", "90", "95"),
            _q(OUTPUT, QUALITY, "工作规范性", "规范"),
            _n(OUTPUT, TIMELINESS, "任务按时完成率", EQ, "%", "100"),
            _q(OUTPUT, TIMELINESS, "工作完成时限", "年内完成"),
            _money("专项经费支出"),
        ),
        (
            _q(BENEFIT, SOCIAL, "{obj}工作成效", "效果明显"),
            _q(BENEFIT, SOCIAL, "社会影响", "达成预期指标"),
            _q(BENEFIT, SUSTAINABLE, "工作长效机制", "持续完善"),
            _n(BENEFIT, SOCIAL, "问题整改完成率", GE, "%", "90", "95"),
        ),
    ),
}

#: Benefit indicators of a department's field, added to its projects' benefit pool.
SECTOR_BENEFITS: dict[str, tuple[Template, ...]] = {
    "admin": (
        _q(BENEFIT, SOCIAL, "机关运行效率", "有效提升"),
        _q(BENEFIT, SUSTAINABLE, "制度建设", "持续完善"),
    ),
    "education": (
        _q(BENEFIT, SOCIAL, "学生综合素质", "明显提升"),
        _n(BENEFIT, SOCIAL, "校园安全责任事故", LE, "起", "0"),
    ),
    "health": (
        _n(BENEFIT, SOCIAL, "居民健康素养水平", GE, "%", "28", "30", "32"),
        _n(BENEFIT, SOCIAL, "重点人群健康管理率", GE, "%", "70", "80"),
    ),
    "civil": (
        _q(BENEFIT, SOCIAL, "{people}生活质量", "有效改善"),
        _n(BENEFIT, SOCIAL, "应保尽保率", EQ, "%", "100"),
    ),
    "city": (
        _q(BENEFIT, ECOLOGICAL, "市容环境质量", "持续改善"),
        _n(BENEFIT, ECOLOGICAL, "绿化覆盖率", GE, "%", "35", "38", "40"),
    ),
    "transport": (
        _n(BENEFIT, ECOLOGICAL, "河道水质达标率", GE, "%", "80", "90"),
        _n(BENEFIT, SOCIAL, "积水点消除率", GE, "%", "90", "100"),
    ),
    "agriculture": (
        _n(BENEFIT, ECOLOGICAL, "空气质量优良率", GE, "%", "80", "85"),
        _n(BENEFIT, ECONOMIC, "带动农户增收", GE, "万元", "50", "100", "300"),
    ),
    "economy": (
        _n(BENEFIT, ECONOMIC, "带动企业营收增长", GE, "%", "5", "8", "10"),
        _n(BENEFIT, ECONOMIC, "新增就业岗位", GE, "个", "50", "100", "300"),
    ),
    "culture": (
        _n(BENEFIT, SOCIAL, "文化活动参与人次", GE, "万人次", "1", "2", "5"),
        _q(BENEFIT, SOCIAL, "{people}文化获得感", "明显增强"),
    ),
    "safety": (
        _n(BENEFIT, SOCIAL, "较大及以上安全事故", LE, "起", "0"),
        _n(BENEFIT, SOCIAL, "矛盾纠纷化解率", GE, "%", "95", "98"),
    ),
    "community": (
        _q(BENEFIT, SOCIAL, "居民群众获得感", "明显提升"),
        _q(BENEFIT, ECOLOGICAL, "社区环境", "持续改善"),
    ),
}

OVERALL_POOL = Pool(
    (
        _n(OUTPUT, QUANTITY, "重点工作任务完成率", GE, "%", "95", "100"),
        _n(OUTPUT, QUANTITY, "部门预算执行率", GE, "%", "90", "95"),
        _n(OUTPUT, QUALITY, "政府采购执行率", GE, "%", "90", "95"),
        _q(OUTPUT, QUALITY, "资产管理规范性", "规范"),
        _q(OUTPUT, TIMELINESS, "预决算信息公开及时性", "及时"),
        _n(OUTPUT, OUTPUT_COST, "“三公”经费控制率", LE, "%", "100"),
        _q(OUTPUT, QUALITY, "履职任务完成情况", "按计划完成"),
    ),
    (
        _q(BENEFIT, SOCIAL, "部门履职效能", "持续提升"),
        _q(BENEFIT, SUSTAINABLE, "内部控制制度健全性", "健全"),
        _n(BENEFIT, SOCIAL, "社会公众投诉办结率", GE, "%", "95", "100"),
    ),
)

POLICY_POOL = Pool(
    (
        _n(OUTPUT, QUALITY, "政策资金拨付准确率", EQ, "%", "100"),
        _n(OUTPUT, TIMELINESS, "资金兑付及时率", GE, "%", "95", "98"),
        _n(OUTPUT, TIMELINESS, "申报审核办结时限", LE, "天", "15", "20", "30"),
        _money("政策资金总额"),
    ),
    (
        _n(BENEFIT, ECONOMIC, "带动社会投资", GE, "万元", "500", "1000", "3000"),
        _q(BENEFIT, SOCIAL, "政策目标实现程度", "达成预期指标"),
        _n(BENEFIT, SOCIAL, "政策知晓率", GE, "%", "85", "90"),
        _q(BENEFIT, SUSTAINABLE, "政策长效机制", "持续完善"),
    ),
)

SATISFACTION_TEMPLATE = _n(SATISFACTION, RECIPIENTS, "{people}满意度", GE, "%", "85", "90", "95")

#: How many output and benefit rows a target has (5–12 rows with the satisfaction row), with
#: their weights in percent.
OUTPUT_COUNTS = ((2, 10), (3, 30), (4, 30), (5, 20), (6, 10))
BENEFIT_COUNTS = ((1, 15), (2, 45), (3, 30), (4, 10))
SATISFACTION_SHARE = 90  # percent of targets with a satisfaction row
MINIMUM_ROWS = 5


@dataclass(frozen=True)
class Subject:
    """What an indicator set is drawn for."""

    pool: Pool
    extras: tuple[Template, ...]
    measure: Measure | None
    obj: str
    people: str
    budget_wan: Decimal


@dataclass(frozen=True)
class Draft:
    """One indicator of a target, ready to become an `Indicator` row."""

    level1: IndicatorL1
    level2: IndicatorL2
    name: str
    comparator: Comparator
    raw: str
    number: Decimal | None
    unit: str | None
    weight: Decimal
    is_core: bool

    @property
    def nature(self) -> IndicatorNature:
        if self.comparator is QUAL:
            return IndicatorNature.QUALITATIVE
        return IndicatorNature.QUANTITATIVE


@dataclass(frozen=True)
class Outcome:
    """The actual value of a row at year end (self-assessment)."""

    raw: str
    number: Decimal | None
    band: QualitativeBand | None
    qualitative_score: Decimal | None


def fmt(value: Decimal) -> str:
    """A number as forms write it: no exponent, no trailing zeros ("96.5", "100")."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _nice(rng: random.Random, low: int, high: int) -> Decimal:
    """A round target inside [low, high]: two significant digits."""
    value = rng.randint(low, high)
    if value >= 100:
        digits = len(str(value)) - 2
        value = int(round(value, -digits))
    return Decimal(max(value, low))


def split_weight(rng: random.Random, total: int, rows: int) -> list[Decimal]:
    """`total` points over `rows` rows, each at least 5, in steps of 5 where possible."""
    weights = [5] * rows
    remaining = total - 5 * rows
    while remaining >= 5:
        weights[rng.randrange(rows)] += 5
        remaining -= 5
    weights[rng.randrange(rows)] += remaining
    return [Decimal(w).quantize(Decimal("0.01")) for w in weights]


def _raw(comparator: Comparator, number: Decimal, unit: str | None) -> str:
    return f"{COMPARATOR_SYMBOLS[comparator]}{fmt(number)}{unit or ''}"


def _from_template(
    rng: random.Random, template: Template, subject: Subject, weight: Decimal
) -> Draft:
    name = template.name.format(people=subject.people, obj=subject.obj)
    if template.comparator is QUAL:
        word = rng.choice(template.values)
        return Draft(template.level1, template.level2, name, QUAL, word, None, None, weight, False)
    number = subject.budget_wan if template.money else Decimal(rng.choice(template.values))
    raw = _raw(template.comparator, number, template.unit)
    return Draft(
        template.level1,
        template.level2,
        name,
        template.comparator,
        raw,
        number,
        template.unit,
        weight,
        False,
    )


def draw_indicators(rng: random.Random, subject: Subject) -> list[Draft]:
    """5–12 indicators: the topic's quantity first, then outputs, benefits, satisfaction."""
    measured = subject.measure is not None
    benefit_pool = [*subject.pool.benefits, *subject.extras]
    outputs = min(weighted(rng, OUTPUT_COUNTS), len(subject.pool.outputs) + measured)
    benefits = min(weighted(rng, BENEFIT_COUNTS), len(benefit_pool))
    satisfied = rng.randrange(100) < SATISFACTION_SHARE
    if outputs + benefits + satisfied < MINIMUM_ROWS:
        outputs = MINIMUM_ROWS - benefits - satisfied
    output_weights = iter(split_weight(rng, 50, outputs))
    benefit_weights = iter(split_weight(rng, 40 - 10 * satisfied, benefits))

    drafts: list[Draft] = []
    if subject.measure is not None:
        measure = subject.measure
        number = _nice(rng, measure.low, measure.high)
        raw = _raw(GE, number, measure.unit)
        core = rng.randrange(3) == 0
        weight = next(output_weights)
        drafts.append(
            Draft(OUTPUT, QUANTITY, measure.name, GE, raw, number, measure.unit, weight, core)
        )
    chosen = rng.sample(subject.pool.outputs, outputs - measured)
    chosen.sort(key=lambda t: L2_ORDER[t.level2])
    drafts += [_from_template(rng, t, subject, next(output_weights)) for t in chosen]
    chosen = rng.sample(benefit_pool, benefits)
    drafts += [_from_template(rng, t, subject, next(benefit_weights)) for t in chosen]
    if satisfied:
        drafts.append(_from_template(rng, SATISFACTION_TEMPLATE, subject, Decimal("10.00")))
    return drafts


def _scaled(number: Decimal, percent: int, places: Decimal) -> Decimal:
    return (number * percent / HUNDRED).quantize(places, rounding=ROUND_HALF_UP)


def _places(draft: Draft) -> Decimal:
    """Counts stay whole numbers; percentages and amounts in 万 get two decimals."""
    number = draft.number
    if number is None or draft.unit in FRACTIONAL_UNITS or number != number.to_integral():
        return Decimal("0.01")
    return Decimal(1)


def draw_outcome(rng: random.Random, draft: Draft, *, met: bool, executed_wan: Decimal) -> Outcome:
    """The year-end actual value of `draft`; `met` says whether its target was reached."""
    if draft.comparator is QUAL:
        band = QualitativeBand.ACHIEVED
        if not met:
            band = (
                QualitativeBand.NOT_ACHIEVED
                if rng.randrange(7) == 0
                else (QualitativeBand.PARTLY_ACHIEVED)
            )
        elif rng.randrange(4) != 0:
            # The target word for word ("规范" → "规范"): met in full, the full weight (SR-5).
            return Outcome(draft.raw, None, band, draft.weight)
        low, high = QUALITATIVE_BANDS[band]
        if band is QualitativeBand.NOT_ACHIEVED:
            low = high / 2
        cents = (draft.weight * 100 * low, draft.weight * 100 * high)
        lowest = int(cents[0].to_integral(rounding="ROUND_CEILING"))
        # Below the full weight: a row that does not state its target scores less than a row
        # that does.
        highest = int(cents[1]) - 1
        score = Decimal(rng.randint(lowest, highest)) / 100
        raw = {
            QualitativeBand.ACHIEVED: "基本达成",
            QualitativeBand.PARTLY_ACHIEVED: "部分达成",
            QualitativeBand.NOT_ACHIEVED: "未达成",
        }[band]
        return Outcome(raw, None, band, score)

    assert draft.number is not None
    target, places = draft.number, _places(draft)
    if draft.unit == "万元" and draft.comparator is LE and draft.level2 is OUTPUT_COST:
        actual = executed_wan
    elif target == 0:
        actual = target
    elif draft.comparator is EQ:
        actual = target if met else _scaled(target, rng.randint(90, 99), places)
    elif draft.comparator is GE:
        if not met:
            actual = _scaled(target, rng.randint(80, 98), places)
        elif draft.unit == "%":
            headroom = int((HUNDRED - target) * 10)
            actual = target + Decimal(rng.randint(0, max(headroom, 0))) / 10
        else:
            actual = _scaled(target, rng.randint(100, 115), places)
    else:
        actual = (
            _scaled(target, rng.randint(50, 100), places)
            if met
            else _scaled(target, rng.randint(110, 150), places)
        )
        if not met and actual <= target:
            actual = target + places
    return Outcome(f"{fmt(actual)}{draft.unit or ''}", actual, None, None)


def progress(rng: random.Random, draft: Draft, share: int) -> tuple[str, bool]:
    """Mid-year progress of a row (绩效运行监控): its value to date and whether on track.
    `share` is the percentage of the year's work done by the monitoring date."""
    on_track = rng.randrange(10) != 0
    if draft.comparator is QUAL:
        return ("按计划推进" if on_track else "进度滞后"), on_track
    assert draft.number is not None
    if draft.unit == "%" or draft.comparator is LE:
        return draft.raw.lstrip("≥≤=<>"), on_track
    done = share if on_track else share * 2 // 3
    return f"{fmt(_scaled(draft.number, done, _places(draft)))}{draft.unit or ''}", on_track
