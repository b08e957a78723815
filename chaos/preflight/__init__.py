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

from chaos.preflight.buckets import check_bucket_versioning, check_delete_settle
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

__all__ = ["CHECKS", "ERROR", "FIXES", "WARNING", "Finding", "check", "parse_manifests"]

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
    "CG014-delete-settle-off": "the app believes MinIO's marker-less delete answers, even right after a restart",
}
"""Every check id, with what it flags in one line."""

FIXES = {
    "CG001-literal-credentials": "keep credentials in a Secret created outside the chart (the chart names it: "
    "existingSecret or the like) and reference it with secretKeyRef",
    "CG002-autoscaled-minio": "delete the autoscaler; grow MinIO by adding a server pool, and autoscale the "
    "stateless app in front instead",
    "CG003-ephemeral-data": "keep every drive on a PersistentVolumeClaim from volumeClaimTemplates, with a "
    "StorageClass that keeps the volume when the pod goes",
    "CG004-pdb-exceeds-quorum": "one PodDisruptionBudget per pool whose maxUnavailable is at most what the pool's "
    "write quorum can lose",
    "CG005-servers-share-a-node": "enough schedulable nodes, and pod anti-affinity or topologySpreadConstraints "
    "(maxSkew: 1) on the server pods",
    "CG006-too-few-drives": "at least 4 drives per pool, spread over at least 4 servers (e.g. 4 servers x 1 drive)",
    "CG007-endpoint-list": "one endpoint list naming every server of every pool, with replicas equal to the "
    "servers it names; erasure sets of 2-16 drives",
    "CG008-missing-probe": "readinessProbe and livenessProbe httpGet on /minio/health/ready and /minio/health/live "
    "at MinIO's API port",
    "CG009-headless-service": "a headless Service (clusterIP: None) named in spec.serviceName with "
    "publishNotReadyAddresses: true",
    "CG010-ordered-ready": "spec.podManagementPolicy: Parallel so all servers start together",
    "CG011-missing-resources": "resources.requests.cpu and .memory, and resources.limits.memory",
    "CG012-no-disruption-budget": "one PodDisruptionBudget per pool (maxUnavailable: what its write quorum can lose)",
    "CG013-unversioned-bucket": "turn versioning on for the app's bucket (delete markers need write quorum; a "
    "refused overwrite's undo then removes only its own version); see docs/findings/delete-resurrection.md",
    "CG014-delete-settle-off": "leave the app's delete settle time on (chaosgate's app chart: 30 s by default); see "
    "docs/findings/delete-resurrection.md",
}
"""The usual fix of each check, for the reference (docs/reference/preflight-rules.md);
each finding carries the fix for its own object."""

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
    check_delete_settle,
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
