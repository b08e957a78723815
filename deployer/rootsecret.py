"""The MinIO root credentials Secret, made by chaosgate when the target file
says ``minio.credentials: {create: true}``.

Charts that take an ``existingSecret`` need it before they are installed; a
team testing such a chart should not have to write credentials anywhere.
The values are generated per install with ``secrets`` and go to the API
server on kubectl's stdin only: never into a file, an argument, a log or a
report. An existing Secret is left as it is (its credentials may already be
on MinIO's drives).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from deployer.kubectl import Kubectl
from deployer.labels import MANAGED_LABELS
from deployer.target import Target
from kernel.progress import say

USER_PREFIX = "root-"
USER_HEX_BYTES = 6
"""A 12-hex-digit suffix: unique per install, and only letters and digits,
which every chart's templating and MinIO's access-key rules accept."""
PASSWORD_BYTES = 30
"""40 URL-safe characters: past MinIO's 8-character minimum with room, and
nothing a shell script of a chart would have to quote."""


def generate() -> tuple[str, str]:
    """A fresh root user and password."""
    return USER_PREFIX + secrets.token_hex(USER_HEX_BYTES), secrets.token_urlsafe(PASSWORD_BYTES)


def manifest(target: Target, user: str, password: str) -> dict[str, Any]:
    """The Secret the target names, holding ``user`` and ``password`` under its keys."""
    spec = target.minio
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": spec.secret, "namespace": target.namespace, "labels": dict(MANAGED_LABELS)},
        "data": {
            spec.user_key: base64.b64encode(user.encode()).decode(),
            spec.password_key: base64.b64encode(password.encode()).decode(),
        },
    }


def ensure(kubectl: Kubectl, target: Target) -> bool:
    """Create the Secret when the target asks for it and it does not exist;
    True when it was made now."""
    spec = target.minio
    if not spec.create_secret:
        return False
    found = kubectl.run(
        ["get", "secret", spec.secret, "--namespace", target.namespace, "--ignore-not-found", "-o", "name"]
    )
    if found.strip():
        say(f"Secret {spec.secret} in {target.namespace} exists: its credentials are kept")
        return False
    # `create`, not `apply`: a Secret made meanwhile by someone else is never overwritten.
    kubectl.run(["create", "-f", "-"], input_text=json.dumps(manifest(target, *generate())))
    say(f"created Secret {spec.secret} in {target.namespace} with generated credentials (not shown)")
    return True
