"""Load through the target's app: writes recorded in the ledger, reads of keys
this user had acknowledged, checked against their sha256.

The app's contract comes from the target file through the environment
(CHAOSGATE_APP_*): the write method and path, the status codes that
acknowledge, the header naming the stored content's sha256 (when the app
returns one) and the read path; ``{key}`` in a path is the key.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import deque

from locust import HttpUser, between, task

from chaos.ledger import ACKED, FAILED, INDETERMINATE, Write
from loadtests.locustfiles.common import AppContract, LoadSettings, ProcessLedger, new_key, payload

SETTINGS = LoadSettings.from_env()
CONTRACT = AppContract.from_env()
LEDGER = ProcessLedger()


class GatewayUser(HttpUser):
    wait_time = between(0.02, 0.1)

    def on_start(self) -> None:
        self.known: deque[tuple[str, str]] = deque(maxlen=200)

    @task
    def put_or_get(self) -> None:
        if self.known and random.random() < SETTINGS.read_ratio:
            self._get()
        else:
            self._put()

    def _put(self) -> None:
        key = new_key(SETTINGS)
        body = payload(SETTINGS.object_size)
        digest = hashlib.sha256(body).hexdigest()
        start = time.monotonic()
        outcome, detail = INDETERMINATE, ""
        with self.client.request(
            CONTRACT.write_method,
            CONTRACT.write_path.replace("{key}", key),
            data=body,
            name="PUT /objects",
            timeout=SETTINGS.timeout,
            catch_response=True,
        ) as response:
            if response.status_code == 0 or response.status_code is None:
                # No answer (timeout, reset): the write may or may not be stored.
                detail = str(response.error)[:200]
                response.failure(detail)
            elif response.status_code in CONTRACT.ack_status:
                claimed = _claimed_sha256(response) if CONTRACT.digest_header else digest
                if claimed == digest:
                    outcome = ACKED
                    response.success()
                else:
                    # An ack that names the wrong content is not an ack of ours.
                    outcome, detail = FAILED, f"ack with sha256 {claimed!r}"
                    response.failure(detail)
            else:
                outcome, detail = FAILED, f"HTTP {response.status_code}"
                response.failure(detail)
        latency_ms = (time.monotonic() - start) * 1000.0
        LEDGER.record(Write(key, len(body), digest, outcome, time.time(), "app", latency_ms, detail))
        if outcome == ACKED:
            self.known.append((key, digest))

    def _get(self) -> None:
        key, digest = random.choice(self.known)
        with self.client.get(
            CONTRACT.read_path.replace("{key}", key), name="GET /objects", timeout=SETTINGS.timeout, catch_response=True
        ) as response:
            if response.status_code == 200 and hashlib.sha256(response.content).hexdigest() != digest:
                response.failure("content does not match the acknowledged sha256")
            elif response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


def _claimed_sha256(response: object) -> str | None:
    # The app names the stored content's sha256 in a header (or a JSON body field).
    value = getattr(response, "headers", {}).get(CONTRACT.digest_header)
    if value:
        return str(value)
    try:
        return str(response.json()["sha256"])  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError):
        return None
