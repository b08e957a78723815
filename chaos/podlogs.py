"""The logs of a scenario's window, from every pod of the stack, into the run
folder: always, not only on failure, so a passing run can be read too.

Each container's log since the window started (with Kubernetes' timestamps),
and the log of its previous instance when it restarted (a killed MinIO
process). Pods deleted during the window took their logs with them; the
index says which pods were read. Every known secret value is replaced before
a byte is written: logs are shared in CI artifacts.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from chaos.kube import REQUEST_TIMEOUT, Kube

REDACTED = "[redacted]"
MIN_SECRET_LEN = 4
"""Shorter values would redact ordinary words; chaosgate's secrets are 20+ characters."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value (longest first) replaced by REDACTED."""
    values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
    if not values:
        return text
    return re.sub("|".join(re.escape(v) for v in values), REDACTED, text)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def collect(
    kube: Kube,
    namespace: str,
    selectors: Mapping[str, str],
    *,
    since_wall: float,
    out_dir: Path,
    secrets: Iterable[str],
) -> list[Path]:
    """Write ``<component>/<pod>.<container>[.previous].log`` under ``out_dir``
    for every pod the selectors match; returns the files written. A log that
    cannot be read becomes a one-line file saying why (the run goes on)."""
    hidden = list(secrets)
    since = max(1, math.ceil(time.time() - since_wall) + 1)
    written: list[Path] = []
    for component, selector in selectors.items():
        pods = kube.core.list_namespaced_pod(namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT).items
        for pod in pods:
            restarted = {s.name for s in (pod.status.container_statuses or []) if (s.restart_count or 0) > 0}
            for container in pod.spec.containers:
                for previous in (False, True) if container.name in restarted else (False,):
                    suffix = ".previous" if previous else ""
                    path = out_dir / component / f"{_safe(pod.metadata.name)}.{_safe(container.name)}{suffix}.log"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(
                        scrub(
                            _read(kube, namespace, pod.metadata.name, container.name, since_s=since, previous=previous),
                            hidden,
                        )
                    )
                    written.append(path)
    return written


def _read(kube: Kube, namespace: str, pod: str, container: str, *, since_s: int, previous: bool) -> str:
    try:
        text = kube.core.read_namespaced_pod_log(
            pod,
            namespace,
            container=container,
            since_seconds=since_s,
            timestamps=True,
            previous=previous,
            _request_timeout=REQUEST_TIMEOUT,
        )
    except Exception as exc:  # noqa: BLE001 (a missing log is recorded, never fatal)
        return f"(log not readable: {type(exc).__name__}: {str(exc)[:200]})\n"
    return str(text or "")
