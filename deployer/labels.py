"""The label that marks what chaosgate created in a cluster.

The deployer puts it on the namespaces it creates and on the metrics-server
objects it applies; chaos faults act only in namespaces that carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MANAGED_LABEL = "app.kubernetes.io/managed-by"
MANAGED_VALUE = "chaosgate"
MANAGED_LABELS: Mapping[str, str] = MappingProxyType({MANAGED_LABEL: MANAGED_VALUE})
"""Read-only: callers copy it into their manifests, none can change it for all."""
