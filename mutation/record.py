"""The outcome of the last full mutation run of each module, kept in the repo, and the digest of
everything that decides it.

A full run of `publishers/rules.py` takes minutes; CI has seconds for it. `mutation/recorded.json`
keeps each module's score and which mutants were killed, with the sha256 of its inputs: the
module, the test files that run against it, every module of the repo those import (found by the
standard library's `modulefinder`), the choice of tests per mutant (`mutation/covering.py` and
`mutation/contexts.py`), the module's reviewed equivalents and the operators left out. While
the digest matches, nothing that decides an outcome has changed, so CI (`--ci N`) checks the
record and runs a sample of N recorded kills to show they still die; when it
differs, CI runs the whole module again, and the new record is to be committed with the change.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from modulefinder import ModuleFinder
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_name("recorded.json")
#: Besides the module and its tests: how the survivors are judged.
EQUIVALENTS = Path(__file__).with_name("equivalent.toml")


def inputs(module: str, tests: tuple[str, ...]) -> list[Path]:
    """The files whose bytes decide the module's mutation outcome, in a stable order."""
    # These two choose which of the tests each mutant runs.
    here = Path(__file__).parent
    files = {ROOT / module, here / "covering.py", here / "contexts.py"}
    for test in {t.partition("::")[0] for t in tests}:
        if not test.endswith(".py"):
            continue  # a pytest option (`--noconftest`, `-k`, its expression)
        files.add(ROOT / test)
        finder = ModuleFinder(path=[str(ROOT)])
        finder.run_script(str(ROOT / test))
        for found in finder.modules.values():
            source = getattr(found, "__file__", None)
            path = Path(source) if source else None
            if path is not None and path.is_relative_to(ROOT) and ".venv" not in path.parts:
                files.add(path)
    if "--noconftest" not in tests:
        files |= set((ROOT / "tests").rglob("conftest.py"))
    return sorted(files)


def digest(module: str, tests: tuple[str, ...], excluded_operators: tuple[str, ...]) -> str:
    sha = hashlib.sha256("\0".join([*tests, "", *excluded_operators]).encode())
    for path in inputs(module, tests):
        sha.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    # How this module's survivors are judged; another module's entries change nothing here.
    entries = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8")).get("equivalent", [])
    own = [entry for entry in entries if entry["module"] == module]
    sha.update(json.dumps(own, sort_keys=True, ensure_ascii=False).encode())
    return sha.hexdigest()


def kill(operator: str, occurrence: int) -> str:
    """A killed mutant as the record keeps it: cosmic-ray's operator and which application."""
    return f"{operator}#{occurrence}"


def parse_kill(text: str) -> tuple[str, int]:
    operator, _, occurrence = text.rpartition("#")
    return operator, int(occurrence)


def load() -> dict[str, Any]:
    if not RECORD.exists():
        return {}
    loaded: dict[str, Any] = json.loads(RECORD.read_text(encoding="utf-8"))
    return loaded


def save(module: str, entry: dict[str, Any]) -> None:
    records = load()
    records[module] = entry
    RECORD.write_text(
        json.dumps(records, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
