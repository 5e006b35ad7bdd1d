"""Log lines as JSON objects, one per line, through structlog (`gongkai serve`).

Everything goes through the standard library's root handler, so uvicorn's own messages and
any library's become JSON lines too, with the same fields: `timestamp` (UTC, ISO 8601),
`level`, `logger`, `event`, and the `request_id` of the request being served (bound by
`api.request_context`). ``GONGKAI_LOG_FORMAT=console`` prints them for humans instead.
Secrets are redacted from every line (`api.access_log`).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from api.access_log import redact

FORMATS = ("json", "console")


def _redact_event(_: Any, __: str, event: EventDict) -> EventDict:
    for name, value in event.items():
        if isinstance(value, str):
            event[name] = redact(value)
    return event


def configure(format: str = "json", level: int = logging.INFO) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's loggers propagate to the root handler (serve passes no log_config of its own)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # but not its access log: api.request_context logs each request, with its id, so uvicorn's
    # line would be a second one per request. Said here, not only by `access_log=False`: under
    # `--workers`, a worker builds its app (and calls this) after uvicorn has applied that
    # setting, and turning the logger back on doubled the log and cost a quarter of a worker's
    # throughput (bench/workers.py).
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
