"""Heal one object through MinIO's admin API (``mc admin heal ALIAS/BUCKET/KEY``).

minio-py has no heal call; the admin API takes SigV4-signed POSTs: one
starts a heal sequence for the object (``forceStart`` replaces one still
running for the same path), the next ones, with the sequence's client token,
report its progress until MinIO calls it finished.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

from urllib3 import PoolManager

from gateway.admin import AdminFailed, admin_call

# One object, not what lies under it as a prefix; a normal scan (a deep
# one re-reads every shard: not what a refused write needs).
_OPTIONS = json.dumps({"recursive": False, "dryRun": False, "remove": False, "recreate": False, "scanMode": 1})
_POLL = 0.2  # seconds between status calls; one object heals in well under a second


class HealFailed(AdminFailed):
    """MinIO did not heal the object this time: the heal stopped, timed out or left a drive behind."""


def heal_object(http: PoolManager, url: str, keys: tuple[str, str], bucket: str, key: str, *, timeout: float) -> None:
    """Heal ``bucket/key`` and return once MinIO reports the heal finished;
    AdminFailed otherwise (AdminRefused when the credentials lack
    ``admin:Heal``). ``keys`` is (access key, secret key)."""
    path = f"/minio/admin/v3/heal/{quote(bucket)}/{quote(key, safe='/')}"
    started = admin_call(http, url, keys, "POST", path, query={"forceStart": "true"}, body=_OPTIONS.encode())
    token = started.get("clientToken")
    if not isinstance(token, str) or not token:
        raise HealFailed(f"MinIO started no heal of {bucket}/{key}: {started}")
    deadline = time.monotonic() + timeout
    while True:
        status = admin_call(http, url, keys, "POST", path, query={"clientToken": token})
        summary = status.get("Summary")
        left = _drives_left(status)
        if left:
            # A drive that refused the heal (still failing) keeps the key split.
            raise HealFailed(f"the heal of {bucket}/{key} left drives {left}")
        if summary == "finished":
            return
        if summary == "stopped":
            raise HealFailed(f"the heal of {bucket}/{key} stopped: {status.get('FailureDetail') or summary}")
        if time.monotonic() >= deadline:
            raise HealFailed(f"the heal of {bucket}/{key} was still {summary!r} after {timeout:g}s")
        time.sleep(_POLL)


def _drives_left(status: dict[str, object]) -> list[str]:
    """Drives an item of the heal left in a state other than ok, offline
    ones included: with 4 drives at EC:2 a heal that skipped an offline drive
    can leave the refused marker on it and on one more, a tie again once it
    returns (seen on kind after a full outage)."""
    left: list[str] = []
    items = status.get("Items")
    for item in items if isinstance(items, list) else []:
        after = item.get("after") if isinstance(item, dict) else None
        drives = after.get("drives") if isinstance(after, dict) else None
        for drive in drives if isinstance(drives, list) else []:
            state = drive.get("state") if isinstance(drive, dict) else None
            if state != "ok":
                left.append(f"{drive.get('endpoint')}: {state}")
    return left
