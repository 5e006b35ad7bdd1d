"""The import direction api → schema → publishers → forms → storage (architecture.md): a
package imports only the packages after it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ORDER = ["api", "schema", "publishers", "forms", "storage"]
ROOT = Path(__file__).resolve().parents[2]


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ORDER)
def test_a_package_imports_only_those_after_it(package: str) -> None:
    earlier = set(ORDER[: ORDER.index(package)])
    offending = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & earlier)
        for path in (ROOT / package).rglob("*.py")
        if _imported(path) & earlier
    }
    assert offending == {}
