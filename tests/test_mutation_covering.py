"""How `make mutation` chooses the tests a mutant runs (mutation/covering.py): only tests that
execute the changed statement, and every test where that cannot be told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutation.covering import changed_lines, select, statement_lines, write_map

ORIGINAL = """\
LIMIT = 10


def within(n, limit=LIMIT):
    if n <= limit:
        return True
    return (
        False
    )


class Rule:
    bound = 3

    def check(self, n):
        return n < self.bound
"""

TESTS = ["t.py::test_a", "t.py::test_b", "t.py::test_c[x]", "t.py::test_d"]


def plan(lines: dict[int, list[str]]) -> dict[str, object]:
    return {
        "original": ORIGINAL,
        "tests": TESTS,
        "lines": {str(k): v for k, v in lines.items()},
    }


def mutate(line: int, old: str, new: str) -> str:
    rows = ORIGINAL.splitlines(keepends=True)
    assert old in rows[line - 1]
    rows[line - 1] = rows[line - 1].replace(old, new)
    return "".join(rows)


def test_the_changed_line_is_found_by_its_number() -> None:
    assert changed_lines(ORIGINAL, mutate(5, "<=", "<")) == {5}
    assert changed_lines(ORIGINAL, ORIGINAL) == set()
    # Line 1 is the first: a change there is not reported as line 0.
    assert changed_lines(ORIGINAL, mutate(1, "10", "11")) == {1}
    rows = ORIGINAL.splitlines(keepends=True)
    # A line inserted between lines 5 and 6 is beside both; a deleted line is itself.
    assert changed_lines(ORIGINAL, "".join([*rows[:5], "        pass\n", *rows[5:]])) == {5, 6}
    assert changed_lines(ORIGINAL, "".join([*rows[:5], *rows[6:]])) == {6}


def test_a_statement_inside_a_function_runs_only_when_called() -> None:
    assert statement_lines(ORIGINAL, 5) == range(5, 7)  # the `if` and its body
    assert statement_lines(ORIGINAL, 6) == range(6, 7)
    assert statement_lines(ORIGINAL, 8) == range(7, 10)  # a statement over three lines
    assert statement_lines(ORIGINAL, 16) == range(16, 17)  # a method's body


def test_what_runs_at_import_has_no_statement_of_a_call() -> None:
    assert statement_lines(ORIGINAL, 1) is None  # a module constant
    assert statement_lines(ORIGINAL, 4) is None  # a default argument
    assert statement_lines(ORIGINAL, 13) is None  # a class body
    assert statement_lines(ORIGINAL, 15) is None  # a method's signature


def test_a_mutant_runs_the_tests_that_executed_its_statement_in_collection_order() -> None:
    executed = {5: ["t.py::test_d|run", "t.py::test_a|run"], 6: ["t.py::test_c[x]|run"]}
    assert select(plan(executed), mutate(5, "<=", "<")) == [
        "t.py::test_a",
        "t.py::test_c[x]",
        "t.py::test_d",
    ]
    # Line 6's statement is itself alone: line 5's tests are not needed.
    assert select(plan(executed), mutate(6, "True", "False")) == ["t.py::test_c[x]"]


def test_a_function_scoped_fixture_belongs_to_its_test() -> None:
    executed = {16: ["t.py::test_b|setup", "t.py::test_d|run"]}
    assert select(plan(executed), mutate(16, "<", "<=")) == ["t.py::test_b", "t.py::test_d"]


def test_a_statement_no_test_executed_runs_no_test() -> None:
    assert select(plan({5: ["t.py::test_a|run"]}), mutate(16, "<", "<=")) == []


def test_every_test_runs_where_the_change_is_not_one_tests_own() -> None:
    # At import.
    assert select(plan({4: [""]}), mutate(4, "limit=LIMIT", "limit=None")) is None
    assert select(plan({13: [""]}), mutate(13, "3", "4")) is None
    # In a wider-scoped fixture, whose result later tests share, or in a teardown.
    assert select(plan({16: ["fixture session db"]}), mutate(16, "<", "<=")) is None
    assert select(plan({16: ["t.py::test_b|teardown"]}), mutate(16, "<", "<=")) is None
    # Inside a function that also ran at import.
    assert select(plan({16: ["", "t.py::test_b|run"]}), mutate(16, "<", "<=")) is None


def test_the_coverage_run_charges_a_test_with_its_own_fixtures_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real run of write_map: a session fixture's lines are no test's; a function-scoped
    fixture's are its test's; a test's call is its own."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(
        "def shared():\n    return 1\n\n\ndef own():\n    return 2\n\n\n"
        "def called():\n    return 3\n"
    )
    (tmp_path / "test_mod.py").write_text(
        "import pytest\nfrom pkg import mod\n\n\n"
        "@pytest.fixture(scope='session')\ndef once():\n    return mod.shared()\n\n\n"
        "@pytest.fixture\ndef each():\n    return mod.own()\n\n\n"
        "def test_a(once, each):\n    assert mod.called() == 3\n\n\n"
        "def test_b(once):\n    assert once == 1\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    out = tmp_path / "map.json"
    run = write_map("pkg/mod.py", ("--noconftest", "test_mod.py"), (), tmp_path, out)
    assert run.returncode == 0, run.stdout + run.stderr
    plan = json.loads(out.read_text())
    assert plan["tests"] == ["test_mod.py::test_a", "test_mod.py::test_b"]
    assert plan["options"] == ["--noconftest"]
    assert plan["lines"]["2"] == ["fixture session once"]
    assert plan["lines"]["6"] == ["test_mod.py::test_a|setup"]
    assert plan["lines"]["10"] == ["test_mod.py::test_a|run"]
    assert select(plan, plan["original"].replace("return 1", "return 0")) is None
    assert select(plan, plan["original"].replace("return 2", "return 0")) == ["test_mod.py::test_a"]
