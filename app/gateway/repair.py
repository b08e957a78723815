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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from urllib3 import PoolManager
from urllib3.util import Retry, Timeout

from gateway.admin import AdminFailed, AdminRefused
from gateway.config import Settings
from gateway.heal import heal_object
from gateway.metrics import GatewayMetrics
from gateway.storage import Storage

log = logging.getLogger("gateway")
INTERVAL = 1.0  # seconds between passes while keys wait
HEAL_TIMEOUT = 10.0  # seconds one object's heal may take before the next pass retries it
BACKOFF_MAX = 30.0  # seconds at most between two heals of one key
HEAL_WORKERS = 8  # heals at once: each is two small admin calls, mostly waiting on MinIO

Heal = Callable[[str], None]
"""Heals one key; raises AdminFailed (try again later) or AdminRefused (never will)."""


@dataclass
class _Waiting:
    since: float  # monotonic time first noted
    due: float  # monotonic time of the next try
    tries: int = 0


class Repairs:
    """The refused writes still to heal, and the thread that heals them."""

    def __init__(self, settings: Settings, storage: Storage, metrics: GatewayMetrics, heal: Heal | None = None) -> None:
        self.settings = settings
        self.storage = storage
        self.metrics = metrics
        self.enabled = settings.repair_refused_writes
        self._pending: dict[str, _Waiting] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heal = heal or self._heal_in_minio
        self._http = PoolManager(
            timeout=Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            retries=Retry(total=0, redirect=0),
            maxsize=HEAL_WORKERS,
        )

    def note(self, key: str) -> None:
        """Remember ``key`` for a heal; past ``repair_max_keys`` it is dropped and counted."""
        if not self.enabled:
            return
        with self._lock:
            if key in self._pending:
                return
            if len(self._pending) >= self.settings.repair_max_keys:
                self.metrics.repairs.labels("dropped").inc()
                return
            now = time.monotonic()
            self._pending[key] = _Waiting(since=now, due=now)
            self.metrics.repairs_pending.set(len(self._pending))

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="repairs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEAL_TIMEOUT + 5)

    def _run(self) -> None:
        while self.enabled and not self._stop.wait(INTERVAL):
            try:
                self.run_once()
            except Exception:  # the thread must outlive any one pass
                log.exception("repair pass failed", extra={"fields": {"event": "repair_error"}})

    def run_once(self, now: float | None = None) -> int:
        """One pass: give up expired keys, then, if MinIO has write quorum,
        heal every key whose next try is due. Returns how many were healed."""
        now = time.monotonic() if now is None else now
        self._expire(now)
        with self._lock:
            due = [key for key, waiting in self._pending.items() if waiting.due <= now]
        if not due or not self.storage.cluster_health().ok:
            return 0
        # In parallel: after a full outage under load hundreds of keys wait,
        # and one after another (about 0.15 s each) the last were healed 40 s
        # after MinIO was back, after a reader had already seen them split.
        with ThreadPoolExecutor(max_workers=HEAL_WORKERS, thread_name_prefix="heal") as pool:
            outcomes = list(pool.map(lambda key: self._heal_one(key, now), due))
        return sum(outcomes)

    def _heal_one(self, key: str, now: float) -> bool:
        if self._stop.is_set() or not self.enabled:
            return False
        try:
            self._heal(key)
        except AdminRefused as exc:
            self._disable(str(exc))
            return False
        except AdminFailed as exc:
            self._later(key, now, str(exc))
            return False
        log.info("repaired", extra={"fields": {"event": "repair_healed", "key": key}})
        self._settle(key, "healed")
        return True

    def _heal_in_minio(self, key: str) -> None:
        keys = (self.settings.access_key, self.settings.secret_key)
        heal_object(self._http, self.settings.minio_url, keys, self.settings.bucket, key, timeout=HEAL_TIMEOUT)

    def _later(self, key: str, now: float, why: str) -> None:
        """Try ``key`` again after a delay that doubles with each failed try:
        a key that cannot heal yet costs a few calls a minute, not one a second."""
        with self._lock:
            waiting = self._pending.get(key)
            if waiting is None:
                return
            waiting.tries += 1
            waiting.due = now + min(BACKOFF_MAX, INTERVAL * 2**waiting.tries)
            tries = waiting.tries
        fields = {"event": "repair_deferred", "key": key, "tries": tries, "why": why}
        log.info("repair deferred", extra={"fields": fields})

    def _disable(self, why: str) -> None:
        """MinIO will not heal for these credentials: stop trying, say so once."""
        with self._lock:
            if not self.enabled:
                return
            self.enabled = False
        log.error(
            "repair of refused writes turned off: %s",
            why,
            extra={"fields": {"event": "repair_disabled", "why": why}},
        )
        for key in self.pending():
            self._settle(key, "abandoned")

    def _expire(self, now: float) -> None:
        with self._lock:
            old = [k for k, w in self._pending.items() if now - w.since > self.settings.repair_max_age]
        for key in old:
            log.warning("repair abandoned", extra={"fields": {"event": "repair_abandoned", "key": key}})
            self._settle(key, "abandoned")

    def _settle(self, key: str, outcome: str) -> None:
        with self._lock:
            if self._pending.pop(key, None) is None:
                return
            self.metrics.repairs_pending.set(len(self._pending))
        self.metrics.repairs.labels(outcome).inc()
