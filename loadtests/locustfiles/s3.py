"""Load straight to MinIO over S3 (no gateway): PUTs recorded in the ledger.

Host is the MinIO endpoint (http://host:port); credentials and bucket come from
CHAOSGATE_S3_ACCESS_KEY, CHAOSGATE_S3_SECRET_KEY and CHAOSGATE_S3_BUCKET.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import time
from collections import deque
from urllib.parse import urlparse

import urllib3
from locust import User, between, task
from minio import Minio
from minio.error import S3Error

from chaos.ledger import ACKED, FAILED, INDETERMINATE, Write
from loadtests.locustfiles.common import LoadSettings, ProcessLedger, new_key, payload, required

SETTINGS = LoadSettings.from_env()
LEDGER = ProcessLedger()


def _client(host: str) -> Minio:
    url = urlparse(host)
    # Retries off: the SDK's own retries would turn one failed write into an
    # ack we cannot attribute, and "acknowledged" must mean acknowledged.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=2.0, read=SETTINGS.timeout),
        retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0),
        maxsize=4,
    )
    return Minio(
        url.netloc,
        access_key=os.environ["CHAOSGATE_S3_ACCESS_KEY"],
        secret_key=os.environ["CHAOSGATE_S3_SECRET_KEY"],
        secure=url.scheme == "https",
        http_client=http,
    )


class S3User(User):
    wait_time = between(0.02, 0.1)

    def on_start(self) -> None:
        assert self.host, "--host must be the MinIO endpoint"
        self.s3 = _client(self.host)
        self.bucket = required("CHAOSGATE_S3_BUCKET")
        self.known: deque[tuple[str, str]] = deque(maxlen=200)

    @task
    def put_or_get(self) -> None:
        if self.known and random.random() < SETTINGS.read_ratio:
            self._get()
        else:
            self._put()

    def _fire(self, name: str, start: float, size: int, exc: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="S3",
            name=name,
            response_time=(time.monotonic() - start) * 1000.0,
            response_length=size,
            exception=exc,
            context={},
        )

    def _put(self) -> None:
        key = new_key(SETTINGS)
        body = payload(SETTINGS.object_size)
        digest = hashlib.sha256(body).hexdigest()
        start = time.monotonic()
        outcome, detail = ACKED, ""
        error: Exception | None = None
        try:
            self.s3.put_object(self.bucket, key, io.BytesIO(body), len(body))
        except S3Error as exc:
            outcome, detail, error = FAILED, f"{exc.code}", exc
        except Exception as exc:  # noqa: BLE001 (transport errors: the write may or may not be stored)
            outcome, detail, error = INDETERMINATE, f"{type(exc).__name__}", exc
        self._fire("PUT /objects", start, len(body), error)
        latency_ms = (time.monotonic() - start) * 1000.0
        LEDGER.record(Write(key, len(body), digest, outcome, time.time(), "s3", latency_ms, detail))
        if outcome == ACKED:
            self.known.append((key, digest))

    def _get(self) -> None:
        key, digest = random.choice(self.known)
        start = time.monotonic()
        error: Exception | None = None
        size = 0
        try:
            response = self.s3.get_object(self.bucket, key)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
            size = len(data)
            if hashlib.sha256(data).hexdigest() != digest:
                error = ValueError("content does not match the acknowledged sha256")
        except Exception as exc:  # noqa: BLE001 (every read failure is a failed request in the stats)
            error = exc
        self._fire("GET /objects", start, size, error)
