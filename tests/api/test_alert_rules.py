"""The alerting rules of deploy/prometheus-alerts.yml parse, and every gongkai metric they name
is one the app exposes (a renamed metric would silence its alert)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import Metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus-alerts.yml"


def test_every_alert_names_metrics_the_app_exposes() -> None:
    metrics = Metrics()
    # a labelled metric appears once it has a child: give each one
    metrics.request("/graphql", None, 200, 0.01)
    metrics.answer_cache.labels("hit").inc()
    metrics.publish.runs.labels("published").inc()
    metrics.last_publish.labels("990101").set(1)
    metrics.overdue.labels("990101").set(1)
    metrics.pool.labels("in_use").set(1)
    samples = {
        sample.name
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for sample in family.samples
    }
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"][0]["rules"]
    assert len(rules) >= 8
    named = set()
    for rule in rules:
        assert rule["alert"].startswith("Gongkai") and rule["annotations"]["summary"]
        named |= set(re.findall(r"\bgongkai_[a-z_]+", rule["expr"]))
    assert named, "the rules name gongkai's metrics"
    assert named <= samples, named - samples
