"""The object store seam: where published files live (MinIO/S3, a local folder, or memory).

Publishers write report files, data files and manifests through `ObjectStore` and nothing else,
so the same release workflow runs against a local folder (the embedded default), MinIO or any S3
service (production), and an in-memory double (tests). `open_store` picks the backend from a
store URL (decisions.md D17); it takes arguments only and reads no environment.

Every backend records the sha256 of what it stores and gives it back in `ObjectInfo`: S3's ETag
is an MD5 only for single-part uploads, and publishing is incremental by sha256 (invariant 4).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from storage.errors import StoreError

__all__ = [
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "StoreError",
    "check_key",
    "check_prefix",
    "check_put",
    "open_store",
    "sha256_hex",
]

#: Longest key S3 accepts, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: Names a backend may keep for itself (the local store's metadata folder and temporary files).
RESERVED_SEGMENT_PREFIX = ".gongkai-"
#: Metadata keys travel as HTTP headers (`x-amz-meta-…`), which S3 lower-cases: allow only those.
_METADATA_KEY = re.compile(r"[a-z0-9][a-z0-9-]*")
#: The metadata key under which every backend records the sha256 of the bytes.
SHA256_METADATA_KEY = "sha256"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ObjectNotFound(StoreError):
    """No object is stored under the key that was asked for."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one object, from `put`, `stat` and `list`.

    `sha256` is the hex digest the store recorded when the object was written; it is None for
    an object that gongkai did not write (or whose write was interrupted), which compares unequal
    to any digest, so an incremental publish rewrites it.
    """

    key: str
    size: int
    sha256: str | None
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    """A flat namespace of immutable-by-convention objects under ``/``-separated keys."""

    async def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Store `data` under `key`, replacing what was there; readers see old or new bytes."""
        ...

    async def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """`put` of the bytes of the file at `path`, read a piece at a time, never whole: a city
        district's bulk files are up to 128 MB, and several are uploaded at once."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; raises `ObjectNotFound` when there are none."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """What is stored under `key`, or None when nothing is."""
        ...

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""
        ...

    async def keys(self, prefix: str = "") -> Sequence[str]:
        """The keys of every object whose key starts with `prefix`, sorted: `list` without
        asking for each object's metadata (on S3 that is one request per object)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object and every stored version of it (D12); no-op when absent. No
        trace of the key stays behind: a folder left empty by it goes too."""
        ...

    async def purge_history(self) -> int:
        """Remove what the store keeps besides the current objects: every non-current version
        and delete marker of a versioned bucket, and in a folder the empty folders and
        temporary files a crash left behind. Returns how many were removed. A withdrawal ends
        with it, because a page rewritten without a withdrawn record keeps the record in its
        earlier versions (D12)."""
        ...

    async def remove_abandoned(self, prefix: str = "") -> int:
        """Remove what writes under `prefix` left behind when their process died: a folder's
        temporary files whose writer no longer runs. Returns how many were removed. A publish
        that takes over a dead worker's release calls it (D12). An S3 PUT either lands whole or
        not at all, so S3 has nothing to remove (an abandoned multipart upload is for the bucket's
        lifecycle rule, AbortIncompleteMultipartUpload)."""
        ...

    async def check(self) -> None:
        """Raise `StoreError` unless the store is reachable and usable (for /healthz)."""
        ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: How much of a file `put_file` reads at a time.
FILE_CHUNK = 1 << 20


def file_info(key: str, path: Path, content_type: str, metadata: dict[str, str]) -> ObjectInfo:
    """What `put_file` stores under `key` from the file at `path`: its size and the sha256 of
    its bytes, read a piece at a time."""
    with path.open("rb") as source:
        digest = hashlib.file_digest(source, "sha256").hexdigest()
    return ObjectInfo(key, path.stat().st_size, digest, content_type, metadata)


def _key_problem(key: str, *, prefix: bool) -> str | None:
    """Why `key` is refused, or None. Keys map to file paths in the local store, so anything
    that could escape the root or alias another key is refused everywhere alike."""
    if not key:
        return "is empty"
    if len(key.encode()) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    if key.startswith("/"):
        return "starts with '/'"
    if "\\" in key:
        return "contains a backslash"
    if ".." in key:
        return "contains '..'"
    if _CONTROL.search(key):
        return "contains a control character"
    segments = key.split("/")
    if prefix:
        segments = segments[:-1]  # a prefix may end with "/" or part of a name
    if any(segment in ("", ".") for segment in segments):
        return "has an empty or '.' path segment"
    if any(segment.startswith(RESERVED_SEGMENT_PREFIX) for segment in key.split("/")):
        return f"has a segment starting with the reserved {RESERVED_SEGMENT_PREFIX!r}"
    return None


def check_key(key: str) -> str:
    """Return `key` if it is a valid object key; raise ValueError naming it otherwise."""
    problem = _key_problem(key, prefix=False)
    if problem:
        raise ValueError(f"object key {key!r} {problem}")
    return key


def check_prefix(prefix: str) -> str:
    """Like `check_key` for a listing prefix; the empty prefix lists everything."""
    problem = _key_problem(prefix, prefix=True) if prefix else None
    if problem:
        raise ValueError(f"object key prefix {prefix!r} {problem}")
    return prefix


def check_put(key: str, content_type: str, metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Validate the arguments of a `put`; return the user metadata as a plain dict.

    The rules are what S3 can carry in headers, enforced for every backend so that a release
    that publishes to the local folder also publishes to MinIO.
    """
    check_key(key)
    if not content_type or not content_type.isascii() or _CONTROL.search(content_type):
        raise ValueError(f"content type {content_type!r} of {key!r} is not printable ASCII")
    user = dict(metadata or {})
    for name in user:
        if name == SHA256_METADATA_KEY:
            raise ValueError(f"metadata key {name!r} of {key!r} is reserved for the store")
        if not _METADATA_KEY.fullmatch(name):
            raise ValueError(
                f"metadata key {name!r} of {key!r} must be lower-case letters, digits and '-'"
            )
    return user


def open_store(
    url: str, access_key: str | None = None, secret_key: str | None = None
) -> ObjectStore:
    """The store a URL names (decisions.md D17).

    ``file://PATH`` (relative, or absolute as ``file:///abs``), ``s3://HOST[:PORT]/BUCKET``
    (TLS), ``s3+http://HOST[:PORT]/BUCKET`` (plain HTTP, for a local MinIO or test server),
    ``memory://``. The keys are used by the S3 backends only. Raises ValueError naming what is
    wrong with a malformed URL.
    """
    # Backends import this module, and only S3 users need minio loaded: import on demand.
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("store URL must look like SCHEME://…; schemes: file, s3, s3+http, memory")
    match scheme:
        case "file":
            from storage.objects.local import LocalObjectStore

            if not rest:
                raise ValueError("file:// store URL has no path")
            return LocalObjectStore(rest)
        case "memory":
            from storage.objects.memory import MemoryObjectStore

            if rest:
                raise ValueError(f"memory:// store URL takes nothing after '//', got {rest!r}")
            return MemoryObjectStore()
        case "s3" | "s3+http":
            from storage.objects.s3 import S3ObjectStore

            endpoint, bucket = _parse_s3(scheme, rest)
            return S3ObjectStore(
                endpoint,
                bucket,
                access_key=access_key,
                secret_key=secret_key,
                secure=scheme == "s3",
            )
        case _:
            raise ValueError(f"store URL scheme {scheme!r} is not one of file, s3, s3+http, memory")


def _parse_s3(scheme: str, rest: str) -> tuple[str, str]:
    """``HOST[:PORT]/BUCKET`` → (endpoint, bucket). Messages never repeat the URL, which could
    carry a secret someone pasted into it."""
    parts = urlsplit(f"//{rest}")
    if "@" in parts.netloc:
        raise ValueError(
            f"{scheme}:// store URL must not carry credentials; pass the access and secret keys"
        )
    if not parts.hostname:
        raise ValueError(f"{scheme}:// store URL has no host")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise ValueError(f"{scheme}:// store URL has an invalid port: {exc}") from None
    if parts.query or parts.fragment:
        raise ValueError(f"{scheme}:// store URL must not have a query or fragment")
    bucket = parts.path.strip("/")
    if not bucket:
        raise ValueError(f"{scheme}:// store URL has no bucket (…/BUCKET)")
    if "/" in bucket:
        raise ValueError(f"{scheme}:// store URL path must be a single bucket name, got {bucket!r}")
    return parts.netloc, bucket
