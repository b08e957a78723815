"""Faults: actions that change the cluster and return proof that they happened.

A fault whose selector matches nothing, or whose effect cannot be observed,
raises ``FaultNotProven``: the scenario's verdict becomes inconclusive, never
pass. A chaos run that silently injected nothing is the worst kind of green.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from chaos.kube import REQUEST_TIMEOUT, Kube, require_managed_namespace
from chaos.rollback import Rollbacks
from kernel.errors import InfraError, WaitTimeout
from kernel.procs import run
from kernel.wait import Seen, wait_until

PROOF_TIMEOUT_S = 120.0


class FaultNotProven(InfraError):
    """The fault could not be injected or its effect was never observed."""


@dataclass
class Proof:
    fault: str
    targets: list[str]
    # Wall-clock seconds, to place the fault on the run's timeline.
    started_at: float
    finished_at: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PodState:
    name: str
    uid: str
    node: str
    restarts: int
    container_id: str
    ready: bool
    ip: str = ""


def pods(kube: Kube, namespace: str, selector: str) -> list[PodState]:
    listed = kube.core.list_namespaced_pod(namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT)
    states = []
    for pod in listed.items:
        statuses = pod.status.container_statuses or []
        first = statuses[0] if statuses else None
        states.append(
            PodState(
                name=pod.metadata.name,
                uid=pod.metadata.uid,
                node=pod.spec.node_name or "",
                restarts=sum(s.restart_count for s in statuses),
                container_id=(first.container_id or "") if first else "",
                # The Ready condition, not the containers' flags: when a node is
                # lost only the control plane can say so, and it sets the condition.
                ready=any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []),
                ip=pod.status.pod_ip or "",
            )
        )
    return sorted(states, key=lambda p: p.name)


def targets(kube: Kube, namespace: str, selector: str, names: list[str] | None) -> list[PodState]:
    require_managed_namespace(kube, namespace)
    found = pods(kube, namespace, selector)
    if names is not None:
        found = [p for p in found if p.name in names]
        missing = set(names) - {p.name for p in found}
        if missing:
            raise FaultNotProven(f"pods {sorted(missing)} not found in {namespace} with selector {selector!r}")
    if not found:
        raise FaultNotProven(f"selector {selector!r} matched no pod in {namespace}: nothing to inject into")
    return found


def container_pid(pod: PodState) -> int:
    """The host PID of the pod's first container, as its node sees it."""
    if not pod.container_id.startswith("containerd://"):
        raise FaultNotProven(f"pod {pod.name} has no running containerd container ({pod.container_id!r})")
    cid = pod.container_id.removeprefix("containerd://")
    info = run(["docker", "exec", pod.node, "crictl", "inspect", cid], timeout=30)
    return int(json.loads(info.stdout)["info"]["pid"])


def sigkill_containers(kube: Kube, namespace: str, selector: str, names: list[str], *, node_exec: bool = True) -> Proof:
    """SIGKILL the main process of each named pod's container, with no grace.

    On kind the kill is sent from the node (an ancestor PID namespace, so even
    PID 1 of the container dies); kubelet restarts the container in the same
    pod. Proof: the restart count rose. Where nodes cannot be reached
    (``node_exec=False``), the pod is deleted with zero grace instead and the
    proof is a new pod UID.
    """
    before = targets(kube, namespace, selector, names)
    if not node_exec:
        return delete_pods(kube, namespace, selector, names)
    proof = Proof("sigkill", [p.name for p in before], time.time())
    for pod in before:
        pid = container_pid(pod)
        run(["docker", "exec", pod.node, "kill", "-KILL", str(pid)], timeout=30)
        proof.evidence[pod.name] = {"node": pod.node, "pid": pid, "restarts_before": pod.restarts}

    def restarted() -> Seen:
        now = {p.name: p for p in pods(kube, namespace, selector)}
        pending = [p.name for p in before if p.name not in now or now[p.name].restarts <= p.restarts]
        return Seen(not pending, f"restart count not yet risen for {pending}")

    prove(restarted, f"restart of {proof.targets} after SIGKILL")
    after = {p.name: p for p in pods(kube, namespace, selector)}
    for name in proof.targets:
        proof.evidence[name]["restarts_after"] = after[name].restarts
    proof.finished_at = time.time()
    return proof


def delete_pods(
    kube: Kube, namespace: str, selector: str, names: list[str] | None = None, *, graceful: bool = False
) -> Proof:
    """Delete the matching pods at once (all of them when ``names`` is None: a
    full outage), with zero grace, or with the pod's own grace period when
    ``graceful`` (a restart the way a rollout does it: SIGTERM, then time to
    shut down). Proof: every name came back with a new UID."""
    before = targets(kube, namespace, selector, names)
    proof = Proof("restart-pods" if graceful else "delete-pods", [p.name for p in before], time.time())
    grace = None if graceful else 0
    for pod in before:
        kube.core.delete_namespaced_pod(
            pod.name, namespace, grace_period_seconds=grace, _request_timeout=REQUEST_TIMEOUT
        )
    proof.evidence = {p.name: {"uid_before": p.uid, "node": p.node} for p in before}

    def replaced() -> Seen:
        now = {p.name: p.uid for p in pods(kube, namespace, selector)}
        pending = [p.name for p in before if now.get(p.name) in (None, p.uid)]
        return Seen(not pending, f"not yet recreated with a new UID: {pending}")

    prove(replaced, f"recreation of {proof.targets}")
    for pod in pods(kube, namespace, selector):
        if pod.name in proof.evidence:
            proof.evidence[pod.name]["uid_after"] = pod.uid
    proof.finished_at = time.time()
    return proof


def node_ready(kube: Kube, node: str) -> str:
    """The node's Ready condition: "True", "False" or "Unknown"."""
    obj = kube.core.read_node(node, _request_timeout=REQUEST_TIMEOUT)
    for cond in obj.status.conditions or []:
        if cond.type == "Ready":
            return str(cond.status)
    return "Unknown"


def stop_node(kube: Kube, node: str, *, rollbacks: Rollbacks, notready_timeout: float = 150.0) -> Proof:
    """Stop a kind node's container (power loss for everything on it).
    Proof: the API server marks the node NotReady (after the node monitor
    grace period, about 40-50 s). ``start_node`` (or the run's cleanup) undoes it."""
    if node_ready(kube, node) != "True":
        raise FaultNotProven(f"node {node} is not Ready before the fault; refusing to stop it")
    proof = Proof("stop-node", [node], time.time())
    rollbacks.push(f"node/{node}", f"start node {node}", lambda: run(["docker", "start", node], timeout=120))
    run(["docker", "stop", "--time", "0", node], timeout=120)

    def not_ready() -> Seen:
        state = node_ready(kube, node)
        return Seen(state != "True", f"Ready={state}")

    seen_at = prove(not_ready, f"node {node} NotReady", timeout=notready_timeout)
    proof.evidence = {"notready_after_s": round(seen_at - proof.started_at, 1)}
    proof.finished_at = time.time()
    return proof


def start_node(kube: Kube, node: str, *, rollbacks: Rollbacks, ready_timeout: float = 300.0) -> Proof:
    """Start a node stop_node stopped and wait until it is Ready."""
    proof = Proof("start-node", [node], time.time())
    rollbacks.revert(f"node/{node}")
    seen_at = prove(
        lambda: Seen(node_ready(kube, node) == "True", f"node {node} not Ready"),
        f"node {node} Ready again",
        timeout=ready_timeout,
    )
    proof.evidence = {"ready_after_s": round(seen_at - proof.started_at, 1)}
    proof.finished_at = time.time()
    return proof


def prove(predicate: Any, what: str, timeout: float = PROOF_TIMEOUT_S) -> float:
    """Wait for the fault's effect; a timeout means the fault is not proven."""
    try:
        wait_until(predicate, what=what, timeout=timeout, interval=0.5, tolerate=(OSError,))
    except WaitTimeout as exc:
        raise FaultNotProven(f"fault not proven: {exc}") from exc
    return time.time()


def take_down_servers(kube: Kube, namespace: str, statefulset: str, count: int, *, rollbacks: Rollbacks) -> Proof:
    """Stop the last ``count`` servers of a StatefulSet by scaling it down.

    The endpoint list is untouched (it comes from the chart), so to MinIO this
    is ``count`` servers going away, like a rack losing power; their volumes
    stay. Proof: those pods are gone. ``restore_servers`` undoes it."""
    require_managed_namespace(kube, namespace)
    sts = kube.apps.read_namespaced_stateful_set(statefulset, namespace, _request_timeout=REQUEST_TIMEOUT)
    replicas = int(sts.spec.replicas)
    if not 0 < count < replicas:
        raise FaultNotProven(f"cannot take down {count} of {replicas} servers of {statefulset}")
    victims = [f"{statefulset}-{i}" for i in range(replicas - count, replicas)]
    proof = Proof("take-down-servers", victims, time.time())
    rollbacks.push(
        f"statefulset/{namespace}/{statefulset}",
        f"scale {namespace}/{statefulset} back to {replicas} replicas",
        lambda: _scale(kube, namespace, statefulset, replicas),
    )
    _scale(kube, namespace, statefulset, replicas - count)

    def gone() -> Seen:
        names = {
            p.metadata.name for p in kube.core.list_namespaced_pod(namespace, _request_timeout=REQUEST_TIMEOUT).items
        }
        left = [v for v in victims if v in names]
        return Seen(not left, f"still present: {left}")

    prove(gone, f"pods {victims} gone")
    proof.evidence = {"replicas_before": replicas, "replicas_during": replicas - count}
    proof.finished_at = time.time()
    return proof


def restore_servers(kube: Kube, namespace: str, statefulset: str, *, rollbacks: Rollbacks) -> Proof:
    """Scale a StatefulSet back to the replicas it had before take_down_servers."""
    proof = Proof("restore-servers", [statefulset], time.time())
    undo = rollbacks.revert(f"statefulset/{namespace}/{statefulset}")
    proof.evidence = {"restored": undo.what}
    proof.finished_at = time.time()
    return proof


def _scale(kube: Kube, namespace: str, statefulset: str, replicas: int) -> None:
    kube.apps.patch_namespaced_stateful_set_scale(
        statefulset, namespace, {"spec": {"replicas": replicas}}, _request_timeout=REQUEST_TIMEOUT
    )
