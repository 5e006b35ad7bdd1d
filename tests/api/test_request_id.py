"""X-Request-ID: a sane one is kept, anything else replaced; every answer carries it; the audit
entries of an internal write store it; the request's JSON log line names it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager

from api import logs
from api.request_context import HEADER, MAX_REQUEST_ID, accepted
from storage import database, models
from tests import factories
from tests.internal.conftest import app_at_now, settings, token

MINTED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
async def client(db: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await database.close()
    app = app_at_now(settings(db, tmp_path / "store"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    await database.init(db, global_fallback=True)


def test_which_request_ids_are_accepted() -> None:
    longest = "a" * MAX_REQUEST_ID
    assert accepted(longest) == longest
    assert accepted(longest + "a") is None  # one character too many
    assert accepted("req-1.2:3_4") == "req-1.2:3_4"
    assert accepted("") is None
    assert accepted("-starts-with-a-dash") is None
    for bad in ("has space", 'quote"', "new\nline", "中文", "a/b", "a;b"):
        assert accepted(bad) is None, bad


async def test_answers_carry_the_clients_id_or_a_new_one(client: httpx.AsyncClient) -> None:
    kept = await client.get("/livez", headers={HEADER: "edge-7f3a"})
    assert kept.headers[HEADER] == "edge-7f3a"
    minted = await client.get("/livez")
    assert MINTED.fullmatch(minted.headers[HEADER])
    too_long = "b" * (MAX_REQUEST_ID + 1)
    replaced = await client.get("/livez", headers={HEADER: too_long})
    assert MINTED.fullmatch(replaced.headers[HEADER])
    # also on an answer that never reached an endpoint
    huge = await client.get("/graphql", headers={HEADER: "big-1", "x-pad": "p" * 40_000})
    assert huge.status_code == 431
    assert huge.headers[HEADER] == "big-1"


async def test_an_internal_write_audits_its_request_id(client: httpx.AsyncClient) -> None:
    # The app's connection (global fallback) serves the test's own reads and writes.
    await factories.jurisdiction()
    mutation = (
        'mutation { createDepartment(input: {code: "901", name: "审计部门", tier: DEPARTMENT, '
        'orgType: ADMINISTRATIVE, jurisdictionCode: "990101"}) { __typename } }'
    )
    answer = await client.post(
        "/internal/graphql",
        json={"query": mutation},
        headers={"Authorization": f"Bearer {token('admin')}", HEADER: "audit-req-42"},
    )
    assert answer.headers[HEADER] == "audit-req-42"
    assert answer.json()["data"]["createDepartment"]["__typename"] == "DepartmentSuccess", (
        answer.text
    )
    entry = await models.AuditEntry.get(action="createDepartment")
    assert entry.request_id == "audit-req-42"
    read = await client.post(
        "/internal/graphql",
        json={"query": "{ auditLog(first: 5) { nodes { action requestId } } }"},
        headers={"Authorization": f"Bearer {token('auditor')}"},
    )
    nodes = read.json()["data"]["auditLog"]["nodes"]
    assert {"action": "createDepartment", "requestId": "audit-req-42"} in nodes


async def test_the_json_log_line_names_the_request(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("json")
    try:
        capsys.readouterr()
        await client.get(
            "/graphql?query={__typename}&token=eyJhbGciOi.x.y", headers={HEADER: "log-1"}
        )
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers = []
    request = next(line for line in lines if line["event"] == "request")
    assert request["request_id"] == "log-1"
    assert request["status"] == 200 and request["method"] == "GET"
    assert "eyJ" not in request["path"] and "[REDACTED]" in request["path"]
    assert request["level"] == "info" and request["logger"] == "gongkai.request"
