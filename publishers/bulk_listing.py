"""The list of the bulk file sets (`bulk/manifest.json`, written by `publishers/bulk.py`): what
the catalogs and the site read of them, without the code that builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from publishers.render import dumps, sha256_hex
from storage.objects import ObjectNotFound, ObjectStore

BULK_MANIFEST_KEY = "bulk/manifest.json"


@dataclass
class Listing:
    """The bulk manifest as written: every set by its id (`<jurisdiction>/<year|all>`)."""

    sets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def data(self) -> bytes:
        return dumps({"sets": self.sets})

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data())

    def entries(self, base_url: str | None = None) -> list[dict[str, Any]]:
        """The sets as the catalog lists them: under a public base URL with absolute links."""
        out = []
        for ident in sorted(self.sets):
            entry = {k: v for k, v in self.sets[ident].items() if k != "inputSha256"}
            if base_url:
                root = base_url.rstrip("/")
                entry["files"] = [f | {"url": f"{root}/{quote(f['key'])}"} for f in entry["files"]]
            out.append(entry)
        return out


async def read_listing(store: ObjectStore) -> Listing:
    try:
        return Listing(orjson.loads(await store.get(BULK_MANIFEST_KEY))["sets"])
    except ObjectNotFound:
        return Listing()
