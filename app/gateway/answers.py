"""The shapes of the gateway's answers: JSON errors, object headers, and how
a MinIO failure is told to the client (503 when MinIO cannot serve now, 502
for any other MinIO error). A client must never mistake an outage for a
missing object, nor a refused write for a stored one."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from gateway.keys import KeyProblem
from gateway.metrics import GatewayMetrics
from gateway.storage import StorageError, StorageUnavailable, StoredObject

log = logging.getLogger("gateway")
SHA_HEADER = "X-Object-Sha256"


def error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def bad_name(problem: KeyProblem, what: str = "key") -> JSONResponse:
    """400 naming the broken rule (see gateway.keys), e.g. ``{"error": "bad_key", "rule": "dot_segment"}``."""
    return error(400, f"bad_{what}", problem.message, rule=problem.rule)


def object_headers(obj: StoredObject) -> dict[str, str]:
    headers = {}
    if obj.sha256:
        headers[SHA_HEADER] = obj.sha256
    if obj.etag:
        headers["ETag"] = f'"{obj.etag}"'
    return headers


def storage_failure(metrics: GatewayMetrics, operation: str, exc: StorageError) -> JSONResponse:
    unavailable = isinstance(exc, StorageUnavailable)
    metrics.minio_errors.labels(operation, "unavailable" if unavailable else "upstream").inc()
    log.warning(
        "minio call failed",
        extra={"fields": {"event": "minio_error", "operation": operation, "upstream": exc.upstream}},
    )
    if not unavailable:
        return error(502, "storage_error", f"MinIO refused this {operation}", upstream=exc.upstream)
    consequence = "the write was NOT acknowledged" if operation == "put" else "retry later"
    response = error(
        503,
        "storage_unavailable",
        f"MinIO cannot serve this {operation} now (no quorum, starting or unreachable); {consequence}",
        operation=operation,
        upstream=exc.upstream,
    )
    response.headers["Retry-After"] = "1"
    return response
