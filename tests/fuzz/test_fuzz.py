"""The short fuzz run of the test suite (`make fuzz` is the long one): schemathesis against both
endpoints of a live server holding a small published data set — no 5xx and no error masked as
"Unexpected error." on either, and most generated requests get past the argument checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.auth import Role, mint
from api.settings import Settings
from fuzz.run import report, run
from publishers.releases import Publisher
from storage.objects import open_store
from tests.internal.conftest import SECRET
from tests.live import serve
from tests.publishers import dataset

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def published(db: str, tmp_path: Path) -> str:
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = open_store(f"file://{tmp_path / 'store'}")
    batch = await Publisher(store, worker="test", clock=lambda: NOW).publish_many(
        [r.id for r in built.releases]
    )
    assert not batch.failures
    return db


def test_fuzzing_both_endpoints_finds_no_server_error(published: str, tmp_path: Path) -> None:
    token = mint(Settings(jwt_key=SECRET), subject="fuzz", roles=[Role.ADMIN], classified=True)
    with serve(published, tmp_path, JWT_KEY=SECRET) as server:
        tallies = run(
            f"{server.url}/graphql",
            f"{server.url}/internal/graphql",
            token,
            # The same requests every run, so that the suite's outcome depends on the code
            # alone (an earlier time budget let the machine's speed decide what was sent); the
            # bound on seconds is a backstop, never reached. `make fuzz` explores.
            seconds=600,
            examples=2,
            plain=False,
            derandomize=True,
        )
    for name, tally in tallies.items():
        print(report(name, tally))
        assert tally.requests > 0, name
        assert not tally.failures, "\n".join(tally.failures)
        assert all(status < 500 for status in tally.statuses), tally.statuses
