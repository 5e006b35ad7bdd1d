"""The publisher as the settings configure it, for the command line and the internal API."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from api.settings import Settings
from publishers import signing
from publishers.apart import Apart
from publishers.lease import DEFAULT_LEASE
from publishers.releases import Publisher, PublishRun
from storage.objects import ObjectStore, open_store

#: development's signing key, created on first use (`make run`; never in production)
DEV_SIGNING_KEY = Path("var/dev-signing-key.pem")


def make_publisher(
    settings: Settings,
    store: ObjectStore | None = None,
    observer: Callable[[PublishRun], None] | None = None,
    wait: timedelta = DEFAULT_LEASE,
    *,
    apart: bool = False,
    worker: str | None = None,
) -> Publisher:
    """A new publisher (it caches what it selected for one run: make one per run or request).
    `observer` is told of every release it publishes (the metrics); `wait` is how long it
    waits for a release another live worker holds. `apart`: each jurisdiction's part of a
    batch in a process of its own (publishers/apart.py), where the database and the store can
    be reached from another process; `gongkai publish` asks for it, the API does not (a
    request publishes a release or a few)."""
    if store is None:
        store = open_store(settings.store_url, settings.s3_access_key, settings.s3_secret_key)
    reachable = Apart.possible(settings.database_url, settings.store_url)
    return Publisher(
        store,
        data_license=settings.data_license,
        base_url=settings.public_base_url,
        observer=observer,
        wait=wait,
        signer=signer_of(settings),
        worker=worker,
        apart=Apart(settings.database_url, partial(twin, settings, wait))
        if apart and reachable
        else None,
    )


def twin(settings: Settings, wait: timedelta, worker: str) -> Publisher:
    """The publisher a part of the batch in another process works with: the settings' store
    and key, under the parent's worker name, so that the parent's leases are its own, and
    waiting as long as the parent would for a release another live worker holds."""
    return make_publisher(settings, wait=wait, worker=worker)


def signer_of(settings: Settings) -> signing.Signer:
    """The configured signing key; in development without one, `DEV_SIGNING_KEY`. Production
    refuses to publish unsigned."""
    if settings.signing_key_file is not None:
        return signing.load_key_file(settings.signing_key_file)
    if settings.production:
        raise signing.SigningError(
            "GONGKAI_SIGNING_KEY_FILE is not set: production signs everything it publishes "
            "(create a key with `gongkai keys create FILE`)"
        )
    if not DEV_SIGNING_KEY.exists():
        # another process may create it first: its key wins
        with contextlib.suppress(FileExistsError):
            signing.write_key_file(signing.generate(), DEV_SIGNING_KEY)
    return signing.load_key_file(DEV_SIGNING_KEY)
