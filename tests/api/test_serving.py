"""`gongkai serve` as an operator runs it: the API on its address, `/metrics` only on the
listener of GONGKAI_METRICS_ADDRESS, one JSON log line per request with its id, and both
listeners stop on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_metrics_listen_apart_from_the_api(db: str, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")},
        "GONGKAI_DATABASE_URL": db,
        "GONGKAI_STORE_URL": f"file://{tmp_path / 'store'}",
        "GONGKAI_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            with contextlib.suppress(httpx.TransportError):
                ready = httpx.get(f"{base}/readyz", timeout=5).status_code == 200
                if ready and httpx.get(f"{metrics}/metrics", timeout=5).status_code == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert httpx.get(f"{base}/metrics").status_code == 404
        answer = httpx.get(f"{base}/livez", headers={"X-Request-ID": "serve-1"})
        assert answer.headers["x-request-id"] == "serve-1"
        scraped = httpx.get(f"{metrics}/metrics")
        names = {family.name for family in text_string_to_metric_families(scraped.text)}
        assert {"gongkai_http_requests", "gongkai_publish_runs", "gongkai_database_up"} <= names
        assert httpx.get(f"{metrics}/graphql").status_code == 404  # nothing else there
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)  # both listeners stop: no hang
    lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
    request = next(x for x in lines if x.get("request_id") == "serve-1")
    assert request["event"] == "request" and request["path"] == "/livez"
    assert request["status"] == 200


def test_workers_share_one_address_and_stop_together(db: str, tmp_path: Path) -> None:
    """`gongkai serve --workers 2`: two processes of the app answer on the one port, each
    logging JSON, and SIGTERM to the command stops them all."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")},
        "GONGKAI_DATABASE_URL": db,
        "GONGKAI_STORE_URL": f"file://{tmp_path / 'store'}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def workers() -> set[int]:
        lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
        return {x["pid"] for x in lines if x.get("event") == "worker ready"}

    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT * 2
        while len(workers()) < 2:  # each has started its app (the log says so)
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        answer = httpx.get(
            f"{base}/graphql", params={"query": "{ jurisdictions(first: 1) { totalCount } }"}
        )
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
        assert "with 2 worker processes" in log_path.read_text()
        # One log line per request, the app's own: no uvicorn access line beside it.
        request_id = answer.headers["x-request-id"]
        while request_id not in log_path.read_text():  # the line is written after the answer
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        loggers = [
            json.loads(x)["logger"] for x in log_path.read_text().splitlines() if request_id in x
        ]
        assert loggers.count("gongkai.request") == 1 and "uvicorn.access" not in loggers, loggers
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)
    for pid in workers():  # none outlives the command
        with contextlib.suppress(ChildProcessError):
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text()
            )
