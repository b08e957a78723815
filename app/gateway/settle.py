"""Whether MinIO's answer "nothing to delete" can be believed right now.

A DELETE in a versioned bucket writes a delete marker, and MinIO says so
(``x-amz-delete-marker: true``). It writes none when its look-up of the key
reads "not found": the handler then answers 204 and changes nothing. The
look-up ignores drives the coordinating server has no connection to, and
counts "not found" from the rest against read quorum. After servers start,
each connects to its peers' drives only every 15 s
(``defaultMonitorConnectEndpointInterval`` in MinIO), so for a while a
server may see two of four drives, one of them without a version that was
written while the other was away. It then acknowledges a delete that deletes
nothing, and the version reads back once every drive is seen again (on kind:
3 of 16 full-outage runs; docs/findings/delete-resurrection.md).

So a marker-less answer is believed only when MinIO's admin info shows every
server online for at least ``GATEWAY_DELETE_SETTLE`` seconds and every drive
ok; otherwise the gateway answers 503 (not acknowledged, retry). Checks are
cached for CACHE_S so a burst of deletes costs one admin call a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from urllib3 import PoolManager
from urllib3.util import Retry, Timeout

from gateway.admin import AdminFailed, AdminRefused, admin_call
from gateway.config import Settings

log = logging.getLogger("gateway")
CACHE_S = 1.0  # seconds one admin answer stands for
INFO_PATH = "/minio/admin/v3/info"

Info = Callable[[], dict[str, object]]
"""MinIO's admin info (``mc admin info --json``'s ``info``); raises AdminFailed."""


def problems(info: dict[str, object], settle_s: float) -> list[str]:
    """Why ``info`` does not show a settled cluster: a server not online or up
    for less than ``settle_s`` seconds, a drive not ok. Empty when settled."""
    servers = info.get("servers")
    if not isinstance(servers, list) or not servers:
        return ["admin info lists no servers"]
    found: list[str] = []
    for server in servers:
        if not isinstance(server, dict):
            found.append(f"admin info has a server entry {server!r}")
            continue
        name = server.get("endpoint", "?")
        state = server.get("state")
        uptime = server.get("uptime")
        if state != "online":
            found.append(f"server {name} is {state}")
        elif not isinstance(uptime, int | float) or uptime < settle_s:
            found.append(f"server {name} up {uptime} s, under {settle_s:g} s")
        drives = server.get("drives")
        for drive in drives if isinstance(drives, list) else []:
            drive_state = drive.get("state") if isinstance(drive, dict) else None
            if drive_state != "ok":
                where = drive.get("endpoint", "?") if isinstance(drive, dict) else "?"
                found.append(f"drive {where} is {drive_state}")
    return found


@dataclass
class _Cached:
    at: float
    reason: str | None


class SettleCheck:
    """``unsettled()``: why a marker-less delete cannot be believed now, or None."""

    def __init__(self, settings: Settings, info: Info | None = None) -> None:
        self.settle_s = settings.delete_settle_s
        self.enabled = settings.bucket_versioning and self.settle_s > 0
        self._settings = settings
        self._info = info or self._info_from_minio
        self._lock = threading.Lock()
        self._cached: _Cached | None = None
        self._http = PoolManager(
            timeout=Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            retries=Retry(total=0, redirect=0),
            maxsize=2,
        )

    def unsettled(self, now: float | None = None) -> str | None:
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:  # one admin call at a time; the others wait for its answer
            if self._cached is None or now - self._cached.at >= CACHE_S:
                self._cached = _Cached(now, self._ask())
            return self._cached.reason

    def _ask(self) -> str | None:
        try:
            found = problems(self._info(), self.settle_s)
        except AdminRefused as exc:
            self.enabled = False
            log.error(
                "delete check turned off: %s",
                exc,
                extra={"fields": {"event": "delete_check_disabled", "why": str(exc)}},
            )
            return None
        except AdminFailed as exc:
            return f"MinIO's admin info did not answer: {exc}"
        return "; ".join(found) if found else None

    def _info_from_minio(self) -> dict[str, object]:
        keys = (self._settings.access_key, self._settings.secret_key)
        return admin_call(self._http, self._settings.minio_url, keys, "GET", INFO_PATH)
