"""Cluster and stack lifecycle for the chaos tier: existing clusters, the
stack in the variant a scenario needs, and the leak audit at the end."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chaos import preflight as preflight_rules
from chaos.clients import Credentials, s3_client
from chaos.kube import connect
from chaos.minio_health import ProbeError, Topology, admin_info
from chaos.settings import Settings
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult
from deployer import access, kind, namespaces, stack
from deployer.kubectl import Kubectl
from deployer.reach import RelayReach
from deployer.target import Target
from deployer.up import Environment, deploy_stack, effective_mode, upgrade_stack
from kernel import procs
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.wait import Deadline, wait_until
from loadtests import runner
from loadtests.incluster import ClusterWorkers
from loadtests.runner import WorkerPool
from scenarios.probes import require_healthy
from scenarios.stack import NotApplicable, Stack

HELPER_NAMESPACE = "chaosgate-helpers"
"""chaosgate's own namespace in the cluster: Locust worker pods and the relay.
Created and labelled by the run, deleted at its end; never a namespace of the
stack under test."""


class Existing:
    """A cluster chaosgate did not create (--cluster existing): only an
    allowlisted context (Settings checked that before anything ran), every
    check made before the first change, and only chaosgate's own objects
    changed or removed. ``check`` reads; ``open`` makes the helper namespace
    and the relay and returns the Environment; ``close`` removes them."""

    def __init__(self, settings: Settings, target: Target, run_id: str) -> None:
        self.settings = settings
        self.target = target
        self.run_id = run_id
        kubeconfig = user_kubeconfig()
        if not kubeconfig.is_file():
            raise BadInputError(f"--cluster existing: kubeconfig {kubeconfig} does not exist (set KUBECONFIG)")
        self.kubeconfig = kubeconfig
        self.kubectl = Kubectl.for_cluster(kubeconfig, settings.kube_context)
        self.kind_name: str | None = None
        self.reach: RelayReach | None = None

    def check(self) -> None:
        """Reachable, permitted, namespaces as the rules say: BadInputError
        (exit 2) naming each problem, and nothing changed."""
        target = self.target
        # Namespace create/delete: for the stack's namespace and for chaosgate's helper namespace.
        makes_namespaces = target.deploy is not None or self.needs_helpers()
        access.require(self.kubectl, [target.namespace, HELPER_NAMESPACE], deploys=makes_namespaces)
        found = namespaces.read(self.kubectl, target.namespace)
        if target.deploy is None and found is None:
            raise BadInputError(
                f"namespace {target.namespace} does not exist in context {self.settings.kube_context}: a target "
                "without deploy is used as deployed; fix namespace: in the target file or deploy the stack first"
            )
        if target.deploy is not None:
            namespaces.decide(found)  # a namespace chaosgate did not make is refused, never adopted
        namespaces.decide(namespaces.read(self.kubectl, HELPER_NAMESPACE), pick=_HELPER_PICK)
        self.kind_name = kind.cluster_of_nodes(self.kubectl.json(["get", "nodes"])["items"])
        if target.deploy is not None and self.kind_name is None:
            raise BadInputError(
                f"target {target.name} has a deploy section, and context {self.settings.kube_context} is not a kind "
                "cluster chaosgate can load images into: deploy the stack with Helm yourself and remove deploy: "
                "from the target file (it is then used as deployed)"
            )
        if self.needs_helpers() and self.kind_name is None and not self.settings.helper_image:
            raise BadInputError(
                f"context {self.settings.kube_context} is not a kind cluster, so chaosgate cannot load its helper "
                "image (relay, Locust workers) into the nodes: push chaosgate/loadgen "
                "(python -m deployer images build) to a registry the cluster pulls from and pass --helper-image "
                "(CHAOSGATE_HELPER_IMAGE), or give every Service a URL in the target file (urls:) and run without "
                "--load-workers"
            )
        if self.settings.load_workers and self.kind_name is None and not self.settings.load_master_host:
            raise BadInputError(
                "--load-workers on a cluster that is not kind needs --load-master-host "
                "(CHAOSGATE_LOAD_MASTER_HOST): an address of this machine the cluster's pods can reach"
            )

    def needs_helpers(self) -> bool:
        """Whether chaosgate runs pods of its own here: the relay (a Service the
        target gives no URL for) or Locust workers."""
        return len(self.target.urls) < len(self.target.services()) or bool(self.settings.load_workers)

    def needs_images(self) -> bool:
        """Whether this run builds or pulls images (Docker needed): the helpers'
        image, the stack's when chaosgate deploys it."""
        return (self.needs_helpers() and not self.settings.helper_image) or self.target.deploy is not None

    def open(self) -> Environment:
        images: dict[str, str] = {}
        nodes: list[str] = []
        if self.kind_name is not None:
            nodes = kind.KindCluster(self.kind_name, node_image="").nodes()
        if self.target.deploy is not None and self.kind_name is not None:
            from deployer.images import stack as stack_images  # noqa: PLC0415 (heavy, only when deploying)

            images = stack_images.ensure_stack_images(self.settings.images, self.settings.pull_source())
            kind.KindCluster(self.kind_name, node_image="").load_images(sorted(set(images.values())))
        urls = dict(self.target.urls)
        missing = {role: ref for role, ref in self.target.services().items() if role not in urls}
        if missing:
            image = helper_image(self.settings, self.kind_name)
            namespaces.claim(self.kubectl, HELPER_NAMESPACE, self.run_id, pick=_HELPER_PICK)
            services = {role: (ref.service, self.target.namespace, ref.port) for role, ref in missing.items()}
            self.reach = RelayReach(self.kubectl, HELPER_NAMESPACE, image, services)
            urls.update(self.reach.open())
        return Environment(
            cluster_name=self.kind_name or self.settings.kube_context,
            kubeconfig=self.kubeconfig,
            context=self.settings.kube_context,
            namespace=self.target.namespace,
            nodes=nodes,
            urls=urls,
            images=images,
            exposes=False,
        )

    def close(self) -> None:
        if self.reach is not None:
            self.reach.close()
            self.reach = None
        if namespaces.owned(self.kubectl, HELPER_NAMESPACE):
            namespaces.release(self.kubectl, HELPER_NAMESPACE, timeout=180)


_HELPER_PICK = f"chaosgate needs namespace {HELPER_NAMESPACE} for its helpers"


def helper_image(settings: Settings, kind_name: str | None) -> str:
    """The image of the relay and the Locust workers: --helper-image as given,
    else built (or on a pulled base) here and loaded into the kind cluster."""
    if settings.helper_image:
        return settings.helper_image
    from deployer.images import loadgen  # noqa: PLC0415 (image builds only where helpers run)

    source = settings.pull_source()
    image = loadgen.ensure(effective_mode(settings.images, source), source)
    if kind_name is not None:
        kind.KindCluster(kind_name, node_image="").load_images([image])
    return image


def _helper_namespace_left(settings: Settings) -> bool:
    return namespaces.read(Kubectl.for_cluster(user_kubeconfig(), settings.kube_context), HELPER_NAMESPACE) is not None


def user_kubeconfig() -> Path:
    """The user's kubeconfig for --cluster existing: KUBECONFIG (one file), else ~/.kube/config."""
    return Path(os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config"))).expanduser()


class StackManager:
    """Deploys the target in the variant each scenario asks for, one at a time.

    Variants share the fixed NodePorts, so switching variants removes the
    previous stack (namespace and volumes) first; scenarios are ordered so
    each variant is installed once."""

    def __init__(self, env: Environment, target: Target, timeline: Timeline, run_dir: Path) -> None:
        self.env = env
        self.target = target
        self.timeline = timeline
        self.run_dir = run_dir
        self.variant: str | None = None
        self.current: Stack | None = None

    def ensure(self, variant: str) -> Stack:
        if variant not in self.target.variants():
            raise NotApplicable(
                f"target {self.target.name} has no variant {variant!r} (it has {', '.join(self.target.variants())})"
            )
        if self.target.deploy is None:
            # Used as deployed: chaosgate only connects (its one variant is the stack as it runs).
            if self.current is None:
                self.variant = variant
                self.current = self._connect(variant)
            require_healthy(self.current)
            return self.current
        if self.variant != variant or self.current is None:
            self.remove()
            with self.timeline.span("phase.stack", variant=variant, target=self.target.name):
                try:
                    deploy_stack(self.env, self.target, variant)
                except InfraError:
                    stack.describe_failure(self.env.kubectl(), self.env.namespace, self.run_dir / f"failed-{variant}")
                    raise
            self.variant = variant
            self.current = self._connect(variant)
        require_healthy(self.current)
        return self.current

    def upgrade_in_place(self, variant: str) -> None:
        """Upgrade the running stack to ``variant`` without reinstalling it (a
        pool expansion under load). The stack is unknown until ``reconnect``:
        the caller finishes the change (MinIO restarts) first."""
        if self.target.deploy is None or self.variant is None:
            raise NotApplicable(f"target {self.target.name} is used as deployed: chaosgate does not upgrade it")
        with self.timeline.span("phase.stack-upgrade", variant=variant, target=self.target.name):
            upgrade_stack(self.env, self.target, variant)
        self.variant = variant
        self.current = None

    def reconnect(self) -> Stack:
        """The stack as it now is (topology read from MinIO again)."""
        if self.variant is None:
            raise InfraError("no stack is deployed")
        self.current = self._connect(self.variant)
        return self.current

    def _connect(self, variant: str) -> Stack:
        user, password = stack.credentials(self.env.kubectl(), self.target)
        credentials = Credentials(user, password)
        shape = read_topology(self.env.urls["minio"], credentials)
        self.timeline.event("stack.topology", variant=variant, topology=str(shape))
        ensure_bucket(self.env.urls["minio"], credentials, self.target.minio.bucket)
        return Stack(
            env=self.env,
            kube=connect(self.env.kubeconfig, self.env.context, granted=self._granted()),
            credentials=credentials,
            variant=variant,
            topology=shape,
            target=self.target,
        )

    def _granted(self) -> frozenset[str]:
        """Faults may act in the target's namespace without chaosgate's label
        only when the target is used as deployed on an existing cluster."""
        if self.target.deploy is None and not self.env.exposes:
            return frozenset({self.target.namespace})
        return frozenset()

    def remove(self) -> None:
        if self.variant is None:
            return
        if self.target.deploy is None:  # never uninstall what chaosgate did not install
            self.variant = None
            self.current = None
            return
        with self.timeline.span("phase.stack-remove", variant=self.variant):
            stack.uninstall(self.env.kubectl(), self.env.helm(), self.target)
        self.variant = None
        self.current = None


def preflight(target: Target, result: ScenarioResult, run_dir: Path) -> None:
    """The target's rendered manifests (default variant) through the
    MinIO-aware static checks: each error a failed check of the row, each
    warning stated; all of them in preflight.json."""
    if target.deploy is None:
        result.not_applicable(f"target {target.name} has no deploy section: there are no manifests to check")
        return
    text, values = stack.render_manifests(target)
    findings = preflight_rules.check(
        preflight_rules.parse_manifests(text), minio_selector=target.minio.selector, values_texts=values
    )
    result.findings = [f.to_dict() for f in findings]
    (run_dir / "preflight.json").write_text(json.dumps(result.findings, indent=2) + "\n")
    # Short reasons for the verdict table; why and fix are in the findings table.
    errors = [f for f in findings if f.severity == "error"]
    for finding in errors:
        result.fail(f"[{finding.check}] {finding.object} {finding.field}")
    result.checks += [f"warning: [{f.check}] {f.object} {f.field}" for f in findings if f.severity != "error"]
    if not errors:
        result.checks.append(f"no finding that loses data or availability in {target.name}'s manifests")


def ensure_bucket(url: str, credentials: Credentials, bucket: str) -> None:
    """The bucket the ledger reads, created when absent (an app may create it
    only on its first write)."""
    client = s3_client(url, credentials)
    try:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
    except Exception as exc:
        raise InfraError(f"could not ensure bucket {bucket} at {url}: {type(exc).__name__}: {exc}") from exc


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


def leak_audit(
    settings: Settings, faults_pending: list[str], *, kind_cluster: bool, existing_cluster: bool = False
) -> dict[str, Any]:
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
        # On a cluster chaosgate did not create: its helper namespace (relay, workers) is gone.
        "helper_namespace_left": existing_cluster and _helper_namespace_left(settings),
    }
    audit["clean"] = not any(audit[key] for key in list(audit))
    return audit


class InClusterLoad:
    """Locust workers as pods (--load-workers): their image built or pulled
    and, on kind, loaded into the nodes; chaosgate's helper namespace made.
    ``workers()`` gives the pool for one load run."""

    def __init__(self, env: Environment, settings: Settings, run_id: str) -> None:
        self.env = env
        self.settings = settings
        self.run_id = run_id
        self.image = ""
        self.master = ""
        self.made_namespace = False

    def setup(self) -> None:
        kubectl = self.env.kubectl()
        kind_name = kind.cluster_of_nodes(kubectl.json(["get", "nodes"])["items"])
        self.master = self.settings.load_master_host or (kind.network_gateway() if kind_name else "")
        if not self.master:
            raise BadInputError(
                "--load-workers on a cluster that is not kind needs --load-master-host "
                "(CHAOSGATE_LOAD_MASTER_HOST): an address of this machine the cluster's pods can reach"
            )
        self.image = helper_image(self.settings, kind_name)
        self.made_namespace = namespaces.claim(
            kubectl, HELPER_NAMESPACE, self.run_id, pick=f"delete namespace {HELPER_NAMESPACE} (not chaosgate's)"
        )

    def workers(self) -> WorkerPool:
        return ClusterWorkers(
            self.env.kubectl(),
            HELPER_NAMESPACE,
            self.image,
            self.settings.load_workers,
            bind=self.master,
            dial=self.master,
        )

    def close(self) -> None:
        # Only a namespace this pool made: on an existing cluster the relay
        # lives there too, and the cluster's own cleanup removes it last.
        if self.made_namespace:
            namespaces.release(self.env.kubectl(), HELPER_NAMESPACE, timeout=180)
