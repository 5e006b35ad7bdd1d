"""Each mutant runs only the tests that execute the code it changed.

Before a module is mutated, `mutation/run.py` runs its tests once under coverage.py (through
pytest-cov, one context per test) and writes a map (`write_map`): for every line of the module,
the tests that executed it, and every test in the order pytest collects them. cosmic-ray then
runs this module as its test command for every mutant (`main`): it compares the mutated file with
the original, finds the statement that changed, and runs pytest on only the tests that executed
that statement, in their usual order. A mutant whose statement no test executes survives
without running anything: no test could tell it from the original.

This is sound because a mutation can change a test's outcome only by being executed. Code that
runs outside a test's own call and its own fixtures cannot be attributed to one test, so a
mutant there runs every test, as before:
- module and class bodies, signatures, default arguments and decorators run at import;
- a module- or session-scoped fixture's setup serves every later test (mutation/contexts.py
  gives it a context of its own), and teardowns run after the test has passed.
Code that a background task runs is charged to the test under way when it runs: none of the
modules mutated here runs in one.
Tests that run the module in a child process (the crash tests kill a real `gongkai withdraw`) are
invisible to coverage in the parent: `always` lists them, and they run after the selected tests
for every mutant.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

#: The pytest plugins a mutant's run needs. Loading only these (PYTEST_DISABLE_PLUGIN_AUTOLOAD)
#: saves about a second per mutant: schemathesis' plugin imports hypothesis and much more.
PLUGINS = ("-p", "pytest_asyncio.plugin", "-p", "_hypothesis_pytestplugin")
PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *PLUGINS)
ENV = {"CI": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

#: The contexts that belong to one test: its call and its function-scoped fixtures' setup.
OWN_PHASES = ("|run", "|setup")


def is_test_path(arg: str) -> bool:
    return arg.partition("::")[0].endswith(".py")


def write_map(
    module: str, tests: tuple[str, ...], always: tuple[str, ...], tree: Path, out: Path
) -> subprocess.CompletedProcess[str]:
    """Run the module's tests in `tree` under coverage and write the map to `out`. The run is
    also the unmutated baseline: its result is returned, and no map is written if it failed."""
    data = out.with_suffix(".coverage")
    data.unlink(missing_ok=True)
    env = {**os.environ, **ENV, "COVERAGE_FILE": str(data)}
    source = str(Path(module).parent)
    run = subprocess.run(
        [
            sys.executable,
            *PYTEST,
            "-p",
            "pytest_cov",
            "-p",
            "mutation.contexts",
            f"--cov={source}",
            "--cov-context=test",
            "--cov-report=",
            *tests,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return run
    collected = subprocess.run(
        [sys.executable, *PYTEST, "--collect-only", *tests],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    order = [line for line in collected if "::" in line]
    out.write_text(
        json.dumps(
            {
                "module": module,
                "original": (tree / module).read_text(encoding="utf-8"),
                "options": [arg for arg in tests if not is_test_path(arg)],
                "tests": order,
                "always": list(always),
                "lines": _contexts(data, tree / module),
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return run


def _contexts(data_file: Path, path: Path) -> dict[str, list[str]]:
    """Line number → the coverage contexts that executed it ("" for none: import time)."""
    from coverage import CoverageData

    data = CoverageData(basename=str(data_file))
    data.read()
    (measured,) = [f for f in data.measured_files() if Path(f).resolve() == path.resolve()]
    return {str(line): sorted(found) for line, found in data.contexts_by_lineno(measured).items()}


def changed_lines(original: str, mutated: str) -> set[int]:
    """The lines of `original` (from 1) that the mutation replaced or inserted next to."""
    before, after = original.splitlines(), mutated.splitlines()
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            lines.update(range(i1 + 1, i2 + 1))
        elif tag == "insert":  # between lines i1 and i1 + 1
            lines.update(n for n in (i1, i1 + 1) if 1 <= n <= len(before))
    return lines


def _called_statements(node: ast.AST, in_call: bool = False) -> Iterator[ast.stmt]:
    """Every statement that runs only when a function is called (inside a function's body)."""
    for field, value in ast.iter_fields(node):
        children = value if isinstance(value, list) else [value]
        inside = in_call or (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and field == "body"
        )
        for child in children:
            if isinstance(child, ast.AST):
                if inside and isinstance(child, ast.stmt):
                    yield child
                yield from _called_statements(child, inside)


def statement_lines(original: str, line: int) -> range | None:
    """The lines of the innermost statement holding `line` that runs only within a call; None
    if `line` runs at import (module or class body, a signature, a decorator)."""
    holding = [
        s
        for s in _called_statements(ast.parse(original))
        if s.lineno <= line <= (s.end_lineno or s.lineno)
    ]
    if not holding:
        return None
    inner = min(holding, key=lambda s: (s.end_lineno or s.lineno) - s.lineno)
    return range(inner.lineno, (inner.end_lineno or inner.lineno) + 1)


def select(plan: dict[str, object], mutated: str) -> list[str] | None:
    """The tests to run against `mutated`, in collection order; None for every test."""
    original = str(plan["original"])
    lines: dict[str, list[str]] = plan["lines"]  # type: ignore[assignment]
    chosen: set[str] = set()
    for line in changed_lines(original, mutated):
        statement = statement_lines(original, line)
        if statement is None:
            return None
        for number in statement:
            for context in lines.get(str(number), ()):
                if not context.endswith(OWN_PHASES):
                    return None
                chosen.add(context.rpartition("|")[0])
    order: list[str] = plan["tests"]  # type: ignore[assignment]
    return [test for test in order if test in chosen]


def main(argv: list[str] | None = None) -> int:
    """cosmic-ray's test command for one mutant: `python -m mutation.covering MAP`."""
    (map_path,) = argv if argv is not None else sys.argv[1:]
    plan = json.loads(Path(map_path).read_text(encoding="utf-8"))
    mutated = Path(str(plan["module"])).read_text(encoding="utf-8")
    chosen = select(plan, mutated)
    always: list[str] = plan["always"]
    if chosen is None:
        tests = [*plan["options"], *plan["tests"]]
    else:
        tests = [*plan["options"], *[t for t in chosen if t not in always], *always]
    if len(tests) == len(plan["options"]):
        return 0  # no test executes the changed statement: the mutant survives
    command = [sys.executable, *PYTEST, *tests]
    os.execve(sys.executable, command, {**os.environ, **ENV})


if __name__ == "__main__":
    sys.exit(main())
