"""The object routes: PUT, GET, HEAD, DELETE ``/objects/{key}`` and
``GET /objects?prefix=`` (one page of keys).

PUT answers 2xx only after MinIO confirmed the whole object, with the
sha256 of the stored content in the JSON answer and in ``X-Object-Sha256``,
so a client can keep a ledger of acknowledged writes and check them later.
Bodies and reads are streamed: memory per request stays about one part
(``GATEWAY_PART_BYTES``) for PUT and one read chunk for GET, whatever the
object's size.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable

from fastapi import BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from gateway.answers import SHA_HEADER, bad_name, error, object_headers, storage_failure
from gateway.config import Settings
from gateway.keys import KeyProblem, decode_key, key_problem, marker_problem, prefix_problem
from gateway.metrics import GatewayMetrics
from gateway.storage import ObjectNotFound, ObjectStream, Storage, StorageError
from gateway.upload import BodyTooLarge, DigestMismatch, Spooled, spool, write_streamed

log = logging.getLogger("gateway")
OBJECTS_PATH = "/objects"
OBJECT_ROUTE = "/objects/{key:path}"
LIST_LIMIT = 1000  # keys per listing page: MinIO's own maximum per ListObjects call
READ_CHUNK = 256 * 1024  # bytes per read from MinIO while a GET streams
CLIENT_CLOSED = 499  # never sent (the client is gone); it labels the request in logs and metrics
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_LIMIT_RE = re.compile(r"[0-9]{1,7}")


class StreamInterrupted(Exception):
    """MinIO failed after a GET's 200 and Content-Length were sent: the
    connection is cut, so the client sees a short body, never a wrong one."""


def _content_length(request: Request) -> int | None:
    """The declared body length; None for a chunked body (the server has
    already refused a malformed Content-Length)."""
    raw = request.headers.get("content-length", "")
    return int(raw) if raw.isascii() and raw.isdigit() else None


def request_key(request: Request) -> str | KeyProblem:
    prefix = f"{OBJECTS_PATH}/".encode()
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw.startswith(prefix):
        key = decode_key(raw[len(prefix) :])
    else:
        key = str(request.path_params.get("key", ""))
    if isinstance(key, KeyProblem):
        return key
    return key_problem(key) or key


class ObjectResponse(StreamingResponse):
    """A GET's body, read from MinIO chunk by chunk while it is sent."""

    def __init__(self, stream: ObjectStream, metrics: GatewayMetrics) -> None:
        self._stream = stream
        self._metrics = metrics
        headers = {**object_headers(stream.info), "Content-Length": str(stream.info.size)}
        super().__init__(self._chunks(), media_type="application/octet-stream", headers=headers)

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await run_in_threadpool(self._stream.read, READ_CHUNK)
            except StorageError as exc:
                self._metrics.minio_errors.labels("get", "interrupted").inc()
                log.warning(
                    "object read failed after the answer started; connection cut",
                    extra={
                        "fields": {"event": "get_interrupted", "key": self._stream.info.key, "upstream": exc.upstream}
                    },
                )
                raise StreamInterrupted(exc.upstream) from exc
            if not chunk:
                return
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stream.close()  # also when the client left mid-body


class ObjectRoutes:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        metrics: GatewayMetrics,
        refused: Callable[[str], None] = lambda key: None,
        unsettled: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.metrics = metrics
        # Told each key whose PUT or DELETE MinIO refused: it may have landed
        # on some drives all the same (gateway.repair heals it).
        self.refused = refused
        # Why MinIO's "nothing to delete" cannot be believed now, or None (gateway.settle).
        self.unsettled = unsettled

    def _too_large(self) -> JSONResponse:
        limit = self.settings.max_object_bytes
        return error(413, "too_large", f"objects are limited to {limit} bytes (GATEWAY_MAX_OBJECT_BYTES)", limit=limit)

    def _aborted(self, reason: str) -> None:
        self.metrics.uploads_aborted.labels(reason).inc()

    def _check_put(self, request: Request) -> tuple[str, str | None] | Response:
        """The key and the declared sha256, or the answer refusing the PUT
        before any of its body is read."""
        key = request_key(request)
        if isinstance(key, KeyProblem):
            return bad_name(key)
        declared = request.headers.get(SHA_HEADER)
        if declared is not None:
            declared = declared.strip().lower()
            if not _SHA256_RE.fullmatch(declared):
                return error(400, "bad_sha256", f"{SHA_HEADER} must be 64 hex digits (the body's sha256)")
        if (length := _content_length(request)) is not None and length > self.settings.max_object_bytes:
            return self._too_large()
        return key, declared

    async def put_object(self, request: Request, background: BackgroundTasks) -> Response:
        checked = self._check_put(request)
        if isinstance(checked, Response):
            return checked
        key, declared = checked
        try:
            if self.settings.ack_before_write:
                return await self._put_unsafe(key, request, declared, background)
            written = await write_streamed(
                self.storage,
                key,
                request.stream(),
                limit=self.settings.max_object_bytes,
                length=_content_length(request),
                declared=declared,
                aborted=self._aborted,
            )
        except (BodyTooLarge, DigestMismatch, ClientDisconnect, StorageError) as exc:
            return self._put_refused(key, exc)
        return self._ack(key, written.sha256, written.size, written.etag)

    def _put_refused(self, key: str, exc: Exception) -> Response:
        if isinstance(exc, BodyTooLarge):
            return self._too_large()
        if isinstance(exc, DigestMismatch):
            return error(400, "sha256_mismatch", str(exc), sha256=exc.actual)
        if isinstance(exc, StorageError):
            if exc.reached:
                self.refused(key)
            return storage_failure(self.metrics, "put", exc)
        log.info("client left during the body", extra={"fields": {"event": "client_disconnect", "key": key}})
        return Response(status_code=CLIENT_CLOSED)

    def _ack(self, key: str, sha256: str, size: int, etag: str | None) -> JSONResponse:
        body = {"key": key, "sha256": sha256, "size": size, "bucket": self.settings.bucket, "etag": etag}
        return JSONResponse(body, headers={SHA_HEADER: sha256})

    async def _put_unsafe(
        self, key: str, request: Request, declared: str | None, background: BackgroundTasks
    ) -> Response:
        # The negative control: answer now, write after the response is sent.
        body = await spool(
            request.stream(),
            limit=self.settings.max_object_bytes,
            declared=declared,
            in_memory=self.settings.part_bytes,
        )
        background.add_task(self._write_after_ack, key, body)
        return self._ack(key, body.sha256, body.size, None)

    def _write_after_ack(self, key: str, body: Spooled) -> None:
        try:
            self.storage.put_file(key, body.file, body.size, body.sha256)
        except StorageError as exc:
            self.metrics.minio_errors.labels("put", "after_ack").inc()
            log.error(
                "write failed AFTER it was acknowledged (unsafe mode)",
                extra={"fields": {"event": "lost_ack", "key": key, "upstream": exc.upstream}},
            )
        finally:
            body.file.close()

    async def get_object(self, request: Request) -> Response:
        key = request_key(request)
        if isinstance(key, KeyProblem):
            return bad_name(key)
        try:
            stream = await run_in_threadpool(self.storage.open, key)
        except ObjectNotFound:
            return error(404, "not_found", f"no object {key!r}")
        except StorageError as exc:
            return storage_failure(self.metrics, "get", exc)
        return ObjectResponse(stream, self.metrics)

    async def head_object(self, request: Request) -> Response:
        key = request_key(request)
        if isinstance(key, KeyProblem):
            return Response(status_code=400)  # HEAD has no body: the rule is not told
        try:
            stored = await run_in_threadpool(self.storage.stat, key)
        except ObjectNotFound:
            return Response(status_code=404)
        except StorageError as exc:
            answer = storage_failure(self.metrics, "head", exc)  # keep status and Retry-After
            return Response(status_code=answer.status_code, headers={"Retry-After": "1"})
        headers = {**object_headers(stored), "Content-Length": str(stored.size)}
        return Response(headers=headers, media_type="application/octet-stream")

    async def delete_object(self, request: Request) -> Response:
        key = request_key(request)
        if isinstance(key, KeyProblem):
            return bad_name(key)
        try:
            marker = await run_in_threadpool(self.storage.delete, key)
        except StorageError as exc:
            if exc.reached:
                self.refused(key)
            return storage_failure(self.metrics, "delete", exc)
        if not marker and self.settings.bucket_versioning:
            reason = await run_in_threadpool(self.unsettled)
            if reason is not None:
                return self._unconfirmed_delete(key, reason)
        return Response(status_code=204)

    def _unconfirmed_delete(self, key: str, reason: str) -> JSONResponse:
        self.metrics.deletes_unconfirmed.inc()
        fields = {"event": "delete_unconfirmed", "key": key, "why": reason}
        log.warning("delete not confirmed", extra={"fields": fields})
        response = error(
            503,
            "delete_unconfirmed",
            "MinIO wrote no delete marker while not every server and drive was settled; "
            "the delete was NOT acknowledged, retry later",
            why=reason,
        )
        response.headers["Retry-After"] = "1"
        return response

    async def list_objects(self, request: Request) -> Response:
        params = request.query_params
        prefix = params.get("prefix", "")
        start_after = params.get("start_after", "")
        raw_limit = params.get("limit", str(LIST_LIMIT))
        if not _LIMIT_RE.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= LIST_LIMIT:
            return error(400, "bad_limit", f"limit must be an integer from 1 to {LIST_LIMIT}")
        if (problem := prefix_problem(prefix)) is not None:
            return bad_name(problem, "prefix")
        if (problem := marker_problem(start_after)) is not None:
            return bad_name(problem, "start_after")
        try:
            keys, truncated = await run_in_threadpool(
                self.storage.list_page, prefix, start_after or None, int(raw_limit)
            )
        except StorageError as exc:
            return storage_failure(self.metrics, "list", exc)
        following = keys[-1] if truncated and keys else None
        return JSONResponse({"prefix": prefix, "keys": keys, "truncated": truncated, "next_start_after": following})
