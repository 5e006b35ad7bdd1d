"""OpenTelemetry tracing, optional: ``pip install 'gongkai[tracing]'`` and
``GONGKAI_TRACING=otlp`` (spans to the OTLP/HTTP collector named by the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_SERVICE_NAME`` variables) or ``console`` (spans printed,
for a look). One span per HTTP request, with the request id as an attribute. Without the extra
installed the app runs as before; asking for tracing then stops start-up with a message
(api/settings.py), never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp


def middleware(mode: str) -> Callable[[ASGIApp], ASGIApp]:
    """For Starlette's middleware list: wraps the app in `instrument(app, mode)`."""

    def wrap(app: ASGIApp) -> ASGIApp:
        return instrument(app, mode)

    return wrap


def instrument(app: ASGIApp, mode: str) -> ASGIApp:
    """`app` wrapped in OpenTelemetry's ASGI middleware, or `app` itself when `mode` is off."""
    if mode == "off":
        return app
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "gongkai"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    def request_id(span: Any, scope: dict[str, Any]) -> None:
        if span is not None and span.is_recording():
            found = scope.get("state", {}).get("request_id")
            if found:
                span.set_attribute("gongkai.request_id", found)

    return OpenTelemetryMiddleware(app, server_request_hook=request_id)
