"""The relay Deployment: the harness's path to Services in a cluster it did not create.

``chaos.relay`` runs in one pod in chaosgate's helper namespace and relays
each of its ports to one upstream Service; the harness opens a `kubectl
port-forward` to that pod. A forward to a MinIO pod would die with the pod a
fault kills; the relay is never a fault target and dials the Service afresh
for every connection. No NodePorts, so nothing on the cluster's nodes opens.

Layers: the deployer may not import ``chaos`` (import-linter: kernel <-
deployer <- chaos), and the relay must stay standard-library only for its
image, so it cannot import this module either. The two share the route text
``LISTEN=HOST:PORT``: :attr:`Route.arg` writes it, ``chaos.relay.parse_route``
reads it, and tests/unit/test_relay.py ties the two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deployer import podsecurity
from deployer.kubectl import Kubectl
from deployer.labels import MANAGED_LABELS
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.progress import phase
from kernel.wait import Deadline, Seen, wait_until

NAME = "chaosgate-relay"
NAME_LABEL = "app.kubernetes.io/name"
SELECTOR: Mapping[str, str] = {NAME_LABEL: NAME}
LABELS: Mapping[str, str] = {**SELECTOR, **MANAGED_LABELS}
LABEL_SELECTOR = ",".join(f"{k}={v}" for k, v in LABELS.items())

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"

PYTHON = "python"
"""The interpreter on the image's PATH (the official images and chaosgate's
Python base both have one by this name)."""

_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


@dataclass(frozen=True)
class Route:
    """The relay listens on ``listen_port`` and connects to ``host:port``.
    Checked when made, with the same rules ``chaos.relay`` applies, so a bad
    route fails here and not in a pod that crash-loops."""

    listen_port: int
    host: str
    port: int

    def __post_init__(self) -> None:
        for what, value in (("listen_port", self.listen_port), ("port", self.port)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                raise BadInputError(f"relay route {self.host}: {what} must be from 1 to 65535, got {value!r}")
        if not _HOST.fullmatch(self.host):
            raise BadInputError(
                f"relay route to port {self.port}: host {self.host!r} is not a host name or address; "
                "give a Service name such as minio.shop.svc.cluster.local"
            )

    @property
    def arg(self) -> str:
        """The route as ``python -m chaos.relay --route`` reads it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listen_port}={host}:{self.port}"


def service_route(
    listen_port: int, service: str, namespace: str, port: int, *, cluster_domain: str = "cluster.local"
) -> Route:
    """A route to a Service by its absolute name. The trailing dot skips the
    pod's DNS search list (ndots:5 would try three wrong names first), which
    matters because the relay looks the name up for every connection."""
    return Route(listen_port, f"{service}.{namespace}.svc.{cluster_domain}.", port)


def _checked(routes: Sequence[Route]) -> list[Route]:
    if not routes:
        raise BadInputError("the relay needs at least one route")
    ports = [r.listen_port for r in routes]
    doubled = sorted({p for p in ports if ports.count(p) > 1})
    if doubled:
        raise BadInputError(f"relay routes share listen ports {doubled}: give each upstream its own port")
    return list(routes)


def manifest(namespace: str, image: str, routes: Sequence[Route]) -> list[dict[str, Any]]:
    """The relay's objects: one Deployment with one pod that relays ``routes``."""
    routes = _checked(routes)
    container = {
        "name": "relay",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": [PYTHON, "-m", "chaos.relay"],
        "args": [arg for r in routes for arg in ("--route", r.arg)],
        # No .pyc writes on a read-only root; start lines reach `kubectl logs` at once.
        "env": [
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
            {"name": "PYTHONUNBUFFERED", "value": "1"},
        ],
        "ports": [
            {"name": f"relay-{r.listen_port}", "containerPort": r.listen_port, "protocol": "TCP"} for r in routes
        ],
        # Listening means every port is bound: the relay binds them all before
        # it serves, and exits if one fails.
        "readinessProbe": {
            "tcpSocket": {"port": routes[0].listen_port},
            "periodSeconds": 2,
            "failureThreshold": 3,
        },
        "resources": {
            "requests": {"cpu": "50m", "memory": "32Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
        "securityContext": {**podsecurity.container(), "readOnlyRootFilesystem": True},
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": namespace, "labels": dict(LABELS)},
            "spec": {
                "replicas": 1,
                # Old pod gone before the new one starts: at most one relay pod
                # runs, so pod_name never has to guess between two.
                "strategy": {"type": "Recreate"},
                "revisionHistoryLimit": 2,
                "selector": {"matchLabels": dict(SELECTOR)},
                "template": {
                    "metadata": {"labels": dict(LABELS)},
                    "spec": {
                        "automountServiceAccountToken": False,  # it never talks to the API server
                        "enableServiceLinks": False,
                        "terminationGracePeriodSeconds": 5,  # it exits at once on SIGTERM
                        "securityContext": podsecurity.pod(),
                        # Node-loss faults stop nodes that run MinIO, and the
                        # relay must outlive them: prefer the control plane
                        # where it takes pods (kind, kubeadm), anywhere if not.
                        "tolerations": [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}],
                        "affinity": {
                            "nodeAffinity": {
                                "preferredDuringSchedulingIgnoredDuringExecution": [
                                    {
                                        "weight": 100,
                                        "preference": {
                                            "matchExpressions": [{"key": CONTROL_PLANE, "operator": "Exists"}]
                                        },
                                    }
                                ]
                            }
                        },
                        "containers": [container],
                    },
                },
            },
        }
    ]


def rollout_seen(deployment: Mapping[str, Any]) -> Seen:
    """Done when the controller saw the latest spec and its one pod is updated
    and available, with no old pod left (a re-deploy with new routes must not
    count the old relay as ready)."""
    status = deployment.get("status", {})
    generation = deployment.get("metadata", {}).get("generation", 0)
    if status.get("observedGeneration", 0) < generation:
        return Seen(False, "the Deployment controller has not seen the latest spec yet")
    counts = {k: status.get(k, 0) for k in ("replicas", "updatedReplicas", "availableReplicas")}
    detail = ", ".join(f"{k} {v}" for k, v in counts.items())
    return Seen(all(v == 1 for v in counts.values()), detail)


def pods_state(pods: Sequence[Mapping[str, Any]]) -> str:
    """One line per relay pod: phase, Ready, and each container's state and
    last termination, which is where an image pull or a crash shows."""
    if not pods:
        return "no relay pod exists (see the Deployment's ReplicaSet events)"
    lines = []
    for pod in pods:
        status = pod.get("status", {})
        ready = next((c.get("status") for c in status.get("conditions", []) if c.get("type") == "Ready"), "?")
        parts = [f"pod {pod['metadata']['name']}: phase {status.get('phase', '?')}, Ready {ready}"]
        if pod["metadata"].get("deletionTimestamp"):
            parts.append("terminating")
        for cs in status.get("containerStatuses", []):
            parts.append(f"container {cs.get('name')} {_container_state(cs.get('state', {}))}")
            if last := cs.get("lastState", {}):
                parts.append(f"last {_container_state(last)}")
            parts.append(f"restarts {cs.get('restartCount', 0)}")
        lines.append("; ".join(parts))
    return "\n".join(lines)


def _container_state(state: Mapping[str, Any]) -> str:
    for key in ("waiting", "terminated", "running"):
        if key in state:
            info = state[key] or {}
            bits = [str(info[k]) for k in ("reason", "exitCode", "message") if info.get(k) not in (None, "")]
            return f"{key} ({', '.join(bits)})" if bits else key
    return "unknown"


def running_pod(pods: Sequence[Mapping[str, Any]]) -> str | None:
    """The newest pod that is Running, Ready and not being deleted."""
    live = [
        p
        for p in pods
        if p.get("status", {}).get("phase") == "Running"
        and not p["metadata"].get("deletionTimestamp")
        and any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in p.get("status", {}).get("conditions", [])
        )
    ]
    if not live:
        return None
    newest = max(live, key=lambda p: str(p["metadata"].get("creationTimestamp", "")))
    return str(newest["metadata"]["name"])


def _pods(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json(
        ["get", "pods", "--namespace", namespace, "--selector", LABEL_SELECTOR], timeout=30
    )["items"]
    return items


def deploy(kubectl: Kubectl, namespace: str, image: str, routes: Sequence[Route], timeout: float = 120) -> None:
    """Apply the relay into ``namespace`` (which must exist) and wait until its
    pod is available; InfraError with the pod's last state when it is not
    within ``timeout`` seconds."""
    objects = manifest(namespace, image, routes)
    with phase(f"deploy the relay into {namespace}"):
        deadline = Deadline(timeout)
        kubectl.apply({"apiVersion": "v1", "kind": "List", "items": objects})
        try:
            wait_until(
                lambda: rollout_seen(kubectl.json(["get", "deployment", NAME, "--namespace", namespace], timeout=30)),
                what=f"Deployment {NAME} in {namespace} to have its pod available",
                timeout=deadline,
                interval=1.0,
                tolerate=(InfraError,),
            )
        except WaitTimeout as exc:
            try:
                state = pods_state(_pods(kubectl, namespace))
            except InfraError as err:
                state = f"could not read the relay pods: {err}"
            raise InfraError(f"{exc}\n{state}") from exc


def delete(kubectl: Kubectl, namespace: str, *, timeout: float = 120) -> None:
    """Delete the relay and wait until its pod is gone too (foreground
    cascade), so a run that ends leaves nothing behind."""
    with phase(f"delete the relay from {namespace}"):
        kubectl.run(
            [
                "delete", "deployment", NAME, "--namespace", namespace,
                "--ignore-not-found", "--cascade=foreground", "--wait=true", f"--timeout={int(timeout)}s",
            ],
            timeout=timeout + 15,
        )  # fmt: skip


def pod_name(kubectl: Kubectl, namespace: str) -> str:
    """The running relay pod, for `kubectl port-forward`; InfraError with the
    pods' state when none is running and Ready."""
    pods = _pods(kubectl, namespace)
    name = running_pod(pods)
    if name is None:
        raise InfraError(f"no relay pod is running and Ready in {namespace}:\n{pods_state(pods)}")
    return name
