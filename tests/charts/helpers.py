"""Constants and small helpers shared by the chart tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer import pins

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO / "charts"
CHART_NAMES = ("minio", "app", "monitoring", "stack")
# The Kubernetes version chaosgate pins for the cluster; helm renders and the
# manifests are validated against this version's API.
KUBE_VERSION = pins.KUBERNETES_VERSION.removeprefix("v")
NAMESPACE = "chaos"
RELEASE = "cg"


@dataclass(frozen=True)
class Rendered:
    """One successful `helm template`: the raw text and its documents."""

    text: str
    docs: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d.get("kind") == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [d for d in self.of_kind(kind) if name is None or d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
        return found[0]


HelmRun = Callable[..., subprocess.CompletedProcess[str]]
RenderFn = Callable[..., Rendered]


# Every values combination the project ships, as (chart, values files).
# Umbrella variants are layered on values-kind.yaml, as the deployer uses them.
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "minio-default": ("minio", ()),
    "minio-kind": ("minio", ("values-kind.yaml",)),
    "app-default": ("app", ()),
    "app-kind": ("app", ("values-kind.yaml",)),
    "monitoring-default": ("monitoring", ()),
    "monitoring-kind": ("monitoring", ("values-kind.yaml",)),
    "stack-default": ("stack", ()),
    "stack-kind": ("stack", ("values-kind.yaml",)),
    "stack-two-pools": ("stack", ("values-kind.yaml", "values-two-pools.yaml")),
    "stack-ephemeral": ("stack", ("values-kind.yaml", "values-ephemeral.yaml")),
    "stack-unsafe-app": ("stack", ("values-kind.yaml", "values-unsafe-app.yaml")),
    "stack-unversioned": ("stack", ("values-kind.yaml", "values-unversioned.yaml")),
    "stack-unrepaired": ("stack", ("values-kind.yaml", "values-unrepaired.yaml")),
    "stack-unsettled": ("stack", ("values-kind.yaml", "values-unsettled.yaml")),
}
STACK_VARIANTS = [k for k in VARIANTS if k.startswith("stack-")]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload or a bare Pod."""
    if doc["kind"] == "Pod":
        return doc["spec"]
    return doc["spec"]["template"]["spec"]


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")
