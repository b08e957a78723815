"""Gateway settings, read once from the environment and checked before serving.

Every field names its environment variable; bad values stop the process
before it opens a port, with a message that names the variable and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The only value that turns on acknowledging writes before they happen. It is
# spelled out so nobody enables it by writing "1" or "true" in a values file:
# this mode exists to prove that the write ledger catches lost writes.
UNSAFE_ACK_VALUE = "unsafe-ack-before-write"
MIN_PART_BYTES = 5 * 1024 * 1024  # S3: every part but the last is at least 5 MiB
MAX_PART_BYTES = 5 * 1024 * 1024 * 1024  # S3: no part above 5 GiB
MAX_PARTS = 10_000  # S3: parts per multipart upload
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ConfigError(ValueError):
    """The environment does not describe a usable gateway."""


MAX_READ_ATTEMPTS = 10  # past this a client waits longer on a retry than on its own timeout


@dataclass(frozen=True)
class Settings:
    minio_url: str
    """MINIO_ENDPOINT: ``http://host:port`` of the MinIO API (a Service in Kubernetes)."""

    access_key: str
    """GATEWAY_ACCESS_KEY: S3 access key; the chart fills it from a Secret."""

    secret_key: str = field(repr=False)
    """GATEWAY_SECRET_KEY: S3 secret key; the chart fills it from a Secret. Never logged."""

    bucket: str = "chaosgate"
    """GATEWAY_BUCKET: bucket for all objects; created at startup when missing."""

    connect_timeout: float = 2.0
    """GATEWAY_MINIO_CONNECT_TIMEOUT, seconds. MinIO is in the same cluster: a
    connect that takes longer than this is a fault to report, not to wait out."""

    read_timeout: float = 10.0
    """GATEWAY_MINIO_READ_TIMEOUT, seconds. Long enough for a quorum write of
    a few MiB on a busy node, short enough to answer 503 while a node hangs."""

    max_object_bytes: int = 128 * 1024 * 1024
    """GATEWAY_MAX_OBJECT_BYTES: larger PUTs get 413 (a declared Content-Length
    at once, a chunked body as soon as it passes the limit). Bodies are
    streamed, so this is not a memory bound; 128 MiB leaves room for the 64 MiB
    objects of the large-object workload."""

    part_bytes: int = 8 * 1024 * 1024
    """GATEWAY_PART_BYTES: bodies up to this size are buffered and written
    with one PUT (the fast path for small objects); larger ones, and chunked
    ones once they pass it, are streamed as a multipart upload of parts this
    size. One part (briefly two while it is handed over) is what a PUT holds
    in memory. At least 5 MiB, S3's smallest part."""

    startup_timeout: float = 60.0
    """GATEWAY_STARTUP_TIMEOUT, seconds to reach MinIO and ensure the bucket
    before giving up (the pod then restarts, which is visible)."""

    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all its interfaces
    """GATEWAY_HOST: listen address."""

    port: int = 8080
    """GATEWAY_PORT: listen port."""

    bucket_versioning: bool = True
    """GATEWAY_BUCKET_VERSIONING: ``enabled`` (the default) turns versioning on
    for the bucket at startup, ``off`` leaves the bucket as it is. In an
    unversioned bucket an overwrite that fails without write quorum is undone
    by deleting xl.meta where it landed, taking the acknowledged version of a
    small object with it; a later DELETE can then read "not found", answer 204
    and delete nothing, and the old version reads back once the other drives
    return (docs/findings/delete-resurrection.md). Versioned, the undo removes
    only the failed version and a DELETE is a delete marker that needs write
    quorum."""

    noncurrent_days: int = 1
    """GATEWAY_NONCURRENT_DAYS: with versioning on, a lifecycle rule (set only
    when the bucket has none) expires versions this many days after they stop
    being current, and expired delete markers, so overwrites and deletes do
    not grow the bucket without bound."""

    repair_refused_writes: bool = True
    """GATEWAY_REPAIR: ``on`` (the default) heals each key whose PUT or DELETE
    MinIO refused, once MinIO has write quorum again (gateway.repair says
    why); ``off`` leaves such keys as MinIO left them."""

    repair_max_age: float = 600.0
    """GATEWAY_REPAIR_MAX_AGE, seconds a refused key may wait for its heal
    before it is given up (logged as repair_abandoned and counted)."""

    repair_max_keys: int = 10000
    """GATEWAY_REPAIR_MAX_KEYS: refused keys kept waiting at most; more are
    dropped and counted, so an outage under load cannot grow memory without
    bound."""

    read_attempts: int = 3
    """GATEWAY_READ_ATTEMPTS: tries of an idempotent read (GET, HEAD, LIST)
    while MinIO is unavailable (5xx, connection refused or reset), with
    jittered backoff from 0.1 s; writes are tried once. ``1`` turns retries off."""

    delete_settle_s: float = 30.0
    """GATEWAY_DELETE_SETTLE, seconds: with versioning on, a DELETE that MinIO
    answers without writing a delete marker ("nothing to delete") counts as
    done only when every MinIO server has been up this long and every drive
    is ok; otherwise the gateway answers 503 (gateway.settle says why: a
    server that started less than MinIO's 15 s reconnect interval ago may
    not see every drive yet). ``0`` turns the check off."""

    ack_before_write: bool = False
    """GATEWAY_ACK_BEFORE_WRITE: test-only. Exactly ``unsafe-ack-before-write``
    makes PUT answer 200 before writing (the write runs afterwards and may
    fail unseen). Any other non-empty value stops the gateway at startup."""


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. {default:g}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def _attempts(env: Mapping[str, str]) -> int:
    attempts = _number(env, "GATEWAY_READ_ATTEMPTS", Settings.read_attempts, minimum=1)
    if attempts != int(attempts) or attempts > MAX_READ_ATTEMPTS:
        raise ConfigError(f"GATEWAY_READ_ATTEMPTS={attempts:g} must be a whole number from 1 to {MAX_READ_ATTEMPTS}")
    return int(attempts)


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set; set it to {what}")
    return value


def ack_before_write(raw: str | None) -> bool:
    """Parse GATEWAY_ACK_BEFORE_WRITE: unset or empty means off, the explicit
    word means on, anything else is refused."""
    if raw is None or raw == "":
        return False
    if raw == UNSAFE_ACK_VALUE:
        return True
    raise ConfigError(
        f"GATEWAY_ACK_BEFORE_WRITE={raw!r} is refused: this test-only switch acknowledges writes "
        f"before they are stored. To enable it on purpose set it to exactly {UNSAFE_ACK_VALUE!r}; "
        "otherwise unset it"
    )


def bucket_versioning(raw: str | None) -> bool:
    """Parse GATEWAY_BUCKET_VERSIONING: unset, empty or ``enabled`` means on,
    ``off`` means leave the bucket alone; anything else is refused."""
    value = (raw or "").strip().lower()
    if value in ("", "enabled"):
        return True
    if value == "off":
        return False
    raise ConfigError(f"GATEWAY_BUCKET_VERSIONING={raw!r} must be 'enabled' or 'off'")


def on_off(name: str, raw: str | None) -> bool:
    """Parse a switch: unset, empty or ``on`` means on, ``off`` off; anything else is refused."""
    value = (raw or "").strip().lower()
    if value in ("", "on"):
        return True
    if value == "off":
        return False
    raise ConfigError(f"{name}={raw!r} must be 'on' or 'off'")


def load(env: Mapping[str, str]) -> Settings:
    """Build and check Settings from ``env`` (normally ``os.environ``)."""
    url = _required(env, "MINIO_ENDPOINT", "the MinIO API URL, e.g. http://minio:9000")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"MINIO_ENDPOINT={url!r} must be http(s)://host:port without a path")
    bucket = env.get("GATEWAY_BUCKET", "").strip() or Settings.bucket
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise ConfigError(
            f"GATEWAY_BUCKET={bucket!r} is not a valid bucket name (3-63 lowercase letters, digits, dots and hyphens)"
        )
    port = int(_number(env, "GATEWAY_PORT", Settings.port, minimum=1))
    if port > 65535:
        raise ConfigError(f"GATEWAY_PORT={port} is not a TCP port (1-65535)")
    max_object_bytes = int(_number(env, "GATEWAY_MAX_OBJECT_BYTES", Settings.max_object_bytes, minimum=1))
    part_bytes = int(_number(env, "GATEWAY_PART_BYTES", Settings.part_bytes, minimum=MIN_PART_BYTES))
    if part_bytes > MAX_PART_BYTES:
        raise ConfigError(f"GATEWAY_PART_BYTES={part_bytes} is above S3's largest part ({MAX_PART_BYTES} bytes)")
    if max_object_bytes > part_bytes * MAX_PARTS:
        raise ConfigError(
            f"GATEWAY_MAX_OBJECT_BYTES={max_object_bytes} needs more than {MAX_PARTS} parts of "
            f"GATEWAY_PART_BYTES={part_bytes}; raise GATEWAY_PART_BYTES or lower the limit"
        )
    return Settings(
        minio_url=url.rstrip("/"),
        access_key=_required(env, "GATEWAY_ACCESS_KEY", "the S3 access key (from the chart's Secret)"),
        secret_key=_required(env, "GATEWAY_SECRET_KEY", "the S3 secret key (from the chart's Secret)"),
        bucket=bucket,
        connect_timeout=_number(env, "GATEWAY_MINIO_CONNECT_TIMEOUT", Settings.connect_timeout, minimum=0.1),
        read_timeout=_number(env, "GATEWAY_MINIO_READ_TIMEOUT", Settings.read_timeout, minimum=0.1),
        max_object_bytes=max_object_bytes,
        part_bytes=part_bytes,
        startup_timeout=_number(env, "GATEWAY_STARTUP_TIMEOUT", Settings.startup_timeout, minimum=0),
        host=env.get("GATEWAY_HOST", "").strip() or Settings.host,
        port=port,
        bucket_versioning=bucket_versioning(env.get("GATEWAY_BUCKET_VERSIONING")),
        noncurrent_days=int(_number(env, "GATEWAY_NONCURRENT_DAYS", Settings.noncurrent_days, minimum=1)),
        repair_refused_writes=on_off("GATEWAY_REPAIR", env.get("GATEWAY_REPAIR")),
        repair_max_age=_number(env, "GATEWAY_REPAIR_MAX_AGE", Settings.repair_max_age, minimum=1),
        repair_max_keys=int(_number(env, "GATEWAY_REPAIR_MAX_KEYS", Settings.repair_max_keys, minimum=1)),
        read_attempts=_attempts(env),
        delete_settle_s=_number(env, "GATEWAY_DELETE_SETTLE", Settings.delete_settle_s, minimum=0),
        ack_before_write=ack_before_write(env.get("GATEWAY_ACK_BEFORE_WRITE")),
    )
