"""The publisher as the settings configure it, for the command line and the internal API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from api.settings import Settings
from publishers.lease import DEFAULT_LEASE
from publishers.releases import Publisher, PublishRun
from storage.objects import ObjectStore, open_store


def make_publisher(
    settings: Settings,
    store: ObjectStore | None = None,
    observer: Callable[[PublishRun], None] | None = None,
    wait: timedelta = DEFAULT_LEASE,
) -> Publisher:
    """A new publisher (it caches what it selected for one run: make one per run or request).
    `observer` is told of every release it publishes (the metrics); `wait` is how long it
    waits for a release another live worker holds."""
    if store is None:
        store = open_store(settings.store_url, settings.s3_access_key, settings.s3_secret_key)
    return Publisher(
        store,
        data_license=settings.data_license,
        base_url=settings.public_base_url,
        observer=observer,
        wait=wait,
    )
