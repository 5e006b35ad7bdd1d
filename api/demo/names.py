"""Name pools of the demo data set: departments, units, project topics, filed records and the
stock phrases of goals, deviations and findings.

Every body named here is invented (decisions.md D4): names carry the jurisdiction's fictitious
name (示例区, 示例镇) as a prefix when the generator uses them, and place names are made up. The
filed departments and projects have names used nowhere else, so a leak scan can look for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.enums import Comparator, FilingReason, FindingCategory, FundingPurpose, OrgType

CAPITAL = FundingPurpose.CAPITAL_CONSTRUCTION
INFO = FundingPurpose.INFORMATIZATION
SUBSIDY = FundingPurpose.POLICY_SUBSIDY
SERVICES = FundingPurpose.GOV_PURCHASE_OF_SERVICES
ASSETS = FundingPurpose.ASSET_PURCHASE
PROFESSIONAL = FundingPurpose.OTHER_PROFESSIONAL

ADMIN = OrgType.ADMINISTRATIVE
INSTITUTION = OrgType.PUBLIC_INSTITUTION


@dataclass(frozen=True)
class Measure:
    """The main quantity indicator of a topic: 三级指标 name, unit and a plausible range."""

    name: str
    unit: str
    low: int
    high: int


@dataclass(frozen=True)
class Topic:
    """What a project is about. `obj` and `people` fill the indicator names ("{people}满意度")."""

    name: str
    purpose: FundingPurpose
    obj: str
    people: str
    measure: Measure
    maintenance: bool = False


def _t(
    name: str,
    purpose: FundingPurpose,
    obj: str,
    people: str,
    measure: tuple[str, str, int, int],
    maintenance: bool = False,
) -> Topic:
    return Topic(name, purpose, obj, people, Measure(*measure), maintenance)


#: Project topics per sector. Every sector has at least one topic of each funding purpose so
#: that the purpose mix (domain.md §7.2) holds in every department.
TOPICS: dict[str, tuple[Topic, ...]] = {
    "admin": (
        _t(
            "办公用房维修改造",
            CAPITAL,
            "办公用房",
            "机关干部",
            ("维修改造面积", "平方米", 300, 5000),
        ),
        _t("政务信息系统运维", INFO, "信息系统", "机关干部", ("运维系统数量", "个", 2, 12), True),
        _t("档案数字化加工", INFO, "档案数字化", "查档群众", ("数字化档案", "万页", 5, 120)),
        _t("干部教育培训", PROFESSIONAL, "培训", "参训干部", ("培训人次", "人次", 200, 6000)),
        _t(
            "机关后勤保障服务",
            SERVICES,
            "后勤服务",
            "机关干部",
            ("保障服务天数", "天", 200, 365),
            True,
        ),
        _t("专项课题研究", SERVICES, "课题研究", "决策部门", ("完成课题数量", "项", 2, 15)),
        _t("办公设备更新", ASSETS, "办公设备", "机关干部", ("更新设备数量", "台（套）", 10, 300)),
        _t("公务用车更新", ASSETS, "公务用车", "机关干部", ("更新车辆数量", "辆", 1, 8)),
        _t("党建主题活动", PROFESSIONAL, "党建活动", "党员群众", ("开展活动场次", "场", 6, 80)),
        _t("政策宣传", PROFESSIONAL, "宣传", "社会公众", ("宣传品发放数量", "份", 2000, 60000)),
        _t("困难党员帮扶", SUBSIDY, "帮扶", "困难党员", ("帮扶人数", "人", 20, 600)),
    ),
    "education": (
        _t("校舍修缮", CAPITAL, "校舍修缮", "师生", ("修缮面积", "平方米", 800, 15000)),
        _t("运动场地改造", CAPITAL, "运动场地", "师生", ("改造场地面积", "平方米", 1000, 12000)),
        _t("智慧校园建设", INFO, "智慧校园", "师生", ("接入终端数量", "台", 50, 2000)),
        _t("学生营养午餐补贴", SUBSIDY, "午餐补贴", "学生", ("受益学生人数", "人", 500, 30000)),
        _t("学前教育生均补贴", SUBSIDY, "生均补贴", "幼儿家庭", ("补贴幼儿人数", "人", 300, 12000)),
        _t("课后服务", SERVICES, "课后服务", "学生家长", ("参加课后服务学生", "人", 500, 25000)),
        _t("校园安保服务", SERVICES, "校园安保", "师生", ("安保服务学校数量", "所", 3, 60), True),
        _t("教学设备购置", ASSETS, "教学设备", "师生", ("购置设备数量", "台（套）", 20, 1500)),
        _t("图书资料采购", ASSETS, "图书资料", "师生", ("采购图书", "册", 2000, 80000)),
        _t(
            "教师专业发展培训",
            PROFESSIONAL,
            "教师培训",
            "教师",
            ("培训教师人次", "人次", 100, 8000),
        ),
        _t(
            "学生体质健康监测",
            PROFESSIONAL,
            "体质监测",
            "学生",
            ("监测学生人数", "人", 1000, 40000),
        ),
    ),
    "health": (
        _t(
            "社区卫生服务站改建",
            CAPITAL,
            "服务站改建",
            "社区居民",
            ("改建面积", "平方米", 300, 6000),
        ),
        _t(
            "全民健康信息平台运维",
            INFO,
            "信息平台",
            "医务人员",
            ("接入医疗机构", "家", 5, 60),
            True,
        ),
        _t("基本公共卫生服务", SUBSIDY, "公共卫生服务", "社区居民", ("服务人次", "万人次", 1, 60)),
        _t(
            "家庭医生签约服务",
            SERVICES,
            "签约服务",
            "签约居民",
            ("签约居民人数", "人", 2000, 120000),
        ),
        _t("老年人健康体检", SERVICES, "健康体检", "老年人", ("体检人数", "人", 1000, 60000)),
        _t("医疗设备购置", ASSETS, "医疗设备", "患者", ("购置设备数量", "台（套）", 5, 200)),
        _t("疾病预防控制", PROFESSIONAL, "疾病防控", "社区居民", ("开展监测点位", "个", 10, 300)),
        _t(
            "卫生监督执法",
            PROFESSIONAL,
            "卫生监督",
            "经营单位",
            ("监督检查户次", "户次", 200, 8000),
        ),
    ),
    "civil": (
        _t("社区养老服务设施改造", CAPITAL, "养老设施", "老年人", ("改造床位数", "张", 20, 400)),
        _t(
            "养老服务信息系统运维",
            INFO,
            "养老信息系统",
            "老年人",
            ("服务对象档案", "份", 500, 30000),
            True,
        ),
        _t("老年助餐服务补贴", SUBSIDY, "助餐补贴", "老年人", ("助餐服务人次", "万人次", 1, 80)),
        _t("困难群众临时救助", SUBSIDY, "临时救助", "困难群众", ("救助人次", "人次", 100, 8000)),
        _t("残疾人康复补贴", SUBSIDY, "康复补贴", "残疾人", ("补贴人数", "人", 100, 5000)),
        _t("居家养老服务", SERVICES, "居家养老服务", "老年人", ("服务老年人数", "人", 200, 12000)),
        _t(
            "社会组织培育服务",
            SERVICES,
            "社会组织培育",
            "社会组织",
            ("培育社会组织数量", "家", 5, 120),
        ),
        _t("康复辅具购置", ASSETS, "康复辅具", "残疾人", ("购置辅具数量", "件", 50, 3000)),
        _t(
            "就业援助专项",
            PROFESSIONAL,
            "就业援助",
            "就业困难人员",
            ("帮扶就业人数", "人", 50, 3000),
        ),
    ),
    "city": (
        _t(
            "老旧小区综合改造", CAPITAL, "小区改造", "小区居民", ("改造建筑面积", "万平方米", 1, 40)
        ),
        _t("市政道路大中修", CAPITAL, "道路修缮", "沿线居民", ("修缮道路长度", "公里", 1, 30)),
        _t(
            "城市网格化管理平台运维",
            INFO,
            "网格化平台",
            "城市管理人员",
            ("处置案件数量", "件", 2000, 90000),
            True,
        ),
        _t(
            "生活垃圾分类补贴", SUBSIDY, "垃圾分类补贴", "小区居民", ("补贴小区数量", "个", 20, 600)
        ),
        _t(
            "公共绿地养护",
            SERVICES,
            "绿地养护",
            "周边居民",
            ("养护绿地面积", "万平方米", 5, 300),
            True,
        ),
        _t(
            "道路保洁作业",
            SERVICES,
            "道路保洁",
            "市民",
            ("保洁道路面积", "万平方米", 10, 800),
            True,
        ),
        _t("景观灯光维护", SERVICES, "景观灯光", "市民", ("维护灯具数量", "盏", 200, 20000), True),
        _t("环卫作业车辆购置", ASSETS, "环卫车辆", "环卫作业人员", ("购置车辆数量", "辆", 2, 40)),
        _t(
            "违法建筑整治",
            PROFESSIONAL,
            "违建整治",
            "市民",
            ("拆除违法建筑面积", "平方米", 500, 30000),
        ),
    ),
    "transport": (
        _t("雨污混接改造", CAPITAL, "雨污混接改造", "沿线居民", ("改造排水管道", "公里", 1, 40)),
        _t("停车设施建设", CAPITAL, "停车设施", "驾车市民", ("新增停车泊位", "个", 50, 2000)),
        _t(
            "智能交通信号系统运维",
            INFO,
            "信号系统",
            "出行市民",
            ("维护信号路口", "个", 20, 600),
            True,
        ),
        _t("公交线路运营补贴", SUBSIDY, "公交补贴", "乘客", ("补贴线路数量", "条", 3, 60)),
        _t("河道养护", SERVICES, "河道养护", "沿河居民", ("养护河道长度", "公里", 5, 200), True),
        _t("泵站运行维护", SERVICES, "泵站运维", "周边居民", ("维护泵站数量", "座", 2, 40), True),
        _t("防汛物资储备", ASSETS, "防汛物资", "周边居民", ("储备物资品类", "类", 10, 80)),
        _t(
            "道路交通设施维护",
            PROFESSIONAL,
            "交通设施",
            "出行市民",
            ("维护交通标志", "块", 100, 8000),
            True,
        ),
    ),
    "agriculture": (
        _t("农田水利设施改造", CAPITAL, "农田水利", "农户", ("改造农田面积", "亩", 200, 12000)),
        _t("村庄环境整治", CAPITAL, "村庄整治", "村民", ("整治村庄数量", "个", 1, 20)),
        _t(
            "生态环境监测平台运维",
            INFO,
            "监测平台",
            "社会公众",
            ("监测点位数量", "个", 5, 120),
            True,
        ),
        _t("农业生产补贴", SUBSIDY, "农业补贴", "农户", ("补贴面积", "亩", 500, 40000)),
        _t("林地养护", SERVICES, "林地养护", "周边居民", ("养护林地面积", "亩", 100, 20000), True),
        _t(
            "环境监测设备购置", ASSETS, "监测设备", "监测人员", ("购置设备数量", "台（套）", 3, 120)
        ),
        _t("土壤污染防治", PROFESSIONAL, "土壤防治", "农户", ("完成调查地块", "块", 5, 200)),
        _t("环境执法检查", PROFESSIONAL, "环境执法", "企业", ("检查企业户次", "户次", 50, 3000)),
    ),
    "economy": (
        _t(
            "产业园区配套设施建设",
            CAPITAL,
            "园区配套",
            "园区企业",
            ("建设面积", "平方米", 1000, 30000),
        ),
        _t("企业服务平台建设", INFO, "服务平台", "企业", ("入驻企业数量", "家", 50, 3000)),
        _t("产业发展扶持资金", SUBSIDY, "产业扶持", "企业", ("扶持企业数量", "家", 10, 400)),
        _t("科技创新券补贴", SUBSIDY, "创新券", "科技型企业", ("兑付创新券企业", "家", 10, 500)),
        _t("招商引资服务", SERVICES, "招商服务", "企业", ("对接项目数量", "个", 10, 300)),
        _t("食品安全抽检", SERVICES, "食品抽检", "消费者", ("抽检批次", "批次", 200, 8000)),
        _t(
            "检验检测设备购置", ASSETS, "检测设备", "检测人员", ("购置设备数量", "台（套）", 3, 100)
        ),
        _t(
            "统计调查专项", PROFESSIONAL, "统计调查", "调查对象", ("调查样本数量", "户", 200, 20000)
        ),
        _t("营商环境优化专项", PROFESSIONAL, "营商环境", "企业", ("开展政策宣讲", "场", 5, 120)),
    ),
    "culture": (
        _t(
            "文物建筑保护修缮",
            CAPITAL,
            "文物修缮",
            "市民游客",
            ("修缮建筑面积", "平方米", 200, 8000),
        ),
        _t("全民健身设施更新", CAPITAL, "健身设施", "健身市民", ("更新健身点", "个", 5, 200)),
        _t("融媒体平台运维", INFO, "融媒体平台", "受众", ("发布信息条数", "条", 2000, 60000), True),
        _t("公共文化配送", SERVICES, "文化配送", "社区居民", ("配送文化活动场次", "场", 50, 3000)),
        _t(
            "体育场馆运营管理",
            SERVICES,
            "场馆运营",
            "健身市民",
            ("场馆开放天数", "天", 250, 360),
            True,
        ),
        _t("群众体育赛事补贴", SUBSIDY, "赛事补贴", "参赛群众", ("补贴赛事数量", "项", 3, 60)),
        _t("图书馆数字资源采购", ASSETS, "数字资源", "读者", ("采购数据库数量", "个", 2, 30)),
        _t("群众文化活动", PROFESSIONAL, "文化活动", "社区居民", ("举办活动场次", "场", 10, 600)),
    ),
    "safety": (
        _t("消防站点改造", CAPITAL, "消防站点", "社区居民", ("改造站点数量", "个", 1, 20)),
        _t(
            "公共法律服务平台运维",
            INFO,
            "法律服务平台",
            "群众",
            ("线上咨询量", "件", 500, 40000),
            True,
        ),
        _t("法律援助补贴", SUBSIDY, "法律援助", "受援群众", ("办理援助案件", "件", 50, 3000)),
        _t("人民调解服务", SERVICES, "人民调解", "当事群众", ("调解纠纷数量", "件", 100, 8000)),
        _t("安全生产第三方检查", SERVICES, "安全检查", "企业", ("检查企业数量", "家", 50, 3000)),
        _t(
            "应急装备购置",
            ASSETS,
            "应急装备",
            "应急救援人员",
            ("购置装备数量", "台（套）", 10, 600),
        ),
        _t("普法宣传教育", PROFESSIONAL, "普法宣传", "社会公众", ("开展普法活动", "场", 10, 500)),
    ),
    "community": (
        _t("美丽家园建设", CAPITAL, "美丽家园", "小区居民", ("受益居民户数", "户", 200, 8000)),
        _t(
            "社区事务受理系统运维",
            INFO,
            "受理系统",
            "办事群众",
            ("受理事项数量", "件", 2000, 80000),
            True,
        ),
        _t("高龄老人营养补贴", SUBSIDY, "营养补贴", "高龄老人", ("补贴人数", "人", 100, 6000)),
        _t("社区环境综合整治", SERVICES, "环境整治", "社区居民", ("整治点位", "处", 10, 400)),
        _t("为老服务", SERVICES, "为老服务", "老年人", ("服务老年人次", "人次", 500, 40000)),
        _t(
            "社区办公设备购置",
            ASSETS,
            "办公设备",
            "社区工作者",
            ("购置设备数量", "台（套）", 10, 300),
        ),
        _t("社区文化活动", PROFESSIONAL, "社区文化", "社区居民", ("举办活动场次", "场", 10, 400)),
        _t(
            "网格化综合管理",
            PROFESSIONAL,
            "网格管理",
            "社区居民",
            ("处置网格案件", "件", 500, 30000),
            True,
        ),
    ),
}


@dataclass(frozen=True)
class DepartmentSpec:
    """A department without the jurisdiction prefix; `core` names its generic units."""

    name: str
    core: str
    sector: str
    org_type: OrgType
    weight: float
    units: tuple[str, ...] = ()


def _d(
    name: str, core: str, sector: str, weight: float, *units: str, org: OrgType = ADMIN
) -> DepartmentSpec:
    return DepartmentSpec(name, core, sector, org, weight, units)


#: Suffixes of a department's generic units (`core` + suffix), when it names none itself.
UNIT_SUFFIXES = (
    "事务中心",
    "服务中心",
    "信息中心",
    "综合保障中心",
    "宣传教育中心",
    "发展研究中心",
    "培训中心",
    "档案管理中心",
)

#: Invented sub-district names of the district (街道 are departments of the district budget).
STREETS = ("东岚", "青禾", "云溪", "望川", "桐荫", "澄湖")

STREET_UNITS = (
    "社区事务受理服务中心",
    "社区文化活动中心",
    "城市运行管理中心",
    "党群服务中心",
    "社区综合管理事务所",
    "综合行政执法队",
)

DISTRICT_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _d("区委办公室", "区委", "admin", 0.5),
    _d("区人大常委会办公室", "区人大", "admin", 0.3),
    _d("区人民政府办公室", "区政府", "admin", 0.6),
    _d("区政协办公室", "区政协", "admin", 0.3),
    _d("区纪委监委", "区纪委", "admin", 0.3),
    _d("区委组织部", "组织", "admin", 0.4),
    _d("区委宣传部", "宣传", "culture", 0.5),
    _d("区委统战部", "统战", "admin", 0.3),
    _d("区委政法委员会", "政法", "safety", 0.4),
    _d("区发展和改革委员会", "发展改革", "economy", 0.7),
    _d(
        "区教育局",
        "教育",
        "education",
        3.5,
        "第一中学",
        "第二中学",
        "实验中学",
        "实验小学",
        "青禾小学",
        "云溪幼儿园",
        "教育学院",
        "学生社会实践中心",
        "教育事业服务中心",
    ),
    _d("区科学技术委员会", "科技", "economy", 0.8),
    _d("区商务委员会", "商务", "economy", 0.8),
    _d("区民族和宗教事务办公室", "民族宗教", "admin", 0.3),
    _d("区公安分局", "公安", "safety", 1.6, "治安巡逻大队", "交通警察支队后勤保障中心"),
    _d(
        "区民政局",
        "民政",
        "civil",
        1.6,
        "社会福利院",
        "救助管理站",
        "婚姻登记中心",
        "养老服务指导中心",
    ),
    _d("区司法局", "司法", "safety", 0.6, "公共法律服务中心", "人民调解指导中心"),
    _d("区财政局", "财政", "admin", 0.6, "财政信息中心", "政府采购中心", "财政投资评审中心"),
    _d(
        "区人力资源和社会保障局",
        "人社",
        "civil",
        1.0,
        "就业促进中心",
        "劳动人事争议仲裁院",
        "人才服务中心",
    ),
    _d("区规划和自然资源局", "规划资源", "city", 0.8),
    _d("区生态环境局", "生态环境", "agriculture", 0.9, "环境监测站", "生态环境执法大队"),
    _d(
        "区建设和管理委员会",
        "建设管理",
        "city",
        2.6,
        "建设工程安全质量监督站",
        "市政工程管理所",
        "住房保障中心",
    ),
    _d("区交通委员会", "交通", "transport", 1.2, "公路管理所", "交通运输执法大队"),
    _d("区水务局", "水务", "transport", 1.3, "河道管理所", "排水管理所", "防汛物资储备中心"),
    _d(
        "区农业农村委员会",
        "农业农村",
        "agriculture",
        1.0,
        "农业技术推广中心",
        "动物疫病预防控制中心",
    ),
    _d(
        "区文化和旅游局", "文化旅游", "culture", 1.1, "图书馆", "文化馆", "博物馆", "文物保护管理所"
    ),
    _d(
        "区卫生健康委员会",
        "卫生健康",
        "health",
        2.4,
        "疾病预防控制中心",
        "卫生健康监督所",
        "中心医院",
        "中医医院",
        "妇幼保健所",
        "东岚社区卫生服务中心",
        "青禾社区卫生服务中心",
    ),
    _d("区退役军人事务局", "退役军人", "civil", 0.4, "退役军人服务中心"),
    _d("区应急管理局", "应急管理", "safety", 0.8, "应急救援指挥中心", "安全生产执法大队"),
    _d("区审计局", "审计", "admin", 0.3),
    _d("区国有资产监督管理委员会", "国资", "economy", 0.4),
    _d("区市场监督管理局", "市场监管", "economy", 1.0, "质量技术监督检测所", "消费者权益保护中心"),
    _d(
        "区体育局",
        "体育",
        "culture",
        0.8,
        "体育事业管理中心",
        "青少年业余体育学校",
        "体育场馆管理中心",
    ),
    _d("区统计局", "统计", "economy", 0.3, "社会经济调查队"),
    _d("区医疗保障局", "医疗保障", "health", 0.5, "医疗保险事业中心"),
    _d(
        "区绿化和市容管理局",
        "绿化市容",
        "city",
        2.2,
        "绿化管理所",
        "环境卫生管理所",
        "公园管理所",
        "景观照明管理中心",
    ),
    _d("区房屋管理局", "房屋管理", "city", 1.0, "房屋安全监察所", "物业服务指导中心"),
    _d("区城市管理行政执法局", "城管执法", "city", 0.7),
    _d("区信访办公室", "信访", "admin", 0.3),
    _d("区机关事务管理局", "机关事务", "admin", 0.6),
    _d("区政务服务中心", "政务服务", "admin", 0.5, org=INSTITUTION),
    _d("区总工会", "工会", "civil", 0.4, "职工服务中心"),
    _d("共青团区委", "团区委", "civil", 0.2, "青少年活动中心"),
    _d("区妇女联合会", "妇联", "civil", 0.2, "妇女儿童活动中心"),
    _d("区残疾人联合会", "残联", "civil", 0.5, "残疾人康复中心", "残疾人就业服务所"),
    _d("区科学技术协会", "科协", "economy", 0.2),
    _d("区红十字会", "红十字", "civil", 0.2),
    _d("区档案局", "档案", "admin", 0.3, "档案馆"),
    _d("区融媒体中心", "融媒体", "culture", 0.5, org=INSTITUTION),
    _d("区民防办公室", "民防", "safety", 0.4, "民防指挥信息保障中心", "民防工程管理所"),
    _d("区人民法院", "法院", "safety", 0.6),
    _d("区人民检察院", "检察", "safety", 0.5),
    _d("区投资促进办公室", "投资促进", "economy", 0.4),
    _d("区机要保密局", "机要保密", "admin", 0.3, "机要通信站", "保密技术服务中心"),
    _d("区人民武装部", "人民武装", "admin", 0.3, "民兵训练基地"),
    *(
        _d(
            f"{street}街道办事处",
            f"{street}街道",
            "community",
            1.2,
            *(f"{street}街道{unit}" for unit in STREET_UNITS),
        )
        for street in STREETS
    ),
)

#: A town of Wujing's size (S:004): 25 departments, 18 units.
TOWN_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _d("党政办公室", "党政", "admin", 1.0, "档案室"),
    _d("党建办公室", "党建", "admin", 0.6, "党群服务中心"),
    _d("经济发展办公室", "经济发展", "economy", 1.2, "企业服务中心", "集体资产管理所"),
    _d("财政所", "财政", "admin", 0.5),
    _d("规划建设和环境保护办公室", "规划建设", "city", 1.6, "物业管理事务中心"),
    _d(
        "社会发展办公室",
        "社会发展",
        "education",
        1.6,
        "中心小学",
        "中学",
        "青禾幼儿园",
        "成人文化技术学校",
    ),
    _d("社区管理办公室", "社区管理", "community", 1.0),
    _d("平安办公室", "平安", "safety", 0.8, "综治中心"),
    _d("农业农村办公室", "农业农村", "agriculture", 1.0, "农业服务中心", "水务管理站"),
    _d("城市运行管理中心", "城市运行", "city", 1.0, org=INSTITUTION),
    _d("社区事务受理服务中心", "社区事务", "community", 0.6, org=INSTITUTION),
    _d("社区文化活动中心", "社区文化", "culture", 0.6, "图书馆", org=INSTITUTION),
    _d("城市建设管理事务中心", "城建", "city", 1.6, "绿化管理所", "环境卫生所", org=INSTITUTION),
    _d("社区卫生服务中心", "卫生", "health", 0.8, "青禾社区卫生服务分中心", org=INSTITUTION),
    _d("养老服务中心", "养老", "civil", 0.8, "敬老院", org=INSTITUTION),
    _d("退役军人服务站", "退役军人", "civil", 0.3, org=INSTITUTION),
    _d("综合行政执法队", "综合执法", "city", 0.6),
    _d("市场监督管理所", "市场监管", "economy", 0.5),
    _d("安全生产监督管理所", "安全生产", "safety", 0.5),
    _d("人民武装部", "人民武装", "admin", 0.3),
    _d("信访办公室", "信访", "admin", 0.3),
    _d("统计站", "统计", "economy", 0.3),
    _d("社会保障服务中心", "社会保障", "civil", 0.6, "就业援助服务站", org=INSTITUTION),
    _d("总工会", "工会", "civil", 0.3),
    _d("团委", "团委", "civil", 0.2),
)


@dataclass(frozen=True)
class FiledDepartment:
    """A department with a WHOLE_DEPARTMENT filing from the `since`-th year of the range on."""

    department: str
    reason: FilingReason
    since: int = 0


@dataclass(frozen=True)
class FiledProject:
    """A project listed in its department's PROJECTS filing from the `since`-th year on.

    Its name is its marker: it appears on no other record of the data set.
    """

    department: str
    topic: Topic
    reason: FilingReason
    since: int = 0


CLASSIFIED = FilingReason.CLASSIFIED
SENSITIVE = FilingReason.SENSITIVE

DISTRICT_FILED_DEPARTMENTS = (
    FiledDepartment("区机要保密局", CLASSIFIED),
    FiledDepartment("区人民武装部", SENSITIVE),
    FiledDepartment("区民防办公室", SENSITIVE, since=1),
)

DISTRICT_FILED_PROJECTS = (
    FiledProject(
        "区应急管理局",
        _t(
            "应急指挥保密通信网运维",
            INFO,
            "保密通信网",
            "应急指挥人员",
            ("维护通信节点", "个", 10, 60),
            True,
        ),
        CLASSIFIED,
    ),
    FiledProject(
        "区公安分局",
        _t(
            "重点目标安保设施维护",
            SERVICES,
            "安保设施",
            "重点单位",
            ("维护设施点位", "处", 20, 200),
            True,
        ),
        SENSITIVE,
    ),
    FiledProject(
        "区公安分局",
        _t(
            "反恐防范专项装备购置",
            ASSETS,
            "防范装备",
            "一线警员",
            ("购置装备数量", "台（套）", 20, 300),
        ),
        SENSITIVE,
    ),
    FiledProject(
        "区信访办公室",
        _t(
            "信访积案化解专项经费",
            PROFESSIONAL,
            "积案化解",
            "信访群众",
            ("化解积案数量", "件", 10, 200),
        ),
        SENSITIVE,
    ),
    FiledProject(
        "区卫生健康委员会",
        _t(
            "突发传染病应急物资储备", ASSETS, "应急物资", "医务人员", ("储备物资品类", "类", 10, 60)
        ),
        SENSITIVE,
    ),
    FiledProject(
        "区委政法委员会",
        _t(
            "重大活动安保维稳经费",
            PROFESSIONAL,
            "安保维稳",
            "社会公众",
            ("保障重大活动", "场次", 3, 30),
        ),
        SENSITIVE,
    ),
    FiledProject(
        "区民族和宗教事务办公室",
        _t(
            "宗教活动场所安全专项检查",
            PROFESSIONAL,
            "场所检查",
            "宗教活动场所",
            ("检查场所数量", "处", 5, 60),
        ),
        SENSITIVE,
    ),
    FiledProject(
        "区退役军人事务局",
        _t(
            "涉军群体稳定专项经费",
            PROFESSIONAL,
            "稳定工作",
            "退役军人",
            ("走访慰问人次", "人次", 50, 800),
        ),
        SENSITIVE,
        since=1,
    ),
)

TOWN_FILED_DEPARTMENTS = (
    FiledDepartment("人民武装部", CLASSIFIED),
    FiledDepartment("信访办公室", SENSITIVE),
)

TOWN_FILED_PROJECTS = (
    FiledProject(
        "城市运行管理中心",
        _t(
            "应急指挥保密通信终端维护",
            INFO,
            "通信终端",
            "应急指挥人员",
            ("维护终端数量", "台", 10, 80),
            True,
        ),
        CLASSIFIED,
    ),
    FiledProject(
        "平安办公室",
        _t(
            "重点区域治安防控设施维护",
            SERVICES,
            "防控设施",
            "辖区居民",
            ("维护设施点位", "处", 10, 120),
            True,
        ),
        SENSITIVE,
    ),
    FiledProject(
        "社会发展办公室",
        _t(
            "突发公共卫生事件应急物资储备",
            ASSETS,
            "应急物资",
            "社区居民",
            ("储备物资品类", "类", 5, 40),
        ),
        SENSITIVE,
    ),
    FiledProject(
        "党政办公室",
        _t(
            "重大活动安保专项经费",
            PROFESSIONAL,
            "活动安保",
            "社会公众",
            ("保障重大活动", "场次", 2, 20),
        ),
        SENSITIVE,
    ),
    FiledProject(
        "经济发展办公室",
        _t(
            "重点企业安全隐患专项排查",
            SERVICES,
            "隐患排查",
            "重点企业",
            ("排查企业数量", "家", 10, 120),
        ),
        SENSITIVE,
        since=1,
    ),
)


@dataclass(frozen=True)
class PolicySpec:
    """A fiscal policy (财政政策) of a department, stable across the years."""

    department: str
    name: str
    people: str
    measure: Measure


DISTRICT_POLICIES = (
    PolicySpec(
        "区商务委员会", "产业发展专项资金政策", "企业", Measure("政策覆盖企业", "家", 50, 600)
    ),
    PolicySpec(
        "区科学技术委员会",
        "科技创新扶持资金政策",
        "科技型企业",
        Measure("获得支持企业", "家", 30, 300),
    ),
    PolicySpec(
        "区民政局", "困难群众基本生活救助政策", "困难群众", Measure("救助对象", "人", 1000, 9000)
    ),
    PolicySpec(
        "区农业农村委员会", "农业生产扶持政策", "农户", Measure("受益农户", "户", 200, 3000)
    ),
    PolicySpec(
        "区人力资源和社会保障局",
        "就业促进专项资金政策",
        "就业困难人员",
        Measure("帮扶就业", "人", 300, 5000),
    ),
    PolicySpec(
        "区房屋管理局", "旧住房成套改造补贴政策", "改造居民", Measure("受益居民", "户", 100, 2000)
    ),
)

TOWN_POLICIES = (
    PolicySpec(
        "经济发展办公室", "镇级产业扶持资金政策", "企业", Measure("扶持企业", "家", 10, 120)
    ),
    PolicySpec("农业农村办公室", "农业生产补贴政策", "农户", Measure("受益农户", "户", 50, 800)),
    PolicySpec(
        "养老服务中心", "高龄老人助餐补贴政策", "老年人", Measure("受益老人", "人", 200, 3000)
    ),
)

#: Invented place names that tell otherwise equal projects apart.
PLACES = (
    "青禾路",
    "东岚路",
    "云溪路",
    "望川路",
    "桐荫路",
    "澄湖路",
    "临岚公园",
    "北苑片区",
    "南浦片区",
    "河滨绿地",
    "枫溪河",
    "瑞霖新村",
    "嘉禾苑",
    "松荫小区",
    "新港片区",
    "兰溪路",
)

#: 支出功能分类 (项级) codes by sector; illustrative, not a complete mapping.
FUNCTIONAL_CODES: dict[str, tuple[str, ...]] = {
    "admin": ("2010301", "2010350", "2013101"),
    "education": ("2050201", "2050202", "2050203", "2050801"),
    "health": ("2100408", "2100409", "2100201"),
    "civil": ("2081002", "2082001", "2080701", "2081104"),
    "city": ("2120501", "2120399", "2120803"),
    "transport": ("2140106", "2130106", "2130122"),
    "agriculture": ("2130104", "2110301", "2110402"),
    "economy": ("2150805", "2060499", "2150201"),
    "culture": ("2070109", "2070308", "2070204"),
    "safety": ("2040601", "2240102", "2040201"),
    "community": ("2010301", "2120399", "2081002"),
}

#: 年度总体目标 phrases per funding purpose; {name} is the project, {people} its recipients.
GOALS: dict[FundingPurpose, tuple[str, ...]] = {
    CAPITAL: (
        "按期完成{name}建设任务，工程质量验收合格，改善{people}的使用条件。",
        "完成{name}全部工程量，确保施工安全和工程质量，提升设施的承载能力和使用效果。",
    ),
    INFO: (
        "完成{name}，保障系统稳定运行，提升业务办理效率和数据共享水平。",
        "保障{name}各项功能正常运行，及时处置故障，为{people}提供稳定高效的信息化支撑。",
    ),
    SUBSIDY: (
        "按标准及时足额发放{name}，确保补贴对象认定准确，切实保障{people}的合法权益。",
        "落实{name}，补贴资金精准发放到位，提高{people}的获得感。",
    ),
    SERVICES: (
        "通过政府购买服务方式实施{name}，服务质量达到合同约定标准，{people}满意度不低于90%。",
        "完成{name}年度服务任务，建立服务考核机制，持续提升服务质量和效率。",
    ),
    ASSETS: (
        "按计划完成{name}的采购和验收，设备运行良好，提升{people}的工作保障水平。",
        "完成{name}，资产登记入账及时，使用率达到预期。",
    ),
    PROFESSIONAL: (
        "按计划完成{name}各项工作任务，工作质量达标，取得预期成效。",
        "扎实开展{name}，形成可复制的工作机制，{people}满意度稳步提升。",
    ),
}

OVERALL_GOALS = (
    "围绕部门职能和年度重点工作，保障机构正常运转，完成年度重点任务，提升履职效能和公共服务水平。",
    "全面履行部门职责，加强预算和绩效管理，提高财政资金使用效益，年度重点工作任务完成率不低于95%。",
)

POLICY_GOALS = (
    "落实{name}，按规定程序审核兑付资金，实现政策预期目标，{people}满意度不低于90%。",
    "发挥{name}的引导作用，资金兑付及时准确，政策效果持续显现。",
)

BASIS = (
    "《中共中央 国务院关于全面实施预算绩效管理的意见》；本部门“三定”方案及年度工作计划。",
    "上级主管部门年度工作要点；本级政府常务会议纪要（演示数据）。",
    "《中华人民共和国预算法》及其实施条例；本部门中长期发展规划。",
    "相关行业管理办法及技术规范；本级政府年度重点工作安排。",
)

NECESSITY = (
    "该项目是落实部门职责的必要保障，对完成年度重点工作具有重要作用。",
    "现有设施设备已不能满足工作需要，实施本项目十分必要。",
    "项目关系群众切身利益，社会关注度高，需持续投入予以保障。",
    "实施本项目有利于提升公共服务质量和管理效率。",
)

OVERALL_DUTIES = (
    "贯彻落实党和国家方针政策及上级决策部署，负责本领域的规划、管理和公共服务工作。",
    "负责本部门职责范围内的行政管理、公共服务和监督检查，组织实施年度重点工作任务。",
)

#: 偏差原因分析及改进措施 by level-1 indicator.
DEVIATION_REASONS: dict[str, tuple[str, ...]] = {
    "OUTPUT": (
        "受实施进度影响，部分工作量顺延至下一年度；下一步将细化实施计划，加强进度管理。",
        "实际需求较申报时减少，产出数量未达预期；今后将加强前期调研，科学测算目标值。",
        "采购程序耗时较长，部分任务未按期完成；将提前启动采购，压实实施责任。",
        "部分服务内容调整，指标完成值低于目标；将及时调整绩效目标，做好目标与预算匹配。",
    ),
    "BENEFIT": (
        "项目效益需较长周期显现，当年效果尚未充分体现；将持续跟踪项目效益。",
        "受外部因素影响，效益指标未全部达成；将优化实施方案，加强效果评估。",
        "宣传覆盖面不足，社会知晓度偏低；将加大宣传力度，拓展宣传渠道。",
    ),
    "SATISFACTION": (
        "满意度调查样本较少，个别服务环节反馈意见较多；将改进服务流程，扩大调查范围。",
        "部分服务对象对服务响应速度不满意；将完善服务考核，提高响应效率。",
    ),
}

#: 实际完成情况 texts of self-assessments.
GOAL_ACTUALS = (
    "项目按计划实施，年度绩效目标基本完成。",
    "项目已按期完成，主要绩效指标均达到预期目标。",
    "年度任务全部完成，资金使用规范，取得了良好的社会效益。",
)

GOAL_ACTUALS_LOW = (
    "受实施进度影响，部分任务未按期完成，预算执行率偏低。",
    "项目实施进度滞后，部分资金未能在年内支出，年度目标部分完成。",
)

#: Problems found by evaluations, one or more descriptions per category (Wujing, S:004).
FINDINGS: dict[FindingCategory, tuple[str, ...]] = {
    FindingCategory.TARGET_BUDGET_PLAN_MISMATCH: (
        "绩效目标、预算和实施计划三者不够匹配，部分目标值未随预算调整同步修订。",
    ),
    FindingCategory.INSUFFICIENT_FEASIBILITY_STUDY: (
        "项目前期可行性研究不够充分，对实施条件和风险估计不足。",
    ),
    FindingCategory.UNREASONABLE_BUDGET_ESTIMATE: (
        "预算测算依据不够充分，部分费用标准偏高，未充分体现经济性。",
        "预算编制不够细化，部分支出内容与实际需求存在差异。",
    ),
    FindingCategory.LOW_EXECUTION_RATE: ("项目实际进度与工作计划不匹配，预算执行率偏低。",),
    FindingCategory.HIGH_ADJUSTMENT_RATIO: ("年中预算调整比例较高，调整后未及时优化绩效目标。",),
    FindingCategory.UNCLEAR_POLICY_GOAL: ("政策目标不够清晰，政策产出和效果难以衡量。",),
    FindingCategory.INACCURATE_BENEFICIARY_ESTIMATE: (
        "补贴对象数量估算不够精准，部分资金未能及时下拨使用。",
    ),
    FindingCategory.LOW_FUND_UTILISATION: ("下拨资金实际使用率偏低，资金效益未能充分发挥。",),
    FindingCategory.NO_INCENTIVE_PENALTY_IN_SERVICE_CONTRACT: (
        "购买服务合同缺乏与服务内容和要求相匹配的约束性奖惩条款。",
    ),
    FindingCategory.PERFUNCTORY_ACCEPTANCE: ("服务考核验收流于形式，验收记录不完整。",),
    FindingCategory.COARSE_INDICATORS: (
        "绩效指标设置较为粗放，未能将行业核心指标转化为可量化的绩效指标。",
    ),
    FindingCategory.LOW_SELF_ASSESSMENT_QUALITY: (
        "单位自评对实施过程中存在的问题关注不够，自评质量不高。",
    ),
}

MEASURES = (
    "已修订项目绩效目标，细化指标值，并在下一年度预算编制中予以落实。",
    "已完善内部管理制度，明确责任分工，加强过程管理。",
    "已在服务合同中增加考核奖惩条款，建立季度考核机制。",
    "已调整下一年度预算安排，核减结余资金。",
    "已加强项目前期论证，建立项目库动态管理机制。",
)

RECOMMENDATIONS = (
    "加强项目前期论证，科学合理设定绩效目标，做到目标、预算、实施计划相匹配。",
    "细化预算编制，严格执行费用标准，提高预算测算的准确性。",
    "完善绩效指标体系，将行业核心指标转化为可衡量的绩效指标。",
    "健全服务考核机制，将考核结果与服务费用支付挂钩。",
    "加强预算执行监控，及时调整实施计划和资金安排。",
    "加强评价结果应用，将评价结果作为下一年度预算安排的重要依据。",
)

RECHECK_RESULTS = (
    "经现场复核，整改措施已落实到位。",
    "经复核，问题已整改完毕，相关制度已修订印发。",
    "经复核，整改基本到位，后续将持续跟踪。",
)

#: Invented third-party institutions (第三方机构).
THIRD_PARTIES = (
    "示例明诚管理咨询有限公司",
    "示例中衡绩效评价事务所",
    "示例信达财务咨询有限公司",
    "示例正则工程咨询有限公司",
)

EX_ANTE_DIMENSIONS = (
    "立项依据的充分性、重要性、必要性、可行性",
    "绩效目标科学性、完整性、可考量性",
    "预算计划及资金安排的合理性",
    "工作计划的明确性",
)

EX_ANTE_COMMENTS = (
    "依据充分，符合部门职责和发展规划。",
    "目标基本明确，部分指标需进一步细化。",
    "预算测算总体合理，个别费用标准偏高。",
    "实施计划较为明确，进度安排可行。",
)

MONITORING_NOTES = (
    "项目按计划推进，预算执行进度与时间进度基本匹配。",
    "项目实施进度略有滞后，已督促单位加快执行。",
    "预算执行进度明显滞后，建议调整预算安排。",
)

MONITORING_DEVIATIONS = (
    "采购程序尚未完成，支出进度滞后。",
    "实施方案调整，部分工作延后开展。",
    "结算周期原因，资金尚未支付。",
)

#: Participants of finance key evaluations (S:000, S:001, S:002).
PARTICIPANTS = ("EXPERT", "NPC_DEPUTY", "NPC_BUDGET_COMMITTEE", "CPPCC_MEMBER", "AUDIT")

COMPARATOR_SYMBOLS: dict[Comparator, str] = {
    Comparator.GE: "≥",
    Comparator.GT: ">",
    Comparator.LE: "≤",
    Comparator.LT: "<",
    Comparator.EQ: "=",
}
