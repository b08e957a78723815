"""The HTTP app: object routes (gateway.objects), health, readiness and
metrics, and one middleware that times, counts and logs every request.

When MinIO cannot serve (no quorum, unreachable, timed out) the answer is
503 with a JSON body that says so (gateway.answers): a client must never
mistake an outage for a missing object.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import Settings
from gateway.metrics import GatewayMetrics
from gateway.objects import OBJECT_ROUTE, OBJECTS_PATH, ObjectRoutes, StreamInterrupted
from gateway.repair import Repairs
from gateway.settle import SettleCheck
from gateway.startup import ensure_bucket_within
from gateway.storage import Storage

log = logging.getLogger("gateway")
_QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz"})


def _route_of(scope: Scope) -> str:
    # The router stores the matched route in the shared scope; read it after
    # the request ran. Route templates keep label cardinality bounded.
    return str(getattr(scope.get("route"), "path", "unmatched"))


class Observed:
    """Times, counts and logs each request, from its start to its last body
    byte (a streamed GET is timed to its end). A plain ASGI middleware, so
    streamed request and response bodies pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def observed_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = int(message["status"]), True
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except StreamInterrupted:
            # Logged where it happened. Returning with the response unfinished
            # makes the server cut the connection: the client sees fewer bytes
            # than the Content-Length it was promised, never a wrong body.
            if not started:
                raise
        finally:
            self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route, method = _route_of(scope), str(scope["method"])
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(seconds)
        if route not in _QUIET_ROUTES:
            fields = {
                "event": "request",
                "method": method,
                "route": route,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            }
            log.info("request", extra={"fields": fields})


class Gateway:
    """One gateway instance: its settings, storage, metrics and handlers."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.metrics = GatewayMetrics()
        self.metrics.unsafe_ack.set(1 if settings.ack_before_write else 0)
        storage.on_retry = lambda operation: self.metrics.minio_retries.labels(operation).inc()
        self.repairs = Repairs(settings, storage, self.metrics)
        self.settle = SettleCheck(settings)
        self.objects = ObjectRoutes(settings, storage, self.metrics, self.repairs.note, self.settle.unsettled)

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
        gw.repairs.start()
        try:
            yield
        finally:
            await run_in_threadpool(gw.repairs.stop)

    app = FastAPI(title="chaosgate object gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.gateway = gw
    app.add_middleware(Observed, metrics=gw.metrics)
    app.add_api_route("/healthz", gw.healthz, methods=["GET"])
    app.add_api_route("/readyz", gw.readyz, methods=["GET"])
    app.add_api_route("/metrics", gw.prometheus, methods=["GET"])
    app.add_api_route(OBJECTS_PATH, gw.objects.list_objects, methods=["GET"])
    app.add_api_route(OBJECT_ROUTE, gw.objects.put_object, methods=["PUT"])
    app.add_api_route(OBJECT_ROUTE, gw.objects.get_object, methods=["GET"])
    app.add_api_route(OBJECT_ROUTE, gw.objects.head_object, methods=["HEAD"])
    app.add_api_route(OBJECT_ROUTE, gw.objects.delete_object, methods=["DELETE"])
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path == OBJECT_ROUTE:
            # Starlette's pattern for {key:path} stops at a line break; a key
            # with one must still reach the handler, to be refused by its rule.
            route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
    return app
