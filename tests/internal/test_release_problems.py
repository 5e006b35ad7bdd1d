"""A release check's problems as the internal API hands them out: each names its record by a
global ID a client can look up or link to, and a record hidden from the caller by neither."""

from __future__ import annotations

import pytest

from publishers.rules import Problem
from schema.internal.ids import global_id
from schema.internal.permissions import Caller, Visibility
from schema.internal.releases import _problems


def visibility(classified: bool) -> Visibility:
    """A caller of no department; subject 7 is under a CLASSIFIED filing of department 3's."""
    return Visibility(
        caller=Caller("officer", ("finance_officer",), None, classified),
        own_departments=frozenset(),
        classified_departments=frozenset(),
        classified_subjects=frozenset({7}),
        classified_filings=frozenset(),
        _subject_departments={7: (3, None)},
    )


@pytest.mark.parametrize(
    ("record", "type_name", "number"),
    [
        ("subject#12", "Subject", 12),
        ("target#5", "PerformanceTarget", 5),
        ("self_assessment#9", "SelfAssessment", 9),
        ("evaluation#4", "Evaluation", 4),
        ("file#2", "StoredFile", 2),
    ],
)
def test_a_problem_names_its_record_by_global_id(record: str, type_name: str, number: int) -> None:
    (problem,) = _problems([Problem("DR-3", record, "left out")], visibility(False))
    assert problem.record == record
    assert problem.record_id == global_id(type_name, number)


@pytest.mark.parametrize("record", ["jurisdiction#1", "annual_statement#3", "subject#", "x"])
def test_a_record_with_no_type_here_has_no_global_id(record: str) -> None:
    (problem,) = _problems([Problem("DR-4g", record, "counts differ")], visibility(False))
    assert problem.record == record
    assert problem.record_id is None


def test_a_hidden_record_is_withheld_with_its_id() -> None:
    hidden, shown = _problems(
        [Problem("DR-1", "subject#7", "filed, included"), Problem("DR-3", "subject#8", "x")],
        visibility(False),
    )
    assert (hidden.record, hidden.record_id) == ("(withheld)", None)
    assert shown.record_id == global_id("Subject", 8)
    (cleared,) = _problems([Problem("DR-1", "subject#7", "filed, included")], visibility(True))
    assert (cleared.record, cleared.record_id) == ("subject#7", global_id("Subject", 7))
