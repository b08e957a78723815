"""The rules about one MinIO workload at a time: autoscalers (CG002), where the
drives live (CG003), probes and start-up (CG008-CG010), resources (CG011).
The quorum rules (CG004-CG007, CG012) are in quorum.py, credentials in
credentials.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chaos.preflight.findings import ERROR, WARNING, Finding
from chaos.preflight.manifests import as_dict, as_list, dig, find, namespace_of, object_ref, same_namespace
from chaos.preflight.servers import Context, Server

AUTOSCALERS = {"HorizontalPodAutoscaler": "StatefulSet", "ScaledObject": "Deployment"}
"""Autoscaler kinds and the target kind they assume when scaleTargetRef names none (KEDA: Deployment)."""
EPHEMERAL_VOLUMES = ("emptyDir", "ephemeral")
NOT_DATA_VOLUMES = ("configMap", "secret", "projected", "downwardAPI")
SCRATCH_PATHS = ("/tmp", "/var/tmp", "/dev/shm", "/run")  # noqa: S108 - paths inside the pod, never opened here
"""Mount paths that hold scratch space, not drives (when no endpoint list names the drives)."""
ADDRESS_PORT = re.compile(r":(\d+)$")


def check_autoscalers(ctx: Context) -> list[Finding]:
    findings = []
    for doc in ctx.manifests:
        if doc.get("kind") not in AUTOSCALERS:
            continue
        target = as_dict(dig(doc, "spec", "scaleTargetRef"))
        kind = str(target.get("kind") or AUTOSCALERS[str(doc["kind"])])
        for server in ctx.servers:
            w = server.workload
            if (kind, str(target.get("name"))) == (w.kind, w.name) and same_namespace(doc, w.doc):
                why = (
                    f"it scales {w.ref}, a MinIO {w.kind}. MinIO's server list is fixed at start: a pod added this "
                    "way is in no server's endpoint list and never joins the erasure sets (it crash-loops or serves "
                    "alone), and a scale-in removes servers that hold shards, which can take sets below quorum."
                    + _beyond_the_list(doc, server)
                )
                fix = (
                    "delete this autoscaler. Grow MinIO by adding a server pool (append an endpoint group with "
                    "helm upgrade, then restart all servers together); autoscale the stateless app in front instead."
                )
                findings.append(
                    Finding("CG002-autoscaled-minio", ERROR, object_ref(doc), "spec.scaleTargetRef", why, fix)
                )
    return findings


def _beyond_the_list(autoscaler: Mapping[str, Any], server: Server) -> str:
    most = dig(autoscaler, "spec", "maxReplicas")
    listed = server.own.pool.servers if server.own and server.endpoints else None
    if isinstance(most, int) and listed is not None and most > listed:
        return f" Here up to {most - listed} pod(s) beyond the {listed} servers of the endpoint list."
    return ""


def check_storage(ctx: Context) -> list[Finding]:
    findings = []
    for server in ctx.servers:
        findings += _storage(server)
    return findings


def _storage(server: Server) -> list[Finding]:
    w = server.workload
    check, ref = "CG003-ephemeral-data", w.ref
    claims = {str(dig(c, "metadata", "name")) for c in as_list(dig(w.doc, "spec", "volumeClaimTemplates"))}
    volumes = {str(dig(v, "name")): as_dict(v) for v in as_list(w.pod.get("volumes"))}
    mounts = [as_dict(m) for m in as_list(w.container.get("volumeMounts"))]
    paths = server.data_paths or _data_mount_paths(mounts, volumes)
    ephemeral: list[tuple[str, str, str]] = []  # (path, what it is on, field)
    persistent = False
    for path in paths:
        mount = _mount_of(path, mounts)
        if mount is None:
            ephemeral.append((path, "the container's own file system", f"{w.container_field}.volumeMounts"))
            continue
        name = str(mount.get("name"))
        kind = next((k for k in EPHEMERAL_VOLUMES if k in volumes.get(name, {})), None)
        if kind and name not in claims:
            ephemeral.append((path, f"the {kind} volume {name}", f"spec.template.spec.volumes[{name}].{kind}"))
        elif name in claims or name in volumes:
            persistent = True
    findings = []
    fix = (
        "keep every drive on a PersistentVolumeClaim from volumeClaimTemplates (one per server and drive), "
        "with a StorageClass that keeps the volume when the pod goes."
    )
    if ephemeral:
        path, what, field = ephemeral[0]
        more = f" ({len(ephemeral) - 1} more drive path(s) likewise)" if len(ephemeral) > 1 else ""
        why = (
            f"MinIO's drive {path} is on {what}{more}, which is wiped when the pod goes: when all servers are down "
            "at once (full outage, node loss, upgrade) every object is gone; healing rebuilds one empty drive, "
            "never all of them."
        )
        findings.append(Finding(check, ERROR, ref, field, why, fix))
    elif w.kind == "StatefulSet" and not claims and not persistent:
        why = (
            "the StatefulSet has no volumeClaimTemplates and MinIO's drives are on no persistent volume, so they "
            "live and die with the pods: when all servers are down at once every object is gone."
        )
        findings.append(Finding(check, ERROR, ref, "spec.volumeClaimTemplates", why, fix))
    if w.kind == "Deployment":
        why = (
            "MinIO runs as a Deployment: its pods get random names that no endpoint list can name and no volume "
            "of their own, so servers cannot find each other across restarts and replacements start on other "
            "(or shared, or empty) drives."
        )
        fix = "run MinIO as a StatefulSet with a headless Service and volumeClaimTemplates for its drives."
        severity = ERROR if w.replicas > 1 or ephemeral else WARNING
        findings.append(Finding(check, severity, ref, "kind", why, fix))
    return findings


def _data_mount_paths(mounts: list[dict[str, Any]], volumes: Mapping[str, dict[str, Any]]) -> list[str]:
    """Without an endpoint list: every mount that is not config or scratch space."""
    paths = []
    for mount in mounts:
        path = str(mount.get("mountPath", ""))
        volume = volumes.get(str(mount.get("name")), {})
        scratch = any(path == p or path.startswith(p + "/") for p in SCRATCH_PATHS)
        if not scratch and not any(k in volume for k in NOT_DATA_VOLUMES):
            paths.append(path)
    return paths


def _mount_of(path: str, mounts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The mount a path lies in: the one with the longest mountPath above it."""
    best: dict[str, Any] | None = None
    for mount in mounts:
        base = str(mount.get("mountPath", "")).rstrip("/")
        if (path == base or path.startswith(base + "/")) and (
            best is None or len(base) > len(str(best["mountPath"]).rstrip("/"))
        ):
            best = mount
    return best


def check_probes(ctx: Context) -> list[Finding]:
    findings = []
    for server in ctx.servers:
        w = server.workload
        port = api_port(w.container)
        probes = (
            (
                "readinessProbe",
                ERROR,
                "/minio/health/ready",
                "the Services send requests to a server that is still "
                "starting or stuck, and clients see errors during every restart",
            ),
            (
                "livenessProbe",
                WARNING,
                "/minio/health/live",
                "a hung server is never restarted and holds its drives offline until someone notices",
            ),
        )
        for probe, severity, path, loss in probes:
            if not w.container.get(probe):
                why = f"the MinIO container has no {probe}: {loss}."
                fix = f"add {probe}.httpGet on path {path}, port {port} (MinIO's API port)."
                field = f"{w.container_field}.{probe}"
                findings.append(Finding("CG008-missing-probe", severity, w.ref, field, why, fix))
    return findings


def api_port(container: Mapping[str, Any]) -> str:
    """The API port: a container port named api, else --address's, else MinIO's default 9000."""
    for port in as_list(container.get("ports")):
        if dig(port, "name") == "api":
            return "api"
    words = [str(w) for w in as_list(container.get("command")) + as_list(container.get("args"))]
    for i, word in enumerate(words):
        value = word.split("=", 1)[1] if word.startswith("--address=") else None
        if word == "--address" and i + 1 < len(words):
            value = words[i + 1]
        found = ADDRESS_PORT.search(value or "")
        if found:
            return found.group(1)
    return "9000"


def check_headless_service(ctx: Context) -> list[Finding]:
    findings = []
    check = "CG009-headless-service"
    for server in ctx.servers:
        w = server.workload
        distributed = server.own.pool.distributed if server.own else w.replicas > 1
        if w.kind != "StatefulSet" or not distributed:
            continue
        name = str(dig(w.doc, "spec", "serviceName") or "")
        service = find(ctx.manifests, "Service", name, namespace_of(w.doc)) if name else None
        fix = "a headless Service (clusterIP: None) named in spec.serviceName with publishNotReadyAddresses: true."
        if not name:
            why = (
                "the StatefulSet names no governing Service, so its pods get no DNS names and the servers cannot "
                "reach each other."
            )
            findings.append(Finding(check, ERROR, w.ref, "spec.serviceName", why, fix))
        elif service is None:
            why = (
                f"Service {name} is not among the rendered manifests; if it is created elsewhere it must be "
                "headless and publish not-ready addresses, or the servers cannot find each other."
            )
            findings.append(Finding(check, WARNING, w.ref, "spec.serviceName", why, fix))
        elif dig(service, "spec", "clusterIP") != "None":
            why = (
                f"it serves {w.ref} but is not headless, so the pods get no per-pod DNS records and the servers "
                "of the endpoint list cannot be resolved."
            )
            findings.append(Finding(check, ERROR, object_ref(service), "spec.clusterIP", why, fix))
        elif dig(service, "spec", "publishNotReadyAddresses") is not True:
            why = (
                f"it serves {w.ref} without publishNotReadyAddresses: true. Servers resolve each other's DNS names "
                "before they are Ready, and a server is Ready only once it runs: a fresh cluster can deadlock at "
                "start, and after an outage the servers wait on each other's names."
            )
            findings.append(Finding(check, ERROR, object_ref(service), "spec.publishNotReadyAddresses", why, fix))
    return findings


def check_pod_management(ctx: Context) -> list[Finding]:
    findings = []
    for server in ctx.servers:
        w = server.workload
        written = dig(w.doc, "spec", "podManagementPolicy")
        policy = str(written or "OrderedReady")
        if w.kind != "StatefulSet" or w.replicas < 2 or policy == "Parallel":
            continue
        why = (
            f"podManagementPolicy is {policy}{'' if written else ' (the default when unset)'}: "
            "the controller creates pod N only after pods 0..N-1 are Ready. A fresh cluster formats only when all "
            "its drives answer, so a readiness check that waits for the cluster deadlocks the first start; after "
            "a full outage one pod that cannot come back keeps every later server down although the rest hold quorum."
        )
        fix = "set spec.podManagementPolicy: Parallel so all servers start together."
        findings.append(Finding("CG010-ordered-ready", ERROR, w.ref, "spec.podManagementPolicy", why, fix))
    return findings


def check_resources(ctx: Context) -> list[Finding]:
    findings = []
    check = "CG011-missing-resources"
    for server in ctx.servers:
        w = server.workload
        resources = as_dict(w.container.get("resources"))
        requests, limits = as_dict(resources.get("requests")), as_dict(resources.get("limits"))
        missing = [r for r in ("cpu", "memory") if r not in requests]
        if missing:
            why = (
                f"the MinIO container requests no {' or '.join(missing)}: the scheduler may pack servers onto a node "
                "without room for them, and under node pressure the kubelet evicts them first, several at a time."
            )
            fix = "set resources.requests.cpu and resources.requests.memory to what one server needs under load."
            findings.append(Finding(check, WARNING, w.ref, f"{w.container_field}.resources.requests", why, fix))
        if "memory" not in limits:
            why = (
                "the MinIO container has no memory limit: MinIO sizes its request buffers from the memory it sees "
                "(the whole node's without a limit), and a node out of memory kills processes at random, "
                "possibly several servers at once."
            )
            fix = "set resources.limits.memory (and size MinIO's requests to it)."
            findings.append(Finding(check, WARNING, w.ref, f"{w.container_field}.resources.limits.memory", why, fix))
    return findings
