"""Load through the target's app: small and medium puts, overwrites and reads
through the app; large objects as multipart uploads straight to MinIO (under
the name the app stores a key as, so the read-back finds them where the app's
own objects are); deletes through the app's delete path when the target names
one, else straight to MinIO. Every put and delete is recorded in the ledger
under the app's key.

The app's contract comes from the target file through the environment
(CHAOSGATE_APP_*): the write method and path, the status codes that
acknowledge, the header naming the stored content's sha256 (when the app
returns one), the read path, the optional delete path (DELETE, any 2xx
acknowledges) and the object name a key is stored as; ``{key}`` in a path is
the key. The S3 side needs CHAOSGATE_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY and
_BUCKET whenever the mix has a large class or deletes go to S3.
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

from locust import HttpUser, between, task

from chaos.ledger import ACKED, DELETE, FAILED, INDETERMINATE, PUT, Write, outcome_of_status
from chaos.sizemix import PART_SIZE
from loadtests.locustfiles.common import (
    DELETE_NAME,
    GET_NAME,
    PUT_NAME,
    LoadSettings,
    S3Ops,
    app_contract,
    required,
)
from loadtests.locustfiles.link import ProcessLedger
from loadtests.traffic import NOT_FOUND_FAILURE, Action, Traffic

SETTINGS = LoadSettings.from_env()
CONTRACT = app_contract()
LEDGER = ProcessLedger()
TRAFFIC = Traffic(SETTINGS.shape, SETTINGS.run_id)
# Large objects (multipart) and deletes without an app delete path go to S3.
NEEDS_S3 = any(c.high > PART_SIZE for c in SETTINGS.shape.mix.classes) or (
    SETTINGS.shape.delete_ratio > 0 and not CONTRACT.delete_path
)
S3_ENDPOINT = required("s3_endpoint") if NEEDS_S3 else ""


class GatewayUser(HttpUser):
    wait_time = between(0.02, 0.1)

    def on_start(self) -> None:
        self.s3 = (
            S3Ops(self.environment, S3_ENDPOINT, LEDGER, SETTINGS.timeout, CONTRACT.stored_as) if NEEDS_S3 else None
        )

    @task
    def step(self) -> None:
        action = TRAFFIC.next()
        if action.kind == "read":
            self._get(action.key)
            return
        if action.kind == "delete":
            if CONTRACT.delete_path or self.s3 is None:
                write = self._delete(action)
            else:
                write = self.s3.delete(action.key, action.size_class)
        elif action.size > PART_SIZE and self.s3 is not None:
            write = self.s3.put(action, TRAFFIC.pool)
        else:
            write = self._put(action)
        TRAFFIC.pool.settle(action, write.outcome, write.sha256)

    def _put(self, action: Action) -> Write:
        body = random.randbytes(action.size)
        digest = hashlib.sha256(body).hexdigest()
        TRAFFIC.pool.note(action.key, digest, action.size_class)
        seq = LEDGER.intend(action.key, PUT, action.size_class, len(body), "app", sha256=digest)
        start = time.monotonic()

        def entry(outcome: str, detail: str) -> Write:
            latency_ms = (time.monotonic() - start) * 1000.0
            return Write(
                action.key, len(body), digest, outcome, time.time(), "app", latency_ms, detail, PUT, action.size_class
            )

        try:
            with self.client.request(
                CONTRACT.write_method,
                CONTRACT.write_path.replace("{key}", action.key),
                data=body,
                name=PUT_NAME,
                timeout=SETTINGS.timeout,
                catch_response=True,
            ) as response:
                acked, refusal = False, ""
                if response.status_code in CONTRACT.ack_status:
                    claimed = _claimed_sha256(response) if CONTRACT.digest_header else digest
                    # An ack that names the wrong content is not an ack of ours.
                    acked = claimed == digest
                    refusal = "" if acked else f"ack with sha256 {claimed!r}"
                outcome, detail = _answer(response, acked, refusal)
        except BaseException:
            # Locust stopping the user mid-request: the request may still land.
            LEDGER.record(entry(INDETERMINATE, "stopped mid-request"), seq)
            raise
        write = entry(outcome, detail)
        LEDGER.record(write, seq)
        return write

    def _delete(self, action: Action) -> Write:
        seq = LEDGER.intend(action.key, DELETE, action.size_class, 0, "app")
        start = time.monotonic()

        def entry(outcome: str, detail: str) -> Write:
            latency_ms = (time.monotonic() - start) * 1000.0
            return Write(action.key, 0, "", outcome, time.time(), "app", latency_ms, detail, DELETE, action.size_class)

        try:
            with self.client.request(
                "DELETE",
                CONTRACT.delete_path.replace("{key}", action.key),
                name=DELETE_NAME,
                timeout=SETTINGS.timeout,
                catch_response=True,
            ) as response:
                outcome, detail = _answer(response, 200 <= (response.status_code or 0) < 300)
        except BaseException:
            LEDGER.record(entry(INDETERMINATE, "stopped mid-request"), seq)
            raise
        write = entry(outcome, detail)
        LEDGER.record(write, seq)
        return write

    def _get(self, key: str) -> None:
        with self.client.get(
            CONTRACT.read_path.replace("{key}", key), name=GET_NAME, timeout=SETTINGS.timeout, catch_response=True
        ) as response:
            if response.status_code in (200, 404):
                digest = hashlib.sha256(response.content).hexdigest() if response.status_code == 200 else None
                if TRAFFIC.pool.read_ok(key, digest):
                    response.success()
                elif digest is None:
                    response.failure(NOT_FOUND_FAILURE)
                else:
                    response.failure("content matches no write to the key")
            else:
                response.failure(f"HTTP {response.status_code}")


def _answer(response: Any, acked: bool, refusal: str = "") -> tuple[str, str]:
    """One request's outcome and detail, marked in Locust's stats: no answer
    (timeout, reset) leaves it unknown; an ack is an ack; ``refusal`` is a 2xx
    that is not an ack of ours; any other status as ``outcome_of_status`` says."""
    if response.status_code == 0 or response.status_code is None:
        detail = str(response.error)[:200]
        response.failure(detail)
        return INDETERMINATE, detail
    if acked:
        response.success()
        return ACKED, ""
    if refusal:
        response.failure(refusal)
        return FAILED, refusal
    detail = f"HTTP {response.status_code}"
    response.failure(detail)
    return outcome_of_status(response.status_code), detail


def _claimed_sha256(response: object) -> str | None:
    # The app names the stored content's sha256 in a header (or a JSON body field).
    value = getattr(response, "headers", {}).get(CONTRACT.digest_header)
    if value:
        return str(value)
    try:
        return str(response.json()["sha256"])  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError):
        return None
