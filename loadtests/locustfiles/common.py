"""Shared by the locustfiles: settings from the environment, the ledger, and
the S3 operations both of them use (the app file sends large objects and,
without an app delete path, deletes straight to MinIO).

Imported only inside Locust processes (gevent monkey-patching), never by the
harness. Every variable the locustfiles read is a field of loadtests.config.LoadConfig.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, cast
from urllib.parse import urlparse

import urllib3
from locust import stats
from locust.env import Environment
from minio import Minio
from minio.error import S3Error

from chaos.ledger import (
    ACKED,
    DELETE,
    INDETERMINATE,
    PUT,
    Write,
    outcome_of_status,
)
from chaos.sizemix import PART_SIZE, SizeMix
from kernel.errors import BadInputError
from loadtests.config import READ_NAME, AppContract, LoadConfig, env_name
from loadtests.locustfiles.link import ProcessLedger
from loadtests.traffic import CHUNK, Action, KeyPool, PatternStream, Shape

# Locust writes its per-second history to disk only every few seconds; the
# sampler reads it live to put load on the fault timeline, so flush each second.
stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

# The runner passes everything through one LoadConfig (loadtests.config).
CONFIG_ERROR: str | None = None
try:
    CONFIG = LoadConfig.from_env(os.environ)
except BadInputError as exc:
    CONFIG, CONFIG_ERROR = LoadConfig(), str(exc)

PUT_NAME = "PUT /objects"
MULTIPART_NAME = "PUT /objects (multipart)"
DELETE_NAME = "DELETE /objects"
GET_NAME = READ_NAME  # the harness reads read availability under this name


@dataclass(frozen=True)
class LoadSettings:
    run_id: str
    shape: Shape
    timeout: float

    @classmethod
    def from_env(cls) -> LoadSettings:
        if CONFIG_ERROR is not None:
            raise SystemExit(CONFIG_ERROR)
        try:
            mix = (
                SizeMix.parse(CONFIG.size_mix, env_name("size_mix"))
                if CONFIG.size_mix
                else SizeMix.single(CONFIG.object_size)
            )
        except BadInputError as exc:
            raise SystemExit(str(exc)) from None
        shape = Shape(
            mix=mix,
            read_ratio=CONFIG.read_ratio,
            overwrite_ratio=CONFIG.overwrite_ratio,
            delete_ratio=CONFIG.delete_ratio,
            bytes_per_s=CONFIG.bytes_per_s,
        )
        return cls(CONFIG.run_id or uuid.uuid4().hex[:8], shape, CONFIG.request_timeout)


def app_contract() -> AppContract:
    """The target's app contract. No defaults: the contract is the target's, never a guess at one app's."""
    app = CONFIG.app
    for name in ("app_write_method", "app_write_path", "app_ack_status", "app_read_path"):
        if app is None or not getattr(app, name.removeprefix("app_")):
            missing(name)
    assert app is not None
    return app


def required(name: str) -> str:
    """A LoadConfig text field that must be set (``s3_bucket``)."""
    value = str(getattr(CONFIG, name))
    if not value:
        missing(name)
    return value


def missing(name: str) -> None:
    raise SystemExit(f"{env_name(name)} is not set: the harness passes it to Locust (see loadtests/config.py)")


def s3_client(endpoint_url: str, timeout: float) -> Minio:
    url = urlparse(endpoint_url)
    # Retries off: the SDK's own retries would turn one failed write into an
    # ack we cannot attribute, and "acknowledged" must mean acknowledged.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=2.0, read=timeout),
        retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0),
        maxsize=4,
    )
    return Minio(
        url.netloc,
        access_key=required("s3_access_key"),
        secret_key=required("s3_secret_key"),
        secure=url.scheme == "https",
        http_client=http,
    )


class S3Ops:
    """Puts, deletes and reads straight to MinIO for one Locust user, each
    fired as a Locust request and every put and delete recorded in the ledger
    under the ledger key (the object name is ``stored_as`` with the key in it)."""

    def __init__(
        self, environment: Environment, endpoint_url: str, ledger: ProcessLedger, timeout: float, stored_as: str
    ) -> None:
        self.environment = environment
        self.client = s3_client(endpoint_url, timeout)
        self.bucket = required("s3_bucket")
        self.ledger = ledger
        self.stored_as = stored_as

    def name(self, key: str) -> str:
        return self.stored_as.replace("{key}", key)

    def put(self, action: Action, pool: KeyPool) -> Write:
        """One PUT, or a multipart upload in PART_SIZE parts above that size,
        acknowledged only when minio-py's put_object returned (for multipart:
        CompleteMultipartUpload answered 2xx)."""
        multipart = action.size > PART_SIZE
        stream: PatternStream | io.BytesIO
        digest = ""
        seed: int | None = None
        if multipart:
            seed = random.getrandbits(64)
            stream = PatternStream(action.size, seed)
        else:
            body = random.randbytes(action.size)
            digest = hashlib.sha256(body).hexdigest()
            stream = io.BytesIO(body)
        pool.note(action.key, digest or None, action.size_class)
        seq = self.ledger.intend(
            action.key, PUT, action.size_class, action.size, "s3", sha256=digest, seed=seed, multipart=multipart
        )
        start = time.monotonic()

        def send() -> None:
            # One part at a time: a user holds one 5 MiB part, never the object.
            self.client.put_object(
                self.bucket,
                self.name(action.key),
                cast(BinaryIO, stream),
                action.size,
                part_size=PART_SIZE,
                num_parallel_uploads=1,
            )

        def record(outcome: str, detail: str) -> Write:
            # The answer's time first: hashing what an interrupted upload did not send takes a moment.
            at, latency_ms = time.time(), (time.monotonic() - start) * 1000.0
            sha = stream.finish() if isinstance(stream, PatternStream) else digest
            write = Write(
                action.key, action.size, sha, outcome, at, "s3", latency_ms, detail, PUT, action.size_class, multipart
            )
            self.ledger.record(write, seq)
            return write

        try:
            outcome, detail, error = attempt(send)
        except BaseException:
            # Locust stopping the user mid-request: the request may still land.
            record(INDETERMINATE, "stopped mid-request")
            raise
        self.fire(MULTIPART_NAME if multipart else PUT_NAME, start, action.size, error)
        return record(outcome, detail)

    def delete(self, key: str, size_class: str) -> Write:
        seq = self.ledger.intend(key, DELETE, size_class, 0, "s3")
        start = time.monotonic()
        try:
            outcome, detail, error = attempt(lambda: self.client.remove_object(self.bucket, self.name(key)))
        except BaseException:
            self.ledger.record(
                _delete(key, size_class, INDETERMINATE, start=start, detail="stopped mid-request", path="s3"), seq
            )
            raise
        self.fire(DELETE_NAME, start, 0, error)
        write = _delete(key, size_class, outcome, start=start, detail=detail, path="s3")
        self.ledger.record(write, seq)
        return write

    def read(self, key: str, pool: KeyPool) -> None:
        start = time.monotonic()
        size = 0
        error: Exception | None = None
        try:
            digest: str | None = None
            try:
                response = self.client.get_object(self.bucket, self.name(key))
            except S3Error as exc:
                if exc.code != "NoSuchKey":
                    raise
            else:
                sha = hashlib.sha256()
                try:
                    for chunk in response.stream(CHUNK):
                        sha.update(chunk)
                        size += len(chunk)
                finally:
                    response.close()
                    response.release_conn()
                digest = sha.hexdigest()
            if not pool.read_ok(key, digest):
                error = ValueError("content matches no write to the key" if digest else "the key does not exist")
        except Exception as exc:  # noqa: BLE001 (every read failure is a failed request in the stats)
            error = exc
        self.fire(GET_NAME, start, size, error)

    def fire(self, name: str, start: float, size: int, error: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="S3",
            name=name,
            response_time=(time.monotonic() - start) * 1000.0,
            response_length=size,
            exception=error,
            context={},
        )


def attempt(call: Callable[[], object]) -> tuple[str, str, Exception | None]:
    """Run one S3 request: (outcome, detail, error). An S3 error answer with a
    4xx status failed it; a 5xx, a timeout, a reset left it indeterminate: the
    request may or may not have been applied."""
    try:
        call()
    except S3Error as exc:
        status = getattr(getattr(exc, "response", None), "status", 500)
        return outcome_of_status(int(status)), f"{exc.code} (HTTP {status})", exc
    except Exception as exc:  # noqa: BLE001 (transport errors: the write may or may not be stored)
        return INDETERMINATE, type(exc).__name__, exc
    return ACKED, "", None


def _delete(key: str, size_class: str, outcome: str, *, start: float, detail: str, path: str) -> Write:
    latency_ms = (time.monotonic() - start) * 1000.0
    return Write(key, 0, "", outcome, time.time(), path, latency_ms, detail, DELETE, size_class, False)
