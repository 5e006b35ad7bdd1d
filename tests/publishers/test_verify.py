"""`gongkai verify` (issue 16): an untouched bucket verifies — in a folder, over HTTP, as a
command and on S3 (moto's server, versioning on) — after a correction and after withdrawals;
every kind of tampering fails and names the object; key rotation keeps old signatures valid and
a stranger's key is refused before anything is written."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import io
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig
from rich.console import Console

from publishers import redactions, signing
from publishers.releases import CATALOG_KEY, Publisher, manifest_key
from publishers.sync import SyncStats
from publishers.verify import HttpSource, Report, run, verify
from storage import models, records
from storage.enums import FilingReason, FilingScope
from storage.objects import ObjectStore, open_store
from storage.objects.s3 import S3ObjectStore
from tests.publishers import dataset
from tests.publishers.test_releases import NOW

ROOT = Path(__file__).resolve().parents[2]


def publisher(store: ObjectStore, days: int = 0, signer: signing.Signer | None = None) -> Publisher:
    return Publisher(
        store,
        worker="test",
        clock=lambda: NOW + timedelta(days=days),
        signer=signer or dataset.SIGNER,
    )


async def published_and_corrected(store: ObjectStore) -> dataset.Built:
    """Two departments of two projects, published; then one release corrected (version 2)."""
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    await publisher(store).publish_many([r.id for r in built.releases])
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（更正）")
    await publisher(store, 1).publish(built.releases[0].id, note="更正名称")
    return built


def folder_store(path: Path) -> ObjectStore:
    return open_store(f"file://{path}")


def failed_keys(report: Report) -> set[str]:
    return {key for key, _ in report.failures}


def reasons(report: Report) -> str:
    return "\n".join(f"{k}: {r}" for k, r in report.failures)


# --- tampering --------------------------------------------------------------------------------


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


async def test_an_untouched_bucket_verifies_and_each_tampering_fails_naming_its_object(
    db: str, tmp_path: Path
) -> None:
    original = tmp_path / "store"
    built = await published_and_corrected(folder_store(original))
    report = await verify(folder_store(original))
    assert report.ok, reasons(report)
    assert report.manifests == len(built.releases) + 1  # one release has two versions
    assert report.objects > 20 and report.listed and report.keys == [dataset.SIGNER.fingerprint]

    budget = await models.Release.get(id=built.releases[0].id).prefetch_related(
        "jurisdiction", "department"
    )
    v1, v2 = manifest_key(budget, 1), manifest_key(budget, 2)
    data_key = next(
        e["key"]
        for e in orjson.loads((original / v2).read_bytes())["objects"]
        if "/data/" in e["key"]
    )
    stranger = signing.generate()

    def resign_with_stranger(root: Path) -> None:
        manifest = root / v2
        manifest.write_bytes(manifest.read_bytes().replace(b"PUBP0", b"PUBQ0"))
        (root / signing.signature_key(v2)).write_bytes(stranger.signature(manifest.read_bytes()))

    def swap_versions(root: Path) -> None:
        for name in (v1, signing.signature_key(v1)):
            other = name.replace("manifest.v1", "manifest.v2")
            first, second = (root / name).read_bytes(), (root / other).read_bytes()
            (root / name).write_bytes(second)
            (root / other).write_bytes(first)

    def add_foreign_key(root: Path) -> None:
        (root / signing.key_object(stranger.fingerprint)).write_bytes(stranger.key_document())
        index = root / signing.KEY_INDEX
        keys = orjson.loads(index.read_bytes())["keys"]
        index.write_bytes(orjson.dumps({"keys": [*keys, stranger.fingerprint]}))

    def forge_a_link(root: Path) -> None:
        # re-linked and re-signed with the bucket's own key, as an insider with the key could:
        # the catalog's digest of it no longer matches
        document = orjson.loads((root / v2).read_bytes())
        document["chain"]["previousInJurisdiction"] = None
        forged = orjson.dumps(document)
        (root / v2).write_bytes(forged)
        (root / signing.signature_key(v2)).write_bytes(dataset.SIGNER.signature(forged))

    def unlisted_object(root: Path) -> None:
        (root / v1).with_name("extra.json").write_bytes(b"{}")

    cases: dict[str, tuple[Callable[[Path], object], str, str]] = {
        "a byte of a data file": (lambda r: flip_byte(r / data_key), data_key, "sha256"),
        "a byte of a manifest": (lambda r: flip_byte(r / v1), v1, "signature"),
        "a byte of a signature": (
            lambda r: (r / signing.signature_key(v2)).write_bytes(
                (r / signing.signature_key(v2))
                .read_bytes()
                .replace(b'"signature": "', b'"signature": "AA')
            ),
            v2,
            "signature",
        ),
        "the chain reordered": (swap_versions, v1, "catalog"),
        "an object dropped": (lambda r: (r / data_key).unlink(), data_key, "missing"),
        "a foreign key's signature": (resign_with_stranger, v2, "not one of the bucket's keys"),
        "a foreign key added": (
            add_foreign_key,
            signing.key_object(stranger.fingerprint),
            "endorsed",
        ),
        "the catalog edited": (lambda r: flip_byte(r / CATALOG_KEY), CATALOG_KEY, "signature"),
        "a link forged and signed": (forge_a_link, v2, "catalog"),
        "an object no manifest lists": (
            unlisted_object,
            str(Path(v1).with_name("extra.json")),
            "no manifest lists it",
        ),
    }
    for name, (tamper, key, reason) in cases.items():
        copy = tmp_path / f"copy-{uuid.uuid4().hex[:8]}"
        shutil.copytree(original, copy)
        tamper(copy)
        report = await verify(folder_store(copy))
        assert not report.ok, name
        assert key in failed_keys(report), f"{name}: {reasons(report)}"
        assert any(k == key and reason in r for k, r in report.failures), (
            f"{name}: {reasons(report)}"
        )

    # Over real HTTP, in process and as the command anyone runs: the untouched bucket passes,
    # a tampered copy fails naming the object, a target that is not there is refused.
    with served(original) as url:
        async with httpx.AsyncClient() as client:
            report = await verify(HttpSource(url, client))
        assert report.ok, reasons(report)
        assert not report.listed  # a web server cannot be listed
        good = await asyncio.to_thread(command, url)
        assert good.returncode == 0 and "verified" in good.stdout, good.stdout + good.stderr
    flip_byte(original / v1)
    bad = await asyncio.to_thread(command, str(original))
    assert bad.returncode == 1 and f"FAIL {v1}" in bad.stdout, bad.stdout
    console = Console(file=io.StringIO(), width=200)
    arguments = argparse.Namespace(target=str(tmp_path / "nowhere"), key=None, quiet=True)
    assert await run(arguments, console) == 2
    assert "neither a folder nor a URL" in console.file.getvalue()  # type: ignore[attr-defined]


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "publishers.verify", "--quiet", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# --- after withdrawals ---------------------------------------------------------------------------


async def test_after_a_partial_and_a_whole_withdrawal_the_chain_still_verifies(
    db: str, tmp_path: Path
) -> None:
    store = folder_store(tmp_path / "store")
    built = await published_and_corrected(store)
    await dataset.file_project("PUBP0-0Q", NOW.date())
    await publisher(store, 2).withdraw()
    report = await verify(store)
    assert report.ok, reasons(report)
    listed = await redactions.read(store, built.jurisdiction.code)
    # Each rewritten manifest of the release: superseded by its new bytes, for the reason that
    # names no one.
    assert listed and all(e["by"] and e["reason"] == redactions.REDACTION_NOTE for e in listed)
    rewritten = len(listed)

    other = await models.Department.get(code="PUBD1X")
    await records.file_filing(
        other,
        fiscal_year=dataset.YEAR,
        scope=FilingScope.WHOLE_DEPARTMENT,
        reason=FilingReason.CLASSIFIED,
        reference="补备2",
        filed_with="测试区财政局",
        filed_at=NOW.date(),
    )
    await publisher(store, 3).withdraw()
    report = await verify(store)
    assert report.ok, reasons(report)
    listed = await redactions.read(store, built.jurisdiction.code)
    removed = [e for e in listed if e["by"] is None]
    assert len(listed) > rewritten and removed
    text = orjson.dumps(listed).decode()
    assert "PUBD1X" not in text and "PUBD1" not in text

    # A publish after the withdrawals links to what is left, and the chain still holds.
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（再更正）")
    await publisher(store, 4).publish(built.releases[0].id, note="再更正名称")
    report = await verify(store)
    assert report.ok, reasons(report)

    # A redaction list edited (a link made to lead elsewhere) fails on its signature.
    key = redactions.redactions_key(built.jurisdiction.code)
    path = tmp_path / "store" / key
    path.write_bytes(path.read_bytes().replace(b'"by": null', b'"by": "00"', 1))
    report = await verify(store)
    assert any(k == key and "signature" in r for k, r in report.failures), reasons(report)


# --- keys ---------------------------------------------------------------------------------------


async def test_rotation_keeps_old_signatures_valid_and_a_stale_or_strange_key_is_refused(
    db: str, tmp_path: Path
) -> None:
    store = folder_store(tmp_path / "store")
    built = await published_and_corrected(store)
    newer = signing.generate()
    await signing.rotate(store, dataset.SIGNER, newer, SyncStats())
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（再更正）")
    await publisher(store, 2, newer).publish(built.releases[0].id, note="再更正名称")
    report = await verify(store)
    assert report.ok, reasons(report)
    assert report.keys == [dataset.SIGNER.fingerprint, newer.fingerprint]
    # Pinning the first key passes; pinning another fails.
    assert (await verify(store, pinned=dataset.SIGNER.fingerprint[:16])).ok
    assert not (await verify(store, pinned=newer.fingerprint)).ok

    before = sorted(p.name for p in (tmp_path / "store").rglob("*"))
    await models.Subject.filter(code="PUBP0-1Q").update(name="PUBP0-1项目（三更正）")
    for key, said in ((dataset.SIGNER, "an older key"), (signing.generate(), "not the bucket's")):
        with pytest.raises(signing.SigningError, match=said):
            await publisher(store, 3, key).publish(built.releases[0].id, note="三更正")
    assert sorted(p.name for p in (tmp_path / "store").rglob("*")) == before
    # Rotating from a key that is not the newest changes nothing either.
    with pytest.raises(signing.SigningError, match="not the bucket's newest"):
        await signing.rotate(store, dataset.SIGNER, signing.generate(), SyncStats())


def test_key_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"
    signer = signing.generate()
    signing.write_key_file(signer, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert signing.load_key_file(path).fingerprint == signer.fingerprint
    with pytest.raises(FileExistsError):
        signing.write_key_file(signing.generate(), path)
    path.write_text("not a key")
    with pytest.raises(signing.SigningError, match="not an unencrypted PEM"):
        signing.load_key_file(path)
    with pytest.raises(signing.SigningError, match="cannot be read"):
        signing.load_key_file(tmp_path / "missing.pem")


# --- over HTTP, on S3, as a command ------------------------------------------------------------


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder over real HTTP, as a static web server serves a bucket's mirror."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_on_s3_with_versioning(db: str, moto_endpoint: str) -> None:
    url = f"s3+http://{moto_endpoint}/gk-verify-{uuid.uuid4().hex[:12]}"
    store = open_store(url, "test", "test-secret")
    assert isinstance(store, S3ObjectStore)
    await store.ensure_bucket()
    store.client.set_bucket_versioning(store.bucket, VersioningConfig(ENABLED))
    built = await published_and_corrected(store)
    report = await verify(store)
    assert report.ok and report.listed, reasons(report)
    budget = await models.Release.get(id=built.releases[0].id).prefetch_related(
        "jurisdiction", "department"
    )
    key = next(
        e["key"]
        for e in orjson.loads(await store.get(manifest_key(budget, 2)))["objects"]
        if "/data/" in e["key"]
    )
    await store.put(key, b"tampered", "application/json")
    report = await verify(store)
    assert key in failed_keys(report), reasons(report)
