"""Withdrawal (D12): take out of the store everything that holds or names a record that a
filing now covers, so completely that a rerun after a crash at any step finishes the job.

The steps for one release, each safe to repeat:

1. **Intent** (`record_intent`): before anything is deleted, one database row lists the
   withdrawn record keys and every object, in any version of the release, that holds or names
   one of them (for a whole release: every object it ever had). Once the manifests are
   rewritten they no longer name those objects, so this row is the only place a rerun can
   learn them from; a rerun adds what it finds besides and never forgets what was listed.
2. **Delete** (`delete_objects`): every listed object, with every stored version and delete
   marker. Deleting what is gone already is a no-op.
3. **Rewrite** (`rewrite_manifests`): every remaining version's manifest and data package
   without the deleted objects' entries — no key, no sha256, no size, no count left behind.
   Writing the same bytes again changes nothing.
4. **Republish** (the publisher): the current version without the records (or, for a whole
   release, the snapshot rows and versions removed in one transaction). A rerun finds the
   version already published and skips it.
5. **Orphans** (`remove_orphans`): any object under the release's folder that no manifest of a
   current version names — what a killed publish or an interrupted rewrite left — goes too.

Then, once for all the releases of a run (the publisher): the pointer objects (catalog, site,
search index) are regenerated from the database, the store's history is purged (every
non-current version and delete marker, empty folders), and only then are the intents closed and
their lists emptied (`close`).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from publishers import dictionary, official_tables, redactions, signing
from publishers.render import JSON_TYPE, dumps, sha256_hex
from publishers.sync import SyncStats, put_if_changed
from storage import models
from storage.objects import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)

#: The note of the version a withdrawal publishes; it names no one and counts nothing (D7).
WITHDRAWAL_NOTE = "依据涉密/敏感备案，撤回已公开的部分信息。"


#: records manifests as superseded in the jurisdiction's redaction list (the publisher's, which
#: holds the chain lock while it writes)
Redact = Callable[[list[dict[str, Any]]], Awaitable[None]]


def step(name: str, release_id: int | None = None) -> None:
    """Log that a step is complete: operators follow a withdrawal by these lines, and the crash
    tests kill the process right after each one."""
    log.info("withdrawal step %s done", name, extra={"step": name, "release_id": release_id})


async def pending(release_id: int) -> models.Withdrawal | None:
    """The open withdrawal of a release, if an earlier run did not finish it."""
    return await models.Withdrawal.filter(release_id=release_id, finished_at__isnull=True).first()


async def record_intent(
    store: ObjectStore,
    release_id: int,
    folder: str,
    withdrawn: set[str],
    *,
    whole: bool,
    worker: str,
) -> models.Withdrawal:
    """Step 1: the open withdrawal of the release, created or extended with what is found now.

    `withdrawn` are the record keys a filing now covers; with `whole`, everything the release
    ever published goes. The objects are found in every version's manifest (each data object
    is read and its record keys compared) and, for a whole release, under its folder too."""
    intent = await pending(release_id)
    versions = await models.ReleaseVersion.filter(release_id=release_id).order_by("number")
    manifests = [await _manifest(store, v.manifest_key) for v in versions]
    doomed: set[str] = set()
    if whole:
        doomed |= {v.manifest_key for v in versions}
        doomed |= {e["key"] for m in manifests if m for e in m["objects"]}
        doomed |= set(await store.keys(folder + "/"))
    else:
        for manifest in manifests:
            for entry in manifest["objects"] if manifest else ():
                if entry["key"] not in doomed and await _holds_any(store, entry, withdrawn):
                    doomed.add(entry["key"])
    if intent is None:
        intent = await models.Withdrawal.create(
            release_id=release_id,
            whole=whole,
            record_keys=sorted(withdrawn),
            object_keys=sorted(doomed),
            started_by=worker,
        )
    else:
        intent.whole = intent.whole or whole
        intent.record_keys = sorted(set(intent.record_keys) | withdrawn)
        intent.object_keys = sorted(set(intent.object_keys) | doomed)
        await intent.save(update_fields=["whole", "record_keys", "object_keys", "updated_at"])
    step("intent", release_id)
    return intent


async def delete_objects(store: ObjectStore, keys: Iterable[str], stats: SyncStats) -> None:
    """Step 2: delete each object with all of its versions (a no-op for one already gone)."""
    for key in sorted(keys):
        await store.delete(key)
        stats.deleted += 1
    step("objects-deleted")


async def rewrite_manifests(
    store: ObjectStore,
    release_id: int,
    folder: str,
    doomed: set[str],
    stats: SyncStats,
    *,
    signer: signing.Signer | None,
    redact: Redact,
) -> None:
    """Step 3: every version's manifest and data package, without the entries of `doomed`. A
    manifest whose bytes change is first recorded as superseded (`redact`, issue 16), then
    written and signed again, then its new sha256 stored: a rerun after a crash anywhere in
    between finds the same redaction and completes the rest."""
    versions = await models.ReleaseVersion.filter(release_id=release_id).order_by("number")
    for version in versions:
        manifest = await _manifest(store, version.manifest_key)
        if manifest is None:
            continue
        kept = [e for e in manifest["objects"] if e["key"] not in doomed and not e.get("withdrawn")]
        package_key = f"{folder}/{manifest['datapackage']}"
        package = await _manifest(store, package_key)
        if package is not None:
            package["resources"] = [
                r for r in package["resources"] if f"{folder}/{r['path']}" not in doomed
            ]
            data = dumps(package)
            await put_if_changed(store, package_key, data, JSON_TYPE, stats)
            for entry in kept:
                if entry["key"] == package_key:
                    entry |= {"bytes": len(data), "sha256": sha256_hex(data)}
        manifest["objects"] = kept
        # The listing digest over what is left, as a publish computes it (the data package
        # is not part of it), so that no digest still covers a withdrawn file.
        listing = sorted(f"{e['path']} {e['sha256']}" for e in kept if e["key"] != package_key)
        manifest["contentSha256"] = sha256_hex("\n".join(listing).encode())
        data = dumps(manifest)
        digest = sha256_hex(data)
        if digest != version.manifest_sha256:
            await redact([redactions.redaction(version.manifest_sha256, digest, None)])
        await signing.put_signed(store, version.manifest_key, data, JSON_TYPE, signer, stats)
        if digest != version.manifest_sha256:
            version.manifest_sha256 = digest
            await version.save(update_fields=["manifest_sha256"])
    step("manifests-rewritten", release_id)


async def redact_whole(store: ObjectStore, release_id: int, redact: Redact) -> None:
    """Before a whole release's objects go: each of its manifests recorded as removed, with its
    own link into the jurisdiction's chain, so the walk goes on past it (issue 16)."""
    entries = []
    for version in await models.ReleaseVersion.filter(release_id=release_id):
        manifest = await _manifest(store, version.manifest_key)
        links = (manifest or {}).get("chain") or {}
        entries.append(
            redactions.redaction(version.manifest_sha256, None, links.get("previousInJurisdiction"))
        )
    if entries:
        await redact(entries)
    step("redacted", release_id)


async def remove_orphans(
    store: ObjectStore, release_id: int, folder: str, stats: SyncStats
) -> None:
    """Step 5 (and the end of every publish): delete every object under the release's folder
    that no manifest of its versions names. Only the lease holder writes there, so nothing in
    flight is lost; what is left is a killed publish's or an interrupted withdrawal's."""
    keys = set(await store.keys(folder + "/"))
    if not keys:
        return
    named: set[str] = set()
    for version in await models.ReleaseVersion.filter(release_id=release_id):
        named |= {version.manifest_key, signing.signature_key(version.manifest_key)}
        manifest = await _manifest(store, version.manifest_key)
        named |= {e["key"] for e in manifest["objects"]} if manifest else set()
    orphans = keys - named
    await delete_objects(store, orphans, stats)
    if orphans:
        log.info("removed %d orphaned objects of release %s", len(orphans), release_id)
    step("orphans-removed", release_id)


async def close(ids: Sequence[int], when: datetime) -> None:
    """The last step: the intents are done. Their lists are emptied, so that the rows keep no
    trace of what was withdrawn (the filing itself says what it covers)."""
    if ids:
        await models.Withdrawal.filter(id__in=list(ids)).update(
            finished_at=when, record_keys=[], object_keys=[]
        )
    step("closed")


async def _manifest(store: ObjectStore, key: str) -> dict[str, Any] | None:
    try:
        document: dict[str, Any] = orjson.loads(await store.get(key))
    except ObjectNotFound:
        return None
    return document


async def _holds_any(store: ObjectStore, entry: dict[str, Any], withdrawn: set[str]) -> bool:
    """Whether a manifest entry's object holds or names a withdrawn record: a report file by
    its own record key, a data object by any record key it mentions."""
    path = str(entry["path"])
    if entry.get("withdrawn"):  # marked by an earlier version of gongkai: it goes too
        return True
    if path.startswith("files/"):
        digest = path.removeprefix("files/").split(".")[0]
        return f"file/{digest}" in withdrawn
    if not path.startswith("data/"):
        return False
    try:
        data = await store.get(str(entry["key"]))
    except ObjectNotFound:
        return False
    return bool(record_keys(path, data) & withdrawn)


def record_keys(path: str, data: bytes) -> set[str]:
    """Every record key a data object mentions (as key, subject, parent or what it is about)."""
    names = ("key", "subjectKey", "parentKey", "aboutKey")
    if path.endswith(".xlsx"):  # the official tables: the keys are on a hidden sheet
        return official_tables.record_keys(data)
    if path.endswith(".json"):
        records = orjson.loads(data).get("records", [])
        return {str(r[n]) for r in records for n in names if r.get(n)}
    text = data.decode("utf-8-sig")
    keys: set[str] = set()
    # The Excel CSV's header holds the Chinese titles (issue #15); earlier ones the names.
    headers = (*names, *(dictionary.describe(name)[0] for name in names))
    for row in csv.DictReader(io.StringIO(text)):
        for name in headers:
            value = (row.get(name) or "").split("#")[0]
            if value:
                keys.add(value)
    return keys
