"""A release check as the internal API hands it out: each problem names its record by a global
ID a client can look up or link to (a record hidden from the caller by neither), and the preview
page renders what a publish would carry, with a stylesheet link only of the allowed shapes."""

from __future__ import annotations

import pytest

from api.settings import Settings
from publishers.rules import Problem
from schema.internal.ids import global_id
from schema.internal.permissions import Caller, Visibility
from schema.internal.releases import _problems
from tests.internal.conftest import Api, World, gid, token

PUBLISHER = token("publisher")
PAGE = (
    "mutation($id: ID!, $s: String) { r: checkRelease(id: $id) { ... on ReleaseCheck {"
    " page(stylesheet: $s) } } }"
)


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


@pytest.mark.parametrize(
    "stylesheet", [None, "/console/site.css", "https://cdn.example/" + "s" * 480]
)
async def test_the_preview_page_shows_the_release_and_links_its_stylesheet(
    api: Api, world: World, stylesheet: str | None
) -> None:
    body = await api(PUBLISHER, PAGE, {"id": gid(world.b_release), "s": stylesheet})
    assert "errors" not in body, body
    page = body["data"]["r"]["page"]
    assert "<strong>预览</strong>" in page and "乙局" in page
    assert "SECRET" not in page  # B's classified project is filed: not in what would publish
    href = stylesheet or f"{Settings.public_base_url}/site/style.css"  # the public site's
    assert f'<link rel="stylesheet" href="{href}">' in page


@pytest.mark.parametrize(
    "stylesheet",
    [
        "site.css",
        "javascript:alert(1)",
        '/x" onload="y',
        "/a b",
        "/",
        "https://cdn.example/" + "s" * 481,
    ],
)
async def test_a_preview_stylesheet_of_another_shape_is_refused_by_name(
    api: Api, world: World, stylesheet: str
) -> None:
    body = await api(PUBLISHER, PAGE, {"id": gid(world.b_release), "s": stylesheet})
    (error,) = body["errors"]
    assert error["message"].startswith("stylesheet: give a path from the root")
