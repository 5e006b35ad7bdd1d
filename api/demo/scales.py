"""The demo jurisdictions: a town of Wujing's size, a district (domain.md §7), and a city of
sixteen districts at the size a real one has.

Their codes start with 99, which is no province in GB/T 2260, so they can never be mistaken for
a real place (decisions.md D4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from api.demo import names
from storage.enums import FinanceAuthorityRole, FiscalLevel, TransferType


@dataclass(frozen=True)
class Scale:
    code: str
    name: str
    level: FiscalLevel
    authority: str
    authority_role: FinanceAuthorityRole
    we: str
    filing_prefix: str
    departments: tuple[names.DepartmentSpec, ...]
    #: Units drawn per department; None: exactly the units its spec lists.
    units_per_department: tuple[int, int] | None
    projects_per_year: tuple[int, int]
    key_evaluations: tuple[int, int]
    policies: tuple[names.PolicySpec, ...]
    filed_departments: tuple[names.FiledDepartment, ...]
    filed_projects: tuple[names.FiledProject, ...]
    #: Share of projects per transfer type, in per mille (the rest carry none).
    transfers: tuple[tuple[TransferType, int], ...]
    #: Median project budget in 元 (lognormal, domain.md §7.2).
    median_project: int
    #: The code of the jurisdiction above, loaded before this one (a city's districts).
    parent: str | None = None
    #: Added to every random stream's seed, so that jurisdictions built from one template draw
    #: different data. Empty for the town and the district: their data stays as it was.
    salt: str = ""

    def local(self, name: str) -> str:
        """The full name of a body of this jurisdiction: 区教育局 → 示例区教育局; at municipal
        level the district's names become the city's: 区教育局 → 示例市教育局."""
        if self.level is FiscalLevel.MUNICIPAL:
            if name.startswith("区"):
                return self.name + name[1:]
            if "区委" in name:
                return name.replace("区委", f"{self.name}委", 1)
        if self.level is FiscalLevel.DISTRICT:
            if name.startswith("区"):
                return self.name[:-1] + name
            if "区委" in name:
                return name.replace("区委", f"{self.name}委", 1)
        return self.name + name


SCALES: dict[str, Scale] = {
    "district": Scale(
        code="990101",
        name="示例区",
        level=FiscalLevel.DISTRICT,
        authority="示例区财政局",
        authority_role=FinanceAuthorityRole.FINANCE_BUREAU,
        we="我区",
        filing_prefix="示例区财备",
        departments=names.DISTRICT_DEPARTMENTS,
        units_per_department=(3, 8),
        projects_per_year=(1900, 2100),
        key_evaluations=(12, 18),
        policies=names.DISTRICT_POLICIES,
        filed_departments=names.DISTRICT_FILED_DEPARTMENTS,
        filed_projects=names.DISTRICT_FILED_PROJECTS,
        transfers=(
            (TransferType.MUNICIPAL_TO_DISTRICT_SPECIAL, 70),
            (TransferType.SHARED_RESPONSIBILITY, 20),
            (TransferType.CENTRAL_TO_LOCAL_SPECIAL, 15),
        ),
        median_project=1_500_000,
    ),
    "town": Scale(
        code="990102",
        name="示例镇",
        level=FiscalLevel.TOWN,
        authority="示例镇财政所",
        authority_role=FinanceAuthorityRole.TOWN_FINANCE_OFFICE,
        we="我镇",
        filing_prefix="示例镇财备",
        departments=names.TOWN_DEPARTMENTS,
        units_per_department=None,
        projects_per_year=(200, 250),
        key_evaluations=(9, 12),
        policies=names.TOWN_POLICIES,
        filed_departments=names.TOWN_FILED_DEPARTMENTS,
        filed_projects=names.TOWN_FILED_PROJECTS,
        transfers=(
            (TransferType.MUNICIPAL_TO_DISTRICT_SPECIAL, 40),
            (TransferType.SHARED_RESPONSIBILITY, 15),
            (TransferType.CENTRAL_TO_LOCAL_SPECIAL, 10),
        ),
        median_project=1_200_000,
    ),
}


#: The districts of 示例市, all invented. A real district has ~6,000 subjects a year (the demo
#: district keeps ~2,100 so that its tests stay quick); the city's have the real size.
CITY_DISTRICT_NAMES = (
    "东湖", "西岭", "南桥", "北塘", "青河", "白石", "金沙", "银杏",
    "松风", "竹溪", "梅岭", "兰亭", "桂湾", "荷塘", "柳岸", "枫林",
)  # fmt: skip
CITY_PROJECTS_PER_YEAR = (5800, 6200)


def _city() -> tuple[Scale, ...]:
    district = SCALES["district"]
    city = replace(
        district,
        code="990200",
        name="示例市",
        level=FiscalLevel.MUNICIPAL,
        authority="示例市财政局",
        we="我市",
        filing_prefix="示例市财备",
        projects_per_year=CITY_PROJECTS_PER_YEAR,
        key_evaluations=(20, 30),
        # The city gives transfers; it receives only the centre's.
        transfers=((TransferType.CENTRAL_TO_LOCAL_SPECIAL, 30),),
        median_project=3_000_000,
        salt="/990200",
    )
    districts = []
    for number, short in enumerate(CITY_DISTRICT_NAMES, start=1):
        code = f"9902{number:02d}"
        name = f"示例市{short}区"
        districts.append(
            replace(
                district,
                code=code,
                name=name,
                authority=f"{name}财政局",
                filing_prefix=f"{name}财备",
                projects_per_year=CITY_PROJECTS_PER_YEAR,
                parent=city.code,
                salt=f"/{code}",
            )
        )
    return (city, *districts)


#: A scale of several jurisdictions, loaded in this order (a parent before its children).
GROUPS: dict[str, tuple[Scale, ...]] = {"city": _city()}


def jurisdictions(scale: str) -> tuple[Scale, ...]:
    """The jurisdictions a `gongkai demo --scale` loads."""
    if scale in GROUPS:
        return GROUPS[scale]
    if scale in SCALES:
        return (SCALES[scale],)
    raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(NAMES)}")


NAMES = (*SCALES, *GROUPS)
