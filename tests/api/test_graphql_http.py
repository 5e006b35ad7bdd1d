"""The public API over HTTP: GraphQL-over-HTTP conventions, caching by ETag, CORS, GraphiQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from publishers.releases import WITHDRAWAL_NOTE
from storage import database, models
from storage.objects.memory import MemoryObjectStore
from tests.conftest import Prebuilt, prebuilt_database
from tests.publishers import dataset
from tests.publishers.test_releases import NOW, publisher

GRAPHQL_RESPONSE = "application/graphql-response+json"
README = Path(__file__).resolve().parents[2] / "README.md"


Published = tuple[dataset.Built, MemoryObjectStore]


async def _publish() -> Published:
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for r in built.releases])
    return built, store


prebuilt, db = prebuilt_database(_publish)


@pytest.fixture
def copied(db: str, prebuilt: Prebuilt[Published]) -> Published:
    return prebuilt.value()


@pytest.fixture
def store(copied: Published) -> MemoryObjectStore:
    """The bucket of the test's publishes: a release's bulk files read the others' manifests."""
    return copied[1]


@pytest.fixture
def published(copied: Published) -> dataset.Built:
    return copied[0]


async def client_for(db: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    await database.close()  # the app connects by itself, in its lifespan
    settings = Settings(
        database_url=db,
        store_url=f"file://{tmp_path / 'store'}",
        cors_origins=("https://portal.example.gov.cn",),
        **overrides,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    await database.init(db, global_fallback=True)


@pytest.fixture
async def client(
    published: dataset.Built, db: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(db, tmp_path):
        yield c


QUERY = "{ subjects(first: 2) { totalCount nodes { key name } } }"


async def test_post_answers_graphql_response_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"]["subjects"]["totalCount"] == 6
    assert body["extensions"]["cost"]["maximum"] == 50000
    # Chinese travels unescaped (about 40% smaller than \\u escapes).
    assert "项目".encode() in response.content or "部门".encode() in response.content


async def test_get_is_cached_behind_an_etag_until_something_is_published(
    client: httpx.AsyncClient, db: str, store: MemoryObjectStore
) -> None:
    first = await client.get("/graphql", params={"query": QUERY})
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = await client.get("/graphql", params={"query": QUERY}, headers={"if-none-match": tag})
    assert again.status_code == 304 and again.content == b""
    # A correction is published: the tag changes, and the answer with it.
    await database.init(db, global_fallback=True)
    await models.Subject.filter(code="PUBP0-0Q").update(name="PUBP0-0项目（更正）")
    release = await models.Release.filter(kind="FINAL_ACCOUNTS").order_by("id").first()
    assert release is not None
    await publisher(store, NOW + timedelta(days=1)).publish(release.id, note="更正")
    changed = await client.get("/graphql", params={"query": QUERY}, headers={"if-none-match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert "（更正）" in changed.text


NOTICES = """{ correctionNotices(first: 10, filter: {fiscalYear: 2024}) {
  totalCount nodes { date kind kindLabel jurisdictionCode fiscalYear releaseKey note } } }"""


async def test_a_withdrawal_is_a_public_notice_that_names_no_one(
    empty_db: str, tmp_path: Path
) -> None:
    await dataset.withdraw_whole_department(MemoryObjectStore(), NOW)
    async for client in client_for(empty_db, tmp_path):
        # The first answer teaches the fast path, the second comes from it: the same bytes.
        answers = [
            await client.post(
                "/graphql", json={"query": NOTICES}, headers={"accept": GRAPHQL_RESPONSE}
            )
            for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    found = answers[0].json()["data"]["correctionNotices"]
    # One notice per release withdrawn whole (its budget and its final accounts): the date and
    # the kind of correction, no department, no release, no count in the note (D7).
    assert (
        found["nodes"]
        == [
            {
                "date": "2026-03-03",
                "kind": "WITHDRAWAL",
                "kindLabel": "撤回",
                "jurisdictionCode": "990101",
                "fiscalYear": dataset.YEAR,
                "releaseKey": None,
                "note": WITHDRAWAL_NOTE,
            }
        ]
        * 2
    )
    assert not re.search(r"\d", WITHDRAWAL_NOTE)
    assert not [m for m in dataset.WITHDRAWN_MARKERS if m in answers[0].text]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "says"),
    [
        ({"method": "PUT", "json": {"query": QUERY}}, 405, "GET or POST"),
        (
            {
                "method": "POST",
                "content": b"{not json",
                "headers": {"content-type": "application/json"},
            },
            400,
            "not JSON",
        ),
        ({"method": "POST", "json": {"variables": {}}}, 400, "no `query`"),
        (
            {
                "method": "POST",
                "content": QUERY.encode(),
                "headers": {"content-type": "text/plain"},
            },
            415,
            "JSON body",
        ),
        ({"method": "POST", "json": {"query": QUERY, "variables": [1]}}, 400, "JSON object"),
        ({"method": "POST", "json": {"query": "x" * 70_000}}, 413, "exceeds"),
        ({"method": "GET", "params": {"query": "{ nope }"}}, 400, "Cannot query field"),
        (
            {"method": "GET", "params": {"query": "{ subjects(first: 1) { nodes { key } }"}},
            400,
            "Syntax Error",
        ),
        ({"method": "GET", "params": {"query": "mutation { x }"}}, 405, "queries only"),
        ({"method": "POST", "json": {"query": "mutation { x }"}}, 400, "read-only"),
    ],
)
async def test_requests_that_cannot_run_get_a_4xx_naming_the_problem(
    client: httpx.AsyncClient, request_kwargs: dict[str, Any], status: int, says: str
) -> None:
    method = request_kwargs.pop("method")
    headers = {"accept": GRAPHQL_RESPONSE, **request_kwargs.pop("headers", {})}
    response = await client.request(method, "/graphql", headers=headers, **request_kwargs)
    assert response.status_code == status
    assert says in response.json()["errors"][0]["message"]


async def test_plain_json_clients_get_200_for_validation_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ nope }"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


async def test_cors_lets_configured_portals_in(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/graphql",
        headers={
            "origin": "https://portal.example.gov.cn",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://portal.example.gov.cn"
    other = await client.get(
        "/graphql", params={"query": QUERY}, headers={"origin": "https://elsewhere.example"}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_graphiql_and_introspection_in_development(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    schema = await client.get("/graphql", params={"query": "{ __schema { queryType { name } } }"})
    assert schema.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_production_turns_graphiql_and_introspection_off(
    published: dataset.Built, db: str, tmp_path: Path
) -> None:
    async for client in client_for(db, tmp_path, env="production"):
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()
        schema = await client.get(
            "/graphql",
            params={"query": "{ __schema { queryType { name } } }"},
            headers={"accept": GRAPHQL_RESPONSE},
        )
        assert schema.status_code == 400
        assert "introspection" in schema.text.lower()


def readme_examples() -> list[str]:
    """The GraphQL examples the README shows portals; each one runs below."""
    return re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_the_readme_shows_the_portal_examples() -> None:
    assert len(readme_examples()) >= 3


@pytest.mark.parametrize("index", range(3))
async def test_readme_examples_run(client: httpx.AsyncClient, index: int) -> None:
    query = readme_examples()[index]
    variables = {"fiscalYear": dataset.YEAR, "departmentCode": "PUBD0X", "code": "PUBP0-0Q"}
    used = {k: v for k, v in variables.items() if f"${k}" in query}
    response = await client.post(
        "/graphql", json={"query": query, "variables": used}, headers={"accept": GRAPHQL_RESPONSE}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    flat = orjson.dumps(body["data"])
    assert b"[]" not in flat or b"nodes" not in flat  # each example finds something


FILTERED = "query($f: SubjectFilter) { subjects(first: 2, filter: $f) { totalCount } }"


@pytest.mark.parametrize(
    ("condition", "says"),
    [
        ({"departmentCode": "PUB\x00D0X"}, "`filter.departmentCode`: U+0000"),
        ({"jurisdictionCode": "a\u202eb"}, "`filter.jurisdictionCode`: U+202E"),
        ({"search": "绿\x07化"}, "`filter.search`: U+0007"),
        ({"code": "x" * 201}, "`filter.code`: at most 200 characters"),
        ({"budgetMin": "1e400"}, "`filter.budgetMin`: 1E+400 is out of range"),
        ({"executedMax": "NaN"}, "`filter.executedMax`: NaN is not a finite number"),
    ],
)
async def test_a_filter_the_database_cannot_take_is_refused_naming_it(
    client: httpx.AsyncClient, condition: dict[str, Any], says: str
) -> None:
    # The document is learned first (the fast path answers it from then on): both refuse.
    fine = await client.post("/graphql", json={"query": FILTERED, "variables": {"f": {}}})
    assert fine.json()["data"]["subjects"]["totalCount"] == 6
    for _ in range(2):
        response = await client.post(
            "/graphql", json={"query": FILTERED, "variables": {"f": condition}}
        )
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert says in error["message"], error
        assert "Unexpected" not in error["message"]


@pytest.mark.parametrize(
    "condition", [{"code": "x" * 200}, {"budgetMin": "999999999999999.99"}, {"search": "绿化"}]
)
async def test_a_filter_within_the_limits_runs(
    client: httpx.AsyncClient, condition: dict[str, Any]
) -> None:
    response = await client.post(
        "/graphql", json={"query": FILTERED, "variables": {"f": condition}}
    )
    assert response.json()["data"]["subjects"]["totalCount"] == 0
