"""Prometheus metrics of one gateway instance.

Each app gets its own registry rather than the process-global default, so
several apps in one process (tests) never share or double-register series.
Route labels are route templates (``/objects/{key:path}``), never raw paths:
one series per key would grow without bound.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds. From a loopback hit (ms) to a quorum write on a struggling node,
# up to the MinIO read timeout where a request gives up.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "Time from request received to response sent, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.minio_errors = Counter(
            "gateway_minio_errors",
            "MinIO calls that failed, by operation and kind (unavailable = 503 to the client).",
            ["operation", "kind"],
            registry=self.registry,
        )
        self.uploads_aborted = Counter(
            "gateway_uploads_aborted",
            "Multipart uploads aborted before completion, by reason (too_large, client_disconnect, "
            "sha256_mismatch, storage_error, error, cancelled).",
            ["reason"],
            registry=self.registry,
        )
        self.unsafe_ack = Gauge(
            "gateway_unsafe_ack_before_write",
            "1 when the test-only mode that acknowledges writes before storing them is on.",
            registry=self.registry,
        )
        self.repairs_pending = Gauge(
            "gateway_repairs_pending",
            "Keys whose PUT or DELETE MinIO refused, waiting for a heal (gateway.repair).",
            registry=self.registry,
        )
        self.repairs = Counter(
            "gateway_repairs",
            "Refused writes settled, by outcome (healed, abandoned after GATEWAY_REPAIR_MAX_AGE, "
            "dropped past GATEWAY_REPAIR_MAX_KEYS).",
            ["outcome"],
            registry=self.registry,
        )
        self.deletes_unconfirmed = Counter(
            "gateway_deletes_unconfirmed",
            "DELETEs answered 503 because MinIO wrote no delete marker while a server or drive "
            "was not settled (gateway.settle).",
            registry=self.registry,
        )
        self.minio_retries = Counter(
            "gateway_minio_retries",
            "Idempotent reads tried again while MinIO was unavailable, by operation (get, head, list).",
            ["operation"],
            registry=self.registry,
        )
