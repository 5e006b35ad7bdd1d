"""The release workflow: check, publish, withdraw (architecture invariants 2–4; D10–D12).

A publish runs in this order, and a crash or store outage at any step leaves the previous public
state intact; rerunning completes it:

1. claim the release with a lease (publishers/lease.py: a compare-and-set UPDATE, renewed by a
   heartbeat, taken over from a dead worker);
2. select and render (pure), and stop if nothing changed since the current version;
3. upload the data and report objects that the current version does not already have;
4. write the version's manifest (an interrupted earlier attempt's manifest is reused);
5. in one database transaction, while the lease is still ours: the version row, the snapshot
   rows, the release's status;
6. after a failed or killed attempt (publishers/lease.py), delete what no manifest names;
7. regenerate the pointer objects (the catalog and the site), writing only bytes that changed.

A release that now holds records a filing covers is withdrawn on the way (publishers/
withdrawal.py): its intent is recorded before step 3, the objects holding the records are
deleted with every version and the older manifests rewritten without them, and after step 7 the
store's history is purged before the intent is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from publishers import (
    allocator,
    apart,
    bulk,
    filenames,
    history,
    redactions,
    render,
    rules,
    search,
    signing,
    site,
    withdrawal,
)
from publishers.apart import Apart
from publishers.bulk_listing import Listing
from publishers.lease import (
    DEFAULT_LEASE,
    WAIT_POLL,
    Lease,
    chain_lock,
    pointer_lock,
    worker_name,
)
from publishers.official_tables import render_official_tables
from publishers.records import facets, file_path, search_text, subject_key
from publishers.render import Rendered, dumps, jsonable, sha256_hex
from publishers.select import Selection, Selector, release_order
from publishers.sync import SyncStats, upload_objects
from publishers.withdrawal import WITHDRAWAL_NOTE
from storage import database, models
from storage.enums import CorrectionKind, RecordType, ReleaseKind, ReleaseStatus
from storage.errors import GongkaiError
from storage.objects import ObjectNotFound, ObjectStore
from storage.search_text import runs_text

CATALOG_KEY = "catalog.json"
KIND_SLUGS = {
    ReleaseKind.BUDGET: "budget",
    ReleaseKind.FINAL_ACCOUNTS: "final-accounts",
    ReleaseKind.FINANCE_ANNUAL: "finance-annual",
}
#: Releases in flight at once in `publish_many` on PostgreSQL (each also runs its uploads in
#: parallel); more adds memory without adding overlap on two cores.
PARALLEL_RELEASES = 3


class ReleaseError(GongkaiError):
    """A release cannot be published as asked."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent whole from a part of the publish in another process (publishers/apart.py):
        # rebuilt from its message and attributes, as its subclasses' __init__ take others.
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(kind: type[ReleaseError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class ReleaseRefused(ReleaseError):
    """The check found problems; nothing was written."""

    def __init__(self, release_id: int, problems: Sequence[rules.Problem]) -> None:
        lines = "; ".join(f"{p.rule} {p.record}: {p.message}" for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"release {release_id} fails its check: {lines}{more}")
        self.problems = list(problems)


class NotScheduled(ReleaseError):
    """DR-12: a DRAFT release is scheduled (`scheduleRelease`) before it is published."""


class NoteRequired(ReleaseError):
    """DR-11/DR-12: a correction (a new version with changed content) says why."""


#: The note of a version that only adds links to key-evaluation main texts published since
#: (DR-4h): the reason is the publication itself, so no one has to write it.
LINK_NOTE = "补充链接：重点评价报告正文已由财政部门公开，本版增加评价结果至正文的链接。"


class DateRefused(ReleaseError):
    """DR-6: a back-filled publication date before the release's approval, or in the future,
    would state a deadline met or missed that never was."""


class Embargoed(ReleaseError):
    """The release's publish-at time has not come: nothing of it may be uploaded yet."""


class LeaseLost(ReleaseError):
    """The worker's lease ran out and another worker took the release over: nothing was
    flipped; the other worker's run (or a rerun) completes it."""


class Claimed(ReleaseError):
    """Another worker holds the release's lease."""

    def __init__(self, release_id: int, holder: str) -> None:
        super().__init__(f"release {release_id} is being published by {holder}")
        self.release_id = release_id
        self.holder = holder


@dataclass
class PublishResult:
    release_id: int
    outcome: str  # "published", "unchanged", "exempt", "withdrawn" (the whole release)
    version: int
    stats: SyncStats = field(default_factory=SyncStats)


def release_folder(release: models.Release) -> str:
    department = release.department.code if release.department else "finance"
    return (
        f"releases/{release.jurisdiction.code}/{release.fiscal_year}/"
        f"{KIND_SLUGS[release.kind]}/{department}"
    )


def manifest_key(release: models.Release, version: int) -> str:
    return f"{release_folder(release)}/manifest.v{version}.json"


def input_digest(selection: Selection) -> str:
    """What a version is made of: every record and the sha256 of every file. Only compared with
    itself, so orjson's own encoding of dates and enums does (a `jsonable` copy of every record
    cost more than the rest of an unchanged republish)."""
    records = sorted(
        ([r.record_type.value, r.key, r.data] for r in selection.records),
        key=lambda item: (item[0], item[1]),
    )
    files = sorted(f.sha256 for f in selection.files)
    return sha256_hex(
        orjson.dumps([records, files], option=orjson.OPT_SORT_KEYS, default=_exact_decimal)
    )


def _exact_decimal(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} in a record")


def content_digest(objects: Iterable[Rendered]) -> str:
    listing = "\n".join(sorted(f"{o.path} {o.sha256}" for o in objects))
    return sha256_hex(listing.encode())


@dataclass(frozen=True)
class PublishRun:
    """One release publish as an observer sees it (`Publisher(observer=…)`; the API counts
    these as metrics): its outcome — a `PublishResult.outcome`, "refused" for a
    `ReleaseError`, "failed" for anything else — the seconds it took and what it wrote."""

    release_id: int
    outcome: str
    seconds: float
    stats: SyncStats


@dataclass
class Batch:
    """What `publish_many` did: the results, the refused releases, the releases left to
    another live worker that still held them when the wait ran out (release id, holder), and
    the writes in all."""

    results: list[PublishResult] = field(default_factory=list)
    failures: list[tuple[int, ReleaseError]] = field(default_factory=list)
    left: list[tuple[int, str]] = field(default_factory=list)
    stats: SyncStats = field(default_factory=SyncStats)


@dataclass
class WithdrawReport:
    """What `withdraw` did: the releases it republished or took out, and those it could not
    reach because a live worker holds them (release id, holder)."""

    results: list[PublishResult] = field(default_factory=list)
    blocked: list[tuple[int, str]] = field(default_factory=list)
    stats: SyncStats = field(default_factory=SyncStats)


@dataclass
class WithdrawnPlace(WithdrawReport):
    """What `withdraw` did in one jurisdiction (`Publisher._withdraw_place`), as a process of
    its own sends it back: the report, the withdrawals it took to their last per-release step
    and the publishes the observer is to be told of."""

    withdrawn: list[int] = field(default_factory=list)
    runs: list[PublishRun] = field(default_factory=list)


@dataclass
class PlaceDone:
    """What publishing one jurisdiction's releases did (`Publisher._publish_place`), as a
    process of its own sends it back: each release's outcome, the releases left to another
    live worker (id → holder), the withdrawals it took to their last per-release step, and
    the publishes the observer is to be told of."""

    outcomes: dict[int, PublishResult | ReleaseError] = field(default_factory=dict)
    left: dict[int, str] = field(default_factory=dict)
    withdrawn: list[int] = field(default_factory=list)
    runs: list[PublishRun] = field(default_factory=list)


class Publisher:
    """Publishes releases to one object store. `clock` is injectable (decisions.md D3);
    `base_url` is where the public reads the store, for the absolute links of the catalog, feed
    and calendar; `parallel` overrides how many releases `publish_many` keeps in flight;
    `wait` is how long (real time) `publish_many` waits for a release that another live worker
    is publishing before it leaves the release to that worker; `signer` signs what it
    publishes (publishers/signing.py); `apart` runs each jurisdiction's part of a batch in a
    process of its own (publishers/apart.py), so that a city's publish takes the memory of its
    largest jurisdiction."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        data_license: str = "CC-BY-4.0",
        worker: str | None = None,
        clock: Callable[[], datetime] | None = None,
        lease: timedelta = DEFAULT_LEASE,
        parallel: int | None = None,
        base_url: str | None = None,
        observer: Callable[[PublishRun], None] | None = None,
        wait: timedelta = DEFAULT_LEASE,
        signer: signing.Signer | None = None,
        apart: Apart | None = None,
    ) -> None:
        self.store = store
        #: where set, `publish_many` publishes each jurisdiction's releases, and the pointer
        #: step renders each jurisdiction's pages, in a process of its own (publishers/apart.py)
        self.apart = apart
        #: signs every manifest, redaction and catalog (issue 16); None: nothing is signed
        self.signer = signer
        self._key_checked = False
        #: one task of this process at a time per jurisdiction chain (then `chain_lock`)
        self._chains: dict[int, asyncio.Lock] = {}
        self.wait = wait
        #: told of every release publish (metrics); the publisher imports nothing of them
        self.observer = observer
        self.parallel = parallel
        self.base_url = base_url
        self.data_license = data_license
        self.worker = worker or worker_name()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = Lease(self.worker, self.clock, lease)
        self.selector = Selector()
        #: Withdrawals whose per-release steps this run completed: closed once the pointer
        #: objects are rewritten and the store's history is purged (`write_pointers`).
        self._withdrawn: list[int] = []
        #: The bytes this run uploaded, spooled to disk by key until the pointers are written:
        #: the bulk files (`publishers/bulk.py`) take them from there instead of reading them
        #: back, and a district's objects are not held in memory for the whole run.
        self._uploaded = bulk.Spool()
        self._open: set[int] | None = None

    # --- check -----------------------------------------------------------------------------

    async def check(self, release_id: int) -> Selection:
        """Everything a publish would decide, with every problem, and nothing written."""
        return await self.selector.select(await load_release(release_id))

    # --- publish ---------------------------------------------------------------------------

    async def publish(
        self,
        release_id: int,
        *,
        as_of: datetime | None = None,
        note: str | None = None,
        pointers: bool = True,
    ) -> PublishResult:
        return await self._publish(await load_release(release_id), as_of, note, pointers)

    async def _publish(
        self,
        release: models.Release,
        as_of: datetime | None,
        note: str | None,
        pointers: bool,
        *,
        withdrawing: bool = False,
    ) -> PublishResult:
        """`_publish_observed`, timed and told to the observer whatever its outcome."""
        if self.observer is None:
            return await self._publish_observed(
                release, as_of, note, pointers, withdrawing=withdrawing
            )
        started = time.perf_counter()
        outcome: str | None = "failed"
        stats = SyncStats()
        try:
            result = await self._publish_observed(
                release, as_of, note, pointers, withdrawing=withdrawing
            )
            outcome, stats = result.outcome, result.stats
            return result
        except Claimed:
            outcome = None  # another worker's publish, not a run of this one
            raise
        except ReleaseError:
            outcome = "refused"
            raise
        finally:
            if outcome is not None:
                seconds = time.perf_counter() - started
                self.observer(PublishRun(release.id, outcome, seconds, stats))

    async def _publish_observed(
        self,
        release: models.Release,
        as_of: datetime | None,
        note: str | None,
        pointers: bool,
        *,
        withdrawing: bool = False,
    ) -> PublishResult:
        """Publish one release. `withdrawing` (from `withdraw`) ignores the embargo: a release
        that is public already must lose a filed record at once."""
        release_id = release.id
        now = self.clock()
        if not withdrawing and release.status is ReleaseStatus.DRAFT:
            raise NotScheduled(
                f"release {release_id} is DRAFT: schedule it before publishing (DR-12)"
            )
        if as_of is not None:
            _check_as_of(release, as_of, now)
        if not withdrawing and release.publish_at is not None and release.publish_at > now:
            raise Embargoed(f"release {release_id} is embargoed until {release.publish_at}")
        unchanged = await self._unchanged(release)
        if unchanged is not None:
            stats = SyncStats(skipped=unchanged.objects)  # so that written + unchanged add up
            result = PublishResult(release_id, "unchanged", release.current_version, stats)
        else:
            claim = await self.lease.claim(release_id)
            if not claim.taken:
                raise Claimed(release_id, claim.holder)
            clean = False
            try:
                async with self.lease.heartbeat(release_id):
                    # What another worker published before our claim is the version to follow.
                    await release.refresh_from_db(
                        fields=["status", "current_version", "published_at"]
                    )
                    result = await self._publish_claimed(
                        release,
                        as_of or now,
                        note,
                        sweep=claim.after_failure,
                        backfilled=as_of is not None,
                    )
                clean = True
            finally:
                await self.lease.release(release_id, clean=clean)
        if pointers:
            await self.write_pointers(result.stats)
        return result

    async def _unchanged(self, release: models.Release) -> models.ReleaseVersion | None:
        """Whether the current version holds exactly what a publish would select now: a
        read-only look before claiming, so an unchanged republish writes nothing, not even a
        lease. Anything else (a change, a withdrawal, a problem) goes on to the claimed path,
        which decides again under the lease. Returns the current version when unchanged."""
        if not release.current_version or release.id in await self._open_withdrawals():
            return None
        selection = await self.selector.select(release)
        if selection.exempt or selection.problems:
            return None
        current = await models.ReleaseVersion.get_or_none(
            release_id=release.id, number=release.current_version
        )
        if current is None or current.input_sha256 != input_digest(selection):
            return None
        return None if await self._withdrawn_keys(release, selection) else current

    async def _open_withdrawals(self) -> set[int]:
        """Releases with an unfinished withdrawal, read once per publisher: the look before a
        claim asks for every release, and the claimed path asks again under the lease."""
        if self._open is None:
            rows = await models.Withdrawal.filter(finished_at__isnull=True).values_list(
                "release_id", flat=True
            )
            self._open = {int(str(r)) for r in rows}
        return self._open

    async def _publish_claimed(
        self,
        release: models.Release,
        published_at: datetime,
        note: str | None,
        *,
        sweep: bool,
        backfilled: bool = False,
    ) -> PublishResult:
        """Steps 2–6 under the lease. `sweep`: the last attempt failed, so objects it uploaded
        may lie in the folder that no manifest names; a withdrawal sweeps as well."""
        stats = SyncStats()
        folder = release_folder(release)
        selection = await self.selector.select(release)
        if selection.exempt:
            if not release.current_version and not await withdrawal.pending(release.id):
                return PublishResult(release.id, "exempt", 0, stats)
            await self._withdraw_whole(release, published_at, stats)
            return PublishResult(release.id, "withdrawn", 0, stats)
        if selection.problems:
            raise ReleaseRefused(release.id, selection.problems)
        # A key that is not the bucket's is refused before anything is written.
        await self._check_key(stats)

        # A withdrawal (D12) first records what it will delete, then deletes it and rewrites
        # the older manifests; the version published below is the one without the records.
        withdrawn = await self._withdrawn_keys(release, selection)
        intent = await withdrawal.pending(release.id)
        if intent is not None:  # what an interrupted run found, and may have removed already
            withdrawn |= set(intent.record_keys)
        if withdrawn or intent is not None:
            intent = await withdrawal.record_intent(
                self.store, release.id, folder, withdrawn, whole=False, worker=self.worker
            )
            doomed = set(intent.object_keys)
            await withdrawal.delete_objects(self.store, doomed, stats)
            await withdrawal.rewrite_manifests(
                self.store,
                release.id,
                folder,
                doomed,
                stats,
                signer=self.signer,
                redact=lambda entries: self._redact(release, entries, stats),
            )
            note = note or WITHDRAWAL_NOTE

        result = await self._publish_version(
            release,
            selection,
            published_at,
            note,
            stats,
            withdrawn if intent is not None else None,
            backfilled=backfilled,
        )
        if sweep or intent is not None:
            await withdrawal.remove_orphans(self.store, release.id, folder, stats)
        if sweep:
            # A killed upload leaves a folder store's half-written temporary file behind.
            stats.deleted += await self.store.remove_abandoned(folder)
        if intent is not None:
            self._withdrawn.append(intent.id)
            withdrawal.step("republished", release.id)
        return result

    async def _publish_version(
        self,
        release: models.Release,
        selection: Selection,
        published_at: datetime,
        note: str | None,
        stats: SyncStats,
        withdrawn: set[str] | None,
        *,
        backfilled: bool = False,
    ) -> PublishResult:
        """Steps 2–5: a new version unless the current one holds the same input, or the same
        content (not while withdrawing: the current version has lost objects). `withdrawn`:
        while withdrawing, the record keys that go (from every version's history too)."""
        withdrawing = withdrawn is not None
        current = await models.ReleaseVersion.get_or_none(
            release_id=release.id, number=release.current_version
        )
        # Rendering is a pure function of the records and files: the same input, already
        # published, needs no rendering to know that nothing changed. (While a record is being
        # withdrawn, the current version still holds it, so its input differs.)
        inputs = input_digest(selection)
        if current is not None and current.input_sha256 == inputs:
            stats.skipped += current.objects
            return PublishResult(release.id, "unchanged", current.number, stats)
        objects = render_release(selection) + await file_objects(selection.files)
        digest = content_digest(objects)
        if current is not None and current.content_sha256 == digest and not withdrawing:
            await models.ReleaseVersion.filter(id=current.id).update(input_sha256=inputs)
            stats.skipped += current.objects
            return PublishResult(release.id, "unchanged", current.number, stats)

        if current is not None and not withdrawing and not (note or "").strip():
            if not await _only_new_report_links(release, selection):
                raise NoteRequired(
                    f"release {release.id}: version {current.number + 1} changes what version "
                    f"{current.number} published; a correction needs its reason (--note)"
                )
            note = LINK_NOTE
        known = await self._manifest_objects(current.manifest_key) if current else {}
        version = release.current_version + 1
        package = self._datapackage(release, selection, objects, version)
        folder = release_folder(release)
        uploads = [*objects, package]
        meta = release_meta(release) | {"ownerName": release.jurisdiction.finance_authority_name}
        names = filenames.dispositions(meta, uploads)  # issue #15: readable download names
        await upload_objects(self.store, folder, uploads, known, stats, names)
        async with self.chain(release.jurisdiction.id):
            links = await chain_links(release, current)
            manifest = await self._write_manifest(
                release,
                [*objects, package],
                version,
                published_at,
                (digest, note),
                links,
                stats,
            )
            await _flip(
                self.lease,
                release,
                selection,
                version,
                published_at,
                manifest,
                (digest, inputs),
                note,
                withdrawn,
                signed=self.signer is not None,
                worker=self.worker if backfilled else None,
            )
        await asyncio.to_thread(self._uploaded.add_all, [*uploads, manifest])
        return PublishResult(release.id, "published", version, stats)

    @contextlib.asynccontextmanager
    async def chain(self, jurisdiction_id: int) -> AsyncIterator[None]:
        """A jurisdiction's chain, this process's tasks one at a time, then other processes."""
        async with (
            self._chains.setdefault(jurisdiction_id, asyncio.Lock()),
            chain_lock(jurisdiction_id),
        ):
            yield

    async def _redact(
        self, release: models.Release, entries: list[dict[str, Any]], stats: SyncStats
    ) -> None:
        await self._check_key(stats)
        async with self.chain(release.jurisdiction.id):
            await redactions.add(self.store, release.jurisdiction.code, entries, self.signer, stats)

    async def _check_key(self, stats: SyncStats) -> None:
        if self.signer is not None and not self._key_checked:
            await signing.ensure_key(self.store, self.signer, stats)
            self._key_checked = True

    async def publish_many(
        self,
        release_ids: Sequence[int],
        *,
        as_of: Callable[[models.Release], datetime | None] | None = None,
        note: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Batch:
        """Publish several releases, going on past refused ones, then write the pointer
        objects once. `as_of` gives each release its back-filled publication time.

        On PostgreSQL a few releases are in flight at once, so that one's selection, rendering
        and database flip overlap another's uploads (a district publish is mostly waiting on
        the store). SQLite has one connection for every task, and a transaction there would
        take in the other tasks' statements: it publishes one release at a time.

        With `apart`, each jurisdiction's releases are published in a process of its own, one
        jurisdiction after another; the pointers are written here, once."""
        outcomes: dict[int, PublishResult | ReleaseError] = {}
        left: dict[int, str] = {}
        loaded = {
            r.id: r
            for r in await models.Release.filter(id__in=list(release_ids)).select_related(
                "jurisdiction", "department"
            )
        }
        # Jurisdiction by jurisdiction, letting go of each one's facts before the next is
        # read: a run over a city's sixteen districts holds one district's facts at a time.
        places = _by_place(release_ids, {i: r.jurisdiction_id for i, r in loaded.items()})
        for place, ids in places.items():
            when = {i: as_of(loaded[i]) if as_of else None for i in ids if i in loaded}
            if self.apart is not None and place is not None:
                # In a process of its own, which gives back all it took when it exits.
                spool = self._uploaded.root
                done = await apart.run(
                    self.apart, self.worker, _place_apart, place, ids, when, note, spool
                )
                self._take_part(done.withdrawn, done.runs)
                if progress is not None:
                    for release_id in ids:
                        progress(release_id)
            else:
                done = await self._publish_place(place, ids, loaded, when, note, progress)
            outcomes |= done.outcomes
            left |= done.left
            # The planner sees each jurisdiction's new rows before the next one's are
            # written: the public API answers from them while a city's batch goes on for
            # half an hour, and the pointer step reads them. Measured on a city three
            # jurisdictions in, before autovacuum had come round: a search's plan expected
            # 1,732 subjects where there were 180,571, and took 1.26 s instead of 11 ms.
            if any(_changed(outcomes.get(i)) for i in ids):
                await refresh_statistics()
        batch = Batch()
        for release_id in release_ids:
            if release_id in left:
                batch.left.append((release_id, left[release_id]))
                continue
            outcome = outcomes[release_id]
            if isinstance(outcome, ReleaseError):
                batch.failures.append((release_id, outcome))
            else:
                batch.results.append(outcome)
                batch.stats.add(outcome.stats)
        # A batch whose every release was refused writes nothing, not even the pointers: they
        # would only say what was public before (item 8 of issue 20).
        if batch.results or self._withdrawn:
            await self.write_pointers(batch.stats)
        return batch

    async def _publish_place(
        self,
        place: int | None,
        ids: Sequence[int],
        loaded: Mapping[int, models.Release],
        when: Mapping[int, datetime | None],
        note: str | None,
        progress: Callable[[int], None] | None = None,
    ) -> PlaceDone:
        """Publish one jurisdiction's releases (`publish_many`), then let go of its facts."""
        done = PlaceDone()
        limit = asyncio.Semaphore(self.parallel_releases())

        async def one(release_id: int) -> None:
            async with limit:
                try:
                    release = loaded.get(release_id)
                    if release is None:
                        raise ReleaseError(f"no release with id {release_id}")
                    outcome = await self._publish_or_wait(release, when[release_id], note)
                    done.outcomes[release_id] = outcome
                except Claimed as claimed:
                    done.left[release_id] = claimed.holder
                except ReleaseError as error:
                    done.outcomes[release_id] = error
            if progress:
                progress(release_id)

        # The finance authority's releases go first: a final-accounts release links a key
        # evaluation to its main text only once that text is public (DR-4h), so in one batch
        # the link is there from the first version.
        finance = [i for i in ids if _kind(loaded.get(i)) is ReleaseKind.FINANCE_ANNUAL]
        # The departments' releases by year, kind and department: the selector then holds a
        # few parts of a year's rows at a time, whatever the jurisdiction's size. (An unknown
        # id, with no place, fails on its own.)
        others = sorted(
            set(ids) - set(finance),
            key=lambda i: release_order(loaded[i]) if i in loaded else (0, "", 0, i),
        )
        try:  # an unexpected failure (the store, the database) stops the batch
            for phase in (finance, others):
                async with asyncio.TaskGroup() as group:
                    for release_id in phase:
                        group.create_task(one(release_id))
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None
        if place is not None:
            self.selector.forget(place)
            allocator.trim()  # what it read lies below what the next one will read
        return done

    async def _publish_or_wait(
        self, release: models.Release, as_of: datetime | None, note: str | None
    ) -> PublishResult:
        """Publish, and while another live worker holds the release (a publisher on another
        cron host, or one started by hand), wait for it: once it lets go the release is looked
        at again, and is then found unchanged (that worker published it), or claimed here (it
        failed, or its lease ran out: the claim sweeps after it). Still held after `wait`:
        `Claimed`, and the release is that worker's. Not a failure of this run either way."""
        deadline = time.monotonic() + self.wait.total_seconds()
        while True:
            try:
                return await self._publish(release, as_of, note, pointers=False)
            except Claimed:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(min(WAIT_POLL.total_seconds(), self.wait.total_seconds()))
            release = await load_release(release.id)  # what the other worker published

    def parallel_releases(self) -> int:
        if self.parallel is not None:
            return self.parallel
        return PARALLEL_RELEASES if database.dialect() == "postgres" else 1

    async def due(self) -> list[int]:
        """Scheduled releases whose publish-at time has come (or that have none)."""
        now = self.clock()
        rows = (
            await models.Release.filter(
                Q(status=ReleaseStatus.SCHEDULED)
                & (Q(publish_at__isnull=True) | Q(publish_at__lte=now))
            )
            .order_by("id")
            .values_list("id", flat=True)
        )
        return [int(str(r)) for r in rows]

    # --- withdraw --------------------------------------------------------------------------

    async def withdraw(self, release_ids: Sequence[int] | None = None) -> WithdrawReport:
        """Enforce filings added after publication (D12): every published release whose
        current records a filing now covers, and every release whose earlier withdrawal did not
        finish, is republished without them (or taken out whole). A release that a live worker
        holds is reported and skipped, and the run goes on with the others."""
        if release_ids is None:
            published = models.Release.filter(status=ReleaseStatus.PUBLISHED)
            unfinished = models.Withdrawal.filter(finished_at__isnull=True)
            ids = {int(str(i)) for i in await published.values_list("id", flat=True)}
            ids |= {int(str(i)) for i in await unfinished.values_list("release_id", flat=True)}
            release_ids = sorted(ids)
        # A jurisdiction at a time, as `publish_many` does: every published release is selected
        # again, and a city's facts at once would be the memory of all its districts.
        found = await models.Release.filter(id__in=list(release_ids)).values_list(
            "id", "jurisdiction_id"
        )
        places = _by_place(release_ids, {int(str(i)): int(str(j)) for i, j in found})
        report = WithdrawReport()
        for place, in_place in places.items():
            if self.apart is not None and place is not None:
                # In a process of its own, which gives back all it took when it exits.
                spool = self._uploaded.root
                done = await apart.run(
                    self.apart, self.worker, _withdraw_apart, place, in_place, spool
                )
                self._take_part(done.withdrawn, done.runs)
            else:
                done = await self._withdraw_place(place, in_place)
            report.results += done.results
            report.blocked += done.blocked
            report.stats.add(done.stats)
        await self.write_pointers(report.stats)
        return report

    def _take_part(self, withdrawn: list[int], runs: list[PublishRun]) -> None:
        """Take in what a part in another process did that this publisher finishes: the
        withdrawals it took to their last per-release step (closed after the pointers), and
        its publishes, which the observer is told of as if they were done here."""
        self._withdrawn += withdrawn
        if self.observer is not None:
            for run in runs:
                self.observer(run)

    async def _withdraw_place(self, place: int | None, ids: Sequence[int]) -> WithdrawnPlace:
        """`withdraw` one jurisdiction's releases, then let go of its facts."""
        done = WithdrawnPlace()
        for release_id in ids:
            release = await load_release(release_id)
            selection = await self.selector.select(release)
            due = (selection.exempt and release.current_version) or await self._withdrawn_keys(
                release, selection
            )
            if not due and await withdrawal.pending(release_id) is None:
                continue
            try:
                result = await self._publish(release, None, None, pointers=False, withdrawing=True)
            except Claimed as claimed:
                done.blocked.append((release_id, claimed.holder))
                continue
            done.results.append(result)
            done.stats.add(result.stats)
        if place is not None:
            self.selector.forget(place)
            allocator.trim()
        return done

    async def _withdrawn_keys(self, release: models.Release, selection: Selection) -> set[str]:
        """Record keys public in any version of this release that a filing covers: those the
        new selection drops while their subject (or, for a file, what it is about) is filed."""
        if not release.current_version:
            return set()
        prefixes = await self._covered_prefixes(release)
        if not prefixes:
            return set()
        kept = {r.key for r in selection.records}
        # Every version's rows, not only the current one's: a record a correction dropped
        # before its filing is still in an older version, and in that version's objects.
        rows = await (
            models.DisclosureVersion.filter(release_id=release.id)
            .distinct()
            .values("record_key", "record_type", "subject_key")
        )
        dropped = [row for row in rows if row["record_key"] not in kept]
        # What a file is about is in its record's data: read only for the files dropped.
        files = [r["record_key"] for r in dropped if r["record_type"] == RecordType.FILE]
        about_file = {
            row["record_key"]: row["data"].get("aboutKey")
            for row in await models.DisclosureVersion.filter(
                release_id=release.id, record_type=RecordType.FILE, record_key__in=files
            ).values("record_key", "data")
        }
        withdrawn = set()
        for row in dropped:
            key = row["record_key"]
            about = about_file.get(key) or row["subject_key"] or key
            if any(_under(k, p) for k in (key, about) for p in prefixes):
                withdrawn.add(key)
        return withdrawn

    async def _covered_prefixes(self, release: models.Release) -> set[str]:
        year = release.fiscal_year - (1 if release.kind is ReleaseKind.FINANCE_ANNUAL else 0)
        facts = await self.selector.year_facts(release.jurisdiction.id, year)
        code = release.jurisdiction.code
        covered = (facts.subjects[sid] for sid in facts.coverage.covered_subject_ids())
        if release.department_id is not None:  # a department's release holds only its own
            family = facts.coverage.department_with_units(release.department_id)
            covered = (s for s in covered if s.department_id in family)
        return {
            subject_key(
                code, facts.departments[s.department_id].code, str(s.kind), s.code, s.fiscal_year
            )
            for s in covered
        }

    async def _withdraw_whole(
        self, release: models.Release, when: datetime, stats: SyncStats
    ) -> None:
        """The whole department is filed now: every object of every version goes, then the
        snapshot rows and the versions, and a notice that names no one is left (D7)."""
        folder = release_folder(release)
        intent = await withdrawal.record_intent(
            self.store, release.id, folder, set(), whole=True, worker=self.worker
        )
        await withdrawal.redact_whole(
            self.store, release.id, lambda entries: self._redact(release, entries, stats)
        )
        await withdrawal.delete_objects(self.store, intent.object_keys, stats)
        async with in_transaction() as connection:
            if not await self.lease.holds(release.id, connection):
                raise LeaseLost(f"release {release.id}: the lease was lost; rerun withdraw")
            if await models.ReleaseVersion.filter(release_id=release.id).exists():
                await models.Disclosure.filter(release_id=release.id).delete()
                await models.DisclosureVersion.filter(release_id=release.id).delete()
                await models.ReleaseVersion.filter(release_id=release.id).delete()
                await models.CorrectionNotice.filter(release_id=release.id).delete()
                await models.CorrectionNotice.create(
                    jurisdiction_id=release.jurisdiction.id,
                    release=None,
                    fiscal_year=release.fiscal_year,
                    published_at=when,
                    kind=CorrectionKind.WITHDRAWAL,
                    note=WITHDRAWAL_NOTE,
                )
                await models.Release.filter(id=release.id).update(
                    status=ReleaseStatus.DRAFT, current_version=0, published_at=None
                )
        withdrawal.step("republished", release.id)
        await withdrawal.remove_orphans(self.store, release.id, folder, stats)
        self._withdrawn.append(intent.id)

    # --- manifest, data package, catalog ---------------------------------------------------

    def _datapackage(
        self,
        release: models.Release,
        selection: Selection,
        objects: Sequence[Rendered],
        version: int,
    ) -> Rendered:
        meta = release_meta(release)
        name = "gongkai-" + release_folder(release).removeprefix("releases/").replace("/", "-")
        return render.datapackage(
            name.lower(),
            meta["title"],
            version,
            self.data_license,
            "预算绩效信息公开数据包。金额单位：元。"
            + ("本数据为演示数据。" if meta["demo"] else ""),
            objects,
        )

    async def _write_manifest(
        self,
        release: models.Release,
        objects: Sequence[Rendered],
        version: int,
        published_at: datetime,
        content: tuple[str, str | None],
        links: dict[str, str | None],
        stats: SyncStats,
    ) -> Rendered:
        """The version's manifest and its signature. `content` is the listing digest and the
        correction note; `links` the chain (`chain_links`)."""
        digest, note = content
        key = manifest_key(release, version)
        try:
            data: bytes | None = await self.store.get(key)
        except ObjectNotFound:
            data = None
        earlier: dict[str, Any] = orjson.loads(data) if data is not None else {}
        if (
            data is not None
            and earlier.get("contentSha256") == digest
            and earlier.get("chain") == links
        ):
            # An interrupted attempt wrote this manifest: complete that publish as it was. (Its
            # chain must still be the head's: another release may have been published since.)
            await signing.put_signed(self.store, key, data, render.JSON_TYPE, self.signer, stats)
            return Rendered(key, data, render.JSON_TYPE, sha256_hex(data))
        folder = release_folder(release)
        document = {
            "release": release_meta(release),
            "version": version,
            "publishedAt": published_at.astimezone(rules.SHANGHAI),
            "onTime": not rules.is_late(published_at, release.due_date),
            "contentSha256": digest,
            "correctionNote": note,
            "supersedes": manifest_key(release, version - 1).rsplit("/", 1)[-1]
            if version > 1
            else None,
            "chain": links,
            "datapackage": f"datapackage.v{version}.json",
            "objects": [
                {
                    "key": f"{folder}/{o.path}",
                    "path": o.path,
                    "title": o.title,
                    "contentType": o.content_type,
                    "bytes": o.size,
                    "sha256": o.sha256,
                }
                for o in sorted(objects, key=lambda o: o.path)
            ],
        }
        data = dumps(document)
        await signing.put_signed(self.store, key, data, render.JSON_TYPE, self.signer, stats)
        return Rendered(key, data, render.JSON_TYPE, sha256_hex(data))

    async def _manifest_objects(self, key: str) -> dict[str, str]:
        try:
            manifest = orjson.loads(await self.store.get(key))
        except ObjectNotFound:
            return {}
        return {e["key"]: e["sha256"] for e in manifest["objects"] if not e.get("withdrawn")}

    async def write_pointers(self, stats: SyncStats) -> None:
        """Regenerate the pointer objects from the database — the catalog, then the open-data
        site (pages, feed, calendar, search index) — writing only bytes that changed and
        deleting the pages of releases that vanished (D10, D12). After a withdrawal, the
        earlier versions of every rewritten object still hold what was withdrawn: the store's
        history is purged, and only then are the withdrawals closed. Workers in other
        processes write them one at a time (`pointer_lock`)."""
        async with pointer_lock():
            # The bulk files first (issue #15): the catalogs list them.
            uploaded, self._uploaded = self._uploaded, bulk.Spool()
            try:
                listing = await bulk.update_bulk(
                    self.store,
                    stats,
                    base_url=self.base_url,
                    data_license=self.data_license,
                    uploaded=uploaded,
                )
            finally:
                uploaded.close()
            await self._check_key(stats)
            await signing.put_signed(
                self.store,
                CATALOG_KEY,
                await catalog_bytes(self.base_url, listing),
                render.JSON_TYPE,
                self.signer,
                stats,
            )
            await site.update_site(
                self.store,
                stats,
                base_url=self.base_url,
                data_license=self.data_license,
                bulk_sha256=listing.sha256,
                apart_in=self.apart,
                worker=self.worker,
            )
            # Pages are written in parallel: a process killed among them leaves a folder
            # store's temporary files beside them, which the next writer of the pointers removes.
            stats.deleted += await self.store.remove_abandoned()
        withdrawal.step("pointers-written")
        if self._withdrawn:
            stats.deleted += await self.store.purge_history()
            withdrawal.step("history-purged")
            await withdrawal.close(self._withdrawn, self.clock())
            self._withdrawn.clear()


async def _place_apart(
    publisher: Publisher,
    place: int,
    ids: Sequence[int],
    when: Mapping[int, datetime | None],
    note: str | None,
    spool: Path,
) -> PlaceDone:
    """`Publisher._publish_place` in a process of its own (`publishers/apart.py`): `publisher`
    is the parent's twin; what it uploads is spooled into the parent's spool folder, where the
    bulk step looks for it."""
    runs: list[PublishRun] = []
    publisher.observer = runs.append
    publisher._uploaded = bulk.Spool(spool)
    loaded = {
        r.id: r
        for r in await models.Release.filter(id__in=list(ids)).select_related(
            "jurisdiction", "department"
        )
    }
    done = await publisher._publish_place(place, ids, loaded, when, note)
    done.withdrawn, done.runs = publisher._withdrawn, runs
    return done


async def _withdraw_apart(
    publisher: Publisher, place: int, ids: Sequence[int], spool: Path
) -> WithdrawnPlace:
    """`Publisher._withdraw_place` in a process of its own, as `_place_apart` is for a
    publish: what it uploads goes to the parent's spool, for the bulk step."""
    runs: list[PublishRun] = []
    publisher.observer = runs.append
    publisher._uploaded = bulk.Spool(spool)
    done = await publisher._withdraw_place(place, ids)
    done.withdrawn, done.runs = publisher._withdrawn, runs
    return done


def _by_place(
    release_ids: Sequence[int], place_of: Mapping[int, int]
) -> dict[int | None, list[int]]:
    """Release ids by jurisdiction (`place_of`: each known release's), in their order; an id of
    no release under None, to fail on its own."""
    places: dict[int | None, list[int]] = {}
    for release_id in release_ids:
        places.setdefault(place_of.get(release_id), []).append(release_id)
    return places


def _changed(outcome: PublishResult | ReleaseError | None) -> bool:
    """Whether a release's publish wrote snapshot rows (a new version)."""
    return isinstance(outcome, PublishResult) and outcome.outcome != "unchanged"


async def refresh_statistics() -> None:
    """After a batch of publishes, let PostgreSQL's planner see the new snapshot rows: without
    statistics it picks plans for empty tables and public queries slow down a hundredfold until
    autovacuum comes round."""
    if database.dialect() == "postgres":
        await connections.get("default").execute_script(
            "ANALYZE disclosure; ANALYZE search_gram; ANALYZE disclosure_version;"
        )


def render_release(selection: Selection) -> list[Rendered]:
    by_type: dict[RecordType, list[render.Record]] = {}
    for record in selection.records:
        by_type.setdefault(record.record_type, []).append(record)
    objects: list[Rendered] = []
    for record_type in sorted(by_type, key=lambda t: t.value):
        objects += render.render_records(record_type, by_type[record_type])
    return objects + render_official_tables(selection.records)


async def file_objects(files: Sequence[models.StoredFile]) -> list[Rendered]:
    contents = {
        c.sha256: c.data
        for c in await models.FileContent.filter(sha256__in=sorted({f.sha256 for f in files}))
    }
    seen: dict[str, Rendered] = {}
    for stored in files:
        data = bytes(contents[stored.sha256])
        seen[stored.sha256] = Rendered(
            file_path(stored), data, stored.content_type, sha256_hex(data), title=stored.title
        )
    return [seen[k] for k in sorted(seen)]


def release_meta(release: models.Release) -> dict[str, Any]:
    jurisdiction, department = release.jurisdiction, release.department
    owner = department.name if department else jurisdiction.finance_authority_name
    title = f"{owner}{release.fiscal_year}年度{release.kind.label}"
    if jurisdiction.is_demo:
        title = f"【演示数据】{title}"
    return {
        "key": release_folder(release).removeprefix("releases/"),
        "title": title,
        "kind": release.kind.value,
        "kindLabel": release.kind.label,
        "fiscalYear": release.fiscal_year,
        "jurisdictionCode": jurisdiction.code,
        "jurisdictionName": jurisdiction.name,
        "departmentCode": department.code if department else None,
        "departmentName": department.name if department else None,
        "approvalDate": release.approval_date.isoformat(),
        "dueDate": release.due_date.isoformat(),
        "demo": jurisdiction.is_demo,
    }


async def chain_links(
    release: models.Release, current: models.ReleaseVersion | None
) -> dict[str, str | None]:
    """The links of a new manifest (issue 16): the sha256 of the release's current manifest and
    of the jurisdiction's newest (the last flipped, under `chain_lock`). Digests only: a link
    never names a release, so one withdrawn whole leaves no name behind in its neighbours."""
    head = (
        await models.ReleaseVersion.filter(release__jurisdiction_id=release.jurisdiction.id)
        .order_by("-id")
        .first()
        .values_list("manifest_sha256", flat=True)
    )
    return {
        "previousVersion": current.manifest_sha256 if current is not None else None,
        "previousInJurisdiction": str(head) if head else None,
    }


def release_entry(
    release: models.Release, versions: Sequence[models.ReleaseVersion]
) -> dict[str, Any]:
    """A published release as the catalog and its RELEASE snapshot row describe it."""
    ordered = sorted(versions, key=lambda v: v.number)
    first, current = ordered[0], ordered[-1]
    return {
        **release_meta(release),
        "publishedAt": first.published_at.astimezone(rules.SHANGHAI),
        "onTime": not rules.is_late(first.published_at, release.due_date),
        "currentVersion": current.number,
        "manifest": current.manifest_key,
        "datapackage": current.manifest_key.replace("manifest.", "datapackage."),
        "versions": [
            {
                "number": v.number,
                "publishedAt": v.published_at.astimezone(rules.SHANGHAI),
                "manifest": v.manifest_key,
                "correctionNote": v.correction_note,
                "kind": v.kind.value,
                "kindLabel": v.kind.label,
            }
            for v in ordered
        ],
    }


async def catalog_bytes(base_url: str | None = None, listing: Listing | None = None) -> bytes:
    """The catalog of every published release, with its versions, the correction notices and
    the bulk files (`publishers/bulk.py`: each file's key, `latest/` key, bytes and sha256).
    Keys are relative to the bucket root; under a public `base_url` each release also gets the
    absolute addresses of its manifest and data package (D17), and each bulk file its URLs."""
    published = models.Release.filter(status=ReleaseStatus.PUBLISHED)
    entries = []
    heads: dict[str, tuple[int, str]] = {}  # jurisdiction → its newest version's id and digest
    # A jurisdiction's releases at a time: as models with their versions they took ~3 KB each
    # beside their entries (~18 MiB for a city's 6,001, held to the end of the document).
    for jurisdiction_id in sorted(
        await published.distinct().values_list("jurisdiction_id", flat=True)
    ):
        releases = await published.filter(jurisdiction_id=jurisdiction_id).prefetch_related(
            "jurisdiction", "department", "versions"
        )
        for release in releases:
            entry = release_entry(release, list(release.versions))
            # what `gongkai verify` checks each manifest's bytes against (issue 16)
            digests = {v.number: v.manifest_sha256 for v in release.versions}
            for listed in entry["versions"]:
                listed["manifestSha256"] = digests[listed["number"]]
            entries.append(jsonable(entry))
            for version in release.versions:
                code = release.jurisdiction.code
                if code not in heads or version.id > heads[code][0]:
                    heads[code] = (version.id, version.manifest_sha256)
        del releases
    if base_url:
        root = base_url.rstrip("/")
        for entry in entries:
            entry["manifestUrl"] = f"{root}/{quote(entry['manifest'])}"
            entry["datapackageUrl"] = f"{root}/{quote(entry['datapackage'])}"
    notices = await models.CorrectionNotice.all().prefetch_related("jurisdiction")
    notice_entries = [
        {
            "jurisdictionCode": n.jurisdiction.code,
            "fiscalYear": n.fiscal_year,
            "date": n.published_at.astimezone(rules.SHANGHAI).date(),
            "kind": n.kind.value,
            "kindLabel": n.kind.label,
            "note": n.note,
        }
        for n in notices
    ]
    return dumps(
        {
            "title": "预算绩效信息公开目录",
            "bulk": listing.entries(base_url) if listing else [],
            # each jurisdiction's newest manifest: where its chain is walked from
            "chains": [
                {"jurisdictionCode": code, "head": heads[code][1]} for code in sorted(heads)
            ],
            "releases": sorted(entries, key=lambda e: e["key"]),
            "notices": sorted(
                notice_entries, key=lambda e: (str(e["date"]), e["jurisdictionCode"])
            ),
        }
    )


async def _only_new_report_links(release: models.Release, selection: Selection) -> bool:
    """Whether the selection differs from what is public only by evaluation results that now
    link to their main text (DR-4h): the same records, the same files, and each change a
    `reportFileKey` that was empty."""
    public = {
        (RecordType(row["record_type"]), str(row["record_key"])): row["data"]
        for row in await models.Disclosure.filter(release_id=release.id)
        .exclude(record_type=RecordType.RELEASE)
        .values("record_type", "record_key", "data")
    }
    fresh = {(r.record_type, r.key): jsonable(r.data) for r in selection.records}
    if public.keys() != fresh.keys():
        return False
    changed = [key for key, data in fresh.items() if data != public[key]]
    return bool(changed) and all(
        key[0] is RecordType.EVALUATION
        and public[key].get("reportFileKey") is None
        and {**public[key], "reportFileKey": fresh[key]["reportFileKey"]} == fresh[key]
        for key in changed
    )


def _check_as_of(release: models.Release, as_of: datetime, now: datetime) -> None:
    """DR-6: a back-filled publication time lies between the release's approval (its date in
    Shanghai, D3) and now."""
    if as_of.utcoffset() is None:
        raise DateRefused(f"release {release.id}: the publication time needs a UTC offset")
    if as_of.astimezone(rules.SHANGHAI).date() < release.approval_date:
        raise DateRefused(
            f"release {release.id}: published {as_of.isoformat()} would be before its approval "
            f"on {release.approval_date.isoformat()} (DR-6)"
        )
    if as_of > now:
        raise DateRefused(
            f"release {release.id}: published {as_of.isoformat()} would be in the future (DR-6)"
        )


def _kind(release: models.Release | None) -> ReleaseKind | None:
    return None if release is None else release.kind


async def load_release(release_id: int) -> models.Release:
    """The release with its jurisdiction and department, as every publish step reads it."""
    release = await models.Release.get_or_none(id=release_id).select_related(
        "jurisdiction", "department"
    )
    if release is None:
        raise ReleaseError(f"no release with id {release_id}")
    return release


async def _flip(
    lease: Lease,
    release: models.Release,
    selection: Selection,
    version: int,
    published_at: datetime,
    manifest: Rendered,
    digests: tuple[str, str],
    note: str | None,
    withdrawn: set[str] | None,
    *,
    signed: bool,
    worker: str | None = None,
) -> None:
    """Step 5: one transaction makes the new version public, or nothing does: the version, its
    snapshot rows with their search terms and their history, the release's own row, its status
    — and only while this worker still holds the lease (a stalled worker whose lease was taken
    over stops). `withdrawn`: the records a withdrawal removes, from every version's history."""
    withdrawing = withdrawn is not None
    async with in_transaction() as connection:
        if not await lease.holds(release.id, connection):
            raise LeaseLost(f"release {release.id}: the lease was lost before the flip; rerun")
        new_version = await models.ReleaseVersion.create(
            release_id=release.id,
            number=version,
            published_at=published_at,
            manifest_key=manifest.path,
            manifest_sha256=manifest.sha256,
            # its listed objects, the manifest and, when signed, the manifest's signature
            objects=len(orjson.loads(manifest.data)["objects"]) + 1 + int(signed),
            content_sha256=digests[0],
            input_sha256=digests[1],
            correction_note=note,
            kind=history.version_kind(version, withdrawing),
        )
        if version > 1:
            await models.CorrectionNotice.create(
                jurisdiction_id=release.jurisdiction.id,
                release_id=release.id,
                fiscal_year=release.fiscal_year,
                published_at=published_at,
                kind=CorrectionKind.WITHDRAWAL if withdrawing else CorrectionKind.CORRECTION,
                note=note or f"第{version}版更正第{version - 1}版。",
                version=version,
            )
        versions = await models.ReleaseVersion.filter(release_id=release.id)
        entry = release_entry(
            release, [*[v for v in versions if v.id != new_version.id], new_version]
        )
        own = render.Record(
            RecordType.RELEASE,
            entry["key"],
            release.fiscal_year,
            release.department.code if release.department else None,
            entry["title"],
            entry,
        )
        await models.Disclosure.filter(release_id=release.id).delete()
        await _write_snapshot(connection, release, version, [*selection.records, own])
        await history.forget(connection, release.id, withdrawn or ())
        await history.record_version(
            connection, release.id, entry["key"], new_version.kind, published_at
        )
        await models.Release.filter(id=release.id).update(
            status=ReleaseStatus.PUBLISHED,
            current_version=version,
            published_at=release.published_at or published_at,
        )
        if worker is not None:  # DR-6: every back-filled date is on the record, with who set it
            await models.AuditEntry.create(
                actor=f"system:{worker}",
                action="backfillPublishedAt",
                record_type="Release",
                record_id=str(release.id),
                after={
                    "version": version,
                    "publishedAt": published_at.isoformat(),
                    "approvalDate": release.approval_date.isoformat(),
                },
                using_db=connection,
            )


async def _write_snapshot(
    connection: BaseDBAsyncClient,
    release: models.Release,
    version: int,
    records: Sequence[render.Record],
) -> None:
    rows = [
        models.Disclosure(
            release_id=release.id,
            release_version=version,
            record_type=record.record_type,
            record_key=record.key,
            fiscal_year=record.fiscal_year,
            jurisdiction_code=release.jurisdiction.code,
            department_code=record.department_code,
            name=record.name[:300],
            data=jsonable(record.data),
            search_text=runs_text(search_text(record)) or None,
            **facets(record, release.kind),
        )
        for record in records
    ]
    await models.Disclosure.bulk_create(rows, batch_size=500, using_db=connection)
    # bulk_create does not hand back ids on every backend: read them to attach search terms.
    ids = {
        (row["record_type"], row["record_key"]): row["id"]
        for row in await models.Disclosure.filter(release_id=release.id)
        .using_db(connection)
        .values("id", "record_type", "record_key")
    }
    terms = [
        (ids[(record.record_type, record.key)], gram)
        for record in records
        for gram in sorted(search.grams(search_text(record)))
    ]
    await _insert_grams(connection, terms)


async def _insert_grams(connection: BaseDBAsyncClient, terms: Sequence[tuple[int, str]]) -> None:
    """The search index of a release: ~20 bigrams a record, 600k rows for a district. Plain
    SQL, because building an ORM object per row took most of a first publish's database time."""
    if not terms:
        return
    if database.dialect() == "postgres":  # one statement, the rows as two arrays
        await connection.execute_query(
            "INSERT INTO search_gram (disclosure_id, gram) "
            "SELECT * FROM unnest($1::bigint[], $2::varchar[])",
            [[t[0] for t in terms], [t[1] for t in terms]],
        )
    else:
        await connection.execute_many(
            "INSERT INTO search_gram (disclosure_id, gram) VALUES (?, ?)", [list(t) for t in terms]
        )


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + "/")
