"""One S3 multipart upload, driven part by part by the streaming PUT.

The minio SDK's ``put_object`` can stream a multipart upload, but only from
a blocking reader and with the object's metadata fixed before the first
byte; the gateway reads the body on the event loop and must decide itself
when to complete (the body ended) or abort (too large, client gone, sha256
mismatch). So it uses the SDK's single-request calls, one attempt each.
"""

from __future__ import annotations

import logging
from typing import cast

from minio.datatypes import Part
from minio.helpers import DictType

from gateway.storage import SHA256_META, ObjectNotFound, Storage, StorageError, _translated

log = logging.getLogger("gateway")


class MultipartUpload:
    """An upload in progress. Parts are numbered in the order they are put."""

    def __init__(self, storage: Storage, key: str, upload_id: str) -> None:
        self._storage = storage
        self.key = key
        self.upload_id = upload_id
        self.parts: list[Part] = []
        self.size = 0

    @classmethod
    def start(cls, storage: Storage, key: str, sha256: str | None) -> MultipartUpload:
        """CreateMultipartUpload. The object's metadata is fixed here, before
        its content is known: ``sha256`` is stored only when the client
        declared it (it is checked before ``complete``)."""
        headers: DictType = {"Content-Type": "application/octet-stream"}
        if sha256:
            headers[SHA256_META] = sha256
        with _translated("put"):
            upload_id = storage.client._create_multipart_upload(storage.bucket, key, headers)
        return cls(storage, key, upload_id)

    def put_part(self, data: bytes | memoryview) -> None:
        number = len(self.parts) + 1
        # A view of the reused part buffer, not a copy: the SDK only takes its
        # length, hashes it to sign the request and hands it to the socket.
        body = cast(bytes, data)
        with _translated("put"):
            etag = self._storage.client._upload_part(self._storage.bucket, self.key, body, None, self.upload_id, number)
        self.parts.append(Part(number, etag))
        self.size += len(data)

    def complete(self) -> str | None:
        """CompleteMultipartUpload: the object exists only once this returns."""
        with _translated("put"):
            result = self._storage.client._complete_multipart_upload(
                self._storage.bucket, self.key, self.upload_id, self.parts
            )
        return result.etag.strip('"') if result.etag else None

    def abort(self, reason: str) -> bool:
        """AbortMultipartUpload, so no parts stay behind. Never raises: it
        runs while another error is being answered. False when it failed
        (MinIO then keeps the parts until its stale-upload cleanup)."""
        try:
            with _translated("abort"):
                self._storage.client._abort_multipart_upload(self._storage.bucket, self.key, self.upload_id)
        except (StorageError, ObjectNotFound) as exc:
            upstream = exc.upstream if isinstance(exc, StorageError) else "NoSuchUpload"
            log.warning(
                "multipart upload not aborted",
                extra={"fields": {"event": "abort_failed", "key": self.key, "reason": reason, "upstream": upstream}},
            )
            return False
        log.info(
            "multipart upload aborted",
            extra={"fields": {"event": "upload_aborted", "key": self.key, "reason": reason, "parts": len(self.parts)}},
        )
        return True
