"""Helpers for tests that drive the chaos-tier plugin in a child pytest."""

import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def own_cluster_name() -> str:
    """A cluster name no other run uses. Run locks are per machine (kind cluster
    names are global to Docker), and a real run may hold the default one."""
    return f"test-{uuid.uuid4().hex[:12]}"


def run_plugin(
    cwd: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """pytest with the real chaos-tier plugin in ``cwd``, under a cluster name of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "scenarios.plugin", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env={**os.environ, "CHAOSGATE_CLUSTER_NAME": own_cluster_name(), **(env or {}), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
