"""The DR-10 decisions through the internal API: a release with personal data is refused by
`publishRelease` and published after the finance officer's audited exception; a redaction
publishes the field marked; terms are registered and never echoed; each decision is a
compare-and-set on the release's version with its audit entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from publishers import personal_data as pd
from publishers import privacy
from schema.internal.ids import global_id
from storage import database, models
from tests.internal.conftest import Api, app_at_now, settings, token
from tests.publishers import dataset

PUBLISHER = token("publisher", sub="publisher-1")
FINANCE = token("finance_officer", sub="officer-1")
MOBILE = "13912345678"
RESULT = """
  __typename
  ... on InvalidInput { field rule message }
  ... on Forbidden { message }
  ... on Conflict { message currentVersion }
  ... on ReleaseSuccess { release { id status version currentVersion } }
"""
CHECK = (
    "mutation($id: ID!) { r: checkRelease(id: $id) { ... on ReleaseCheck { ok problems "
    "{ rule record message } personalDataExceptions { finding location field kind masked "
    "reason decidedBy } redactions { recordKey field redactionBasis decidedBy } "
    "protectedTerms } } }"
)
PUBLISH = (
    f"mutation($id: ID!, $v: Int!) {{ r: publishRelease(id: $id, version: $v) {{ {RESULT} }} }}"
)
EXCEPT = (
    "mutation($id: ID!, $v: Int!, $f: String!, $r: String!) "
    f"{{ r: markNotPersonalData(id: $id, version: $v, finding: $f, reason: $r) {{ {RESULT} }} }}"
)
REDACT = (
    "mutation($id: ID!, $v: Int!, $k: String!, $f: String!, $b: String) "
    "{ r: redactField(id: $id, version: $v, recordKey: $k, field: $f, basis: $b) "
    f"{{ {RESULT} }} }}"
)
TERM = (
    "mutation($id: ID!, $v: Int!, $t: String!) "
    f"{{ r: registerProtectedTerm(id: $id, version: $v, term: $t) {{ {RESULT} }} }}"
)


@pytest.fixture
async def leaky(db: str, tmp_path: Path) -> AsyncIterator[tuple[Api, str, Path]]:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    target = await models.PerformanceTarget.get(overall_goal="PUBP0-0目标")
    target.overall_goal = f"PUBP0-0目标，联系人手机{MOBILE}"
    await target.save()
    release_id = str(global_id("Release", built.releases[0].id))
    await database.close()
    store = tmp_path / "store"
    app = app_at_now(settings(db, store))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client), release_id, store
    await database.init(db, global_fallback=True)


async def _check(api: Api, release: str) -> dict[str, Any]:
    body = await api(PUBLISHER, CHECK, {"id": release})
    return dict(body["data"]["r"])


def _finding(problem: dict[str, str]) -> str:
    return problem["message"].split("(finding ")[1][:16]


def _published(store: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", errors="replace") for p in store.rglob("*") if p.is_file()
    )


async def test_refused_then_published_after_the_officers_audited_exception(
    leaky: tuple[Api, str, Path],
) -> None:
    api, release, store = leaky
    checked = await _check(api, release)
    assert not checked["ok"]
    (problem,) = checked["problems"]
    assert problem["rule"] == "DR-10" and "139****5678" in problem["message"]
    refused = await api(PUBLISHER, PUBLISH, {"id": release, "v": 1})
    assert refused["data"]["r"]["rule"] == "DR-10"
    assert not (store / "releases").exists()

    finding = _finding(problem)
    # The publisher runs the gate but may not clear it.
    forbidden = await api(PUBLISHER, EXCEPT, {"id": release, "v": 1, "f": finding, "r": "x"})
    assert forbidden["data"]["r"]["__typename"] == "Forbidden"
    no_reason = await api(FINANCE, EXCEPT, {"id": release, "v": 1, "f": finding, "r": "  "})
    assert no_reason["data"]["r"]["rule"] == "reason-required"
    unknown = await api(FINANCE, EXCEPT, {"id": release, "v": 1, "f": "0" * 16, "r": "x"})
    assert unknown["data"]["r"]["rule"] == "finding-open"
    stale = await api(FINANCE, EXCEPT, {"id": release, "v": 0, "f": finding, "r": "x"})
    assert stale["data"]["r"]["__typename"] == "Conflict"
    assert await models.PersonalDataException.all().count() == 0

    reason = "部门对外公布的服务热线"
    done = await api(FINANCE, EXCEPT, {"id": release, "v": 1, "f": finding, "r": reason})
    assert done["data"]["r"]["release"]["version"] == 2
    again = await api(FINANCE, EXCEPT, {"id": release, "v": 2, "f": finding, "r": reason})
    assert again["data"]["r"]["rule"] == "finding-open"  # cleared already

    checked = await _check(api, release)
    assert checked["ok"]
    (shown,) = checked["personalDataExceptions"]
    assert shown == {
        "finding": finding,
        "location": problem["record"],
        "field": "overallGoal",
        "kind": "mobile",
        "masked": "139****5678",
        "reason": reason,
        "decidedBy": "officer-1",
    }
    audit = await models.AuditEntry.filter(action="markNotPersonalData").order_by("id")
    assert [a.actor for a in audit] == ["officer-1", "officer-1"]  # the exception, the release
    assert MOBILE not in str([a.after for a in audit])

    published = await api(PUBLISHER, PUBLISH, {"id": release, "v": 2})
    assert published["data"]["r"]["release"]["status"] == "PUBLISHED"
    assert MOBILE in _published(store)  # excepted: published as it is


async def test_a_redacted_field_is_published_marked_with_its_basis(
    leaky: tuple[Api, str, Path],
) -> None:
    api, release, store = leaky
    (problem,) = (await _check(api, release))["problems"]
    key, field = problem["record"], problem["message"].split(":")[0]
    missing = await api(FINANCE, REDACT, {"id": release, "v": 1, "k": "nope", "f": field})
    assert missing["data"]["r"]["rule"] == "record-in-release"
    not_text = await api(FINANCE, REDACT, {"id": release, "v": 1, "k": key, "f": "fiscalYear"})
    assert not_text["data"]["r"]["rule"] == "text-field"
    done = await api(FINANCE, REDACT, {"id": release, "v": 1, "k": key, "f": field})
    assert done["data"]["r"]["__typename"] == "ReleaseSuccess"
    twice = await api(FINANCE, REDACT, {"id": release, "v": 2, "k": key, "f": field})
    assert twice["data"]["r"]["rule"] == "unique"
    checked = await _check(api, release)
    assert checked["ok"]
    assert checked["redactions"][0]["redactionBasis"] == privacy.DEFAULT_BASIS
    published = await api(PUBLISHER, PUBLISH, {"id": release, "v": 2})
    assert published["data"]["r"]["release"]["status"] == "PUBLISHED"
    text = _published(store)
    assert MOBILE not in text
    assert pd.redacted_marker("")[:6] in text and "redactionBasis" in text


async def test_a_registered_term_becomes_a_finding_and_is_never_echoed(
    leaky: tuple[Api, str, Path],
) -> None:
    api, release, _ = leaky
    editor = token("department_editor", "PUBD0X", sub="editor-1")
    short = await api(editor, TERM, {"id": release, "v": 1, "t": " 张"})
    assert short["data"]["r"]["rule"] == "term-length"
    done = await api(editor, TERM, {"id": release, "v": 1, "t": "PUBP0-0目标"})
    assert done["data"]["r"]["__typename"] == "ReleaseSuccess", done
    twice = await api(editor, TERM, {"id": release, "v": 2, "t": "PUBP0-0目标"})
    assert twice["data"]["r"]["rule"] == "unique"
    checked = await _check(api, release)
    assert checked["protectedTerms"] == 1
    kinds = sorted(p["message"].split(" ")[1] for p in checked["problems"])
    assert kinds == sorted([pd.Kind.MOBILE.label, pd.Kind.PROTECTED_TERM.label])
    audit = await models.AuditEntry.filter(action="registerProtectedTerm").values_list(
        "after", flat=True
    )
    assert "PUBP0-0目标" not in str(audit)
