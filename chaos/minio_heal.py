"""A heal of one bucket prefix through MinIO's admin API (what ``mc admin heal
-r ALIAS/BUCKET/PREFIX`` does), started and followed until it finishes.

MinIO heals objects written while a server was away only through its MRF
queue, which skips a server that is still down, through heal-on-read, or the
scanner, which takes hours: an operator rolling a restart through the servers
heals before the next one goes. minio-py has no heal call, so the request is
signed here (AWS signature v4, as every admin call is).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from minio.credentials.credentials import Credentials as SignCredentials
from minio.signer import sign_v4_s3
from urllib3 import PoolManager

from chaos.clients import KeyPair, http_pool
from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Deadline, Seen, wait_until

HEAL_OPTIONS = {"recursive": True, "dryRun": False, "remove": False, "recreate": False, "scanMode": 1}
"""Normal scan (not deep: bitrot is not this scenario's question), every object under the prefix."""


@dataclass(frozen=True)
class HealOutcome:
    seconds: float
    passes: int
    """Heal passes run: another follows while a pass leaves a drive not ok."""
    items: int
    """Objects and buckets the last pass looked at."""
    healed: int
    """Items, over all passes, that had a drive without their data and then had it."""


def heal_prefix(url: str, credentials: KeyPair, bucket: str, prefix: str, *, timeout: float = 120.0) -> HealOutcome:
    """Heal every object under ``bucket/prefix`` until a pass finishes with
    every drive of every item ok. A server that has just seen a peer return
    may still call that peer's drive offline and heal nothing there (seen on
    a real cluster), hence the passes. InfraError when a heal cannot start,
    stops or outlasts ``timeout``."""
    http = http_pool(read=30)
    path = f"/minio/admin/v3/heal/{quote(bucket)}/{quote(prefix)}"
    started = time.time()
    deadline = Deadline(timeout)
    tally = {"passes": 0, "items": 0, "healed": 0}

    def healed_all() -> Seen:
        items, fixed, left = _one_pass(http, url, credentials, path, deadline)
        tally["passes"] += 1
        tally["healed"] += fixed
        tally["items"] = items
        return Seen(not left, f"drives not ok after {tally['passes']} passes: {left[:5]}")

    try:
        wait_until(healed_all, what=f"every drive ok under {bucket}/{prefix}", timeout=deadline, interval=2.0)
    except WaitTimeout as exc:
        raise InfraError(f"the heal of {bucket}/{prefix} left {exc.last_seen}") from exc
    return HealOutcome(round(time.time() - started, 1), tally["passes"], tally["items"], tally["healed"])


def _one_pass(
    http: PoolManager, url: str, credentials: KeyPair, path: str, deadline: Deadline
) -> tuple[int, int, list[str]]:
    """(items seen, items healed, items still missing data on a drive)."""
    begun = _call(http, url, credentials, path, query={"forceStart": "true"}, body=json.dumps(HEAL_OPTIONS).encode())
    token = begun.get("clientToken")
    if not isinstance(token, str) or not token:
        raise InfraError(f"MinIO started no heal of {path}: {begun}")
    counts = {"items": 0, "healed": 0}
    left: list[str] = []

    def finished() -> Seen:
        status = _call(http, url, credentials, path, query={"clientToken": token}, body=b"")
        for item in status.get("Items") or []:
            counts["items"] += 1
            before, after = _states(item, "before"), _states(item, "after")
            counts["healed"] += int(any(state != "ok" and after.get(drive) == "ok" for drive, state in before.items()))
            if any(state != "ok" for state in after.values()):
                left.append(f"{item.get('bucket')}/{item.get('object')}")
        summary = status.get("Summary")
        if summary == "stopped":
            raise InfraError(f"the heal of {path} stopped: {status.get('FailureDetail') or status}")
        return Seen(summary == "finished", str(summary))

    try:
        wait_until(finished, what=f"the heal of {path}", timeout=deadline, interval=1.0)
    except WaitTimeout as exc:
        raise InfraError(f"the heal of {path} did not finish in time ({exc.last_seen})") from exc
    return counts["items"], counts["healed"], left


def _states(item: dict[str, Any], when: str) -> dict[str, str]:
    """Drive endpoint -> state ("ok", "missing", "offline", ...) of one heal item."""
    return {str(d.get("endpoint")): str(d.get("state")) for d in (item.get(when) or {}).get("drives") or []}


def _call(
    http: PoolManager, url: str, credentials: KeyPair, path: str, *, query: dict[str, str], body: bytes
) -> dict[str, Any]:
    base = urlsplit(url)
    target = base._replace(path=path, query=urlencode(sorted(query.items()), quote_via=quote))
    sha = hashlib.sha256(body).hexdigest()
    now = datetime.now(UTC)
    headers = {
        "Host": base.netloc,
        "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"),
        "x-amz-content-sha256": sha,
        "Content-Type": "application/octet-stream",
    }
    if body:
        headers["Content-Length"] = str(len(body))
    signed = sign_v4_s3(
        method="POST",
        url=target,
        region="us-east-1",
        headers=headers,  # type: ignore[arg-type]
        credentials=SignCredentials(credentials.access_key, credentials.secret_key),
        content_sha256=sha,
        date=now,
    )
    try:
        response = http.request("POST", target.geturl(), body=body, headers={k: str(v) for k, v in signed.items()})
    except Exception as exc:  # urllib3 raises many kinds; all mean "no answer"
        raise InfraError(f"admin heal call to {url} failed: {type(exc).__name__}: {exc}") from exc
    text = response.data.decode(errors="replace")
    if response.status != 200:
        raise InfraError(f"admin heal call to {url} answered {response.status}: {text[:300]}")
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise InfraError(f"admin heal call to {url} answered no JSON: {text[:300]}") from exc
    return answer if isinstance(answer, dict) else {}
