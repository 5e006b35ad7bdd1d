"""Each HTTP request's id, log line and metrics.

The request id is the client's `X-Request-ID` when it is a sane one (1–64 characters of
letters, digits and ``._:-``, starting with a letter or digit: what proxies and tracing tools
send), else a new random one; a longer or stranger value is replaced, never echoed, so a client
cannot write arbitrary text into the logs or the audit trail. The id is returned in the
answer's `X-Request-ID`, bound into every structlog line logged while the request runs, and
stored with the audit entries of internal writes (`AuditEntry.request_id`).

One JSON line per request is logged under ``gongkai.request`` (method, path with secrets
redacted, status, duration, GraphQL operation name, token subject and `jti`), and the request
is counted in the app's metrics. The endpoints leave what only they know in the request's
state (`operation`, `answer_cache`, `subject`, `jti`).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access_log import redact
from api.metrics import Metrics

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()
MAX_REQUEST_ID = 64
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

log = structlog.get_logger("gongkai.request")


def accepted(value: str | None) -> str | None:
    """`value` when it is a sane request id, else None."""
    if value is None or not _SANE.fullmatch(value):
        return None
    return value


def new_request_id() -> str:
    return uuid.uuid4().hex


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER_KEY:
            try:
                return accepted(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None


class RequestContext:
    """Outermost middleware: the request id, the request's log line and its metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming(scope) or new_request_id()
        # A request's own copy: servers pass the lifespan's state in, and what the endpoints
        # leave here (operation, subject, revoked) must not carry over to the next request.
        state: dict[str, Any] = {**scope.get("state", {}), "request_id": request_id}
        scope["state"] = state
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            self._record(scope, state, status, seconds)
            structlog.contextvars.clear_contextvars()

    def _record(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        path = scope.get("path", "")
        operation = state.get("operation")
        self.metrics.request(path, operation, status, seconds)
        if state.get("revoked"):
            self.metrics.revoked.inc()
        cache = state.get("answer_cache")
        if cache is not None:
            self.metrics.answer_cache.labels(cache).inc()
        query = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client")
        log.info(
            "request",
            method=scope.get("method"),
            path=redact(f"{path}?{query}" if query else path),
            status=status,
            duration_ms=round(seconds * 1000, 2),
            operation=operation,
            subject=state.get("subject"),
            jti=state.get("jti"),
            client=client[0] if client else None,
        )
