"""The Starlette application: routes, middleware and the lifespan that connects the database
and the object store."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api import access_log, graphiql, tracing
from api import settings as settings_module
from api.auth import TokenVerifier
from api.console.app import Console, development_secret
from api.console.oidc import OidcClient
from api.epoch import EpochWatch
from api.graphql_http import public_endpoint
from api.internal_http import internal_endpoint
from api.metrics import Metrics, metrics_endpoint
from api.publishing import make_publisher
from api.replicas import ReadRouter
from api.request_context import HEADER as REQUEST_ID_HEADER
from api.request_context import RequestContext
from api.settings import Settings
from publishers.releases import Publisher
from schema.internal.schema import build as build_internal_schema
from schema.public.schema import build as build_public_schema
from storage import database
from storage.objects import ObjectStore, check_key, open_store

# A schema depends on the code alone (its extensions are made per request) and takes tens of
# milliseconds to build: the apps of one process share it (the tests make hundreds of apps).
_public_schema = functools.cache(build_public_schema)
_internal_schema = functools.cache(build_internal_schema)


def create_app(
    settings: Settings,
    *,
    answer_cache: bool = True,
    fast_path: bool = True,
    sql_path: bool = True,
    clock: Callable[[], float] = time.time,
    metrics: Metrics | None = None,
) -> Starlette:
    """The app. `answer_cache`, `fast_path` and `sql_path` are for benchmarks
    (bench/serve_public.py); `clock` is what tokens' times are checked against (tests fix it).
    `metrics` collects what the app counts (a new set by default); `metrics_app` serves them,
    on a listener of its own: the API's address has no /metrics."""
    store = open_store(settings.store_url, settings.s3_access_key, settings.s3_secret_key)
    access_log.install()
    epoch = EpochWatch()
    replicas = ReadRouter(settings.database_read_urls)
    metrics = metrics or Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The global fallback lets request tasks see the context created here (stack notes).
        await database.init(settings.database_url, global_fallback=True)
        await epoch.start(settings.database_url)
        await replicas.start()
        try:
            yield
        finally:
            await replicas.stop()
            await epoch.stop()
            await database.close()

    async def healthz(request: Request) -> JSONResponse:
        checks = {"database": await _check_database(), "store": await _check_store(store)}
        healthy = all(check["status"] == "ok" for check in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", **checks},
            status_code=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def livez(request: Request) -> JSONResponse:
        # Liveness: the process answers; it asks nothing of the database or the store, so an
        # outage there does not get a healthy process restarted.
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    async def readyz(request: Request) -> JSONResponse:
        # Readiness: send traffic here only when the database answers with every migration of
        # this code applied and the store answers.
        checks = {
            "database": await _check_database(),
            "migrations": await _check_migrations(),
            "store": await _check_store(store),
        }
        ready = all(check["status"] == "ok" for check in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", **checks},
            status_code=200 if ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    public = public_endpoint(
        _public_schema(production=settings.production),
        public_base_url=settings.public_base_url,
        answer_cache=answer_cache,
        fast_path=fast_path,
        sql_path=sql_path,
        epoch=epoch,
        replicas=replicas,
    )
    internal_schema = _internal_schema()

    def publisher() -> Publisher:
        return make_publisher(settings, store, observer=metrics.publish.observe)

    internal = internal_endpoint(
        internal_schema,
        TokenVerifier(settings, clock),
        publisher,
        max_upload_bytes=settings.max_upload_bytes,
    )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/livez", livez),
        Route("/readyz", readyz),
    ]
    # The web console, on the same schema and so the same rules (api/console/). Production
    # needs GONGKAI_CONSOLE_SECRET for it (sessions then survive restarts and span workers).
    if settings.console_secret is not None or not settings.production:
        secret = settings.console_secret or development_secret()
        console = Console(
            internal_schema,
            secret,
            publisher,
            clock=clock,
            max_upload_bytes=settings.max_upload_bytes,
            oidc=OidcClient(settings.oidc, secret) if settings.oidc else None,
        )
        routes += console.routes()
    if not settings.production:
        public = graphiql.with_graphiql(public, internal=False)
        internal = graphiql.with_graphiql(internal, internal=True)
        routes.append(graphiql.assets())
    # Every method reaches the endpoints, which answer 405 with a JSON body themselves.
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes += [
        Route("/graphql", public, methods=methods),
        Route("/internal/graphql", internal, methods=methods),
    ]
    if settings.store_url.startswith("file://"):
        # The local-folder store is the open-data site (`make run` browses it at /open/); an
        # S3 or MinIO bucket is served by its own web server or CDN instead.
        routes.append(Route("/open/{path:path}", open_data_endpoint(store), methods=["GET"]))
    middleware = [
        # Outermost: every answer, a 431 included, carries the request id and is counted.
        Middleware(RequestContext, metrics=metrics),
        Middleware(tracing.middleware(settings.tracing)),
        Middleware(HeaderLimit),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "accept", "if-none-match", REQUEST_ID_HEADER],
            expose_headers=["etag", REQUEST_ID_HEADER],
            max_age=600,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = metrics
    app.state.replicas = replicas
    app.state.epoch = epoch
    return app


def metrics_app(metrics: Metrics) -> Starlette:
    """`/metrics` alone, for the separate listener of `gongkai serve` (GONGKAI_METRICS_ADDRESS).
    It shares the API's process, so its database connection and its counters; it has no
    lifespan of its own."""
    return Starlette(routes=[Route("/metrics", metrics_endpoint(metrics))])


def from_environment() -> Starlette:
    """The app `gongkai serve` runs, from the GONGKAI_* settings, for an ASGI server's factory
    option (``uvicorn --factory api.app:from_environment``)."""
    return create_app(settings_module.load())


#: All request headers together; a larger request gets a 431 before anything reads it.
MAX_HEADER_BYTES = 32 * 1024


class HeaderLimit:
    """Refuses a request whose headers exceed `MAX_HEADER_BYTES` (431, RFC 6585): uvicorn's
    httptools parser sets no limit of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > MAX_HEADER_BYTES:
                message = f"the request headers exceed {MAX_HEADER_BYTES} bytes"
                response = JSONResponse({"errors": [{"message": message}]}, status_code=431)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def open_data_endpoint(store: ObjectStore) -> Callable[[Request], Awaitable[Response]]:
    """Serve the objects of a local-folder store, read-only: ``/open/`` is the site's
    index.html; a path with any segment starting with "." (the store's ``.gongkai-meta/``
    metadata, ``..``) is not found, as is anything that is not an object (no listings)."""

    async def open_data(request: Request) -> Response:
        key = request.path_params["path"] or "index.html"
        segments = key.split("/")
        if any(not segment or segment.startswith(".") for segment in segments):
            return Response("not found", status_code=404, media_type="text/plain")
        try:
            info = await store.stat(check_key(key))
        except ValueError:
            info = None
        if info is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {
            "ETag": f'"{info.sha256}"',
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if info.sha256 and request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        disposition = info.metadata.get("content-disposition")
        if disposition:  # a readable download name (RFC 6266, publishers/filenames.py)
            headers["Content-Disposition"] = disposition
        body = await store.get(key)
        return Response(body, media_type=info.content_type, headers=headers)

    return open_data


async def _check_database() -> dict[str, str]:
    try:
        await database.ping()
    except Exception as error:  # any failure means "not healthy"; say which
        return {"status": "error", "error": type(error).__name__}
    return {"status": "ok", "dialect": database.dialect()}


async def _check_migrations() -> dict[str, str]:
    try:
        pending = await database.pending_migrations()
    except Exception as error:
        return {"status": "error", "error": type(error).__name__}
    if pending:
        return {"status": "error", "error": f"not applied: {', '.join(pending)}"}
    return {"status": "ok"}


async def _check_store(store: ObjectStore) -> dict[str, str]:
    try:
        await store.check()
    except Exception as error:
        return {"status": "error", "error": type(error).__name__}
    return {"status": "ok"}
