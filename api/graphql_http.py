"""GraphQL over HTTP for the public schema, with answers cached behind ETags.

Follows the GraphQL-over-HTTP conventions: POST (JSON) or GET (queries only); answers in
`application/graphql-response+json` when the client names it (then a request that cannot run
gets a 4xx), else `application/json` (200 once the request is well-formed). GET answers
carry an `ETag` and `Cache-Control`; the tag changes only when a release is published, corrected
or withdrawn (the publication epoch), and `If-None-Match` gets a 304 without executing. Reading
the request and choosing the media type are shared with the internal endpoint
(`api/graphql_transport.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.epoch import EpochWatch
from api.graphql_transport import (
    GraphQLRequest,
    RequestError,
    answer,
    error_response,
    media_type,
    parse_request,
)
from api.replicas import ReadRouter
from schema import limits
from schema.context import Context
from schema.public import sqlpath
from schema.public.fastpath import Fallback, FastPath

ANSWER_CACHE_SIZE = 1024
CACHE_CONTROL = "public, max-age=60"


class AnswerCache:
    """Serialised answers by (request, epoch): a warm hit costs one small query."""

    def __init__(self, size: int = ANSWER_CACHE_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    def get(self, tag: str) -> tuple[int, bytes] | None:
        found = self._answers.get(tag)
        if found is not None:
            self._answers.move_to_end(tag)
        return found

    def put(self, tag: str, answer: tuple[int, bytes]) -> None:
        self._answers[tag] = answer
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


def _tag(epoch: int, graphql: GraphQLRequest, media: str) -> str:
    """``"e<epoch>-<hash of the request>"``: the epoch in clear, so that a client's
    If-None-Match tells any server which publications the client has seen (api/replicas.py)."""
    key = orjson.dumps(
        [graphql.query, graphql.variables, graphql.operation_name, media],
        option=orjson.OPT_SORT_KEYS,
    )
    return f'"e{epoch}-{hashlib.sha256(key).hexdigest()[:32]}"'


_SEEN = re.compile(r'"e(\d{1,18})-')


def seen_epoch(if_none_match: str) -> int:
    """The newest epoch among the ETags a client sends back (0: none of ours)."""
    return max((int(e) for e in _SEEN.findall(if_none_match[:8192])), default=0)


def public_endpoint(
    schema: strawberry.Schema,
    *,
    public_base_url: str,
    answer_cache: bool = True,
    fast_path: bool = True,
    sql_path: bool = True,
    epoch: EpochWatch | None = None,
    replicas: ReadRouter | None = None,
) -> Callable[[Request], Any]:
    """`answer_cache=False` executes every request (a "cold" benchmark, decisions.md D15);
    `fast_path=False` executes every request field by field through graphql-core;
    `sql_path=False` keeps the fast path but projects rows in Python (the SQL compiler off).
    `epoch` keeps the publication epoch in memory (api/epoch.py); by default it is read per
    request. `replicas` reads misses from streaming replicas under the rule of api/replicas.py."""
    watch = epoch or EpochWatch()
    router = replicas or ReadRouter(())
    cache = AnswerCache(ANSWER_CACHE_SIZE if answer_cache else 0)
    fast = FastPath(schema) if fast_path else None

    async def endpoint(request: Request) -> Response:
        try:
            media = media_type(request)
            graphql = await parse_request(request)
        except RequestError as error:
            return error_response(error.status, str(error), error.headers)
        request.state.operation = graphql.label()

        announced = await watch.current()
        if_none_match = request.headers.get("if-none-match", "")
        seen = seen_epoch(if_none_match)
        if seen > announced:  # the client has seen a newer epoch than we heard of
            announced = max(announced, await watch.fresh())
        tag = _tag(announced, graphql, media)
        headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
        if request.method == "GET" and tag in if_none_match:
            request.state.answer_cache = "not_modified"
            return Response(status_code=304, headers=headers)
        answer = cache.get(tag)
        request.state.answer_cache = "miss" if answer is None else "hit"
        if answer is None:

            async def execute() -> tuple[int, bytes]:
                return await _execute(
                    schema, graphql, media, public_base_url, fast, sql_path=sql_path
                )

            try:
                if router.enabled:
                    fresh, read = await router.run(max(announced, seen), execute)
                    answer = fresh
                    if read is None:  # no one epoch: neither tagged nor kept
                        headers = {"Cache-Control": "no-store", "Vary": "Accept"}
                        tag = ""
                    elif read != announced:  # a replica ahead of the notification
                        watch.learn(read)
                        tag = _tag(read, graphql, media)
                        headers["ETag"] = tag
                else:
                    fresh = await execute()
                    answer = fresh
            except InvalidOperationTypeError:
                if request.method == "GET":
                    return error_response(405, "GET is for queries only", {"Allow": "POST"})
                return error_response(400, "this API is read-only: send a query", {})
            except CannotGetOperationTypeError as error:
                # schema/operations.py answers these first; this is the safety net.
                return error_response(400, error.as_http_error_reason(), {})
            if fresh[0] == 200 and tag:
                cache.put(tag, fresh)
        status, body = answer
        if request.method != "GET":
            headers = {"Vary": "Accept"}
        return Response(body, status_code=status, media_type=media, headers=headers)

    return endpoint


async def _execute(
    schema: strawberry.Schema,
    graphql: GraphQLRequest,
    media: str,
    public_base_url: str,
    fast: FastPath | None = None,
    *,
    sql_path: bool = True,
) -> tuple[int, bytes]:
    allowed = {OperationType.QUERY}
    context = Context(public_base_url=public_base_url)
    # A document runs through strawberry (parse, validation, limits) until it has once executed
    # without errors; from then on one SQL statement writes its answer (schema/public/sqlpath.py),
    # else its compiled plan projects the rows (schema/public/fastpath.py), and either falls back
    # to strawberry whenever it cannot answer exactly.
    compiled = fast.compiled(graphql.query, graphql.operation_name) if fast else None

    async def run() -> bytes | dict[str, Any] | ExecutionResult:
        if compiled is not None:
            if sql_path:
                try:
                    return await sqlpath.answer(compiled, graphql.variables, context)
                except Fallback:
                    pass
            try:
                return await compiled.execute(graphql.variables, context)
            except Fallback:
                pass
        return await schema.execute(
            graphql.query,
            variable_values=graphql.variables,
            context_value=context,
            operation_name=graphql.operation_name,
            allowed_operation_types=allowed,
        )

    try:
        result = await asyncio.wait_for(run(), timeout=limits.EXECUTION_TIMEOUT_SECONDS)
    except TimeoutError:
        return 503, orjson.dumps({"errors": [{"message": "the query took too long; ask for less"}]})
    if isinstance(result, bytes):
        return 200, result
    if isinstance(result, dict):
        return 200, orjson.dumps(result, default=str)
    if fast is not None and compiled is None and not result.errors:
        fast.learn(graphql.query, graphql.operation_name)
    status, payload = answer(result, media)
    return status, orjson.dumps(payload, default=str)
