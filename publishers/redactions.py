"""Redactions (issue 16; docs/verification.md): how the manifest chain survives a withdrawal.

Manifests link to their predecessors by sha256, so a manifest that must lose entries (a partial
withdrawal rewrites it) or go altogether (a whole release withdrawn) would break every link to
it. Before it is rewritten or deleted, the jurisdiction's signed redaction list records::

    {"supersedes": "<sha256 of the manifest as it was>",
     "by": "<sha256 of the manifest as rewritten>" | null (deleted),
     "previousInJurisdiction": "<its own jurisdiction link>" (when deleted, so the walk goes on),
     "reason": REDACTION_NOTE}

at `chain/<jurisdiction code>/redactions.json` (and its `.sig`). Digests and a fixed sentence:
nothing in it names what was withdrawn. `gongkai verify` follows a link through the list when
the manifest it names is gone, and still fails on every other change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from publishers import signing
from publishers.render import JSON_TYPE, dumps
from publishers.sync import SyncStats
from storage.objects import ObjectNotFound, ObjectStore

#: why a manifest was re-issued or removed; it names no one and counts nothing (D7)
REDACTION_NOTE = "依据涉密/敏感备案撤回部分信息，原清单由本清单取代。"


def redactions_key(jurisdiction_code: str) -> str:
    return f"chain/{jurisdiction_code}/redactions.json"


def redaction(old: str, new: str | None, previous_in_jurisdiction: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"supersedes": old, "by": new, "reason": REDACTION_NOTE}
    if new is None:
        entry["previousInJurisdiction"] = previous_in_jurisdiction
    return entry


async def read(store: ObjectStore, jurisdiction_code: str) -> list[dict[str, Any]]:
    try:
        document = orjson.loads(await store.get(redactions_key(jurisdiction_code)))
    except ObjectNotFound:
        return []
    return list(document["redactions"])


async def add(
    store: ObjectStore,
    jurisdiction_code: str,
    entries: Sequence[dict[str, Any]],
    signer: signing.Signer | None,
    stats: SyncStats,
) -> None:
    """Add `entries` to the jurisdiction's list (a digest already superseded keeps its first
    entry: a rerun adds nothing) and write it signed. The caller holds the jurisdiction's
    chain lock."""
    known = await read(store, jurisdiction_code)
    seen = {e["supersedes"] for e in known}
    fresh = [e for e in entries if e["supersedes"] not in seen]
    document = {"redactions": sorted([*known, *fresh], key=lambda e: str(e["supersedes"]))}
    key = redactions_key(jurisdiction_code)
    await signing.put_signed(store, key, dumps(document), JSON_TYPE, signer, stats)
