"""`gongkai serve`: the API under uvicorn, with JSON logs, and the metrics on a listener of
their own when `GONGKAI_METRICS_ADDRESS` names one (never on the API's address)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from api import logs
from api.app import create_app, metrics_app
from api.settings import Settings


class ListenerServer(uvicorn.Server):
    """A second server in the API's process: it leaves the signals to the API's server, which
    stops it once it has stopped itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


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
