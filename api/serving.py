"""`gongkai serve`: the API under uvicorn, with JSON logs, and the metrics on a listener of
their own when `GONGKAI_METRICS_ADDRESS` names one (never on the API's address).

`--workers N` runs N processes of the app on one socket (uvicorn's supervisor, which restarts
a worker that dies): the app keeps no state between requests but caches, so each worker warms
its own. Each worker builds its app from the environment (`worker_app`); the command passes it
what it decided (the public base URL, the development key) through that environment."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator

import structlog
import uvicorn
from starlette.applications import Starlette

from api import logs
from api import settings as settings_module
from api.app import create_app, metrics_app
from api.settings import Settings


class ListenerServer(uvicorn.Server):
    """A second server in the API's process: it leaves the signals to the API's server, which
    stops it once it has stopped itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def worker_app() -> Starlette:
    """One worker's app (uvicorn's factory under `--workers N`), with its own JSON logs."""
    settings = settings_module.load()
    logs.configure(settings.log_format)
    app = create_app(settings)
    structlog.get_logger("gongkai.serve").info("worker ready", pid=os.getpid())
    return app


#: How long a worker may take to start and to answer a health check (`run_workers`).
WORKER_START_SECONDS = 60


def run_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    logs.configure(settings.log_format)
    uvicorn.run(
        "api.serving:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
        access_log=False,
        # uvicorn kills a worker that does not answer its supervisor's ping within this, and a
        # worker answers only once its process has started: importing the app takes 3 s on an
        # idle 2-core machine and more than uvicorn's default of 5 s on a busy one, where the
        # supervisor would kill and restart every worker forever (seen in a CI run).
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )


def run(settings: Settings, host: str, port: int) -> None:
    logs.configure(settings.log_format)
    app = create_app(settings)
    # No log_config: uvicorn's own loggers go through the handler of api/logs.py; its access
    # log is off because api/request_context.py logs each request, with its id.
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, proxy_headers=True, log_config=None, access_log=False
        )
    )
    if settings.metrics_address is None:
        server.run()
        return
    metrics_host, metrics_port = settings.metrics_address
    listener = ListenerServer(
        uvicorn.Config(
            metrics_app(app.state.metrics),
            host=metrics_host,
            port=metrics_port,
            lifespan="off",
            log_config=None,
            access_log=False,
        )
    )
    asyncio.run(serve_both(server, listener))


async def serve_both(server: uvicorn.Server, listener: uvicorn.Server) -> None:
    metrics = asyncio.create_task(listener.serve())
    try:
        await server.serve()
    finally:
        listener.should_exit = True
        await metrics
