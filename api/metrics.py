"""Prometheus metrics (prometheus-client), in a registry of each app's own.

What the process counts as it runs: HTTP requests by route, GraphQL operation name and status,
their latency, the public answer cache, and the publishes it ran itself (`publishRelease`,
`withdrawRelease`). What the database knows is read at scrape time instead, with a few grouped
queries, so that it holds whichever process did the work (the cron job's `gongkai publish
--due` included): the newest published version per jurisdiction, releases past their due date
unpublished, scheduled releases whose embargo has passed but which nobody published, and the
connection pool.

The metrics are not public: `gongkai serve` answers `/metrics` only on its own listener
(`GONGKAI_METRICS_ADDRESS`, off unless set), never on the API's address (docs/operations.md).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections
from tortoise.functions import Count, Max

from publishers.releases import PublishRun
from publishers.rules import SHANGHAI
from storage import models
from storage.enums import ReleaseStatus

#: The routes requests are counted under; any other path is "other", so that a scan of random
#: paths cannot grow the label set.
ROUTES = ("/graphql", "/internal/graphql", "/open", "/healthz", "/livez", "/readyz")
#: Operation names are chosen by clients: the first this many distinct ones get a label of their
#: own, the rest share "other" (a bounded label set; a fuzzer sends thousands of names).
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PUBLISH_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def route(path: str) -> str:
    for known in ROUTES:
        if path == known or (known == "/open" and path.startswith("/open/")):
            return known
    return "other"


class PublishMetrics:
    """The publish counters, for the server's registry and for `gongkai publish
    --metrics-file` (a textfile for node_exporter's textfile collector)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "gongkai_publish_runs",
            "Release publishes by outcome (published, unchanged, exempt, withdrawn, refused, "
            "failed)",
            ["outcome"],
            registry=registry,
        )
        self.objects = Counter(
            "gongkai_publish_objects_written",
            "Objects written to the store by publishes",
            registry=registry,
        )
        self.bytes = Counter(
            "gongkai_publish_bytes_written",
            "Bytes written to the store by publishes",
            registry=registry,
        )
        self.duration = Histogram(
            "gongkai_publish_duration_seconds",
            "Time to publish one release",
            buckets=PUBLISH_BUCKETS,
            registry=registry,
        )
        self.last_run = Gauge(
            "gongkai_publish_last_run_timestamp_seconds",
            "When this process last finished a release publish (any outcome)",
            registry=registry,
        )

    def observe(self, run: PublishRun) -> None:
        self.runs.labels(run.outcome).inc()
        self.objects.inc(run.stats.written)
        self.bytes.inc(run.stats.bytes)
        self.duration.observe(run.seconds)
        self.last_run.set(datetime.now(UTC).timestamp())


class Metrics:
    """Every metric of one app. A registry per instance keeps tests and apps apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "gongkai_http_requests",
            "HTTP requests by route, GraphQL operation name and status",
            ["route", "operation", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "gongkai_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.answer_cache = Counter(
            "gongkai_answer_cache_lookups",
            "Public API answers: hit (from the cache), miss (executed), not_modified (304)",
            ["result"],
            registry=r,
        )
        self.revoked = Counter(
            "gongkai_revoked_token_refusals",
            "Internal requests refused because their token is on the deny-list",
            registry=r,
        )
        self.publish = PublishMetrics(r)
        self.last_publish = Gauge(
            "gongkai_last_publish_timestamp_seconds",
            "When the newest published version of the jurisdiction's releases was written",
            ["jurisdiction"],
            registry=r,
        )
        self.overdue = Gauge(
            "gongkai_releases_overdue",
            "Releases unpublished past their due date (DR-6), by jurisdiction",
            ["jurisdiction"],
            registry=r,
        )
        self.due_unpublished = Gauge(
            "gongkai_releases_due_unpublished",
            "SCHEDULED releases whose embargo has passed but which are not published yet",
            registry=r,
        )
        self.pool = Gauge(
            "gongkai_db_pool_connections",
            "PostgreSQL pool connections by state (in_use, idle, max); absent on SQLite",
            ["state"],
            registry=r,
        )
        self.database_up = Gauge(
            "gongkai_database_up", "1 when the scrape's database queries answered", registry=r
        )
        self._operations: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not _NAME.fullmatch(name):
            return "invalid"
        if name in self._operations:
            return name
        if len(self._operations) >= MAX_OPERATION_NAMES:
            return "other"
        self._operations.add(name)
        return name

    def request(self, path: str, operation: str | None, status: int, seconds: float) -> None:
        name = route(path)
        self.requests.labels(name, self.operation_label(operation), str(status)).inc()
        self.latency.labels(name).observe(seconds)

    async def refresh_from_database(self, now: datetime | None = None) -> None:
        """Set the gauges read from the database (a few grouped queries, at scrape time)."""
        now = now or datetime.now(UTC)
        try:
            await self._refresh(now)
        except Exception:  # a scrape must answer even when the database does not
            self.database_up.set(0)
            return
        self.database_up.set(1)

    async def _refresh(self, now: datetime) -> None:
        today = now.astimezone(SHANGHAI).date()
        newest = (
            await models.ReleaseVersion.annotate(newest=Max("created_at"))
            .group_by("release__jurisdiction__code")
            .values("release__jurisdiction__code", "newest")
        )
        self.last_publish.clear()
        for row in newest:
            when = row["newest"]
            if isinstance(when, str):  # SQLite answers an aggregate as text
                when = datetime.fromisoformat(when)
            if when is not None:
                self.last_publish.labels(row["release__jurisdiction__code"]).set(when.timestamp())
        late = (
            await models.Release.filter(due_date__lt=today)
            .exclude(status=ReleaseStatus.PUBLISHED)
            .annotate(count=Count("id"))
            .group_by("jurisdiction__code")
            .values("jurisdiction__code", "count")
        )
        self.overdue.clear()
        for row in late:
            self.overdue.labels(row["jurisdiction__code"]).set(row["count"])
        scheduled = models.Release.filter(status=ReleaseStatus.SCHEDULED)
        self.due_unpublished.set(
            await scheduled.filter(publish_at__isnull=True).count()
            + await scheduled.filter(publish_at__lte=now).count()
        )
        self._pool_sizes()

    def _pool_sizes(self) -> None:
        pool = getattr(connections.get("default"), "_pool", None)
        if pool is None:
            self.pool.clear()
            return
        idle = pool.get_idle_size()
        self.pool.labels("in_use").set(pool.get_size() - idle)
        self.pool.labels("idle").set(idle)
        self.pool.labels("max").set(pool.get_max_size())

    async def exposition(self) -> bytes:
        await self.refresh_from_database()
        return generate_latest(self.registry)


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(
            await metrics.exposition(),
            media_type=CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )

    return endpoint
