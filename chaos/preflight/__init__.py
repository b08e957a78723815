"""A MinIO-aware static preflight of rendered Kubernetes manifests.

``parse_manifests`` reads what ``helm template`` prints; ``check`` returns the
findings: each names a stable check id, the object and field, why it loses
data or availability, and the fix. Pure logic: no cluster, no helm, no pytest;
a person can call it from a REPL on any rendered chart.

MinIO's servers are the StatefulSets and Deployments whose pod template the
target's selector matches or, without one, that run a MinIO server container.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from chaos.preflight.buckets import check_bucket_versioning
from chaos.preflight.credentials import check_credentials
from chaos.preflight.findings import ERROR, WARNING, Finding
from chaos.preflight.manifests import minio_workloads
from chaos.preflight.quorum import (
    check_disruption_budgets,
    check_drive_count,
    check_endpoint_list,
    check_spread,
)
from chaos.preflight.rules import (
    check_autoscalers,
    check_headless_service,
    check_pod_management,
    check_probes,
    check_resources,
    check_storage,
)
from chaos.preflight.servers import Context, read_server
from kernel.errors import BadInputError

__all__ = ["CHECKS", "ERROR", "WARNING", "Finding", "check", "parse_manifests"]

CHECKS = {
    "CG001-literal-credentials": "a credential written literally in a pod template, ConfigMap, values file, "
    "or a Secret rendered from a values file",
    "CG002-autoscaled-minio": "an HPA or KEDA ScaledObject scales a MinIO workload",
    "CG003-ephemeral-data": "MinIO drives on emptyDir, the container file system, or no volume claim; "
    "MinIO run as a Deployment",
    "CG004-pdb-exceeds-quorum": "a PodDisruptionBudget lets more servers go than the pool's write quorum allows",
    "CG005-servers-share-a-node": "one node can hold more servers of a pool than its write quorum can lose",
    "CG006-too-few-drives": "a pool with fewer than 4 drives or that loses writes with one server down; "
    "a single server",
    "CG007-endpoint-list": "MinIO refuses the endpoint list, replicas disagree with it, or pools get different lists",
    "CG008-missing-probe": "the MinIO container has no readiness or liveness probe",
    "CG009-headless-service": "the StatefulSet's Service is missing, not headless, or hides not-ready pods",
    "CG010-ordered-ready": "a MinIO StatefulSet starts its pods one by one (OrderedReady)",
    "CG011-missing-resources": "the MinIO container has no cpu/memory requests or no memory limit",
    "CG012-no-disruption-budget": "no PodDisruptionBudget guards a distributed MinIO pool",
    "CG013-unversioned-bucket": "the app's bucket is left unversioned, where acknowledged deletes can come back",
}
"""Every check id, with what it flags in one line."""

Rule = Callable[[Context], list[Finding]]
RULES: tuple[Rule, ...] = (
    check_autoscalers,
    check_storage,
    check_disruption_budgets,
    check_spread,
    check_drive_count,
    check_endpoint_list,
    check_probes,
    check_headless_service,
    check_pod_management,
    check_resources,
    check_bucket_versioning,
)


def parse_manifests(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream; empty documents are skipped
    and `kind: List` is flattened into its items."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise BadInputError(f"the rendered manifests are not valid YAML: {exc}") from None
    objects: list[dict[str, Any]] = []
    for number, doc in enumerate(docs, start=1):
        if not doc:
            continue
        items = (doc.get("items") or []) if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict):
                raise BadInputError(
                    f"document {number} of the rendered manifests is not a Kubernetes object "
                    f"(a YAML {type(item).__name__}); fix: render with `helm template` and pass its output as is"
                )
            objects.append(item)
    return objects


def check(
    manifests: list[dict[str, Any]],
    *,
    minio_selector: str | None = None,
    nodes: int | None = None,
    values_texts: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every finding, sorted by check id, object and field.

    minio_selector: "k=v,k2=v2" label selector of MinIO's server pods (a
    selector that matches no workload is bad input); nodes: schedulable node
    count when known; values_texts: file name -> text of the Helm values files
    the manifests were rendered with."""
    if nodes is not None and nodes < 1:
        raise BadInputError(f"nodes is {nodes}; fix: give the number of schedulable nodes (1 or more), or leave it out")
    servers = [read_server(w, manifests) for w in minio_workloads(manifests, minio_selector)]
    ctx = Context(manifests, servers, nodes)
    findings = check_credentials(manifests, values_texts or {})
    for rule in RULES:
        findings += rule(ctx)
    return sorted(findings, key=lambda f: (f.check, f.object, f.field))
