"""`gongkai verify URL-or-PATH` — check a published bucket with no database (issue 16;
docs/verification.md). Also `python -m publishers.verify URL-or-PATH`.

The target is an `http(s)://` address the bucket is served at, a store URL (`s3://HOST/BUCKET`,
`s3+http://…`, `file://…`; S3 keys from `GONGKAI_S3_ACCESS_KEY` / `GONGKAI_S3_SECRET_KEY`) or a
folder (a local store or a downloaded mirror). What it checks, in order:

1. the keys (`keys/index.json`): the first key, and each later one endorsed by the one before;
   with `--key FINGERPRINT`, the first must be that one;
2. the catalog (`catalog.json`) and its signature;
3. every version of every release the catalog lists: its manifest's sha256 against the catalog,
   its signature, that it says what its key says (release, version), its chain links;
4. every object the manifests and the catalog's bulk files list: present, its size, its sha256;
5. each jurisdiction's chain, walked from the head the catalog names: every link leads to a
   manifest of the jurisdiction, or through its signed redaction list (`publishers/redactions.py`)
   to the manifest that superseded it or past one that was removed; every manifest is on the
   walk once; each release's versions link to one another in order;
6. where the target can be listed (not over HTTP): no object under `releases/` that no manifest
   lists.

Every failure names its object. Exit status 0 when all passes, 1 on any failure, 2 when the
target cannot be read at all.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from publishers import redactions, signing
from publishers.render import sha256_hex
from storage.objects import ObjectNotFound, StoreError, open_store

CATALOG = "catalog.json"
#: objects fetched at once (an HTTP or S3 round trip each)
PARALLEL = 8


class Source(Protocol):
    async def get(self, key: str) -> bytes: ...

    async def keys(self, prefix: str = "") -> Sequence[str]: ...


class Unreachable(Exception):
    """The target cannot be read at all."""


class HttpSource:
    """A bucket served over HTTP(S): objects by GET; it cannot be listed."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base = base_url.rstrip("/")
        self.client = client

    async def get(self, key: str) -> bytes:
        try:
            response = await self.client.get(f"{self.base}/{quote(key)}")
        except httpx.HTTPError as error:
            raise StoreError(f"GET {key}: {error}") from None
        if response.status_code == 404:
            raise ObjectNotFound(key)
        if response.status_code != 200:
            raise StoreError(f"GET {key}: HTTP {response.status_code}")
        return response.content

    async def keys(self, prefix: str = "") -> Sequence[str]:
        raise NotImplementedError


@dataclass
class Report:
    failures: list[tuple[str, str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    manifests: int = 0
    objects: int = 0
    bytes: int = 0
    redactions: int = 0
    listed: bool = False
    pinned: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, key: str, reason: str) -> None:
        self.failures.append((key, reason))


@dataclass
class _Manifest:
    key: str
    digest: str
    jurisdiction: str
    release: str
    number: int
    document: dict[str, Any]


class _Verifier:
    def __init__(
        self, source: Source, pinned: str | None, progress: Callable[[int, int], None] | None
    ) -> None:
        self.source = source
        self.pinned = pinned
        self.progress = progress
        self.report = Report()
        self.trusted: dict[str, signing.PublicKey] = {}
        #: key → (sha256, bytes) of every object a manifest or the catalog lists
        self.expected: dict[str, tuple[str, int]] = {}
        self.manifests: list[_Manifest] = []

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None with the failure recorded."""
        try:
            return await self.source.get(key)
        except ObjectNotFound:
            self.report.fail(key, "missing")
        except StoreError as error:
            self.report.fail(key, f"cannot be read: {error}")
        return None

    async def signed(self, key: str, data: bytes | None = None) -> bytes | None:
        """The object's bytes (`data`, when already read) when its signature object verifies by
        a trusted key."""
        if data is None:
            data = await self.get(key)
        if data is None:
            return None
        signature = await self.get(signing.signature_key(key))
        if signature is None:
            return None
        try:
            signing.check_signature(data, signature, self.trusted)
        except ValueError as error:
            self.report.fail(key, str(error))
            return None
        return data

    # --- 1. keys --------------------------------------------------------------------------

    async def load_keys(self) -> bool:
        data = await self.get(signing.KEY_INDEX)
        if data is None:
            return False
        try:
            index = [str(f) for f in orjson.loads(data)["keys"]]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.report.fail(signing.KEY_INDEX, "not a key index")
            return False
        previous: signing.PublicKey | None = None
        for position, fingerprint in enumerate(index):
            name = signing.key_object(fingerprint)
            raw = await self.get(name)
            if raw is None:
                return False
            try:
                key, endorsement = signing.read_key_document(raw, name)
            except ValueError as error:
                self.report.fail(name, str(error))
                return False
            if key.fingerprint != fingerprint:
                self.report.fail(name, "holds another key than its name says")
                return False
            if previous is None:
                if endorsement is not None:
                    self.report.fail(name, "the first key claims an endorsement")
                    return False
                if self.pinned and not fingerprint.startswith(self.pinned.lower()):
                    self.report.fail(name, f"the first key is not the pinned {self.pinned}")
                    return False
            elif (
                endorsement is None
                or key.endorsed_by != previous.fingerprint
                or not signing.verify_endorsement(key, endorsement, previous)
            ):
                self.report.fail(name, f"key {position + 1} is not endorsed by the key before it")
                return False
            self.trusted[fingerprint] = key
            previous = key
        self.report.keys = index
        self.report.pinned = bool(self.pinned)
        return bool(index)

    # --- 2–3. catalog and manifests ------------------------------------------------------

    async def load_catalog(self) -> dict[str, Any] | None:
        data = await self.signed(CATALOG)
        if data is None:
            return None
        try:
            catalog: dict[str, Any] = orjson.loads(data)
            catalog["releases"], catalog["chains"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.report.fail(CATALOG, "not a catalog with releases and chains")
            return None
        for bulk in catalog.get("bulk", []):
            for entry in bulk.get("files", []):
                self.expect(CATALOG, entry)
        return catalog

    def expect(self, lister: str, entry: dict[str, Any]) -> None:
        key, listed = str(entry["key"]), (str(entry["sha256"]), int(entry["bytes"]))
        held = self.expected.setdefault(key, listed)
        if held != listed:
            self.report.fail(lister, f"lists {key} with another sha256 or size than others do")

    async def load_manifests(self, catalog: dict[str, Any]) -> None:
        wanted = [
            (release, version)
            for release in catalog["releases"]
            for version in release.get("versions", [])
        ]

        async def one(release: dict[str, Any], version: dict[str, Any]) -> None:
            key = str(version["manifest"])
            data = await self.signed(key)
            if data is None:
                return
            digest = sha256_hex(data)
            if digest != version.get("manifestSha256"):
                self.report.fail(key, "its sha256 is not the one the catalog lists")
                return
            try:
                document: dict[str, Any] = orjson.loads(data)
                said = (document["release"]["key"], document["version"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                self.report.fail(key, "not a manifest")
                return
            if said != (release["key"], version["number"]) or not key.endswith(
                f"/manifest.v{version['number']}.json"
            ):
                self.report.fail(key, f"says it is {said[0]} version {said[1]}")
                return
            if not isinstance(document.get("chain"), dict):
                self.report.fail(key, "has no chain links")
                return
            folder = key.rsplit("/", 1)[0]
            for entry in document.get("objects", []):
                if not str(entry.get("key", "")).startswith(folder + "/"):
                    self.report.fail(key, f"lists {entry.get('key')} outside its folder")
                    continue
                self.expect(key, entry)
            self.report.manifests += 1
            self.manifests.append(
                _Manifest(
                    key,
                    digest,
                    str(release["jurisdictionCode"]),
                    str(release["key"]),
                    int(version["number"]),
                    document,
                )
            )

        await _bounded(one(r, v) for r, v in wanted)

    # --- 4. objects -----------------------------------------------------------------------

    async def check_objects(self) -> None:
        done = 0
        total = len(self.expected)

        async def one(key: str, sha256: str, size: int) -> None:
            nonlocal done
            data = await self.get(key)
            if data is not None:
                if len(data) != size:
                    self.report.fail(key, f"{len(data)} bytes, listed as {size}")
                elif sha256_hex(data) != sha256:
                    self.report.fail(key, "its sha256 is not the one listed")
                else:
                    self.report.objects += 1
                    self.report.bytes += size
            done += 1
            if self.progress is not None:
                self.progress(done, total)

        await _bounded(one(k, s, n) for k, (s, n) in sorted(self.expected.items()))

    # --- 5. chains ------------------------------------------------------------------------

    async def check_chains(self, catalog: dict[str, Any]) -> None:
        heads = {str(c["jurisdictionCode"]): c.get("head") for c in catalog["chains"]}
        for code in sorted({m.jurisdiction for m in self.manifests} | set(heads)):
            mine = {m.digest: m for m in self.manifests if m.jurisdiction == code}
            redacted = await self.redactions(code)
            self.walk(code, heads.get(code), mine, redacted)
            self.check_versions(mine, redacted)

    async def redactions(self, code: str) -> dict[str, dict[str, Any]]:
        key = redactions.redactions_key(code)
        try:
            raw = await self.source.get(key)
        except ObjectNotFound:
            return {}  # nothing was ever withdrawn in this jurisdiction
        except StoreError as error:
            self.report.fail(key, f"cannot be read: {error}")
            return {}
        data = await self.signed(key, raw)
        if data is None:
            return {}
        try:
            entries = orjson.loads(data)["redactions"]
            out = {str(e["supersedes"]): e for e in entries}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.report.fail(key, "not a redaction list")
            return {}
        self.report.redactions += len(out)
        return out

    def walk(
        self,
        code: str,
        head: str | None,
        mine: dict[str, _Manifest],
        redacted: dict[str, dict[str, Any]],
    ) -> None:
        """From the head back to the first manifest: each link a manifest of the jurisdiction or
        a redaction; every manifest met once."""
        chain = f"the chain of jurisdiction {code}"
        if head is None:
            if mine:
                self.report.fail(CATALOG, f"{chain} has no head")
            return
        seen: set[str] = set()
        link: str | None = head
        came_from = CATALOG
        for _ in range(len(mine) + len(redacted) + 1):
            if link is None:
                break
            if link in mine:
                manifest = mine[link]
                if link in seen:
                    self.report.fail(manifest.key, f"{chain} passes it twice")
                    return
                seen.add(link)
                came_from = manifest.key
                link = manifest.document["chain"].get("previousInJurisdiction")
            elif link in redacted:
                entry = redacted[link]
                link = entry["by"] if entry["by"] else entry.get("previousInJurisdiction")
            else:
                self.report.fail(
                    came_from,
                    f"{chain} links to manifest {link[:16]}…, neither published nor redacted",
                )
                return
        else:
            self.report.fail(came_from, f"{chain} does not end")
            return
        for digest in sorted(set(mine) - seen, key=lambda d: mine[d].key):
            self.report.fail(mine[digest].key, f"not on {chain}")

    def check_versions(
        self, mine: dict[str, _Manifest], redacted: dict[str, dict[str, Any]]
    ) -> None:
        by_release: dict[str, dict[int, _Manifest]] = {}
        for manifest in mine.values():
            by_release.setdefault(manifest.release, {})[manifest.number] = manifest
        for versions in by_release.values():
            for number, manifest in sorted(versions.items()):
                link = manifest.document["chain"].get("previousVersion")
                earlier = versions.get(number - 1)
                if number == 1 or earlier is None:
                    if link is not None and number == 1:
                        self.report.fail(manifest.key, "version 1 links to an earlier version")
                    continue
                # a rewritten earlier version: follow its redactions to the manifest now there
                for _ in range(len(redacted) + 1):
                    if link in redacted and redacted[link]["by"]:
                        link = redacted[link]["by"]
                if link != earlier.digest:
                    self.report.fail(
                        manifest.key, f"does not link to version {number - 1} ({earlier.key})"
                    )

    # --- 6. what no manifest lists ------------------------------------------------------------

    async def check_unlisted(self) -> None:
        try:
            present = await self.source.keys("releases/")
        except NotImplementedError:
            return
        self.report.listed = True
        listed = set(self.expected)
        for manifest in self.manifests:
            listed |= {manifest.key, signing.signature_key(manifest.key)}
        for key in sorted(set(present) - listed):
            self.report.fail(key, "no manifest lists it")


async def _bounded(work: Any) -> None:
    limit = asyncio.Semaphore(PARALLEL)

    async def run(item: Any) -> None:
        async with limit:
            await item

    await asyncio.gather(*(run(item) for item in work))


async def verify(
    source: Source,
    *,
    pinned: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check everything `source` publishes (see the module docstring); the report names each
    object that fails."""
    verifier = _Verifier(source, pinned, progress)
    if not await verifier.load_keys():
        return verifier.report
    catalog = await verifier.load_catalog()
    if catalog is None:
        return verifier.report
    await verifier.load_manifests(catalog)
    await verifier.check_objects()
    await verifier.check_chains(catalog)
    await verifier.check_unlisted()
    return verifier.report


def open_target(target: str, client: httpx.AsyncClient) -> Source:
    if target.startswith(("http://", "https://")):
        return HttpSource(target, client)
    if "://" in target:
        try:
            return open_store(
                target,
                os.environ.get("GONGKAI_S3_ACCESS_KEY"),
                os.environ.get("GONGKAI_S3_SECRET_KEY"),
            )
        except ValueError as error:
            raise Unreachable(str(error)) from None
    if not Path(target).is_dir():
        raise Unreachable(f"{target} is neither a folder nor a URL")
    return open_store(f"file://{Path(target).resolve()}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="URL-or-PATH", help="where the bucket is")
    parser.add_argument(
        "--key", metavar="FINGERPRINT", help="the first key must be this one (or begin with it)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


async def run(args: argparse.Namespace, console: Console) -> int:
    async with httpx.AsyncClient(timeout=60, follow_redirects=True) as client:
        try:
            source = open_target(args.target, client)
        except Unreachable as error:
            console.print(f"[red]cannot verify[/] {escape(str(error))}")
            return 2
        with Progress(console=console, transient=True, disable=args.quiet) as bar:
            task = bar.add_task("checking objects", total=None)
            report = await verify(
                source,
                pinned=args.key,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    return print_report(report, console)


def print_report(report: Report, console: Console) -> int:
    if report.keys:
        chain = " → ".join(f[:16] + "…" for f in report.keys)
        trust = "pinned by --key" if report.pinned else "trusted on first use; pin it with --key"
        console.print(f"keys: {chain} (the first {trust})")
    console.print(
        f"{report.manifests} manifests, {report.objects} objects ({report.bytes:,} bytes), "
        f"{report.redactions} redactions checked"
        + ("" if report.listed else "; the target cannot be listed: unlisted objects not sought")
    )
    for key, reason in report.failures:
        console.print(f"[red]FAIL[/] {escape(key)}: {escape(reason)}")
    if report.ok:
        console.print("[green]verified[/]: every signature, link and object checks out")
        return 0
    console.print(f"[red]{len(report.failures)} failures[/]")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m publishers.verify", description=__doc__)
    add_arguments(parser)
    return asyncio.run(run(parser.parse_args(argv), Console(soft_wrap=True)))


if __name__ == "__main__":
    sys.exit(main())
