"""Network partitions: packet filters inside one pod's network namespace.

The filter is applied from the pod's node (``nsenter`` into the network
namespace of the pod's container), so nothing in the pod's image is needed
and the kubelet's probes, which come from the node, still pass: the pod is
cut off from the peers named, not from Kubernetes. Packets are dropped, not
rejected, the way a broken link behaves (timeouts, no resets).

The proof is what the peers report (the caller's ``proven`` predicate, e.g.
"every other MinIO server sees this one offline"): a filter that is in place
but cuts nothing is not a partition, and raises ``FaultNotProven``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chaos.faults import FaultNotProven, PodState, Proof, container_pid, prove, targets
from chaos.kube import Kube
from chaos.rollback import Rollbacks
from kernel.errors import InfraError
from kernel.procs import run
from kernel.wait import Seen

CHAIN = {"in": "CHAOSGATE-PART-IN", "out": "CHAOSGATE-PART-OUT"}
"""Our own chains, one per direction, so removing the cut removes exactly it."""

DIRECTIONS = {"both": ("in", "out"), "outbound": ("out",)}
"""both: nothing passes between the pod and its peers. outbound: the pod's
packets to its peers are lost, theirs still arrive (a one-way link)."""


def _iptables(pod: PodState, pid: int, *args: str) -> None:
    run(["docker", "exec", pod.node, "nsenter", "-t", str(pid), "-n", "iptables", "-w", "5", *args], timeout=30)


def rules(direction: str, peer_ips: list[str]) -> list[list[str]]:
    """The iptables commands that cut ``peer_ips`` off in ``direction``."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {sorted(DIRECTIONS)}, got {direction!r}")
    commands: list[list[str]] = []
    for way in DIRECTIONS[direction]:
        chain = CHAIN[way]
        hook, match = ("INPUT", "-s") if way == "in" else ("OUTPUT", "-d")
        commands.append(["-N", chain])
        commands += [["-A", chain, match, ip, "-j", "DROP"] for ip in peer_ips]
        commands.append(["-I", hook, "1", "-j", chain])
    return commands


def undo_rules(direction: str) -> list[list[str]]:
    """The commands that take the cut away again (each may fail: already gone)."""
    commands: list[list[str]] = []
    for way in DIRECTIONS[direction]:
        chain = CHAIN[way]
        hook = "INPUT" if way == "in" else "OUTPUT"
        commands += [["-D", hook, "-j", chain], ["-F", chain], ["-X", chain]]
    return commands


def partition(
    kube: Kube,
    namespace: str,
    selector: str,
    victim: str,
    *,
    direction: str,
    proven: Callable[[], Seen],
    rollbacks: Rollbacks,
    timeout: float = 150.0,
    peer_ips: list[str] | None = None,
) -> Proof:
    """Cut ``victim`` off from every other pod ``selector`` matches (or from
    ``peer_ips``), and wait until ``proven`` holds. ``heal`` (or the run's
    cleanup) removes the cut."""
    found = targets(kube, namespace, selector, None)
    pod = next((p for p in found if p.name == victim), None)
    if pod is None:
        raise FaultNotProven(f"pod {victim} not found in {namespace} with selector {selector!r}")
    ips = peer_ips if peer_ips is not None else [p.ip for p in found if p.name != victim and p.ip]
    if not ips:
        raise FaultNotProven(f"no peer of {victim} has an IP: nothing to cut it off from")
    proof = Proof(f"partition-{direction}", [victim], time.time())
    pid = container_pid(pod)
    rollbacks.push(
        f"partition/{namespace}/{victim}",
        f"remove the {direction} partition of {victim}",
        lambda: _remove(kube, namespace, selector, victim, direction),
    )
    try:
        for command in rules(direction, ips):
            _iptables(pod, pid, *command)
    except InfraError as exc:
        raise FaultNotProven(f"the packet filter for {victim} could not be applied: {exc}") from exc
    seen_at = prove(proven, f"peers of {victim} report it offline", timeout=timeout)
    proof.evidence = {
        "node": pod.node,
        "pid": pid,
        "peer_ips": ips,
        "direction": direction,
        "proven_after_s": round(seen_at - proof.started_at, 1),
    }
    proof.finished_at = time.time()
    return proof


def heal(namespace: str, victim: str, *, rollbacks: Rollbacks) -> Proof:
    """Remove the cut ``partition`` made."""
    proof = Proof("heal-partition", [victim], time.time())
    undo = rollbacks.revert(f"partition/{namespace}/{victim}")
    proof.evidence = {"removed": undo.what}
    proof.finished_at = time.time()
    return proof


def _remove(kube: Kube, namespace: str, selector: str, victim: str, direction: str) -> None:
    """Undo from the pod's current container: a restarted container shares
    the pod's network namespace, so its PID reaches the same filter."""
    pod = next((p for p in targets(kube, namespace, selector, None) if p.name == victim), None)
    if pod is None:
        return  # the pod was recreated: its new network namespace has no filter
    pid = container_pid(pod)
    for command in undo_rules(direction):
        try:
            _iptables(pod, pid, *command)
        except InfraError:
            continue  # that part is already gone
