"""The release workflow: check, publish, withdraw (architecture invariants 2–4; D10–D12).

A publish runs in this order, and a crash or store outage at any step leaves the previous public
state intact; rerunning completes it:

1. claim the release with a lease (a compare-and-set UPDATE: no transaction held across I/O);
2. select and render (pure), and stop if nothing changed since the current version;
3. upload the data and report objects that the current version does not already have;
4. write the version's manifest (an interrupted earlier attempt's manifest is reused);
5. in one database transaction: the version row, the snapshot rows, the release's status;
6. regenerate the pointer objects (the catalog and the site), writing only bytes that changed.

Objects of an unfinished publish are linked from nowhere: the catalog and the database are the
only ways in, and the bucket policy grants reads, not listing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import orjson
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from publishers import render, rules, search, site
from publishers.records import facets, file_path, search_text, subject_key
from publishers.render import Rendered, dumps, jsonable, sha256_hex
from publishers.select import Selection, Selector
from publishers.sync import SyncStats, put_if_changed, upload_objects
from storage import database, models
from storage.enums import CorrectionKind, RecordType, ReleaseKind, ReleaseStatus
from storage.errors import GongkaiError
from storage.objects import ObjectNotFound, ObjectStore

CATALOG_KEY = "catalog.json"
KIND_SLUGS = {
    ReleaseKind.BUDGET: "budget",
    ReleaseKind.FINAL_ACCOUNTS: "final-accounts",
    ReleaseKind.FINANCE_ANNUAL: "finance-annual",
}
WITHDRAWAL_NOTE = "依据涉密/敏感备案，撤回已公开的部分信息。"
DEFAULT_LEASE = timedelta(minutes=15)
#: Releases in flight at once in `publish_many` on PostgreSQL (each also runs its uploads in
#: parallel); more adds memory without adding overlap on two cores.
PARALLEL_RELEASES = 3


class ReleaseError(GongkaiError):
    """A release cannot be published as asked."""


class ReleaseRefused(ReleaseError):
    """The check found problems; nothing was written."""

    def __init__(self, release_id: int, problems: Sequence[rules.Problem]) -> None:
        lines = "; ".join(f"{p.rule} {p.record}: {p.message}" for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"release {release_id} fails its check: {lines}{more}")
        self.problems = list(problems)


class Embargoed(ReleaseError):
    """The release's publish-at time has not come: nothing of it may be uploaded yet."""


class Claimed(ReleaseError):
    """Another worker holds the release's lease."""


@dataclass
class PublishResult:
    release_id: int
    outcome: str  # "published", "unchanged", "exempt"
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


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Batch:
    """What `publish_many` did: the results, the refused releases and the writes in all."""

    results: list[PublishResult] = field(default_factory=list)
    failures: list[tuple[int, ReleaseError]] = field(default_factory=list)
    stats: SyncStats = field(default_factory=SyncStats)


class Publisher:
    """Publishes releases to one object store. `clock` is injectable (decisions.md D3);
    `base_url` is where the public reads the store, for the absolute links of the catalog, feed
    and calendar; `parallel` overrides how many releases `publish_many` keeps in flight."""

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
    ) -> None:
        self.store = store
        self.parallel = parallel
        self.base_url = base_url
        self.data_license = data_license
        self.worker = worker or default_worker()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease
        self.selector = Selector()

    # --- check -----------------------------------------------------------------------------

    async def check(self, release_id: int) -> Selection:
        """Everything a publish would decide, with every problem, and nothing written."""
        return await self.selector.select(await _load(release_id))

    # --- publish ---------------------------------------------------------------------------

    async def publish(
        self,
        release_id: int,
        *,
        as_of: datetime | None = None,
        note: str | None = None,
        pointers: bool = True,
    ) -> PublishResult:
        return await self._publish(await _load(release_id), as_of, note, pointers)

    async def _publish(
        self, release: models.Release, as_of: datetime | None, note: str | None, pointers: bool
    ) -> PublishResult:
        release_id = release.id
        now = self.clock()
        if release.publish_at is not None and release.publish_at > now:
            raise Embargoed(f"release {release_id} is embargoed until {release.publish_at}")
        if await self._unchanged(release):
            result = PublishResult(release_id, "unchanged", release.current_version)
        else:
            if not await self._claim(release, now):
                raise Claimed(f"release {release_id} is being published by {release.claimed_by}")
            try:
                # What another worker published before our claim is the version to follow.
                await release.refresh_from_db(fields=["status", "current_version", "published_at"])
                result = await self._publish_claimed(release, as_of or now, note)
            finally:
                await self._unclaim(release)
        if pointers:
            await self.write_pointers(result.stats)
        return result

    async def _unchanged(self, release: models.Release) -> bool:
        """Whether the current version holds exactly what a publish would select now: a
        read-only look before claiming, so an unchanged republish writes nothing, not even a
        lease. Anything else (a change, a withdrawal, a problem) goes on to the claimed path,
        which decides again under the lease."""
        if not release.current_version:
            return False
        selection = await self.selector.select(release)
        if selection.exempt or selection.problems:
            return False
        current = await models.ReleaseVersion.get_or_none(
            release_id=release.id, number=release.current_version
        )
        if current is None or current.input_sha256 != input_digest(selection):
            return False
        return not await self._withdrawn_keys(release, selection)

    async def _publish_claimed(
        self, release: models.Release, published_at: datetime, note: str | None
    ) -> PublishResult:
        selection = await self.selector.select(release)
        if selection.exempt:
            stats = SyncStats()
            if release.current_version:
                await self._withdraw_everything(release, published_at)
            return PublishResult(release.id, "exempt", 0, stats)
        if selection.problems:
            raise ReleaseRefused(release.id, selection.problems)

        current = await models.ReleaseVersion.get_or_none(
            release_id=release.id, number=release.current_version
        )
        withdrawn = await self._withdrawn_keys(release, selection)
        # Rendering is a pure function of the records and files: the same input, already
        # published, needs no rendering to know that nothing changed.
        inputs = input_digest(selection)
        if current is not None and current.input_sha256 == inputs and not withdrawn:
            return PublishResult(release.id, "unchanged", current.number)
        objects = render_release(selection) + await _file_objects(selection.files)
        digest = content_digest(objects)
        if current is not None and current.content_sha256 == digest and not withdrawn:
            await models.ReleaseVersion.filter(id=current.id).update(input_sha256=inputs)
            return PublishResult(release.id, "unchanged", current.number)

        stats = SyncStats()
        known: dict[str, str] = {}
        if withdrawn:
            await self._purge_versions(release, withdrawn, stats)
            note = note or WITHDRAWAL_NOTE
        elif current is not None:
            known = await self._manifest_objects(current.manifest_key)

        version = release.current_version + 1
        package = self._datapackage(release, selection, objects, version)
        folder = release_folder(release)
        await upload_objects(self.store, folder, [*objects, package], known, stats)
        manifest = await self._write_manifest(
            release, selection, [*objects, package], version, published_at, digest, note, stats
        )
        await _flip(
            release, selection, version, published_at, manifest, (digest, inputs), note, withdrawn
        )
        return PublishResult(release.id, "published", version, stats)

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
        take in the other tasks' statements: it publishes one release at a time."""
        outcomes: dict[int, PublishResult | ReleaseError] = {}
        limit = asyncio.Semaphore(self.parallel_releases())
        loaded = {
            r.id: r
            for r in await models.Release.filter(id__in=list(release_ids)).select_related(
                "jurisdiction", "department"
            )
        }

        async def one(release_id: int) -> None:
            async with limit:
                try:
                    release = loaded.get(release_id)
                    if release is None:
                        raise ReleaseError(f"no release with id {release_id}")
                    when = as_of(release) if as_of else None
                    outcomes[release_id] = await self._publish(release, when, note, pointers=False)
                except ReleaseError as error:
                    outcomes[release_id] = error
            if progress:
                progress(release_id)

        try:  # an unexpected failure (the store, the database) stops the batch
            async with asyncio.TaskGroup() as group:
                for release_id in release_ids:
                    group.create_task(one(release_id))
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None
        batch = Batch()
        for release_id in release_ids:
            outcome = outcomes[release_id]
            if isinstance(outcome, ReleaseError):
                batch.failures.append((release_id, outcome))
            else:
                batch.results.append(outcome)
                batch.stats.add(outcome.stats)
        await self.write_pointers(batch.stats)
        if any(r.outcome != "unchanged" for r in batch.results):
            await refresh_statistics()
        return batch

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

    async def withdraw(self, release_ids: Sequence[int] | None = None) -> list[PublishResult]:
        """Enforce filings added after publication on published releases (D12): republish each
        one whose current records a filing now covers; an unaffected release is left alone."""
        if release_ids is None:
            release_ids = [
                int(str(i))
                for i in await models.Release.filter(status=ReleaseStatus.PUBLISHED)
                .order_by("id")
                .values_list("id", flat=True)
            ]
        results = []
        for release_id in release_ids:
            release = await _load(release_id)
            selection = await self.selector.select(release)
            if selection.exempt or await self._withdrawn_keys(release, selection):
                results.append(await self.publish(release_id, pointers=False))
        stats = SyncStats()
        await self.write_pointers(stats)
        return results

    async def _withdrawn_keys(self, release: models.Release, selection: Selection) -> set[str]:
        """Record keys now public in this release that a filing covers: those the new selection
        drops while their subject (or, for a file, what it is about) is filed."""
        if not release.current_version:
            return set()
        prefixes = await self._covered_prefixes(release)
        if not prefixes:
            return set()
        kept = {r.key for r in selection.records}
        rows = await models.Disclosure.filter(release_id=release.id).values(
            "record_key", "record_type", "subject_key"
        )
        withdrawn = set()
        for row in rows:
            key = row["record_key"]
            if key in kept:
                continue
            about = row["subject_key"] or key
            if row["record_type"] == RecordType.FILE:  # what a file is about is in its record
                record = await models.Disclosure.get(
                    release_id=release.id, record_type=RecordType.FILE, record_key=key
                )
                about = record.data.get("aboutKey") or key
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

    async def _purge_versions(
        self, release: models.Release, withdrawn: set[str], stats: SyncStats
    ) -> None:
        """Delete every stored version of every object, in any version, that holds a withdrawn
        record; mark those entries withdrawn in the older manifests and data packages."""
        versions = await models.ReleaseVersion.filter(release_id=release.id).order_by("number")
        doomed: dict[str, bool] = {}
        for version in versions:
            manifest = orjson.loads(await self.store.get(version.manifest_key))
            for entry in manifest["objects"]:
                key = entry["key"]
                if entry.get("withdrawn") or not entry["path"].startswith(("data/", "files/")):
                    continue
                if key not in doomed:
                    doomed[key] = await self._holds_any(key, entry["path"], withdrawn)
                if doomed[key]:
                    entry["withdrawn"] = True
                    entry.pop("title", None)  # a title could name the withdrawn record
            await self._rewrite_version(release, version, manifest, doomed, stats)
        for key, gone in sorted(doomed.items()):
            if gone:
                await self.store.delete(key)

    async def _holds_any(self, key: str, path: str, withdrawn: set[str]) -> bool:
        if path.startswith("files/"):
            digest = path.removeprefix("files/").split(".")[0]
            return f"file/{digest}" in withdrawn
        try:
            data = await self.store.get(key)
        except ObjectNotFound:
            return False
        return bool(_record_keys(path, data) & withdrawn)

    async def _rewrite_version(
        self,
        release: models.Release,
        version: models.ReleaseVersion,
        manifest: dict[str, Any],
        doomed: dict[str, bool],
        stats: SyncStats,
    ) -> None:
        folder = release_folder(release)
        gone = {k for k, v in doomed.items() if v}
        package_key = f"{folder}/{manifest['datapackage']}"
        package = orjson.loads(await self.store.get(package_key))
        package["resources"] = [
            r for r in package["resources"] if f"{folder}/{r['path']}" not in gone
        ]
        package_bytes = dumps(package)
        for entry in manifest["objects"]:
            if entry["key"] == package_key:
                entry |= {"bytes": len(package_bytes), "sha256": sha256_hex(package_bytes)}
        await put_if_changed(self.store, package_key, package_bytes, render.JSON_TYPE, stats)
        manifest_bytes = dumps(manifest)
        if await put_if_changed(
            self.store, version.manifest_key, manifest_bytes, render.JSON_TYPE, stats
        ):
            version.manifest_sha256 = sha256_hex(manifest_bytes)
            await version.save(update_fields=["manifest_sha256"])

    async def _withdraw_everything(self, release: models.Release, when: datetime) -> None:
        """The whole department is filed now: delete every object of every version, the
        snapshot rows and the versions, and leave a notice that names no one."""
        versions = await models.ReleaseVersion.filter(release_id=release.id)
        keys: set[str] = set()
        for version in versions:
            try:
                manifest = orjson.loads(await self.store.get(version.manifest_key))
            except ObjectNotFound:
                continue
            keys |= {entry["key"] for entry in manifest["objects"]}
            keys.add(version.manifest_key)
        for key in sorted(keys):
            await self.store.delete(key)
        async with in_transaction():
            await models.Disclosure.filter(release_id=release.id).delete()
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
        selection: Selection,
        objects: Sequence[Rendered],
        version: int,
        published_at: datetime,
        digest: str,
        note: str | None,
        stats: SyncStats,
    ) -> Rendered:
        key = manifest_key(release, version)
        try:
            earlier = orjson.loads(await self.store.get(key))
        except ObjectNotFound:
            earlier = None
        if earlier is not None and earlier.get("contentSha256") == digest:
            # An interrupted attempt wrote this manifest: complete that publish as it was.
            data = await self.store.get(key)
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
        await self.store.put(key, data, render.JSON_TYPE)
        stats.written += 1
        stats.bytes += len(data)
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
        deleting the pages of releases that vanished (D10, D12)."""
        await put_if_changed(
            self.store, CATALOG_KEY, await catalog_bytes(self.base_url), render.JSON_TYPE, stats
        )
        await site.update_site(self.store, stats, base_url=self.base_url)

    # --- lease -----------------------------------------------------------------------------

    async def _claim(self, release: models.Release, now: datetime) -> bool:
        claimed = await models.Release.filter(
            Q(id=release.id) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        ).update(claimed_by=self.worker, claimed_until=now + self.lease)
        return claimed == 1

    async def _unclaim(self, release: models.Release) -> None:
        await models.Release.filter(id=release.id, claimed_by=self.worker).update(
            claimed_by=None, claimed_until=None
        )


async def refresh_statistics() -> None:
    """After a batch of publishes, let PostgreSQL's planner see the new snapshot rows: without
    statistics it picks plans for empty tables and public queries slow down a hundredfold until
    autovacuum comes round."""
    if database.dialect() == "postgres":
        await connections.get("default").execute_script("ANALYZE disclosure; ANALYZE search_gram;")


def render_release(selection: Selection) -> list[Rendered]:
    by_type: dict[RecordType, list[render.Record]] = {}
    for record in selection.records:
        by_type.setdefault(record.record_type, []).append(record)
    objects: list[Rendered] = []
    for record_type in sorted(by_type, key=lambda t: t.value):
        objects += render.render_records(record_type, by_type[record_type])
    return objects


async def _file_objects(files: Sequence[models.StoredFile]) -> list[Rendered]:
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
            }
            for v in ordered
        ],
    }


async def catalog_bytes(base_url: str | None = None) -> bytes:
    """The catalog of every published release, with its versions, and the correction notices.
    Keys are relative to the bucket root; under a public `base_url` each release also gets the
    absolute addresses of its manifest and data package (D17)."""
    releases = await models.Release.filter(status=ReleaseStatus.PUBLISHED).prefetch_related(
        "jurisdiction", "department", "versions"
    )
    entries = [release_entry(release, list(release.versions)) for release in releases]
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
            "releases": sorted(entries, key=lambda e: e["key"]),
            "notices": sorted(
                notice_entries, key=lambda e: (str(e["date"]), e["jurisdictionCode"])
            ),
        }
    )


async def _load(release_id: int) -> models.Release:
    release = await models.Release.get_or_none(id=release_id).select_related(
        "jurisdiction", "department"
    )
    if release is None:
        raise ReleaseError(f"no release with id {release_id}")
    return release


async def _flip(
    release: models.Release,
    selection: Selection,
    version: int,
    published_at: datetime,
    manifest: Rendered,
    digests: tuple[str, str],
    note: str | None,
    withdrawn: set[str],
) -> None:
    """Step 5: one transaction makes the new version public, or nothing does: the version, its
    snapshot rows with their search terms, the release's own row, its status."""
    async with in_transaction() as connection:
        new_version = await models.ReleaseVersion.create(
            release_id=release.id,
            number=version,
            published_at=published_at,
            manifest_key=manifest.path,
            manifest_sha256=manifest.sha256,
            content_sha256=digests[0],
            input_sha256=digests[1],
            correction_note=note,
        )
        if version > 1:
            await models.CorrectionNotice.create(
                jurisdiction_id=release.jurisdiction.id,
                release_id=release.id,
                fiscal_year=release.fiscal_year,
                published_at=published_at,
                kind=CorrectionKind.WITHDRAWAL if withdrawn else CorrectionKind.CORRECTION,
                note=note or f"第{version}版更正第{version - 1}版。",
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
        await models.Release.filter(id=release.id).update(
            status=ReleaseStatus.PUBLISHED,
            current_version=version,
            published_at=release.published_at or published_at,
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


def _record_keys(path: str, data: bytes) -> set[str]:
    """Every record key a data object mentions (as key, subject, parent or what it is about)."""
    names = ("key", "subjectKey", "parentKey", "aboutKey")
    if path.endswith(".json"):
        records = orjson.loads(data).get("records", [])
        return {str(r[n]) for r in records for n in names if r.get(n)}
    text = data.decode("utf-8-sig")
    keys: set[str] = set()
    for row in csv.DictReader(io.StringIO(text)):
        for name in names:
            value = (row.get(name) or "").split("#")[0]
            if value:
                keys.add(value)
    return keys
