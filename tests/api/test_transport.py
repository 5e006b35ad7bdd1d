"""GraphQL over HTTP on both endpoints, public and internal: choosing the operation, the media
type of the answer, the request parameters, and the status of an answer (issue 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from api.settings import Settings
from storage import database
from tests.internal.conftest import SECRET, app_at_now, token

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
ENDPOINTS = ["/graphql", "/internal/graphql"]
TWO = "query A { __typename } query B { __typename }"


@pytest.fixture
async def client(db: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await database.close()  # the app connects by itself, in its lifespan
    settings = Settings(
        database_url=db,
        store_url=f"file://{tmp_path / 'store'}",
        jwt_algorithms=("HS256",),
        jwt_key=SECRET,
    )
    async with LifespanManager(app_at_now(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c
    await database.init(db, global_fallback=True)


def auth(endpoint: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    bearer = {"authorization": f"Bearer {token('auditor')}"} if "internal" in endpoint else {}
    return {**bearer, **(headers or {})}


async def send(
    client: httpx.AsyncClient,
    endpoint: str,
    method: str,
    params: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if method == "GET":
        return await client.get(endpoint, params=params, headers=auth(endpoint, headers))
    return await client.post(endpoint, json=params, headers=auth(endpoint, headers))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"query": "query A { __typename }", "operationName": "B"}, "no operation named 'B'"),
        ({"query": "query A { __typename }", "operationName": ""}, "no operation named ''"),
        ({"query": TWO}, "2 operations (A, B): choose one with `operationName`"),
        ({"query": TWO, "operationName": "C"}, "no operation named 'C'"),
        ({"query": "fragment F on Query { __typename }"}, "no operation to run"),
    ],
)
async def test_an_operation_that_cannot_be_chosen_is_a_400_naming_it(
    client: httpx.AsyncClient,
    endpoint: str,
    method: str,
    accept: str,
    params: dict[str, Any],
    says: str,
) -> None:
    response = await send(client, endpoint, method, params, {"accept": accept})
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body  # nothing ran
    assert says in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"] == {"code": "OPERATION_NOT_CHOSEN"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("params", "typename"),
    [
        ({"query": TWO, "operationName": "B"}, "Query"),
        ({"query": "query A { __typename }", "operationName": "A"}, "Query"),
        ({"query": "query A { __typename }"}, "Query"),
        ({"query": "{ __typename }", "operationName": None}, "Query"),
    ],
)
async def test_a_chosen_operation_runs(
    client: httpx.AsyncClient,
    endpoint: str,
    method: str,
    params: dict[str, Any],
    typename: str,
) -> None:
    if method == "GET":
        params = {k: v for k, v in params.items() if v is not None}
    response = await send(client, endpoint, method, params)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": typename}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        ("text/html, */*;q=0.8", JSON),
    ],
)
async def test_legacy_clients_get_plain_json(
    client: httpx.AsyncClient, endpoint: str, accept: str | None, media: str
) -> None:
    headers = auth(endpoint)
    request = client.build_request("POST", endpoint, json={"query": "{ __typename }"})
    request.headers.update(headers)
    if accept is None:
        del request.headers["accept"]
    else:
        request.headers["accept"] = accept
    response = await client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_an_unacceptable_media_type_is_a_406(
    client: httpx.AsyncClient, endpoint: str
) -> None:
    response = await send(
        client, endpoint, "POST", {"query": "{ __typename }"}, {"accept": "text/csv"}
    )
    assert response.status_code == 406


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("extensions", ["x", 0, 1.5, True, False, [], [{"a": 1}]])
async def test_extensions_must_be_a_map(
    client: httpx.AsyncClient, endpoint: str, extensions: Any
) -> None:
    params = {"query": "{ __typename }", "extensions": extensions}
    response = await send(client, endpoint, "POST", params)
    assert response.status_code == 400
    assert "`extensions` must be a JSON object" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("extensions", [{}, {"persistedQuery": {"version": 1}}, None])
async def test_a_map_of_extensions_is_accepted(
    client: httpx.AsyncClient, endpoint: str, method: str, extensions: Any
) -> None:
    params: dict[str, Any] = {"query": "{ __typename }"}
    if method == "POST":
        params["extensions"] = extensions
    elif extensions is not None:  # a GET carries it as JSON text
        params["extensions"] = orjson.dumps(extensions).decode()
    response = await send(client, endpoint, method, params)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_variables_in_a_post_are_a_map_not_json_text(
    client: httpx.AsyncClient, endpoint: str
) -> None:
    """A GET carries `variables` as JSON text; a POST's JSON body carries a map."""
    params = {"query": "{ __typename }", "variables": "{}"}
    assert (await send(client, endpoint, "POST", params)).status_code == 400
    assert (await send(client, endpoint, "GET", params)).status_code == 200
