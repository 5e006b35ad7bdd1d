"""`/internal/graphql`: reachable only with a valid bearer JWT. Authentication runs before the
request is even read, so an unauthenticated request executes nothing, uploads nothing and gets
a 401.

Besides GraphQL over HTTP (JSON POST, GET for queries), the endpoint takes file uploads as
GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec):
an `operations` JSON part, a `map` JSON part naming which variables each file fills, and the
files. The body is bounded by `GONGKAI_MAX_UPLOAD_BYTES` (plus a little for the JSON parts)
while it is read, and each file by the limit itself: a larger request gets a 413 before anything
executes. Multipart is otherwise a CSRF risk (browsers send it cross-site without a preflight),
but this endpoint authenticates by an `Authorization` header, which no cross-site form can send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
import strawberry
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api import revocation
from api.access_log import SECRET_PARAMETERS
from api.auth import MAX_TOKEN_BYTES, AuthenticationError, TokenVerifier
from api.graphql_transport import (
    GraphQLRequest,
    RequestError,
    answer,
    error_response,
    media_type,
    parse_request,
    request_from_params,
)
from publishers.releases import Publisher
from schema.internal.schema import Caller, InternalContext
from storage.files import Upload

#: room for the `operations` and `map` parts and the part headers around the files
MULTIPART_OVERHEAD = 64 * 1024
MAX_FILES = 10
#: "Bearer " and a token of at most MAX_TOKEN_BYTES
MAX_AUTHORIZATION_BYTES = MAX_TOKEN_BYTES + len("Bearer ")
LIMIT_SETTING = "GONGKAI_MAX_UPLOAD_BYTES"


def internal_endpoint(
    schema: strawberry.Schema,
    verifier: TokenVerifier,
    publisher: Callable[[], Publisher] | None = None,
    *,
    max_upload_bytes: int = 20 * 1024 * 1024,
) -> Callable[[Request], Awaitable[Response]]:
    """`publisher` makes the publisher of the release mutations (check, publish, withdraw): a
    new one per request, because a publisher caches what it selected for the length of a run.
    `max_upload_bytes` is the largest file an upload may carry (settings.max_upload_bytes)."""

    async def endpoint(request: Request) -> Response:
        misplaced = SECRET_PARAMETERS.intersection(k.lower() for k in request.query_params)
        if misplaced:
            # Refused before anything else, so that the client learns to stop; the access log
            # has the value redacted (api/access_log.py).
            name = sorted(misplaced)[0]
            return error_response(
                400,
                f"`{name}` in the URL: send the token in the `Authorization: Bearer` header "
                "(a URL is logged and cached), and treat this one as exposed",
                {},
            )
        header = request.headers.get("authorization", "")
        if len(header) > MAX_AUTHORIZATION_BYTES:
            return error_response(
                431, f"the Authorization header exceeds {MAX_AUTHORIZATION_BYTES} bytes", {}
            )
        try:
            principal = verifier.verify(_bearer(request))
        except AuthenticationError as error:
            return error_response(
                401, str(error), {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        request.state.subject = principal.subject
        request.state.jti = principal.token_id
        # After the signature: an unsigned token never costs a database lookup.
        if await revocation.is_revoked(principal):
            request.state.revoked = True
            return error_response(
                401,
                "the token has been revoked: ask for a new one",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        try:
            media = media_type(request)
            graphql = await _read(request, max_upload_bytes)
        except RequestError as error:
            return error_response(error.status, str(error), error.headers)
        request.state.operation = graphql.label()
        caller = Caller(
            subject=principal.subject,
            roles=tuple(sorted(role.value for role in principal.roles)),
            department=principal.department,
            classified=principal.classified,
        )
        context = InternalContext(
            caller,
            publisher=publisher() if publisher else None,
            request_id=getattr(request.state, "request_id", None),
        )
        try:
            result = await schema.execute(
                graphql.query,
                variable_values=graphql.variables,
                context_value=context,
                operation_name=graphql.operation_name,
                allowed_operation_types=_allowed(request),
            )
        except InvalidOperationTypeError:
            # GraphQL over HTTP: a GET must not change anything.
            return error_response(405, "GET is for queries only: POST mutations", {"Allow": "POST"})
        except CannotGetOperationTypeError as error:
            # schema/operations.py answers these first; this is the safety net.
            return error_response(400, error.as_http_error_reason(), {})
        status, payload = answer(result, media, extensions=False)
        return Response(
            orjson.dumps(payload),
            status_code=status,
            media_type=media,
            headers={"Cache-Control": "no-store"},
        )

    return endpoint


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send `Authorization: Bearer <JWT>`")
    return token.strip()


def _allowed(request: Request) -> set[OperationType]:
    if request.method == "GET":
        return {OperationType.QUERY}
    return {OperationType.QUERY, OperationType.MUTATION}


def _is_multipart(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method == "POST" and content_type == "multipart/form-data"


async def _read(request: Request, limit: int) -> GraphQLRequest:
    if not _is_multipart(request):
        return await parse_request(request)
    body = await _bounded_body(request, limit)
    form = await _form(request, body)
    try:
        operations = _json_part(form, "operations")
        if not isinstance(operations, dict):
            raise RequestError(400, "`operations` must be one JSON object (no batches)")
        graphql = request_from_params(operations)
        file_map = _file_map(_json_part(form, "map"))
        files = {key: await _file(form, key, limit) for key in file_map}
    finally:
        await form.close()
    return GraphQLRequest(
        graphql.query, _with_files(graphql.variables or {}, file_map, files), graphql.operation_name
    )


def _too_large(limit: int) -> RequestError:
    return RequestError(
        413, f"the upload is larger than {limit} bytes, the limit set by {LIMIT_SETTING}"
    )


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to exceed the limit: by its declared
    length before a byte is read, else while it streams in."""
    bound = limit + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > bound:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > bound:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _form(request: Request, body: bytes) -> FormData:
    """Parse the body already read, through Starlette's multipart parser (python-multipart)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    replay = Request(request.scope, receive)
    try:
        return await replay.form(max_files=MAX_FILES, max_fields=2 + MAX_FILES)
    except (MultiPartException, HTTPException) as error:
        detail = getattr(error, "detail", None) or getattr(error, "message", "")
        raise RequestError(400, f"the multipart body cannot be read: {detail}") from None


def _json_part(form: FormData, name: str) -> Any:
    value = form.get(name)
    if not isinstance(value, str):
        raise RequestError(400, f"a multipart request needs a `{name}` JSON field")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestError(400, f"`{name}` is not JSON") from None


def _file_map(value: Any) -> dict[str, list[str]]:
    """`map`: file part name → the variable paths it fills, such as ``variables.file``."""
    if not isinstance(value, dict):
        raise RequestError(400, "`map` must be a JSON object")
    for key, paths in value.items():
        if not isinstance(paths, list) or not paths:
            raise RequestError(400, f"`map` entry {key!r} must list the variables it fills")
        for path in paths:
            # Files fill variables only, never the query or the operation name.
            if not isinstance(path, str) or not path.startswith("variables."):
                raise RequestError(400, f"`map` path {path!r} must start with `variables.`")
    return value


async def _file(form: FormData, key: str, limit: int) -> Upload:
    part = form.get(key)
    if not isinstance(part, UploadFile):
        raise RequestError(400, f"`map` names the file part {key!r}, which the request lacks")
    data = await part.read()
    if len(data) > limit:
        raise _too_large(limit)
    return Upload(filename=part.filename, data=data)


def _with_files(
    variables: dict[str, Any], file_map: Mapping[str, list[str]], files: Mapping[str, Upload]
) -> dict[str, Any]:
    try:
        filled = replace_placeholders_with_files({"variables": variables}, file_map, files)
    except (KeyError, IndexError, TypeError, ValueError):
        raise RequestError(400, "`map` names a variable that `operations` does not have") from None
    result: dict[str, Any] = filled["variables"]
    return result
