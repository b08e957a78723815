"""Shared by the locustfiles: settings from the environment, the ledger, and
the S3 operations both of them use (the app file sends large objects and,
without an app delete path, deletes straight to MinIO).

Imported only inside Locust processes (gevent monkey-patching), never by the
harness. Every variable the locustfiles read is an ``ENV_*`` name below.
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
from typing import Any, BinaryIO, cast
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
from loadtests.locustfiles.link import ProcessLedger
from loadtests.traffic import CHUNK, Action, KeyPool, PatternStream, Shape

# Locust writes its per-second history to disk only every few seconds; the
# sampler reads it live to put load on the fault timeline, so flush each second.
stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

# The runner passes everything through these variables (see loadtests.runner).
ENV_RUN_ID = "CHAOSGATE_RUN_ID"
ENV_OBJECT_SIZE = "CHAOSGATE_OBJECT_SIZE"  # one size for every object, when there is no size mix
ENV_SIZE_MIX = "CHAOSGATE_SIZE_MIX"
ENV_READ_RATIO = "CHAOSGATE_READ_RATIO"
ENV_OVERWRITE_RATIO = "CHAOSGATE_OVERWRITE_RATIO"
ENV_DELETE_RATIO = "CHAOSGATE_DELETE_RATIO"
ENV_BYTES_PER_S = "CHAOSGATE_BYTES_PER_S"
ENV_TIMEOUT = "CHAOSGATE_REQUEST_TIMEOUT"
ENV_S3_ENDPOINT = "CHAOSGATE_S3_ENDPOINT"  # app file only: the s3 file's host is the endpoint
ENV_S3_ACCESS_KEY = "CHAOSGATE_S3_ACCESS_KEY"
ENV_S3_SECRET_KEY = "CHAOSGATE_S3_SECRET_KEY"  # noqa: S105 (the variable's name, not a secret)
ENV_S3_BUCKET = "CHAOSGATE_S3_BUCKET"
ENV_APP_WRITE_METHOD = "CHAOSGATE_APP_WRITE_METHOD"
ENV_APP_WRITE_PATH = "CHAOSGATE_APP_WRITE_PATH"
ENV_APP_ACK_STATUS = "CHAOSGATE_APP_ACK_STATUS"
ENV_APP_DIGEST_HEADER = "CHAOSGATE_APP_DIGEST_HEADER"
ENV_APP_READ_PATH = "CHAOSGATE_APP_READ_PATH"
ENV_APP_DELETE_PATH = "CHAOSGATE_APP_DELETE_PATH"
ENV_APP_STORED_AS = "CHAOSGATE_APP_STORED_AS"

PUT_NAME = "PUT /objects"
MULTIPART_NAME = "PUT /objects (multipart)"
DELETE_NAME = "DELETE /objects"
GET_NAME = "GET /objects"  # the harness reads read availability under this name


@dataclass(frozen=True)
class LoadSettings:
    run_id: str
    shape: Shape
    timeout: float

    @classmethod
    def from_env(cls) -> LoadSettings:
        try:
            mix_text = os.environ.get(ENV_SIZE_MIX, "")
            mix = (
                SizeMix.parse(mix_text, ENV_SIZE_MIX)
                if mix_text
                else SizeMix.single(_number(ENV_OBJECT_SIZE, "4096", int, 1, 5 * 1024**3))
            )
            shape = Shape(
                mix=mix,
                read_ratio=_number(ENV_READ_RATIO, "0.5", float, 0, 1),
                overwrite_ratio=_number(ENV_OVERWRITE_RATIO, "0", float, 0, 1),
                delete_ratio=_number(ENV_DELETE_RATIO, "0", float, 0, 1),
                bytes_per_s=_number(ENV_BYTES_PER_S, "0", float, 0, float("inf")),
            )
            if shape.overwrite_ratio + shape.delete_ratio >= 1:
                raise BadInputError(f"{ENV_OVERWRITE_RATIO} + {ENV_DELETE_RATIO} must be < 1: some writes are new")
            timeout = _number(ENV_TIMEOUT, "10", float, 0.1, 600)
        except BadInputError as exc:
            raise SystemExit(str(exc)) from None
        return cls(os.environ.get(ENV_RUN_ID) or uuid.uuid4().hex[:8], shape, timeout)


def _number(name: str, default: str, kind: Callable[[str], Any], low: float, high: float) -> Any:
    text = os.environ.get(name) or default
    try:
        value = kind(text)
    except ValueError:
        raise BadInputError(f"{name} must be a number, got {text!r}") from None
    if not low <= value <= high:
        raise BadInputError(f"{name} must be within [{low}, {high}], got {text!r}")
    return value


@dataclass(frozen=True)
class AppContract:
    """How the target's app takes writes, reads and (optionally) deletes
    (targets/README.md, app), and where it stores a key in the bucket."""

    write_method: str
    write_path: str
    ack_status: frozenset[int]
    digest_header: str
    read_path: str
    delete_path: str
    stored_as: str

    @classmethod
    def from_env(cls) -> AppContract:
        # No defaults: the contract is the target's, never a guess at one app's.
        return cls(
            write_method=required(ENV_APP_WRITE_METHOD),
            write_path=required(ENV_APP_WRITE_PATH),
            ack_status=frozenset(int(c) for c in required(ENV_APP_ACK_STATUS).split(",") if c),
            digest_header=os.environ.get(ENV_APP_DIGEST_HEADER, ""),
            read_path=required(ENV_APP_READ_PATH),
            delete_path=os.environ.get(ENV_APP_DELETE_PATH, ""),
            stored_as=os.environ.get(ENV_APP_STORED_AS) or "{key}",
        )


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} is not set: the harness passes it to Locust (see loadtests/locustfiles/common.py)")
    return value


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
        access_key=required(ENV_S3_ACCESS_KEY),
        secret_key=required(ENV_S3_SECRET_KEY),
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
        self.bucket = required(ENV_S3_BUCKET)
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
