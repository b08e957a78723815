"""Keys whose write MinIO refused, healed once MinIO has write quorum again.

A PUT or DELETE that MinIO answers with an error may still have landed on
some drives: MinIO does not take back a delete marker (or a new version)
that reached fewer drives than write quorum. With 4 drives at EC:2 such a
leftover on 2 drives is a read quorum of its own, so GETs of the key answer
200 or 404 from request to request and listings drop it, for as long as no
heal runs (docs/findings/delete-resurrection.md). The client was told 503,
so present and absent are both right; flapping between them is not.

A heal of the key settles it: MinIO writes the newest version it can read
(a delete marker, or the acknowledged object) onto every drive. It never
removes a version that was acknowledged, so a heal is safe whatever the
client did with the key since. The gateway notes the key when the write
fails and a background thread heals it once /minio/health/cluster says
every erasure set has write quorum; a key it cannot heal within
``repair_max_age`` is given up, logged and counted. The list lives in the
replica's memory: a replica that stops (scaled in, restarted) before MinIO
is back leaves its keys as MinIO left them.
"""

from __future__ import annotations

import logging
import threading
import time

from urllib3 import PoolManager
from urllib3.util import Retry, Timeout

from gateway.config import Settings
from gateway.heal import HealFailed, heal_object
from gateway.metrics import GatewayMetrics
from gateway.storage import Storage

log = logging.getLogger("gateway")
INTERVAL = 1.0  # seconds between passes while keys wait
HEAL_TIMEOUT = 10.0  # seconds one object's heal may take before the next pass retries it


class Repairs:
    """The refused writes still to heal, and the thread that heals them."""

    def __init__(self, settings: Settings, storage: Storage, metrics: GatewayMetrics) -> None:
        self.settings = settings
        self.storage = storage
        self.metrics = metrics
        self._pending: dict[str, float] = {}  # key -> monotonic time first noted
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = PoolManager(
            timeout=Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            retries=Retry(total=0, redirect=0),
            maxsize=2,
        )

    def note(self, key: str) -> None:
        """Remember ``key`` for a heal; past ``repair_max_keys`` it is dropped and counted."""
        if not self.settings.repair_refused_writes:
            return
        with self._lock:
            if key in self._pending:
                return
            if len(self._pending) >= self.settings.repair_max_keys:
                self.metrics.repairs.labels("dropped").inc()
                return
            self._pending[key] = time.monotonic()
            self.metrics.repairs_pending.set(len(self._pending))

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def start(self) -> None:
        if self.settings.repair_refused_writes and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="repairs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEAL_TIMEOUT + 5)

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL):
            try:
                self.run_once()
            except Exception:  # the thread must outlive any one pass
                log.exception("repair pass failed", extra={"fields": {"event": "repair_error"}})

    def run_once(self) -> int:
        """One pass: give up expired keys, then, if MinIO has write quorum,
        heal every waiting key. Returns how many were healed."""
        self._expire()
        keys = self.pending()
        if not keys or not self.storage.cluster_health().ok:
            return 0
        healed = 0
        for key in keys:
            if self._stop.is_set():
                break
            try:
                heal_object(
                    self._http,
                    self.settings.minio_url,
                    (self.settings.access_key, self.settings.secret_key),
                    self.settings.bucket,
                    key,
                    timeout=HEAL_TIMEOUT,
                )
            except HealFailed as exc:
                log.info("repair deferred", extra={"fields": {"event": "repair_deferred", "key": key, "why": str(exc)}})
                continue
            healed += 1
            log.info("repaired", extra={"fields": {"event": "repair_healed", "key": key}})
            self._settle(key, "healed")
        return healed

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [k for k, since in self._pending.items() if now - since > self.settings.repair_max_age]
        for key in old:
            log.warning("repair abandoned", extra={"fields": {"event": "repair_abandoned", "key": key}})
            self._settle(key, "abandoned")

    def _settle(self, key: str, outcome: str) -> None:
        with self._lock:
            self._pending.pop(key, None)
            self.metrics.repairs_pending.set(len(self._pending))
        self.metrics.repairs.labels(outcome).inc()
