"""GraphQL over HTTP, the part both endpoints share: reading a request (POST JSON, or GET query
parameters), choosing the answer's media type from `Accept`, and the error answer of a request
that cannot run.

Follows the GraphQL-over-HTTP conventions: `application/graphql-response+json` when the client
accepts it (then a request that cannot run gets a 4xx), else `application/json`. What each
endpoint does with a parsed request (caching, authentication, execution) stays with it
(`api/graphql_http.py`, `api/internal_http.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 64 * 1024


class RequestError(Exception):
    """A request that cannot run: its HTTP status, a message, and headers for the answer."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def media_type(request: Request) -> str:
    """The media type of the answer, from the request's `Accept` header (or a 406)."""
    accept = request.headers.get("accept", "")
    if GRAPHQL_RESPONSE in accept or not accept or ("*/*" in accept and JSON not in accept):
        return GRAPHQL_RESPONSE
    if JSON in accept or "application/*" in accept:
        return JSON
    raise RequestError(406, f"answers are {GRAPHQL_RESPONSE} or {JSON}")


def request_from_params(params: dict[str, Any]) -> GraphQLRequest:
    """The request that GraphQL-over-HTTP parameters describe (`query`, `variables`,
    `operationName`): a GET's query string, a POST's JSON body, a multipart `operations` part."""
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "the request has no `query` string")
    variables = params.get("variables")
    if isinstance(variables, str):
        try:
            variables = orjson.loads(variables)
        except orjson.JSONDecodeError:
            raise RequestError(400, "`variables` is not JSON") from None
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "`variables` must be a JSON object")
    operation = params.get("operationName")
    if operation is not None and not isinstance(operation, str):
        raise RequestError(400, "`operationName` must be a string")
    return GraphQLRequest(query, variables, operation or None)


async def parse_request(request: Request) -> GraphQLRequest:
    """The query, variables and operation name of a GET or a POST (JSON, at most
    `MAX_BODY_BYTES`), or a `RequestError` saying what is wrong with it."""
    if request.method == "GET":
        return request_from_params(dict(request.query_params))
    if request.method != "POST":
        raise RequestError(405, "use GET or POST", {"Allow": "GET, POST"})
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != JSON:
        raise RequestError(415, f"POST a JSON body ({JSON})")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestError(413, f"the request body exceeds {MAX_BODY_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise RequestError(413, f"the request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestError(400, "the request body is not JSON") from None
    if not isinstance(params, dict):
        raise RequestError(400, "the request body must be a JSON object")
    return request_from_params(params)


def error_response(status: int, message: str, headers: dict[str, str]) -> Response:
    """A request that did not run: a GraphQL `errors` list with one message, as plain JSON."""
    return Response(
        orjson.dumps({"errors": [{"message": message}]}),
        status_code=status,
        media_type=JSON,
        headers=headers,
    )
