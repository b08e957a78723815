"""S3 and admin clients that never retry and never wait long.

The minio SDK's default client retries 5 times on 5xx with 5-minute timeouts.
For a chaos suite that is wrong twice over: a retried PUT can turn "not
acknowledged" into "acknowledged" behind our back, and a five-minute hang
hides the moment a fault took effect. Every client here answers once, fast.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from minio import Minio, MinioAdmin
from minio.credentials.providers import StaticProvider
from minio.error import S3Error, ServerError
from urllib3 import PoolManager
from urllib3.exceptions import HTTPError, ProtocolError
from urllib3.util import Retry, Timeout

from chaos.ledger import StoreRefused
from kernel.errors import BadInputError
from kernel.wait import Deadline, Seen, wait_until

# Seconds. Loopback and in-cluster peers answer in milliseconds; a few seconds
# leaves room for a busy CI machine while still showing an outage as an outage.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0


class KeyPair(Protocol):
    """Anything that carries an S3 key pair: :class:`Credentials`, or the
    ``credentials`` of the loopback test cluster."""

    @property
    def access_key(self) -> str: ...

    @property
    def secret_key(self) -> str: ...


@dataclass(frozen=True)
class Credentials:
    """An access key pair. The secret never appears in repr, so it cannot leak
    through logs, assertion messages or pytest's captured locals."""

    access_key: str
    secret_key: str = field(repr=False)


def http_pool(*, connect: float = CONNECT_TIMEOUT, read: float = READ_TIMEOUT, maxsize: int = 10) -> PoolManager:
    """A urllib3 pool with retries off (``Retry(total=0)``: the first error is
    the answer) and explicit timeouts."""
    return PoolManager(
        timeout=Timeout(connect=connect, read=read),
        retries=Retry(total=0, redirect=0),
        maxsize=maxsize,
    )


def split_url(url: str) -> tuple[str, bool]:
    """``http://host:port`` -> (``host:port``, secure), the form the minio SDK wants."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInputError(f"MinIO URL {url!r} must look like http://host:port or https://host:port")
    if parts.path not in ("", "/"):
        raise BadInputError(f"MinIO URL {url!r} must not have a path; give only scheme, host and port")
    return parts.netloc, parts.scheme == "https"


def s3_client(url: str, credentials: KeyPair, *, http: PoolManager | None = None) -> Minio:
    """An S3 client for ``url`` that fails fast instead of retrying."""
    endpoint, secure = split_url(url)
    return Minio(
        endpoint,
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        secure=secure,
        http_client=http or http_pool(),
    )


def admin_client(url: str, credentials: KeyPair, *, http: PoolManager | None = None) -> MinioAdmin:
    """A MinIO admin client for ``url`` that fails fast instead of retrying."""
    endpoint, secure = split_url(url)
    return MinioAdmin(
        endpoint=endpoint,
        credentials=StaticProvider(credentials.access_key, credentials.secret_key),
        secure=secure,
        http_client=http or http_pool(),
    )


CHUNK = 64 * 1024
"""Bytes read and hashed at a time: a reader holds one chunk, never an object."""


def object_reader(client: Minio, bucket: str) -> Callable[[str], tuple[str, int] | None]:
    """A read-back function for the write ledger: the object's (sha256 hex, size),
    hashed while it streams in CHUNK-sized pieces; None when the store says it
    does not exist; StoreRefused when it answers with another error or breaks
    off the body it started to send; connection trouble before an answer and
    our own timeouts propagate as they are (the harness could not ask)."""

    def read(key: str) -> tuple[str, int] | None:
        try:
            response = client.get_object(bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket"):
                return None
            raise StoreRefused(f"{exc.code}: {exc.message}") from exc
        except ServerError as exc:  # a 5xx without an S3 error body
            raise StoreRefused(f"HTTP {exc.status_code}: {str(exc)[:200]}") from exc
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in response.stream(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        except ProtocolError as exc:
            # The store answered 200 and then could not deliver the object (MinIO
            # aborts the body when it cannot reconstruct the data mid-stream).
            raise StoreRefused(f"the store broke off the object after {size} bytes: {exc}"[:300]) from exc
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest(), size

    return read


def lister(client: Minio, bucket: str) -> Callable[[str], Iterator[str]]:
    """A listing function for the write ledger: the object names under a prefix
    (recursive, streamed page by page); nothing when the bucket is gone (as
    ``object_reader`` reads a missing bucket as missing objects: a store that
    lost its bucket lost what was in it); StoreRefused when the store answers
    with another error."""

    def names(prefix: str) -> Iterator[str]:
        try:
            for obj in client.list_objects(bucket, prefix=prefix, recursive=True):
                yield str(obj.object_name)
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                return
            raise StoreRefused(f"{exc.code}: {exc.message}") from exc
        except ServerError as exc:
            raise StoreRefused(f"HTTP {exc.status_code}: {str(exc)[:200]}") from exc

    return names


def abort_incomplete_uploads(client: Minio, bucket: str, prefix: str) -> int:
    """Abort every multipart upload under ``prefix`` that was never completed
    (a client interrupted by a fault leaves its parts behind); returns how many.

    MinIO lists uploads for the whole bucket (empty prefix) or for one exact
    object name, never for a shorter prefix, so the bucket's uploads are listed
    page by page and filtered here. minio-py has no public call for these: its
    ListMultipartUploads and AbortMultipartUpload wrappers are used."""
    found: list[tuple[str, str]] = []
    marker: str | None = None
    while True:
        page = client._list_multipart_uploads(bucket, key_marker=marker, max_uploads=1000)
        found += [
            (u.object_name, u.upload_id) for u in page.uploads if u.upload_id and u.object_name.startswith(prefix)
        ]
        # The key marker must move on: a page that repeats it ends the walk
        # (minio-py drops the upload-id marker, so one key's uploads past a
        # page boundary would otherwise come back forever).
        if not page.is_truncated or not page.next_key_marker or page.next_key_marker == marker:
            break
        marker = page.next_key_marker
    for name, upload_id in dict.fromkeys(found):
        client._abort_multipart_upload(bucket, name, upload_id)
    return len(dict.fromkeys(found))


def remove_prefix(client: Minio, bucket: str, prefix: str, timeout: float = 180.0) -> int:
    """Delete every object under ``prefix`` (what a run wrote into a stack
    chaosgate did not deploy); returns how many. A store that refuses writes
    for a while (503 SlowDownWrite after a full outage, while it heals) is
    asked again until ``timeout``; WaitTimeout says what it last answered."""
    from minio.deleteobjects import DeleteObject  # noqa: PLC0415

    removed = 0

    def sweep() -> Seen:
        nonlocal removed
        names = [o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True) if o.object_name]
        errors = list(client.remove_objects(bucket, (DeleteObject(n) for n in names)))
        removed += len(names) - len(errors)
        if errors:
            return Seen(
                False, f"{len(errors)} not deleted, e.g. {errors[0].name}: {errors[0].code} {errors[0].message}"
            )
        return Seen(True, f"{len(names)} deleted")

    wait_until(
        sweep,
        what=f"the objects under {prefix!r} deleted",
        timeout=Deadline(timeout),
        interval=3.0,
        tolerate=(S3Error, ServerError, HTTPError, OSError),
    )
    return removed
