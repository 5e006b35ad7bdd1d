"""The site in the store: write the pages whose bytes changed, delete the pages that vanished,
and keep `site-manifest.json`, the list of the site's keys with their sha256 and the
`fingerprint` of the inputs they were rendered from (pointer objects, decisions.md D10, D12),
one part of the site at a time (`SiteSync`)."""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import orjson

from publishers.dcat import next_pages
from publishers.render import JSON_TYPE, Rendered, sha256_hex
from publishers.site_paths import SITE_MANIFEST_KEY, segment, shard_of
from publishers.sync import PARALLEL_UPLOADS, SyncStats, put_if_changed
from storage import models
from storage.enums import ReleaseStatus
from storage.objects import ObjectStore


@dataclass(frozen=True)
class SiteInputs:
    """What the site is rendered from, read once (`read_inputs`): the current version (and
    manifest) of every published release — snapshot rows change only with a new version — with
    its jurisdiction, the correction notices and the scheduled releases."""

    #: (jurisdiction, release id, version number, manifest sha256), sorted
    current: list[tuple[str, int, int, str]]
    #: (jurisdiction, id, release id, fiscal year, published at, kind, note), by id
    notices: list[tuple[Any, ...]]
    scheduled: list[tuple[Any, ...]]

    def fingerprint(
        self,
        base_url: str | None = None,
        data_license: str = "CC-BY-4.0",
        bulk_sha256: str | None = None,
    ) -> str:
        """A digest of everything the site is rendered from: these inputs, the base URL of the
        feed's links and the catalogs' IRIs, the licence and the bulk files the DCAT catalog
        names, and the renderer itself (its modules and templates)."""
        inputs = [_code_digest(), self.current, self.notices, self.scheduled]
        return sha256_hex(orjson.dumps([*inputs, base_url, data_license, bulk_sha256], default=str))

    def shard_fingerprints(
        self,
        bulk_sets: Iterable[Mapping[str, Any]],
        base_url: str | None = None,
        data_license: str = "CC-BY-4.0",
    ) -> dict[str, str]:
        """Each jurisdiction's part of `fingerprint`: what its pages are rendered from — the
        current versions of its published releases, the correction notices about it, its bulk
        sets (which its year pages list), what its DCAT catalog names (the base URL of its
        IRIs, the licence, the jurisdiction whose catalog is its next page) — and the renderer.
        A jurisdiction whose digest is the one its pages were written with is not rendered
        again (`publishers.site.update_site`)."""
        inputs: dict[str, dict[str, list[Any]]] = defaultdict(
            lambda: {"current": [], "notices": [], "bulk": []}
        )
        for code, *version in self.current:
            inputs[code]["current"].append(tuple(version))
        for code, *notice in self.notices:
            if code in inputs:
                inputs[code]["notices"].append(notice)
        for entry in bulk_sets:
            if entry["jurisdictionCode"] in inputs:
                inputs[entry["jurisdictionCode"]]["bulk"].append(entry)
        following = next_pages(inputs)
        return {
            code: sha256_hex(
                orjson.dumps(
                    [
                        _code_digest(),
                        base_url,
                        data_license,
                        following[code],
                        *(sorted(found[part], key=str) for part in found),
                    ],
                    default=str,
                )
            )
            for code, found in inputs.items()
        }


async def read_inputs() -> SiteInputs:
    """Three queries: the published releases' current versions, the notices, the schedule."""
    versions = await models.ReleaseVersion.filter(release__status=ReleaseStatus.PUBLISHED).values(
        "release_id",
        "number",
        "manifest_sha256",
        "release__current_version",
        "release__jurisdiction__code",
    )
    current = sorted(
        (v["release__jurisdiction__code"], v["release_id"], v["number"], v["manifest_sha256"])
        for v in versions
        if v["number"] == v["release__current_version"]
    )
    notices = (
        await models.CorrectionNotice.all()
        .order_by("id")
        .values_list(
            "jurisdiction__code", "id", "release_id", "fiscal_year", "published_at", "kind", "note"
        )
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
    return SiteInputs(current, [tuple(n) for n in notices], [tuple(r) for r in scheduled])


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
    it is rendered (the static objects, each jurisdiction's pages, then the portal's), `keep` a
    jurisdiction whose pages are current, then `finish`. Only one part's bytes are held at a
    time (a jurisdiction's a batch at a time); the pages that changed are written, the pages
    that vanished deleted, and
    `site-manifest.json` kept as the list of the site's keys with their sha256, the `fingerprint`
    of the inputs they were rendered from, and each jurisdiction's `shard_fingerprints` digest
    with the grade counts the index page charts (D10, D12).

    The manifest says which bytes the store holds under each key. Before a part's changed pages
    are written (a jurisdiction's: before its first batch is rendered, `mark`), they are marked
    unknown in it and no jurisdiction is claimed current, so a crash part way leaves a manifest
    that never claims bytes the store may not hold; the rerun renders every jurisdiction again
    and rewrites those keys. Within a part leaf pages go first and the root objects (index,
    feed, calendar, search index) after them, and the parts come in that order too, so a link
    appears only once its page is there; vanished pages go after every page that linked them."""

    def __init__(self, store: ObjectStore, stats: SyncStats, stored: Mapping[str, Any]) -> None:
        """`stored`: the site manifest the store holds ({} when it has none)."""
        self.store = store
        self.stats = stats
        self.old: dict[str, str | None] = dict(stored.get("objects", {}))
        #: In a jurisdiction's part (`resumed` with `only`), `old` holds that jurisdiction's
        #: entries and the portal's, and this the whole of it, packed: a city's stored
        #: manifest is ~150,000 keys, ~53 MiB as a dict in every part.
        self.whole_old: bytes | None = None
        self.held: dict[str, dict[str, Any]] = dict(stored.get("shards", {}))
        #: The keys and sha256 of the pages written since the last jurisdiction was `done`.
        self.new: dict[str, str] = {}
        #: Those of each jurisdiction done, one deflated JSON object each (`_pack`): a key and
        #: a digest held as two strings for every page of a city (~150,000) took ~250 bytes a
        #: page, left among the objects of the pages rendered after them; as JSON ~140, ~55
        #: deflated.
        self.packed: list[bytes] = []
        #: Those of each jurisdiction kept: its entries of the stored manifest, not copied.
        self.kept: list[Mapping[str, str]] = []
        self.shards: dict[str, dict[str, Any]] = {}
        #: Keys marked unknown in the stored manifest (`mark`) until `finish`.
        self.marked: set[str] = set()

    @cached_property
    def _owned(self) -> dict[str | None, dict[str, str]]:
        """The stored pages by jurisdiction, grouped once: `keep` runs for every jurisdiction
        (in the publisher, never in a part)."""
        owned: dict[str | None, dict[str, str]] = defaultdict(dict)
        for key, sha256 in self.old.items():
            if sha256 is not None:
                owned[shard_of(key)][key] = sha256
        return owned

    @cached_property
    def _handed_old(self) -> bytes:
        """The stored entries packed for the parts, once: they do not change."""
        return self.whole_old if self.whole_old is not None else _pack(self.old)

    def handed(self) -> HandedSync:
        """What a part in another process needs of this sync (`resumed`)."""
        return HandedSync(
            self._handed_old,
            self.held,
            self.marked,
            self.new,
            self.packed,
            [dict(k) for k in self.kept],
            self.shards,
        )

    @classmethod
    def resumed(
        cls, store: ObjectStore, stats: SyncStats, handed: HandedSync, only: str | None = None
    ) -> SiteSync:
        """This sync as another process holds it (`handed`), there to do one jurisdiction
        (`only`, its key segment), or the portal's objects and `finish`. A jurisdiction's part
        holds the stored entries of its own pages and the portal's: those are all it writes."""
        old = _unpack(handed.old)
        if only is not None:
            old = {key: sha for key, sha in old.items() if shard_of(key) in (only, None)}
        sync = cls(store, stats, {"objects": old, "shards": handed.held})
        del old
        if only is not None:
            sync.whole_old = handed.old
        sync.marked, sync.new, sync.packed = handed.marked, handed.new, handed.packed
        sync.kept, sync.shards = handed.kept, handed.shards
        return sync

    def part_done(self, code: str) -> PartDone:
        """What the jurisdiction done in this process (a `resumed` sync) changed: for `adopt`."""
        return PartDone(self.marked, self.packed[-1], self.shards[code], self.stats)

    def adopt(self, code: str, done: PartDone) -> None:
        """Take in a jurisdiction done in another process, as if `done` had been called here."""
        self.marked = done.marked
        self.new = {}  # in `done.packed`, as `done` would have moved them
        self.packed.append(done.packed)
        self.shards[code] = done.shard
        self.stats.add(done.stats)

    def unchanged(self, code: str, digest: str) -> bool:
        """Whether `code`'s pages in the store were rendered from inputs with this digest."""
        return self.held.get(code, {}).get("fingerprint") == digest

    def keep(self, code: str) -> dict[tuple[str, int], Counter[str]]:
        """Keep an `unchanged` jurisdiction's pages as they are; its grade counts."""
        kept = self._owned.get(segment(code), {})
        self.kept.append(kept)
        self.stats.skipped += len(kept)
        self.shards[code] = self.held[code]
        return {(code, int(y)): Counter(c) for y, c in self.held[code]["grades"].items()}

    def done(self, code: str, digest: str, grades: Mapping[tuple[str, int], Counter[str]]) -> None:
        """Record a jurisdiction whose pages have been written."""
        counts = {
            str(y): dict(sorted(c.items())) for (j, y), c in sorted(grades.items()) if j == code
        }
        self.shards[code] = {"fingerprint": digest, "grades": counts}
        # Its written pages are in `new` now, which the manifest takes before the marks: held
        # to `finish`, their marks would be a second copy of every key of the site (a city's
        # are ~150,000).
        self.marked = {key for key in self.marked if key not in self.new}
        self.packed.append(_pack(self.new))
        self.new = {}

    async def mark(self, keys: Iterable[str]) -> None:
        """Mark the keys a part's pages will be written to as unknown in the stored manifest,
        before any of them is rendered: its pages are then written a batch at a time with no
        manifest write between batches (the manifest of a city is megabytes)."""
        await self._unknown(set(keys) - self.marked)

    async def write(self, pages: Sequence[Rendered]) -> None:
        changed = [page for page in pages if self.old.get(page.path) != page.sha256]
        self.stats.skipped += len(pages) - len(changed)
        if changed:
            await self._unknown({page.path for page in changed} - self.marked)
            await _put_pages(self.store, changed, self.old, self.stats)
        self.new |= {page.path: page.sha256 for page in pages}

    async def _unknown(self, keys: set[str]) -> None:
        """Write the manifest with `keys`, and those marked before whose pages are not written
        yet, as unknown."""
        if not keys:
            return
        self.marked |= keys
        interim = dict(self.old) if self.whole_old is None else _unpack(self.whole_old)
        interim.update(dict.fromkeys(self.marked))
        self._add_written(interim)  # not merged from a second dict: a city's is ~150,000 keys
        # Not counted: the summary counts objects, and the manifest's final write counts it.
        await put_if_changed(
            self.store, SITE_MANIFEST_KEY, _manifest(interim, None, {}), JSON_TYPE, SyncStats()
        )

    def _add_written(self, found: dict[str, Any], *, spend: bool = False) -> None:
        """Add the key and sha256 of every page written or kept so far to `found`, in order (a
        later entry wins). With `spend` (`finish`), each jurisdiction's packed entries are let
        go as they are read."""
        for index, part in enumerate(self.packed):
            if spend:
                self.packed[index] = b""
            found.update(_unpack(part))
        if spend:
            self.packed.clear()
        for kept in self.kept:
            found.update(kept)
        found.update(self.new)

    async def finish(self, digest: str | None = None) -> None:
        """Delete the pages that vanished and write the manifest; the sync is spent then. Each
        jurisdiction's packed entries are let go as they are read, and no second set of the
        site's keys is made: a city's are ~150,000, and this step was its largest part's peak."""
        written: dict[str, str] = {}
        self._add_written(written, spend=True)
        for key in sorted(key for key in self.old if key not in written):
            await self.store.delete(key)
        manifest = _manifest(written, digest, self.shards)
        del written
        await put_if_changed(self.store, SITE_MANIFEST_KEY, manifest, JSON_TYPE, self.stats)


@dataclass(frozen=True)
class HandedSync:
    """A `SiteSync` as a part in another process receives it."""

    old: bytes  # packed (`_pack`)
    held: dict[str, dict[str, Any]]
    marked: set[str]
    new: dict[str, str]
    packed: list[bytes]
    kept: list[Mapping[str, str]]
    shards: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PartDone:
    """What a jurisdiction's part in another process sends back (`SiteSync.adopt`): the keys
    marked unknown now, its pages' keys and sha256 (packed), its shard entry, its counts."""

    marked: set[str]
    packed: bytes
    shard: dict[str, Any]
    stats: SyncStats


def _pack(entries: Mapping[str, str | None]) -> bytes:
    """Keys and sha256 as JSON, deflated: every part of the site is handed those of the
    jurisdictions written before it, a city's last ~20 MiB as JSON, and the stored manifest's
    (`HandedSync`)."""
    return zlib.compress(orjson.dumps(entries), 1)


def _unpack(packed: bytes) -> dict[str, Any]:
    return orjson.loads(zlib.decompress(packed))  # type: ignore[no-any-return]


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


def _manifest(
    objects: Mapping[str, str | None], digest: str | None, shards: Mapping[str, Any]
) -> bytes:
    # Sorted as they are written, not copied sorted first: a city's site is ~150,000 keys.
    document = {"fingerprint": digest, "objects": objects, "shards": shards}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
