"""Receiving a PUT body: counted against the limit, hashed, and written to
MinIO while it arrives, with bounded memory.

A body that ends within one part (``GATEWAY_PART_BYTES``) is written with
one PUT carrying its sha256 as metadata: the fast path for small objects.
A longer body becomes a multipart upload as soon as the first part is full;
each further part is sent when it is full, from one reused part buffer, so
a request holds about one part whatever the body's size. The object exists only after
CompleteMultipartUpload answered 2xx. Anything that stops the body early
(over the limit, the client gone, a sha256 mismatch, a MinIO error,
cancellation) aborts the upload, so no parts stay behind.
"""

from __future__ import annotations

import hashlib
import mmap
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import IO

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from gateway.multipart import MultipartUpload
from gateway.storage import Storage, StorageError


class BodyTooLarge(Exception):
    """The body passed the size limit while it was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit


class DigestMismatch(Exception):
    """The body's sha256 is not the one the client declared."""

    def __init__(self, declared: str, actual: str) -> None:
        super().__init__(f"declared sha256 {declared}, body has {actual}")
        self.declared = declared
        self.actual = actual


@dataclass(frozen=True)
class Written:
    """What MinIO confirmed: the stored content's sha256, size and ETag."""

    sha256: str
    size: int
    etag: str | None


def abort_reason(exc: BaseException) -> str:
    """The label of an abort, for logs and gateway_uploads_aborted_total."""
    reasons: list[tuple[type[BaseException], str]] = [
        (BodyTooLarge, "too_large"),
        (ClientDisconnect, "client_disconnect"),
        (DigestMismatch, "sha256_mismatch"),
        (StorageError, "storage_error"),
    ]
    fallback = "error" if isinstance(exc, Exception) else "cancelled"
    return next((name for kind, name in reasons if isinstance(exc, kind)), fallback)


class _Counted:
    """Chunks of the body, counted against the limit and hashed as they come."""

    def __init__(self, body: AsyncIterator[bytes], limit: int) -> None:
        self._body = body
        self._limit = limit
        self.size = 0
        self.hasher = hashlib.sha256()

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        async for chunk in self._body:
            self.size += len(chunk)
            if self.size > self._limit:
                raise BodyTooLarge(self._limit)
            if chunk:
                self.hasher.update(chunk)
                yield chunk

    def digest(self, declared: str | None) -> str:
        actual = self.hasher.hexdigest()
        if declared is not None and declared != actual:
            raise DigestMismatch(declared, actual)
        return actual


class _PartBuffer:
    """One part of the body, reused for every part of an upload. It is an
    anonymous memory map: pages count only once written (a short chunked
    body costs what it holds) and go back to the system when it is closed."""

    def __init__(self, size: int) -> None:
        self._map = mmap.mmap(-1, size)
        self._view = memoryview(self._map)
        self.size = size
        self.filled = 0

    def fill(self, data: memoryview) -> memoryview:
        """Copy in what fits; return the rest."""
        taken = min(len(data), self.size - self.filled)
        self._view[self.filled : self.filled + taken] = data[:taken]
        self.filled += taken
        return data[taken:]

    @property
    def full(self) -> bool:
        return self.filled == self.size

    def contents(self) -> memoryview:
        return self._view[: self.filled]

    def close(self) -> None:
        # A view still held (by a traceback) keeps the map; it goes with the view.
        with suppress(BufferError):
            self._view.release()
            self._map.close()


async def write_streamed(
    storage: Storage,
    key: str,
    body: AsyncIterator[bytes],
    *,
    limit: int,
    length: int | None,
    declared: str | None,
    aborted: Callable[[str], None],
) -> Written:
    """Write ``body`` (of Content-Length ``length``, None when chunked) as
    object ``key``; returns only after MinIO confirmed it.

    Raises BodyTooLarge, ClientDisconnect, DigestMismatch or StorageError
    (after aborting any started upload, and calling ``aborted(reason)``)."""
    counted = _Counted(body, limit)
    if length is not None and length <= storage.settings.part_bytes:
        return await _write_small(storage, key, counted, declared)
    return await _write_parts(storage, key, counted, declared, aborted)


async def _write_small(storage: Storage, key: str, counted: _Counted, declared: str | None) -> Written:
    """A body declared to fit in one part: buffered, then one PUT."""
    pending: list[bytes] = []
    async with aclosing(counted.chunks()) as chunks:
        async for chunk in chunks:
            pending.append(chunk)
    digest = counted.digest(declared)
    data = b"".join(pending)
    pending.clear()
    stored = await run_in_threadpool(storage.put, key, data, digest)
    return Written(digest, counted.size, stored.etag)


async def _write_parts(
    storage: Storage, key: str, counted: _Counted, declared: str | None, aborted: Callable[[str], None]
) -> Written:
    """A large or chunked body: one PUT if it ends within the first part,
    else a multipart upload started when the first part is full."""
    buffer = _PartBuffer(storage.settings.part_bytes)
    upload: MultipartUpload | None = None
    try:
        async with aclosing(counted.chunks()) as chunks:
            async for chunk in chunks:
                rest = memoryview(chunk)
                while rest:
                    rest = buffer.fill(rest)
                    if buffer.full:
                        if upload is None:
                            upload = await run_in_threadpool(MultipartUpload.start, storage, key, declared)
                        await run_in_threadpool(upload.put_part, buffer.contents())
                        buffer.filled = 0
        digest = counted.digest(declared)
        if upload is None:
            stored = await run_in_threadpool(storage.put, key, bytes(buffer.contents()), digest)
            return Written(digest, counted.size, stored.etag)
        if buffer.filled:
            await run_in_threadpool(upload.put_part, buffer.contents())
        etag = await run_in_threadpool(upload.complete)
        return Written(digest, counted.size, etag)
    except BaseException as exc:
        if upload is not None:
            reason = abort_reason(exc)
            aborted(reason)
            # Shielded: a cancelled request must still not leave parts behind.
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(upload.abort, reason)
        raise
    finally:
        buffer.close()


@dataclass
class Spooled:
    """A whole body, received and hashed before anything is written."""

    file: IO[bytes]
    sha256: str
    size: int


async def spool(body: AsyncIterator[bytes], *, limit: int, declared: str | None, in_memory: int) -> Spooled:
    """For the unsafe ack-before-write mode only: it must know the sha256
    before it writes. Up to ``in_memory`` bytes stay in memory, the rest goes
    to a temporary file, so the limit is still not a memory bound."""
    counted = _Counted(body, limit)
    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115 - closed by the caller
    try:
        async with aclosing(counted.chunks()) as chunks:
            async for chunk in chunks:
                file.write(chunk)
        digest = counted.digest(declared)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return Spooled(file, digest, counted.size)
