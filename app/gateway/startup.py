"""Startup: reach MinIO and make sure the bucket exists, within a deadline.

In Kubernetes the gateway often starts before MinIO has quorum. Polling
here (instead of crashing at once) avoids a crash loop for the normal case;
giving up after the deadline still makes a real outage visible as restarts.
"""

from __future__ import annotations

import logging
import time

from gateway.storage import Storage, StorageError

log = logging.getLogger("gateway")
POLL_INTERVAL = 1.0  # seconds between attempts; MinIO formats in a few seconds


class StartupError(RuntimeError):
    """MinIO was not usable before the startup deadline."""


def ensure_bucket_within(storage: Storage, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            created = storage.ensure_bucket()
        except StorageError as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StartupError(
                    f"MinIO at {storage.settings.minio_url} was not usable within {timeout:g}s "
                    f"(last error: {exc.upstream}: {exc.detail})"
                ) from exc
            log.info(
                "waiting for MinIO",
                extra={"fields": {"event": "startup_wait", "upstream": exc.upstream}},
            )
            time.sleep(min(POLL_INTERVAL, remaining))
            continue
        log.info(
            "bucket ready",
            extra={"fields": {"event": "bucket_ready", "bucket": storage.bucket, "created": created}},
        )
        return
