"""`/metrics` on its own listener: the Prometheus text parses with the client library's parser,
the request and publish counters move, the gauges read from the database say what it holds,
and the API's own address has no /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

from api.app import metrics_app
from api.metrics import MAX_OPERATION_NAMES, Metrics
from publishers.rules import SHANGHAI
from schema.internal.ids import global_id
from storage import database, models
from storage.enums import ReleaseStatus
from tests.internal.conftest import app_at_now, settings, token
from tests.live import in_process
from tests.publishers import dataset

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by name and labels (the client library's own parser)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@dataclass
class Served:
    api: httpx.AsyncClient
    metrics: httpx.AsyncClient
    built: dataset.Built

    async def scrape(self) -> Samples:
        response = await self.metrics.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
        return parse(response.text)


@pytest.fixture
async def served(db: str, tmp_path: Path) -> AsyncIterator[Served]:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    await database.close()  # the app connects by itself, in its lifespan
    app = app_at_now(settings(db, tmp_path / "store"))
    async with LifespanManager(app) as manager:
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://t")
        scraper = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=metrics_app(app.state.metrics)), base_url="http://m"
        )
        async with api, scraper:
            yield Served(api, scraper, built)
    await database.init(db, global_fallback=True)


PUBLIC = "query Releases { releases(first: 5) { totalCount } }"


async def test_request_and_publish_counters_move(served: Served) -> None:
    before = await served.scrape()
    assert value(before, "gongkai_http_requests_total", route="/graphql") == 0
    assert value(before, "gongkai_publish_runs_total", outcome="published") == 0

    for _ in range(2):
        answer = await served.api.get("/graphql", params={"query": PUBLIC})
        assert answer.status_code == 200
    labels = {"route": "/graphql", "operation": "Releases", "status": "200"}
    after = await served.scrape()
    assert value(after, "gongkai_http_requests_total", **labels) == 2
    assert value(after, "gongkai_http_request_duration_seconds_count", route="/graphql") == 2
    assert value(after, "gongkai_answer_cache_lookups_total", result="miss") == 1
    assert value(after, "gongkai_answer_cache_lookups_total", result="hit") == 1

    release = served.built.releases[0]
    publish = (
        "mutation Publish($id: ID!, $v: Int!) { publishRelease(id: $id, version: $v) {"
        " __typename } }"
    )
    published = await served.api.post(
        "/internal/graphql",
        json={"query": publish, "variables": {"id": global_id("Release", release.id), "v": 1}},
        headers={"Authorization": f"Bearer {token('publisher')}"},
    )
    assert published.json()["data"]["publishRelease"]["__typename"] == "ReleaseSuccess"

    final = await served.scrape()
    assert value(final, "gongkai_publish_runs_total", outcome="published") == 1
    assert value(final, "gongkai_publish_objects_written_total") > 0
    assert value(final, "gongkai_publish_bytes_written_total") > 0
    assert value(final, "gongkai_publish_duration_seconds_count") == 1
    internal = {"route": "/internal/graphql", "operation": "Publish", "status": "200"}
    assert value(final, "gongkai_http_requests_total", **internal) == 1
    jurisdiction = served.built.jurisdiction.code
    version = await models.ReleaseVersion.get(release_id=release.id)
    assert value(
        final, "gongkai_last_publish_timestamp_seconds", jurisdiction=jurisdiction
    ) == pytest.approx(version.created_at.timestamp())
    assert value(final, "gongkai_database_up") == 1


async def test_the_api_address_has_no_metrics(served: Served) -> None:
    assert (await served.api.get("/metrics")).status_code == 404
    samples = await served.scrape()
    # a path nobody routes is counted as "other", never under its own name
    assert value(samples, "gongkai_http_requests_total", route="/metrics") == 0
    assert (
        value(
            samples,
            "gongkai_http_requests_total",
            route="other",
            operation="anonymous",
            status="404",
        )
        == 1
    )


async def test_overdue_releases_from_the_due_date_on(db: str) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    release = built.releases[0]
    code = built.jurisdiction.code
    unpublished = await models.Release.filter(due_date__lte=release.due_date).exclude(
        status=ReleaseStatus.PUBLISHED
    )
    metrics = Metrics()

    def noon(day: int) -> datetime:
        when = datetime.combine(release.due_date + timedelta(days=day), time(12), SHANGHAI)
        return when.astimezone(UTC)

    await metrics.refresh_from_database(noon(0))  # the due date itself: not late yet
    on_time = parse(_text(metrics))
    await metrics.refresh_from_database(noon(1))  # the day after
    late = parse(_text(metrics))
    due_that_day = [r for r in unpublished if r.due_date == release.due_date]
    earlier = len(unpublished) - len(due_that_day)
    assert value(on_time, "gongkai_releases_overdue", jurisdiction=code) == earlier
    assert value(late, "gongkai_releases_overdue", jurisdiction=code) == len(unpublished)
    # every release of the data set is SCHEDULED with no embargo: due to be published
    assert value(late, "gongkai_releases_due_unpublished") == len(built.releases)


async def test_a_publish_run_writes_its_counters_for_the_textfile_collector(
    db: str, tmp_path: Path
) -> None:
    built = await dataset.build(dataset.Plan(departments=1, projects=1))
    path = tmp_path / "textfile" / "gongkai_publish.prom"
    path.parent.mkdir()
    await database.close()
    try:
        status, output = await in_process(
            "publish",
            "--release",
            str(built.releases[0].id),
            "--metrics-file",
            str(path),
            database_url=db,
            store_url=f"file://{tmp_path / 'store'}",
        )
    finally:
        await database.init(db, global_fallback=True)
    assert status == 0, output
    samples = parse(path.read_text())
    assert value(samples, "gongkai_publish_runs_total", outcome="published") == 1
    assert value(samples, "gongkai_publish_objects_written_total") > 0


def _text(metrics: Metrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


def test_operation_names_are_a_bounded_label_set() -> None:
    metrics = Metrics()
    names = [f"Op{i}" for i in range(MAX_OPERATION_NAMES + 1)]
    labels = [metrics.operation_label(name) for name in names]
    assert labels[:MAX_OPERATION_NAMES] == names[:MAX_OPERATION_NAMES]
    assert labels[MAX_OPERATION_NAMES] == "other"  # one past the limit
    assert metrics.operation_label("Op0") == "Op0"  # a known name keeps its label
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("not a name") == "invalid"
