"""Secrets stay out of the access log: a token sent in the URL by mistake is refused, and the
log line of that request (and of any URL carrying something shaped like a JWT) has it replaced
by ``[REDACTED]``. The server is a real uvicorn process whose log the test reads."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.access_log import redact
from tests.internal.conftest import SECRET
from tests.live import cli_token, serve


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("/graphql?query=%7B+a+%7D", "/graphql?query=%7B+a+%7D"),
        ("/internal/graphql?access_token=abc.def&query=x", None),
        ("/internal/graphql?Token=s3cret", "/internal/graphql?Token=[REDACTED]"),
        ("/x?password=hunter2&page=2", "/x?password=[REDACTED]&page=2"),
        ("/graphql?variables=%7B%22t%22%3A%22eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl%22%7D", None),
        (
            "/open/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig/index.html",
            "/open/[REDACTED]/index.html",
        ),
        ("/open/2024/budget/103/index.html", "/open/2024/budget/103/index.html"),
    ],
)
def test_redact(logged: str, expected: str | None) -> None:
    cleaned = redact(logged)
    if expected is not None:
        assert cleaned == expected
    assert "abc.def" not in cleaned and "s3cret" not in cleaned and "hunter2" not in cleaned
    assert "eyJ" not in cleaned


def test_a_token_in_the_url_never_reaches_the_access_log(db: str, tmp_path: Path) -> None:
    secret = cli_token("admin", SECRET)
    with serve(db, tmp_path, JWT_KEY=SECRET) as server:
        refused = httpx.get(
            f"{server.url}/internal/graphql",
            params={"query": "{ me { subject } }", "access_token": secret},
        )
        assert refused.status_code == 400
        public = httpx.get(
            f"{server.url}/graphql",
            params={"query": "{ __typename }", "token": secret},
            headers={"accept": "application/json"},
        )
        assert public.status_code == 200
        # In the header, where it belongs: it works, and uvicorn does not log headers.
        ok = httpx.get(
            f"{server.url}/internal/graphql",
            params={"query": "{ me { subject } }"},
            headers={"authorization": f"Bearer {secret}"},
        )
        assert ok.status_code == 200
        log = server.log()
    assert secret not in log
    assert secret.split(".")[1] not in log  # not even its claims
    access = [line for line in log.splitlines() if '"GET /' in line and "/healthz" not in line]
    assert len(access) == 3, log
    assert "access_token=[REDACTED]" in access[0] and '" 400' in access[0]
    assert "token=[REDACTED]" in access[1] and '" 200' in access[1]
