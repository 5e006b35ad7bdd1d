"""`/internal/graphql`: reachable only with a valid bearer JWT. Authentication runs before the
request is even parsed, so an unauthenticated request executes nothing and gets a 401."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response

from api.auth import AuthenticationError, TokenVerifier
from api.graphql_http import RequestError, _error, _media_type, _parse
from publishers.releases import Publisher
from schema.internal.schema import Caller, InternalContext


def internal_endpoint(
    schema: strawberry.Schema,
    verifier: TokenVerifier,
    publisher: Callable[[], Publisher] | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """`publisher` makes the publisher of the release mutations (check, publish, withdraw): a
    new one per request, because a publisher caches what it selected for the length of a run."""

    async def endpoint(request: Request) -> Response:
        try:
            principal = verifier.verify(_bearer(request))
        except AuthenticationError as error:
            return _error(401, str(error), {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        try:
            media = _media_type(request)
            graphql = await _parse(request)
        except RequestError as error:
            return _error(error.status, str(error), error.headers)
        caller = Caller(
            subject=principal.subject,
            roles=tuple(sorted(role.value for role in principal.roles)),
            department=principal.department,
            classified=principal.classified,
        )
        result = await schema.execute(
            graphql.query,
            variable_values=graphql.variables,
            context_value=InternalContext(
                caller, publisher=publisher() if publisher is not None else None
            ),
            operation_name=graphql.operation_name,
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        status = 400 if result.data is None and result.errors else 200
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
