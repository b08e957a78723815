"""MinIO access for the gateway: one attempt per call, short timeouts.

The minio SDK's default client retries 5 times with 5-minute timeouts. A
gateway that promises "2xx only after MinIO acknowledged the write" must not
let a hidden retry turn a refused write into a late success, and must say
503 quickly while MinIO has no quorum. So: retries off, explicit timeouts,
and every failure sorted into one of three kinds the API can answer with.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, BinaryIO, TypeVar, cast

from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.datatypes import parse_list_objects
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import DictType
from minio.lifecycleconfig import Expiration, LifecycleConfig, NoncurrentVersionExpiration, Rule
from minio.versioningconfig import VersioningConfig
from urllib3 import BaseHTTPResponse, PoolManager
from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError, NewConnectionError
from urllib3.util import Retry, Timeout

from gateway.config import Settings

SHA256_META = "x-amz-meta-sha256"
READ_BACKOFF_S = 0.1
"""The first retry's pause at most (seconds); each further one doubles it."""
_JITTER = random.Random()  # noqa: S311 (spreads retries in time; nothing secret)
T = TypeVar("T")
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject"})


class StorageError(Exception):
    """MinIO answered with an error that is not about availability (HTTP 502)."""

    def __init__(self, operation: str, upstream: str, detail: str, *, reached: bool = True) -> None:
        super().__init__(f"{operation}: {upstream}: {detail}")
        self.operation = operation
        self.upstream = upstream
        self.detail = detail
        self.reached = reached
        """False when no connection to MinIO was made, so nothing of the
        request can have landed; True when MinIO may have acted on part of it."""


class StorageUnavailable(StorageError):
    """MinIO cannot serve now: no quorum, still starting, unreachable, timed out (HTTP 503)."""


class ObjectNotFound(Exception):
    """No object under this key (HTTP 404)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str | None
    etag: str | None


@dataclass(frozen=True)
class ClusterHealth:
    """The answer of /minio/health/cluster: 200 only when every erasure set has write quorum."""

    status: int | None
    write_quorum: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def _status_of(exc: Exception) -> int | None:
    if isinstance(exc, S3Error):
        return exc.response.status if exc.response is not None else None
    if isinstance(exc, ServerError):
        return exc.status_code
    if isinstance(exc, InvalidResponseError):
        code = getattr(exc, "_code", None)
        return code if isinstance(code, int) else None
    return None


@contextmanager
def _translated(operation: str) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if exc.code in _NOT_FOUND_CODES:
            raise ObjectNotFound() from exc
        kind = StorageUnavailable if _status_of(exc) == 503 else StorageError
        raise kind(operation, exc.code or "S3Error", exc.message or str(exc)) from exc
    except (ServerError, InvalidResponseError) as exc:
        status = _status_of(exc)
        kind = StorageUnavailable if status in (None, 503) else StorageError
        raise kind(operation, f"HTTP {status}", str(exc)) from exc
    except HTTPError as exc:
        # Refused, reset, timed out: nothing (or nothing complete) answered.
        # MinIO without quorum may never answer at all (a server alone of
        # four holds requests for minutes), so a read timeout is an outage.
        cause = exc.reason if isinstance(exc, MaxRetryError) and exc.reason is not None else exc
        reached = not isinstance(cause, NewConnectionError | ConnectTimeoutError)
        raise StorageUnavailable(operation, type(cause).__name__, str(cause), reached=reached) from exc


class ObjectStream:
    """An object being read from MinIO: its stat and its body, in chunks."""

    def __init__(self, response: BaseHTTPResponse, info: StoredObject) -> None:
        self._response = response
        self.info = info

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at the end. A cut-off body raises
        StorageUnavailable (urllib3 checks Content-Length)."""
        with _translated("get"):
            return self._response.read(size)

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()


class Storage:
    """The gateway's view of one bucket in MinIO."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.on_retry: Callable[[str], None] = lambda operation: None
        """Told the operation of each read tried again (the gateway counts them)."""
        self._http = PoolManager(
            timeout=Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            retries=Retry(total=0, redirect=0),
            maxsize=32,
        )
        endpoint = settings.minio_url.split("://", 1)[1]
        self._client = Minio(
            endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.minio_url.startswith("https://"),
            http_client=self._http,
        )

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    @property
    def client(self) -> Minio:
        """The SDK client: retries off, short timeouts (for gateway.multipart)."""
        return self._client

    def ensure_bucket(self) -> bool:
        """Create the bucket when missing, and turn versioning on when the
        settings ask for it (see Settings.bucket_versioning for why); True
        when this call created the bucket."""
        with _translated("ensure_bucket"):
            created = self._make_bucket()
            if self.settings.bucket_versioning:
                self._ensure_versioning()
            return created

    def _make_bucket(self) -> bool:
        if self._client.bucket_exists(self.bucket):
            return False
        try:
            self._client.make_bucket(self.bucket)
        except S3Error as exc:
            # Another replica created it between our check and our create.
            if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return False
            raise
        return True

    def _ensure_versioning(self) -> None:
        if self._client.get_bucket_versioning(self.bucket).status != ENABLED:
            self._client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
        # Only when the bucket has no rules: never replace a team's own lifecycle.
        if self._client.get_bucket_lifecycle(self.bucket) is None:
            rule = Rule(
                ENABLED,
                rule_filter=Filter(prefix=""),
                rule_id="chaosgate-expire-noncurrent",
                noncurrent_version_expiration=NoncurrentVersionExpiration(self.settings.noncurrent_days),
                expiration=Expiration(expired_object_delete_marker=True),
            )
            self._client.set_bucket_lifecycle(self.bucket, LifecycleConfig([rule]))

    def put(self, key: str, data: bytes, sha256: str) -> StoredObject:
        """Write ``data``; returns only after MinIO acknowledged the write."""
        with _translated("put"):
            result = self._client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                metadata={SHA256_META: sha256},
            )
        return StoredObject(key, len(data), sha256, result.etag)

    def put_file(self, key: str, stream: IO[bytes], size: int, sha256: str) -> StoredObject:
        """Write ``size`` bytes from ``stream``, one part in memory at a time
        (the unsafe mode's write after the ack, from its spool file)."""
        with _translated("put"):
            result = self._client.put_object(
                self.bucket,
                key,
                cast(BinaryIO, stream),
                size,
                metadata={SHA256_META: sha256},
                part_size=self.settings.part_bytes,
                num_parallel_uploads=1,
            )
        return StoredObject(key, size, sha256, result.etag)

    def _read(self, operation: str, call: Callable[[], T]) -> T:
        """An idempotent read (GET before its body, HEAD, LIST), tried up to
        ``read_attempts`` times while MinIO is unavailable, with full-jitter
        backoff, the way the common S3 SDKs retry. Never a write: a retried
        write could land twice, or late. Not after a read timeout: the
        client has waited its share already."""
        attempts = self.settings.read_attempts
        for attempt in range(1, attempts + 1):
            try:
                with _translated(operation):
                    return call()
            except StorageUnavailable as exc:
                if attempt == attempts or exc.upstream == "ReadTimeoutError":
                    raise
                self.on_retry(operation)
                time.sleep(_JITTER.uniform(0, READ_BACKOFF_S * 2 ** (attempt - 1)))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def open(self, key: str) -> ObjectStream:
        """Start reading ``key``; the caller reads it in chunks and closes it."""
        response = self._read("get", lambda: self._client.get_object(self.bucket, key))
        try:
            headers = response.headers
            etag = headers.get("etag")
            info = StoredObject(
                key,
                int(headers.get("content-length", "0")),
                headers.get(SHA256_META),
                etag.strip('"') if etag else None,
            )
        except BaseException:
            response.close()
            response.release_conn()
            raise
        return ObjectStream(response, info)

    def stat(self, key: str) -> StoredObject:
        info = self._read("head", lambda: self._client.stat_object(self.bucket, key))
        metadata = info.metadata or {}
        return StoredObject(key, info.size or 0, metadata.get(SHA256_META), info.etag)

    def delete(self, key: str) -> bool:
        """Delete ``key``; deleting a missing key succeeds, as in S3. True when
        MinIO answered with a delete marker (a versioned bucket's delete
        wrote one, or found one as the newest version); False when it wrote
        none, which in a versioned bucket means its look-up read "not found"
        (gateway.settle says when that can be believed)."""
        with _translated("delete"):
            response = self._client._execute("DELETE", self.bucket, key)
        return response.headers.get("x-amz-delete-marker", "").lower() == "true"

    def list_page(self, prefix: str, start_after: str | None, limit: int) -> tuple[list[str], bool]:
        """One ListObjectsV2 page: up to ``limit`` keys under ``prefix`` after
        ``start_after``, and whether more follow (MinIO's IsTruncated)."""
        query: DictType = {
            "list-type": "2",
            "prefix": prefix,
            "delimiter": "",
            "max-keys": str(limit),
            "encoding-type": "url",
        }
        if start_after:
            query["start-after"] = start_after
        # The SDK's public list_objects pages on by itself and hides
        # IsTruncated; one request per page keeps the answer bounded.
        response = self._read("list", lambda: self._client._execute("GET", self.bucket, query_params=query))
        with _translated("list"):
            objects, truncated, _, _ = parse_list_objects(response)
        return [str(o.object_name) for o in objects], truncated

    def cluster_health(self) -> ClusterHealth:
        try:
            response = self._http.request("GET", f"{self.settings.minio_url}/minio/health/cluster")
        except HTTPError as exc:
            return ClusterHealth(None, None, f"{type(exc).__name__}: {exc}")
        raw = response.headers.get("x-minio-write-quorum")
        return ClusterHealth(response.status, int(raw) if raw and raw.isdigit() else None)
