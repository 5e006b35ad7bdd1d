"""A pytest plugin for the coverage run of `make mutation`: code that a wider-scoped fixture runs
gets a context of its own, so a test is charged only with the setup that is its own.

pytest-cov names the context of each phase `<test>|setup`, `<test>|run`, `<test>|teardown`. A
session- or module-scoped fixture runs during the setup of the first test that needs it, yet its
result serves every later test too, so a line it runs is not that one test's alone. Here such a
fixture's setup is recorded under `fixture <scope> <name>` instead, which mutation/covering.py
never attributes to a test (a mutant there runs every test). What a function-scoped fixture runs
stays with its test's setup: it runs again for every test that uses it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from coverage import Coverage

#: The pytest-cov context of the phase under way, to return to after a wider fixture.
_phase = ""


def _track(item: pytest.Item, when: str) -> None:
    global _phase
    _phase = f"{item.nodeid}|{when}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _track(item, "setup")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    _track(item, "run")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    _track(item, "teardown")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    coverage = Coverage.current()
    if coverage is None or fixturedef.scope == "function":
        yield
        return
    coverage.switch_context(f"fixture {fixturedef.scope} {fixturedef.argname}")
    try:
        yield
    finally:
        coverage.switch_context(_phase)
