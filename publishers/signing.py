"""Detached Ed25519 signatures of what the publisher vouches for (issue 16; docs/verification.md).

Every signed object `K` gets a signature object `K.sig` beside it::

    {"algorithm": "Ed25519", "key": "<fingerprint>", "signature": "<base64>"}

over the object's exact bytes. The public keys live at fixed keys in the bucket:

    keys/<fingerprint>.json   one key: its raw public key (base64) and, from the second key on,
                              its endorsement — the previous key's signature over this key's
                              fingerprint (a rotation: the old key vouches for the new one)
    keys/index.json           the fingerprints, oldest first; the last one signs from now on

A fingerprint is the sha256 of the raw 32-byte public key, in hex. The private key is a PEM file
(`GONGKAI_SIGNING_KEY_FILE`); it never enters the bucket or a log line. Everything here is
deterministic — the same key and bytes give the same signature object — so an unchanged publish
rewrites nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from publishers.render import JSON_TYPE, dumps
from publishers.sync import SyncStats, put_if_changed
from storage.errors import GongkaiError
from storage.objects import ObjectNotFound, ObjectStore

ALGORITHM = "Ed25519"
KEY_INDEX = "keys/index.json"
SIGNATURE_SUFFIX = ".sig"


class SigningError(GongkaiError):
    """The signing key is missing, unreadable or not the bucket's."""


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def key_object(fingerprint_: str) -> str:
    return f"keys/{fingerprint_}.json"


def signature_key(key: str) -> str:
    return key + SIGNATURE_SUFFIX


@dataclass(frozen=True)
class Signer:
    """A private key and what it signs with."""

    private: Ed25519PrivateKey = field(repr=False)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @functools.cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def signature(self, data: bytes) -> bytes:
        """The signature object of `data`."""
        return dumps(
            {
                "algorithm": ALGORITHM,
                "key": self.fingerprint,
                "signature": base64.b64encode(self.private.sign(data)).decode(),
            }
        )

    def key_document(self, endorsed_by: Signer | None = None) -> bytes:
        """This key as the bucket publishes it; `endorsed_by` (the previous key) signs the
        fingerprint of this one."""
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        document: dict[str, Any] = {
            "algorithm": ALGORITHM,
            "fingerprint": self.fingerprint,
            "publicKey": base64.b64encode(raw).decode(),
            "endorsement": None,
        }
        if endorsed_by is not None:
            document["endorsement"] = {
                "key": endorsed_by.fingerprint,
                "signature": base64.b64encode(
                    endorsed_by.private.sign(self.fingerprint.encode())
                ).decode(),
            }
        return dumps(document)


def generate() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def write_key_file(signer: Signer, path: Path) -> None:
    """The private key as an unencrypted PKCS#8 PEM file readable by its owner only: written
    into a private temporary file, then linked into place, so no one ever reads half a key;
    FileExistsError if `path` exists (another process's key wins)."""
    pem = signer.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        os.link(temporary, path)
    finally:
        temporary.unlink()


def load_key_file(path: Path) -> Signer:
    """The signer of a PEM file; a SigningError names the file (never its content)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningError(f"signing key {path}: cannot be read ({error.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningError(f"signing key {path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"signing key {path}: not an Ed25519 key")
    return Signer(key)


# --- checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    key: Ed25519PublicKey
    endorsed_by: str | None


def read_key_document(data: bytes, name: str) -> tuple[PublicKey, bytes | None]:
    """A key object: the key, and its endorsement's signature bytes (None for the first key).
    Raises ValueError saying what is wrong with it."""
    try:
        document = orjson.loads(data)
        raw = base64.b64decode(document["publicKey"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ValueError(f"{name}: not a key document") from None
    if document.get("algorithm") != ALGORITHM or document.get("fingerprint") != fingerprint(public):
        raise ValueError(f"{name}: its fingerprint is not its key's")
    endorsement = document.get("endorsement")
    if endorsement is None:
        return PublicKey(fingerprint(public), public, None), None
    try:
        signature = base64.b64decode(endorsement["signature"], validate=True)
        by = str(endorsement["key"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{name}: its endorsement is malformed") from None
    return PublicKey(fingerprint(public), public, by), signature


def check_signature(data: bytes, signature_object: bytes, keys: Mapping[str, PublicKey]) -> str:
    """The fingerprint of the key in `keys` whose signature `signature_object` is over `data`;
    raises ValueError saying why not."""
    try:
        document = orjson.loads(signature_object)
        signature = base64.b64decode(document["signature"], validate=True)
        by = str(document["key"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ValueError("its signature object is malformed") from None
    if document.get("algorithm") != ALGORITHM:
        raise ValueError(f"signed with {document.get('algorithm')!r}, not {ALGORITHM}")
    public = keys.get(by)
    if public is None:
        raise ValueError(f"signed by key {by[:16]}…, which is not one of the bucket's keys")
    try:
        public.key.verify(signature, data)
    except InvalidSignature:
        raise ValueError(f"its signature by key {by[:16]}… does not match its bytes") from None
    return by


def verify_endorsement(key: PublicKey, signature: bytes, by: PublicKey) -> bool:
    try:
        by.key.verify(signature, key.fingerprint.encode())
    except InvalidSignature:
        return False
    return True


# --- the bucket's keys ----------------------------------------------------------------------------


async def key_index(store: ObjectStore) -> list[str]:
    """The fingerprints of `keys/index.json`, oldest first (empty before the first publish)."""
    try:
        return [str(f) for f in orjson.loads(await store.get(KEY_INDEX))["keys"]]
    except ObjectNotFound:
        return []


async def ensure_key(store: ObjectStore, signer: Signer, stats: SyncStats) -> None:
    """The first publish into a bucket publishes its key; later ones check that the signing key
    is the bucket's newest (an older key or a stranger's would fork what readers trust)."""
    index = await key_index(store)
    if not index:
        await put_if_changed(
            store, key_object(signer.fingerprint), signer.key_document(), JSON_TYPE, stats
        )
        index_bytes = dumps({"keys": [signer.fingerprint]})
        await put_if_changed(store, KEY_INDEX, index_bytes, JSON_TYPE, stats)
        return
    if index[-1] != signer.fingerprint:
        where = "an older key of the bucket" if signer.fingerprint in index else "not the bucket's"
        raise SigningError(
            f"the signing key {signer.fingerprint[:16]}… is {where}: the bucket's newest key is "
            f"{index[-1][:16]}…; rotate to a new key with `gongkai keys rotate`"
        )
    stats.skipped += 1 + len(index)  # the index and the keys, all there


async def rotate(store: ObjectStore, old: Signer, new: Signer, stats: SyncStats) -> None:
    """Publish `new` as the bucket's newest key, endorsed by `old`, which must be the newest now."""
    index = await key_index(store)
    if not index or index[-1] != old.fingerprint:
        raise SigningError(
            f"the old key {old.fingerprint[:16]}… is not the bucket's newest key; nothing changed"
        )
    if new.fingerprint in index:
        raise SigningError(f"the new key {new.fingerprint[:16]}… is already one of the bucket's")
    await put_if_changed(
        store, key_object(new.fingerprint), new.key_document(endorsed_by=old), JSON_TYPE, stats
    )
    await store.put(KEY_INDEX, dumps({"keys": [*index, new.fingerprint]}), JSON_TYPE)
    stats.written += 1


async def put_signed(
    store: ObjectStore,
    key: str,
    data: bytes,
    content_type: str,
    signer: Signer | None,
    stats: SyncStats,
) -> None:
    """Write `key` (when its bytes changed) and its signature object (when that changed): the
    object first, so a crash between the two leaves a signature that fails, never a stale one
    that passes for new bytes. Without a signer, the object alone."""
    await put_if_changed(store, key, data, content_type, stats)
    if signer is not None:
        await put_if_changed(store, signature_key(key), signer.signature(data), JSON_TYPE, stats)
