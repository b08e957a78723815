"""The HTTP API: objects, health, readiness and metrics.

PUT answers 2xx only after MinIO acknowledged the write, with the sha256 of
the body in the JSON answer and in ``X-Object-Sha256``, so a client can keep a
ledger of acknowledged writes and check them later. When MinIO cannot serve
(no quorum, unreachable, timed out) the answer is 503 with a JSON body that
says so: a client must never mistake an outage for a missing object.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import BackgroundTasks, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from gateway.config import Settings
from gateway.metrics import GatewayMetrics
from gateway.startup import ensure_bucket_within
from gateway.storage import ObjectNotFound, Storage, StorageError, StorageUnavailable, StoredObject

log = logging.getLogger("gateway")
SHA_HEADER = "X-Object-Sha256"
OBJECT_ROUTE = "/objects/{key:path}"
MAX_KEY_BYTES = 1024
_QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz"})


def _error(status: int, error: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


def _object_headers(obj: StoredObject) -> dict[str, str]:
    headers = {}
    if obj.sha256:
        headers[SHA_HEADER] = obj.sha256
    if obj.etag:
        headers["ETag"] = f'"{obj.etag}"'
    return headers


def _bad_key(key: str) -> JSONResponse | None:
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        return _error(400, "bad_key", f"object keys are 1 to {MAX_KEY_BYTES} bytes of UTF-8")
    return None


def _route_of(request: Request) -> str:
    # The router stores the matched route in the shared scope; read it after
    # the request ran. Route templates keep label cardinality bounded.
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


class Gateway:
    """Handlers of one gateway instance: its settings, storage and metrics."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.metrics = GatewayMetrics()
        self.metrics.unsafe_ack.set(1 if settings.ack_before_write else 0)

    # -- cross-cutting -----------------------------------------------------

    async def observe(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            seconds = time.perf_counter() - start
            route = _route_of(request)
            self.metrics.requests.labels(request.method, route, str(status)).inc()
            self.metrics.latency.labels(request.method, route).observe(seconds)
            if route not in _QUIET_ROUTES:
                fields = {
                    "event": "request",
                    "method": request.method,
                    "route": route,
                    "path": request.url.path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                }
                log.info("request", extra={"fields": fields})

    def failed(self, operation: str, exc: StorageError) -> JSONResponse:
        unavailable = isinstance(exc, StorageUnavailable)
        self.metrics.minio_errors.labels(operation, "unavailable" if unavailable else "upstream").inc()
        log.warning(
            "minio call failed",
            extra={"fields": {"event": "minio_error", "operation": operation, "upstream": exc.upstream}},
        )
        if not unavailable:
            return _error(502, "storage_error", f"MinIO refused this {operation}", upstream=exc.upstream)
        consequence = "the write was NOT acknowledged" if operation == "put" else "retry later"
        response = _error(
            503,
            "storage_unavailable",
            f"MinIO cannot serve this {operation} now (no quorum, starting or unreachable); {consequence}",
            operation=operation,
            upstream=exc.upstream,
        )
        response.headers["Retry-After"] = "1"
        return response

    # -- operations --------------------------------------------------------

    def healthz(self) -> dict[str, str]:
        """The process serves HTTP. Says nothing about MinIO on purpose: a
        liveness probe that fails with MinIO would restart healthy gateways."""
        return {"status": "ok"}

    async def readyz(self) -> JSONResponse:
        health = await run_in_threadpool(self.storage.cluster_health)
        if health.ok:
            return JSONResponse({"status": "ready", "minio_write_quorum": health.write_quorum})
        reason = (
            f"MinIO unreachable: {health.error}"
            if health.status is None
            else f"MinIO has no write quorum (/minio/health/cluster answered {health.status})"
        )
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)

    def prometheus(self) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # -- objects -----------------------------------------------------------

    async def put_object(self, key: str, request: Request, background: BackgroundTasks) -> Response:
        limit = self.settings.max_object_bytes
        declared = request.headers.get("content-length", "")
        if (refused := _bad_key(key)) is not None:
            return refused
        if declared.isdigit() and int(declared) > limit:
            return _error(413, "too_large", f"objects are limited to {limit} bytes")
        data = await request.body()
        if len(data) > limit:
            return _error(413, "too_large", f"objects are limited to {limit} bytes")
        digest = hashlib.sha256(data).hexdigest()
        body = {"key": key, "sha256": digest, "size": len(data), "bucket": self.settings.bucket}
        if self.settings.ack_before_write:
            # The negative control: answer now, write after the response is sent.
            background.add_task(self._write_after_ack, key, data, digest)
            return JSONResponse(body, headers={SHA_HEADER: digest})
        try:
            stored = await run_in_threadpool(self.storage.put, key, data, digest)
        except StorageError as exc:
            return self.failed("put", exc)
        return JSONResponse({**body, "etag": stored.etag}, headers={SHA_HEADER: digest})

    async def get_object(self, key: str) -> Response:
        if (refused := _bad_key(key)) is not None:
            return refused
        try:
            data, stored = await run_in_threadpool(self.storage.get, key)
        except ObjectNotFound:
            return _error(404, "not_found", f"no object {key!r}")
        except StorageError as exc:
            return self.failed("get", exc)
        return Response(data, media_type="application/octet-stream", headers=_object_headers(stored))

    async def head_object(self, key: str) -> Response:
        if _bad_key(key) is not None:
            return Response(status_code=400)
        try:
            stored = await run_in_threadpool(self.storage.stat, key)
        except ObjectNotFound:
            return Response(status_code=404)
        except StorageError as exc:
            answer = self.failed("head", exc)  # HEAD has no body: keep status and Retry-After
            return Response(status_code=answer.status_code, headers={"Retry-After": "1"})
        headers = {**_object_headers(stored), "Content-Length": str(stored.size)}
        return Response(headers=headers, media_type="application/octet-stream")

    async def delete_object(self, key: str) -> Response:
        if (refused := _bad_key(key)) is not None:
            return refused
        try:
            await run_in_threadpool(self.storage.delete, key)
        except StorageError as exc:
            return self.failed("delete", exc)
        return Response(status_code=204)

    def _write_after_ack(self, key: str, data: bytes, digest: str) -> None:
        try:
            self.storage.put(key, data, digest)
        except StorageError as exc:
            self.metrics.minio_errors.labels("put", "after_ack").inc()
            log.error(
                "write failed AFTER it was acknowledged (unsafe mode)",
                extra={"fields": {"event": "lost_ack", "key": key, "upstream": exc.upstream}},
            )


def create_app(settings: Settings, storage: Storage | None = None) -> FastAPI:
    """One gateway app: its own storage client and its own metrics registry."""
    gw = Gateway(settings, storage or Storage(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.ack_before_write:
            log.warning(
                "UNSAFE: writes are acknowledged before they are stored (GATEWAY_ACK_BEFORE_WRITE); "
                "test-only negative control",
                extra={"fields": {"event": "unsafe_mode"}},
            )
        await run_in_threadpool(ensure_bucket_within, gw.storage, settings.startup_timeout)
        yield

    app = FastAPI(title="chaosgate object gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.gateway = gw
    app.middleware("http")(gw.observe)
    app.add_api_route("/healthz", gw.healthz, methods=["GET"])
    app.add_api_route("/readyz", gw.readyz, methods=["GET"])
    app.add_api_route("/metrics", gw.prometheus, methods=["GET"])
    app.add_api_route(OBJECT_ROUTE, gw.put_object, methods=["PUT"])
    app.add_api_route(OBJECT_ROUTE, gw.get_object, methods=["GET"])
    app.add_api_route(OBJECT_ROUTE, gw.head_object, methods=["HEAD"])
    app.add_api_route(OBJECT_ROUTE, gw.delete_object, methods=["DELETE"])
    return app
