"""GraphQL over HTTP, the part both endpoints share: reading a request (POST JSON, or GET query
parameters), choosing the answer's media type from `Accept`, the status and body of an answer,
and the error answer of a request that cannot run.

Follows the GraphQL-over-HTTP conventions: `application/graphql-response+json` when the client
names it (then a request that cannot run gets a 4xx), else `application/json` (200 once the
request is well-formed; a 400 all the same when `operationName` picks no operation). A field
error after execution began, a FORBIDDEN refusal included, is a 200 with `data` and `errors`.
The graphql-http audit checks all of it (tests/http_audit). What each endpoint does with a
parsed request (caching, authentication, execution) stays with it (`api/graphql_http.py`,
`api/internal_http.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult

from schema import operations

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

    def label(self) -> str | None:
        """The operation's name for logs and metrics: `operationName`, else the name of the
        document's first operation (found without parsing it; a label, never a decision)."""
        if self.operation_name is not None:
            return self.operation_name
        found = _OPERATION.search(self.query)
        return found[1] if found else None


_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def media_type(request: Request) -> str:
    """The media type of the answer, from the request's `Accept` header (or a 406).

    `application/graphql-response+json` only when the client names it; a client that accepts
    anything (`*/*`), or sends no `Accept` at all, is a legacy client and gets `application/json`
    (GraphQL over HTTP, "legacy watershed")."""
    accepted = {
        part.split(";")[0].strip().lower()
        for part in request.headers.get("accept", "").split(",")
        if part.strip()
    }
    if GRAPHQL_RESPONSE in accepted:
        return GRAPHQL_RESPONSE
    if not accepted or accepted & {JSON, "application/*", "*/*"}:
        return JSON
    raise RequestError(406, f"answers are {GRAPHQL_RESPONSE} or {JSON}")


def request_from_params(params: dict[str, Any], *, query_string: bool = False) -> GraphQLRequest:
    """The request that GraphQL-over-HTTP parameters describe (`query`, `variables`,
    `operationName`, `extensions`): a POST's JSON body or a multipart `operations` part, or a
    GET's query string (`query_string`), where `variables` and `extensions` are JSON text."""
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "the request has no `query` string")
    variables = _object(params, "variables", query_string)
    _object(params, "extensions", query_string)  # accepted (a map), and no extension is used
    operation = params.get("operationName")
    if operation is not None and not isinstance(operation, str):
        raise RequestError(400, "`operationName` must be a string")
    # "" is a name (which no operation has), not an absent one: the schema refuses it.
    return GraphQLRequest(query, variables, operation)


def _object(params: dict[str, Any], name: str, query_string: bool) -> dict[str, Any] | None:
    """An optional map parameter: a JSON object, or null. A GET carries it as JSON text."""
    value = params.get(name)
    if query_string and isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RequestError(400, f"`{name}` is not JSON") from None
    if value is not None and not isinstance(value, dict):
        raise RequestError(400, f"`{name}` must be a JSON object")
    return value


async def parse_request(request: Request) -> GraphQLRequest:
    """The query, variables and operation name of a GET or a POST (JSON, at most
    `MAX_BODY_BYTES`), or a `RequestError` saying what is wrong with it."""
    if request.method == "GET":
        return request_from_params(dict(request.query_params), query_string=True)
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


def is_request_error(result: ExecutionResult) -> bool:
    """Did the request fail before execution (syntax, validation, variables, the choice of
    operation)? Those errors carry no `path`; an error raised while executing a field (a
    permission refusal, say) always does, even when it left `data` null."""
    return (
        result.data is None
        and bool(result.errors)
        and all(not error.path for error in result.errors or ())
    )


def answer(
    result: ExecutionResult, media: str, *, extensions: bool = True
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the body of an executed request (GraphQL over HTTP §7).

    A request error has no `data` entry, and gets a 400 when the client understands
    `application/graphql-response+json`, a 200 when it asked for plain JSON. Once execution
    started the status is 200 and `data` is present, null or not: a field error (such as a
    FORBIDDEN refusal of an authenticated caller) is an error in the body, never a 4xx.
    `extensions=False` leaves the result's extensions (the query cost) out."""
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    failed = is_request_error(result)
    if not failed:
        payload["data"] = result.data
    if extensions and result.extensions:
        payload["extensions"] = result.extensions
    if failed and (media == GRAPHQL_RESPONSE or _names_no_operation(result)):
        return 400, payload
    return 200, payload


def _names_no_operation(result: ExecutionResult) -> bool:
    """`operationName` (or its absence) picks no operation of the document: the request's
    parameters are wrong, a 400 for plain-JSON clients too (GraphQL over HTTP allows a 4xx for
    invalid parameters)."""
    return any((e.extensions or {}).get("code") == operations.CODE for e in result.errors or ())


def error_response(status: int, message: str, headers: dict[str, str]) -> Response:
    """A request that did not run: a GraphQL `errors` list with one message, as plain JSON."""
    return Response(
        orjson.dumps({"errors": [{"message": message}]}),
        status_code=status,
        media_type=JSON,
        headers=headers,
    )
