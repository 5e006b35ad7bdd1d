"""The two demo jurisdictions: a town of Wujing's size and a district (domain.md §7).

Their codes start with 99, which is no province in GB/T 2260, so they can never be mistaken for
a real place (decisions.md D4).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def local(self, name: str) -> str:
        """The full name of a body of this jurisdiction: 区教育局 → 示例区教育局."""
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
