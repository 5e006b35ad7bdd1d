"""The production object store: one bucket of MinIO or any S3 service, through the minio SDK.

The SDK blocks, so every call runs in a worker thread. Each object carries its sha256 as user
metadata (``x-amz-meta-sha256``): the ETag is an MD5 only for single-part uploads. S3 metadata
travels in HTTP headers, which carry ASCII only, so user metadata values are percent-encoded on
the way in and decoded on the way out (Chinese titles round-trip; other readers see the escapes).

Errors of the SDK and of urllib3 become `StoreError`; their messages name the endpoint, bucket,
operation and key, never the credentials (which travel in headers, not URLs).
"""

from __future__ import annotations

import asyncio
import io
import string
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import quote, unquote

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from minio.helpers import DictType, check_bucket_name

from storage.objects import (
    SHA256_METADATA_KEY,
    ObjectInfo,
    ObjectNotFound,
    StoreError,
    check_key,
    check_prefix,
    check_put,
    file_info,
    sha256_hex,
)

_META_HEADER = "x-amz-meta-"
#: The one metadata key sent as a standard header, so that S3 serves it with the object (RFC
#: 6266: a readable download name, `publishers/filenames.py`); its value is ASCII already.
CONTENT_DISPOSITION = "content-disposition"
#: HEAD requests in flight at once when listing (the client's connection pool holds 10).
PARALLEL_STATS = 8
_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
#: Printable ASCII stays readable in headers; "%" is escaped so that decoding is exact.
_SAFE = "".join(c for c in string.punctuation if c != "%")

T = TypeVar("T")


def default_http_client() -> urllib3.PoolManager:
    """minio's own default waits 5 minutes per attempt and retries 5 times; a health check and
    a publish should hear of an outage sooner than that. TLS uses the system's CA store."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60),
        maxsize=10,
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class S3ObjectStore:
    """Objects in `bucket` at `endpoint` (``host[:port]``); `secure` selects TLS."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = True,
        http_client: urllib3.PoolManager | None = None,
    ) -> None:
        check_bucket_name(bucket, strict=True)
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            http_client=http_client or default_http_client(),
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.endpoint!r}, {self.bucket!r})"

    async def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        user = check_put(key, content_type, metadata)
        info = ObjectInfo(key, len(data), sha256_hex(data), content_type, user)
        await self._run("put", key, lambda: self._upload(io.BytesIO(data), info))
        return info

    async def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        user = check_put(key, content_type, metadata)

        def upload() -> ObjectInfo:
            info = file_info(key, path, content_type, user)
            # minio reads the stream a part at a time (a multipart upload above 5 MiB).
            with path.open("rb") as source:
                self._upload(source, info)
            return info

        return await self._run("put", key, upload)

    def _upload(self, source: BinaryIO, info: ObjectInfo) -> None:
        # Prefixed here: minio would send names like "content-language" as standard headers.
        headers: DictType = {
            _META_HEADER + n: quote(v, safe=_SAFE)
            for n, v in info.metadata.items()
            if n != CONTENT_DISPOSITION
        }
        if CONTENT_DISPOSITION in info.metadata:  # a standard header, which S3 serves with it
            headers["Content-Disposition"] = info.metadata[CONTENT_DISPOSITION]
        headers[_META_HEADER + SHA256_METADATA_KEY] = str(info.sha256)
        self.client.put_object(
            self.bucket,
            info.key,
            source,
            info.size,
            content_type=info.content_type,
            metadata=headers,
        )

    async def get(self, key: str) -> bytes:
        check_key(key)

        def read() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return await self._run("get", key, read)
        except StoreError as exc:
            if _is_not_found(exc.__cause__):
                raise ObjectNotFound(f"no object {key!r} in bucket {self.bucket!r}") from None
            raise

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            return await self._run("stat", key, lambda: self._stat(key))
        except StoreError as exc:
            if _is_not_found(exc.__cause__):
                return None
            raise

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        """One listing plus a HEAD per object, several at once: S3 listings carry no user
        metadata, and the sha256 is metadata."""
        check_prefix(prefix)

        def scan() -> list[ObjectInfo]:
            listed = self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
            keys = sorted(str(obj.object_name) for obj in listed if not obj.is_dir)
            with ThreadPoolExecutor(max_workers=PARALLEL_STATS) as pool:
                return list(pool.map(self._stat, keys))

        return await self._run("list", prefix, scan)

    async def keys(self, prefix: str = "") -> Sequence[str]:
        check_prefix(prefix)

        def scan() -> list[str]:
            listed = self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
            return sorted(str(obj.object_name) for obj in listed if not obj.is_dir)

        return await self._run("keys", prefix, scan)

    async def delete(self, key: str) -> None:
        """Delete every version and delete marker of `key`: on a versioned bucket a plain
        delete only hides the object, and a withdrawal must remove it (D12). On an unversioned
        bucket the listing shows the one "null" version."""
        check_key(key)

        def remove() -> None:
            versions = self.client.list_objects(
                self.bucket, prefix=key, recursive=True, include_version=True
            )
            doomed = [
                DeleteObject(key, obj.version_id) for obj in versions if obj.object_name == key
            ]
            errors = list(self.client.remove_objects(self.bucket, doomed)) if doomed else []
            if errors:
                codes = ", ".join(sorted({str(error.code) for error in errors}))
                raise StoreError(f"delete {key!r} from bucket {self.bucket!r} failed: {codes}")

        await self._run("delete", key, remove)

    async def remove_abandoned(self, prefix: str = "") -> int:
        """A PUT lands whole or not at all: nothing to remove."""
        return 0

    async def purge_history(self) -> int:
        """Delete every non-current version and every delete marker in the bucket (a key
        whose latest version is a delete marker loses all its versions). On an unversioned
        bucket each key has one current version and nothing is deleted."""

        def purge() -> int:
            listed = self.client.list_objects(self.bucket, recursive=True, include_version=True)
            doomed = [
                DeleteObject(str(obj.object_name), obj.version_id)
                for obj in listed
                # IsLatest comes as the XML text "true"/"false"; unversioned listings omit it.
                if obj.is_delete_marker or (obj.is_latest or "true").lower() != "true"
            ]
            # A key whose current version is a delete marker is gone: its older versions are
            # non-current and listed above, so the key disappears whole.
            errors = list(self.client.remove_objects(self.bucket, doomed)) if doomed else []
            if errors:
                codes = ", ".join(sorted({str(error.code) for error in errors}))
                raise StoreError(f"purging old versions in bucket {self.bucket!r} failed: {codes}")
            return len(doomed)

        return await self._run("purge history", "", purge)

    async def check(self) -> None:
        exists = await self._run("check", "", lambda: self.client.bucket_exists(self.bucket))
        if not exists:
            raise StoreError(f"bucket {self.bucket!r} does not exist at {self.endpoint}")

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (tests, development set-up)."""

        def create() -> None:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)

        await self._run("create bucket", "", create)

    def _stat(self, key: str) -> ObjectInfo:
        obj = self.client.stat_object(self.bucket, key)
        user = {
            name.lower().removeprefix(_META_HEADER): unquote(value)
            for name, value in (obj.metadata or {}).items()
            if name.lower().startswith(_META_HEADER)
        }
        disposition = (obj.metadata or {}).get("Content-Disposition")
        if disposition:
            user[CONTENT_DISPOSITION] = str(disposition)
        sha256 = user.pop(SHA256_METADATA_KEY, None)
        return ObjectInfo(
            key, int(obj.size or 0), sha256, obj.content_type or "application/octet-stream", user
        )

    async def _run(self, operation: str, key: str, work: Callable[[], T]) -> T:
        """Run a blocking SDK call in a thread; SDK and transport errors become `StoreError`
        (chained, so callers can tell "not found" apart)."""
        try:
            return await asyncio.to_thread(work)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            where = f"bucket {self.bucket!r} at {self.endpoint}"
            target = f" {key!r}" if key else ""
            raise StoreError(f"{operation}{target} in {where} failed: {_describe(exc)}") from exc


def _is_not_found(exc: BaseException | None) -> bool:
    return isinstance(exc, S3Error) and exc.code in _NOT_FOUND


def _describe(exc: BaseException) -> str:
    """A short cause: the S3 error code and message, or the transport error's reason."""
    if isinstance(exc, S3Error):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return f"{type(exc.reason).__name__}: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"
