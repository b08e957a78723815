"""``python -m gateway``: check settings, then serve with uvicorn.

Exit codes: 2 when the environment is wrong (including the unsafe switch
set to anything but its explicit value), 3 when startup could not reach
MinIO in time (uvicorn's code for a failed lifespan startup).
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from gateway import logs
from gateway.api import create_app
from gateway.config import ConfigError, load

log = logging.getLogger("gateway")


def main() -> int:
    logs.configure(os.environ.get("GATEWAY_LOG_LEVEL", "INFO").upper())
    try:
        settings = load(os.environ)
    except ConfigError as exc:
        log.error("refusing to start: %s", exc, extra={"fields": {"event": "config_error"}})
        return 2
    log.info(
        "starting",
        extra={
            "fields": {
                "event": "starting",
                "minio": settings.minio_url,
                "bucket": settings.bucket,
                "listen": f"{settings.host}:{settings.port}",
                "ack_before_write": settings.ack_before_write,
            }
        },
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # the app logs each request itself, as JSON
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
