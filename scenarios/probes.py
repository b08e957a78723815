"""Probes of the stack under test: they only observe (MinIO's admin API asked
server by server, pod readiness, kubectl exec on a server pod) and answer
with what they saw. Faults live in chaos.faults; verdicts in chaos.checkers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

from chaos import faults
from chaos.clients import admin_client, http_pool, s3_client
from chaos.diskfaults import Drive, drive_of
from chaos.minio_health import ProbeError, admin_info, observe_rejoined
from deployer.forward import PodForwards
from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Deadline, Seen, wait_until
from scenarios.stack import NotApplicable, Stack

PEER_VIEW_TIMEOUT_S = 60.0
"""How long a server may take to say who it sees (see peers_view)."""


def rejoined_now(stack: Stack, forwards: PodForwards) -> Seen:
    """Every MinIO pod Ready and every server, asked directly, sees every
    server and drive online and nothing healing."""
    try:
        states = faults.pods(stack.kube, stack.namespace, stack.minio_selector)
    except Exception as exc:  # noqa: BLE001 (an API hiccup is "not seen yet", never "rejoined")
        return Seen(False, f"MinIO pods not listed: {type(exc).__name__}: {exc}", evidence=False)
    ready = sorted(p.name for p in states if p.ready)
    if len(ready) != stack.servers:
        return Seen(False, f"{len(ready)}/{stack.servers} MinIO pods Ready")
    urls = forwards.urls(ready)
    unreachable = [pod for pod, url in urls.items() if url is None]
    if unreachable:
        return Seen(False, f"no port-forward to {unreachable} yet", evidence=False)
    return observe_rejoined(
        [url for url in urls.values() if url],
        stack.credentials,
        expected_servers=stack.servers,
        expected_drives=stack.drives,
    )


def wait_rejoined(stack: Stack, timeout: float) -> None:
    """Until ``rejoined_now`` holds on three polls in a row (a port-forward to
    each pod, not whichever one the Service picks); WaitTimeout otherwise."""
    streak = 0
    with PodForwards(stack.env.kubectl(), stack.namespace, stack.target.minio.pod_port) as forwards:

        def stable() -> Seen:
            nonlocal streak
            seen = rejoined_now(stack, forwards)
            streak = streak + 1 if seen.ok else 0
            return Seen(streak >= 3, str(seen), seen.evidence)

        wait_until(stable, what="MinIO rejoined and healed", timeout=Deadline(timeout), interval=1.0)


@contextmanager
def peers_view(stack: Stack, victim: str) -> Iterator[Callable[[], Seen]]:
    """A predicate: every other MinIO server, asked directly and at the same
    time, reports ``victim`` offline (what a partition must make true). A
    server asked about a peer it cannot reach answers only when its call to
    that peer times out (30 s measured), hence the long read timeout and the
    parallel asks."""
    peers = [p.name for p in faults.pods(stack.kube, stack.namespace, stack.minio_selector) if p.name != victim]
    http = http_pool(read=PEER_VIEW_TIMEOUT_S, maxsize=len(peers) + 1)
    with (
        PodForwards(stack.env.kubectl(), stack.namespace, stack.target.minio.pod_port) as forwards,
        ThreadPoolExecutor(max_workers=max(1, len(peers))) as pool,
    ):

        def view(pod: str, url: str | None) -> str | None:
            """Why ``pod`` does not (yet) report the victim offline; None when it does."""
            if url is None:
                return f"no port-forward to {pod}"
            try:
                info = admin_info(url, stack.credentials, http=http)
            except ProbeError as exc:
                return f"{pod} did not answer: {exc}"
            states = [s for s in info.servers if s.endpoint.startswith(f"{victim}.")]
            if not states:
                return f"{pod} lists no server {victim}"
            return f"{pod} still sees {victim} online" if any(s.online for s in states) else None

        def offline_to_all() -> Seen:
            urls = forwards.urls(peers)
            answers = list(pool.map(lambda pod: view(pod, urls[pod]), peers))
            pending = [a for a in answers if a is not None]
            return Seen(not pending, "; ".join(pending) or f"{len(peers)} peers report {victim} offline")

        yield offline_to_all


def pods_not_ready(stack: Stack, names: list[str]) -> Seen:
    """Kubernetes calls each of these MinIO pods not Ready (or it is gone):
    the moment it takes them out of the Services."""
    try:
        states = {p.name: p for p in faults.pods(stack.kube, stack.namespace, stack.minio_selector)}
    except Exception as exc:  # noqa: BLE001 (an API hiccup is "not seen yet")
        return Seen(False, f"MinIO pods not listed: {type(exc).__name__}: {exc}", evidence=False)
    ready = [name for name in names if name in states and states[name].ready]
    return Seen(not ready, f"still Ready: {ready}")


def statefulset_replicas(stack: Stack, name: str) -> int:
    return int(stack.kube.apps.read_namespaced_stateful_set(name, stack.namespace).spec.replicas or 0)


def beyond_write_quorum(stack: Stack) -> tuple[list[str], int]:
    """The StatefulSets of every pool and how many servers of each to stop
    so that no pool keeps write quorum: one more than the layout's write
    tolerance. Every pool, because MinIO places new objects in any pool
    that can take them: one pool down to no quorum leaves the cluster
    writable. Not applicable when the StatefulSets are not one per pool,
    or a pool cannot lose that many and keep a server."""
    shape = stack.topology
    down = shape.write_tolerance() + 1
    names = list(stack.statefulsets)
    if len(names) != shape.pools:
        raise NotApplicable(
            f"the target names {len(names)} StatefulSet(s) for {shape.pools} pool(s) ({shape}); "
            "this scenario stops servers pool by pool and needs one StatefulSet per pool"
        )
    for name in names:
        replicas = statefulset_replicas(stack, name)
        if down >= replicas:
            raise NotApplicable(
                f"write quorum is lost only with {down} servers down ({shape}); "
                f"StatefulSet {name} has {replicas}, and this scenario keeps at least one"
            )
    return names, down


def hpa_scale_target(stack: Stack) -> tuple[str, str]:
    """The kind and name of what the target's HPA scales."""
    name = stack.need_hpa()
    hpa = stack.kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, stack.namespace)
    ref = hpa.spec.scale_target_ref
    return str(ref.kind), str(ref.name)


def scaled_servers(stack: Stack) -> tuple[int, Seen]:
    """How many server pods the StatefulSets ask for, and whether MinIO knows
    that many servers and sees them online."""
    asked = sum(statefulset_replicas(stack, n) for n in stack.statefulsets)
    try:
        info = admin_info(stack.minio_url, stack.credentials)
    except ProbeError as exc:
        return asked, Seen(False, f"MinIO admin info failed: {exc}", evidence=False)
    known, online = len(info.servers), len(info.servers_online)
    ok = known == asked and online == asked
    return asked, Seen(ok, f"StatefulSets ask for {asked} servers; MinIO knows {known}, {online} online")


def still_stored(stack: Stack, names: list[str]) -> list[str]:
    """Of ``names``, those MinIO still has, read (HEAD) straight from it: a read
    that finds a drive without the object queues its heal. Deleted since, or
    unreadable: left out (the ledger check decides about those)."""
    client = s3_client(stack.minio_url, stack.credentials, http=http_pool(read=10))
    found = []
    for name in names:
        try:
            client.stat_object(stack.bucket, name)
        except Exception:  # noqa: BLE001 (deleted since, or unreadable: the ledger check decides)
            continue
        found.append(name)
    return found


MISSING_SCRIPT = (
    'while read -r n; do for r in "$@"; do [ -f "$r/$BUCKET/$n/xl.meta" ] || { echo "$n"; break; }; done; done'
)


def missing_on(stack: Stack, pod: str, names: list[str]) -> list[str]:
    """Of ``names``, those without xl.meta on some drive of ``pod``, asked on
    the pod itself (one shell loop for all). Empty when the layout does not
    allow the question (more than one erasure set or pool: an object is on one
    set's drives only). InfraError when the pod cannot be asked (no shell)."""
    try:
        info = admin_info(stack.minio_url, stack.credentials)
    except ProbeError:
        return []
    if info.sets_per_pool != (1,):
        return []
    roots = sorted(
        {urlsplit(d.endpoint).path for d in info.drives if (urlsplit(d.endpoint).hostname or "").startswith(f"{pod}.")}
    )
    if not roots:
        return []
    out = stack.env.kubectl().run(
        ["exec", "-i", "-n", stack.namespace, pod, "--", "env", f"BUCKET={stack.bucket}",
         "sh", "-c", MISSING_SCRIPT, "sh", *roots],
        timeout=60,
        input_text="\n".join(names) + "\n",
    )  # fmt: skip
    return [line for line in out.splitlines() if line]


def require_healthy(stack: Stack, timeout: float = 300.0) -> None:
    """Pre-check: a scenario starts only on a fully healthy stack."""
    try:
        wait_until(
            lambda: observe_rejoined(
                [stack.minio_url], stack.credentials, expected_servers=stack.servers, expected_drives=stack.drives
            ),
            what="a healthy MinIO cluster before the scenario",
            timeout=Deadline(timeout),
            interval=2.0,
        )
    except WaitTimeout as exc:
        raise InfraError(f"pre-check failed, the stack is not healthy: {exc}") from exc


def node_drives(stack: Stack) -> tuple[list[Drive], str]:
    """Every MinIO server's drive as a directory on its kind node, and "";
    or no drives and why (a volume that is no node directory, as on a
    cluster chaosgate did not make). Found while the pods run; read later,
    also while they are gone."""
    try:
        pods = faults.pods(stack.kube, stack.namespace, stack.minio_selector)
        return [drive_of(stack.kube, stack.namespace, p.name) for p in pods], ""
    except faults.FaultNotProven as exc:
        return [], str(exc)[:300]


def held_locks(stack: Stack) -> object:
    """MinIO's oldest held locks (``mc admin top locks``), parsed, or why they
    could not be read: evidence when a read waited past its timeout."""
    try:
        raw = admin_client(stack.minio_url, stack.credentials, http=http_pool(read=15)).top_locks()
        return json.loads(raw) if raw.strip() else []
    except Exception as exc:  # noqa: BLE001 (evidence only: urllib3, MinioAdminException and ValueError alike)
        return f"top locks not read: {type(exc).__name__}: {exc}"
