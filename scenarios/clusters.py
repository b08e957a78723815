"""Cluster and stack lifecycle for the chaos tier: existing clusters, the
stack in the variant a scenario needs, and the leak audit at the end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from chaos.clients import Credentials
from chaos.kube import connect
from chaos.minio_health import ProbeError, Topology, admin_info
from chaos.settings import Settings
from chaos.timeline import Timeline
from deployer import kind, stack
from deployer.up import Environment, deploy_stack, host_urls
from kernel import procs
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.wait import Deadline, wait_until
from loadtests import runner
from scenarios.harness import Stack, require_healthy


def existing(settings: Settings) -> Environment:
    """An existing cluster: the user's kubeconfig, only an allowed context
    (Settings checked that), and the stack's NodePorts reached through
    ``CHAOSGATE_MINIO_URL`` / ``CHAOSGATE_GATEWAY_URL`` or loopback."""
    kubeconfig = Path(os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config"))).expanduser()
    if not kubeconfig.is_file():
        raise BadInputError(f"--cluster existing: kubeconfig {kubeconfig} does not exist (set KUBECONFIG)")
    urls = host_urls()
    urls["minio"] = os.environ.get("CHAOSGATE_MINIO_URL", urls["minio"])
    urls["gateway"] = os.environ.get("CHAOSGATE_GATEWAY_URL", urls["gateway"])
    return Environment(
        cluster_name=settings.kube_context,
        kubeconfig=kubeconfig,
        context=settings.kube_context,
        namespace="chaosgate",
        nodes=[],
        urls=urls,
        images={},
    )


class StackManager:
    """Deploys the stack variant each scenario asks for, one at a time.

    Variants share the fixed NodePorts, so switching variants removes the
    previous stack (namespace and volumes) first; scenarios are ordered so
    each variant is installed once."""

    def __init__(self, env: Environment, timeline: Timeline, run_dir: Path) -> None:
        self.env = env
        self.timeline = timeline
        self.run_dir = run_dir
        self.variant: str | None = None
        self.current: Stack | None = None

    def ensure(self, variant: str) -> Stack:
        if variant not in stack.VARIANTS:
            raise BadInputError(f"unknown stack variant {variant!r}; known: {', '.join(stack.VARIANTS)}")
        if self.variant != variant or self.current is None:
            self.remove()
            with self.timeline.span("phase.stack", variant=variant):
                try:
                    deploy_stack(self.env, variant)
                except InfraError:
                    stack.describe_failure(self.env.kubectl(), self.env.namespace, self.run_dir / f"failed-{variant}")
                    raise
            self.variant = variant
            self.current = self._connect(variant)
        require_healthy(self.current)
        return self.current

    def _connect(self, variant: str) -> Stack:
        user, password = stack.credentials(self.env.kubectl(), self.env.namespace)
        credentials = Credentials(user, password)
        shape = read_topology(self.env.urls["minio"], credentials)
        self.timeline.event("stack.topology", variant=variant, topology=str(shape))
        return Stack(
            env=self.env,
            kube=connect(self.env.kubeconfig, self.env.context),
            credentials=credentials,
            variant=variant,
            topology=shape,
        )

    def remove(self) -> None:
        if self.variant is None:
            return
        with self.timeline.span("phase.stack-remove", variant=self.variant):
            stack.uninstall(self.env.kubectl(), self.env.helm(), stack.StackSpec(namespace=self.env.namespace))
        self.variant = None
        self.current = None


def read_topology(url: str, credentials: Credentials, timeout: float = 120.0) -> Topology:
    """The stack's shape from MinIO's own admin info, not from what the charts say."""
    try:
        info = wait_until(
            lambda: admin_info(url, credentials),
            what=f"MinIO admin info from {url}",
            timeout=Deadline(timeout),
            interval=2.0,
            tolerate=(ProbeError,),
        )
    except WaitTimeout as exc:
        raise InfraError(f"could not read the stack's topology: {exc}") from exc
    shape = info.topology
    if shape.servers == 0 or shape.drives == 0:
        raise InfraError(f"MinIO at {url} reports no erasure layout ({shape}); is it running in distributed mode?")
    return shape


def leak_audit(settings: Settings, faults_pending: list[str], *, kind_cluster: bool) -> dict[str, Any]:
    """What a run must not leave behind: Locust processes (of this run, or of
    any run that no longer exists), stopped nodes, the cluster and its node
    containers (unless kept). The cluster part only for a run that began
    making a kind cluster."""
    is_kind = kind_cluster and settings.cluster == "kind"
    leftovers = kind.leftover_clusters() if is_kind else []
    containers = kind.node_containers(settings.cluster_name) if is_kind else {}
    mine = os.getpid()
    audit: dict[str, Any] = {
        "locust_running": sum(1 for r in runner.RUNNING if r.running())
        + sum(1 for owner in procs.owned_processes().values() if owner == mine),
        "locust_orphans": len(procs.orphans()),
        "faults_not_reverted": faults_pending,
        "nodes_left_stopped": sorted(n for n, up in containers.items() if not up),
        "cluster_left": settings.cluster_name in leftovers and not settings.keep_cluster,
        "node_containers_left": sorted(containers) if not settings.keep_cluster else [],
    }
    audit["clean"] = not any(audit[key] for key in list(audit))
    return audit
