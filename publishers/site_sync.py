"""The site in the store: write the pages whose bytes changed, delete the pages that vanished,
and keep `site-manifest.json`, the list of the site's keys with their sha256 and the
`fingerprint` of the inputs they were rendered from (pointer objects, decisions.md D10, D12),
one part of the site at a time (`SiteSync`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources

import orjson

from publishers.render import JSON_TYPE, Rendered, sha256_hex
from publishers.site_paths import SITE_MANIFEST_KEY
from publishers.sync import PARALLEL_UPLOADS, SyncStats, put_if_changed
from storage import models
from storage.enums import ReleaseStatus
from storage.objects import ObjectStore


async def fingerprint(
    base_url: str | None = None, data_license: str = "CC-BY-4.0", bulk_sha256: str | None = None
) -> str:
    """A digest of everything the site is rendered from: the current version (and manifest) of
    every published release — snapshot rows change only with a new version — the correction
    notices, the scheduled releases, the base URL of the feed's links, and the renderer itself
    (its modules and templates)."""
    versions = await models.ReleaseVersion.filter(release__status=ReleaseStatus.PUBLISHED).values(
        "release_id", "number", "manifest_sha256", "release__current_version"
    )
    current = sorted(
        (v["release_id"], v["number"], v["manifest_sha256"])
        for v in versions
        if v["number"] == v["release__current_version"]
    )
    notices = (
        await models.CorrectionNotice.all()
        .order_by("id")
        .values_list("id", "release_id", "fiscal_year", "published_at", "kind", "note")
    )
    scheduled = (
        await models.Release.filter(status=ReleaseStatus.SCHEDULED)
        .order_by("id")
        .values_list(
            "id",
            "jurisdiction__code",
            "department__code",
            "kind",
            "fiscal_year",
            "due_date",
            "publish_at",
        )
    )
    # The DCAT catalog (publishers/dcat.py) names the licence and lists the bulk files.
    inputs = [_code_digest(), current, notices, scheduled, base_url, data_license, bulk_sha256]
    return sha256_hex(orjson.dumps(inputs, default=str))


#: The modules that load and render the site: a change to any of them re-renders it.
RENDERER = (
    "site.py",
    "dcat.py",
    "bulk_listing.py",
    "filenames.py",
    "dictionary.py",
    "site_data.py",
    "site_sync.py",
    "site_paths.py",
    "display.py",
    "feeds.py",
    "search_index.py",
    "charts.py",
    "history.py",
)


@lru_cache(maxsize=1)
def _code_digest() -> str:
    package = resources.files("publishers")
    parts = [package / name for name in RENDERER]
    parts += sorted((p for p in (package / "templates").iterdir() if p.is_file()), key=str)
    return sha256_hex(b"".join(part.read_bytes() for part in parts))


class SiteSync:
    """Brings the site in the store up to date part by part: `write` the pages of each part as
    it is rendered (a jurisdiction's, then the portal's), then `finish`. Only one part's bytes
    are held at a time, and the pages that changed are written, the pages that vanished deleted,
    and `site-manifest.json` kept as the list of the site's keys with their sha256 and the
    `fingerprint` of the inputs they were rendered from (D10, D12).

    The manifest says which bytes the store holds under each key. Before a part's changed pages
    are written, they are marked unknown in it, so a crash part way leaves a manifest that never
    claims bytes the store may not hold; the rerun rewrites those keys. Within a part leaf pages
    go first and the root objects (index, feed, calendar, search index) after them, and the
    parts come in that order too, so a link appears only once its page is there; vanished pages
    go after every page that linked them."""

    def __init__(self, store: ObjectStore, stats: SyncStats, old: Mapping[str, str | None]) -> None:
        """`old`: the objects of the site manifest the store holds ({} when it has none)."""
        self.store = store
        self.stats = stats
        self.old = dict(old)
        self.new: dict[str, str] = {}

    async def write(self, pages: Sequence[Rendered]) -> None:
        changed = [page for page in pages if self.old.get(page.path) != page.sha256]
        self.stats.skipped += len(pages) - len(changed)
        if changed:
            interim = {**self.old, **self.new, **{page.path: None for page in changed}}
            # Not counted: the summary counts objects, and the manifest's final write counts it.
            await put_if_changed(
                self.store, SITE_MANIFEST_KEY, _manifest(interim, None), JSON_TYPE, SyncStats()
            )
            await _put_pages(self.store, changed, self.old, self.stats)
        self.new |= {page.path: page.sha256 for page in pages}

    async def finish(self, digest: str | None = None) -> None:
        for key in sorted(set(self.old) - set(self.new)):
            await self.store.delete(key)
        await put_if_changed(
            self.store, SITE_MANIFEST_KEY, _manifest(self.new, digest), JSON_TYPE, self.stats
        )


async def _put_pages(
    store: ObjectStore, changed: Sequence[Rendered], old: Mapping[str, str | None], stats: SyncStats
) -> None:
    limit = asyncio.Semaphore(PARALLEL_UPLOADS)

    async def put(page: Rendered) -> None:
        async with limit:
            if page.path in old:
                await put_if_changed(store, page.path, page.data, page.content_type, stats)
            else:  # a key the site never had: nothing to compare with, skip the stat
                await store.put(page.path, page.data, page.content_type)
                stats.written += 1
                stats.bytes += page.size

    leaves = [page for page in changed if page.path.startswith("site/")]
    roots = [page for page in changed if not page.path.startswith("site/")]
    for group in (leaves, roots):
        try:
            async with asyncio.TaskGroup() as tasks:
                for page in group:
                    tasks.create_task(put(page))
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None


def _manifest(objects: Mapping[str, str | None], digest: str | None) -> bytes:
    document = {"fingerprint": digest, "objects": dict(sorted(objects.items()))}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
