"""The security settings of the pods chaosgate runs in a cluster (the relay,
Locust workers): Kubernetes' "restricted" Pod Security Standard, so they run in
namespaces that enforce it."""

from __future__ import annotations

from typing import Any

UID = 10001
"""Not root, and not a uid an image's own users are likely to have (0-999 are
system users, 1000 is the first person); the images' USER."""


def pod() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "seccompProfile": {"type": "RuntimeDefault"}}


def container() -> dict[str, Any]:
    return {**pod(), "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
