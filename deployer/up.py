"""`up`, `down`, `status`: a kind cluster with the stack, from nothing to Ready.

Phases (each timed into ``.chaosgate/<cluster>/timings.json``): images,
cluster, load images, metrics-server, stack. A failure after the cluster was
created deletes it again unless the caller asked to keep it, so a failed `up`
leaves nothing half-deployed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deployer import kind, metrics_server, namespaces, runlock, stack, targetimages
from deployer.images.upstream import UPSTREAM, PullSource
from deployer.kubectl import Helm, Kubectl
from deployer.pins import KIND_NODE_IMAGE
from deployer.target import REFERENCE, Target, load
from kernel import procs
from kernel.errors import BadInputError
from kernel.progress import TIMINGS, Timings, phase, say
from kernel.wait import Deadline, Seen, wait_until

IMAGE_MODES = ("auto", "pull", "build")
MAX_WORKERS = 5  # kind worker nodes that still fit one 2-core machine
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# kind names its node containers <name>-control-plane / <name>-workerN and
# Docker container names and DNS labels stop at 63 characters.
MAX_NAME = 40


@dataclass(frozen=True)
class UpOptions:
    """What `up` (and the chaos tier's cluster fixture) needs; the one place
    where the cluster name, worker count and image mode are checked."""

    cluster_name: str = "chaosgate"
    workers: int = 2
    images: str = "auto"
    # Where pulled images come from (a mirror, another node image); checked when made.
    pull: PullSource = UPSTREAM
    reuse: bool = False
    keep_on_failure: bool = False
    variant: str = "default"
    # The stack to deploy (a target file, checked when loaded); the reference stack by default.
    target: Target = field(default_factory=lambda: load(REFERENCE))

    def __post_init__(self) -> None:
        if not _NAME.match(self.cluster_name) or len(self.cluster_name) > MAX_NAME:
            raise BadInputError(
                f"cluster name {self.cluster_name!r} is not valid: use at most {MAX_NAME} lowercase letters, "
                "digits and '-', starting and ending with a letter or digit"
            )
        if self.images not in IMAGE_MODES:
            raise BadInputError(f"--images must be one of {', '.join(IMAGE_MODES)}, got {self.images!r}")
        if not 0 <= self.workers <= MAX_WORKERS:
            raise BadInputError(f"--workers must be 0..{MAX_WORKERS} on one machine, got {self.workers}")
        if self.variant not in self.target.variants():
            raise BadInputError(
                f"--variant must be one of {', '.join(self.target.variants())} "
                f"(the variants of target {self.target.name}), got {self.variant!r}"
            )


@dataclass
class Environment:
    """What a test or a person needs to reach the deployed stack."""

    cluster_name: str
    kubeconfig: Path
    context: str
    namespace: str
    nodes: list[str]
    urls: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    # kind clusters chaosgate made: NodePort twins of the target's Services on
    # loopback. A cluster it did not create: no NodePorts, namespaces only its own.
    exposes: bool = True
    pull_mirror: str = ""  # --registry-mirror: where a target's `pull:` images come from

    def kubectl(self) -> Kubectl:
        return Kubectl.for_cluster(self.kubeconfig, self.context)

    def helm(self) -> Helm:
        return Helm.for_cluster(self.kubeconfig, self.context)


def host_urls(ports: dict[str, int] | None = None) -> dict[str, str]:
    """The stack's URLs on loopback: a kind cluster's chosen ports, else the NodePorts."""
    return {name: f"http://127.0.0.1:{port}" for name, port in (ports or kind.NODE_PORTS).items()}


def resolve_images(mode: str, source: PullSource = UPSTREAM) -> tuple[str, dict[str, str]]:
    """The node image and the stack's images, pulled (from ``source``) or built as ``mode`` says."""
    from deployer.images import stack as stack_images  # noqa: PLC0415 (heavy, only for `up`)

    effective = effective_mode(mode, source)
    images = stack_images.ensure_stack_images(effective, source)
    if effective == "pull":
        # Pulled here rather than left to kind: the kind provider refuses a node
        # image that is not in the local store, so nothing starts half-made.
        from deployer.images.upstream import pull  # noqa: PLC0415

        name = "kind node"
        return pull({name: source.node_image or KIND_NODE_IMAGE}, source)[name], images
    from deployer.images.nodeimage import build_node_image  # noqa: PLC0415

    return build_node_image().ref, images


def wait_nodes_ready(kubectl: Kubectl, expected: int, timeout: float = 300) -> None:
    def ready() -> Seen:
        nodes = kubectl.json(["get", "nodes"])["items"]
        ready = [
            n["metadata"]["name"]
            for n in nodes
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
        ]
        return Seen(len(ready) == expected, f"{len(ready)}/{expected} nodes Ready")

    with phase(f"wait for {expected} nodes Ready"):
        wait_until(ready, what="every node Ready", timeout=Deadline(timeout), interval=2.0)


def up(opts: UpOptions, timings: Timings = TIMINGS) -> Environment:
    """Cluster and stack, Ready. On failure, deletes the cluster it created."""
    cluster, env = create_cluster(opts, timings)
    try:
        deploy_stack(env, opts.target, opts.variant, timings)
    except BaseException:
        if not opts.keep_on_failure:
            say("up failed: deleting the cluster (keep it with --keep-on-failure)")
            cluster.delete()
        raise
    finally:
        timings.write(cluster.kubeconfig.parent / "timings.json")
    (cluster.kubeconfig.parent / "environment.json").write_text(json.dumps(asdict(env), default=str, indent=2))
    return env


def create_cluster(opts: UpOptions, timings: Timings = TIMINGS) -> tuple[kind.KindCluster, Environment]:
    """Images, the kind cluster, images loaded, metrics-server serving; no stack yet."""
    with phase("images", timings):
        node_image, images = resolve_images(opts.images, opts.pull)
    cluster = kind.KindCluster(opts.cluster_name, node_image, opts.workers)
    created = cluster.create(reuse=opts.reuse)
    try:
        nodes = cluster.nodes()
        env = Environment(
            cluster.name,
            cluster.kubeconfig,
            cluster.context,
            opts.target.namespace,
            nodes,
            host_urls(cluster.host_ports),
            dict(images),
            pull_mirror=opts.pull.mirror,
        )
        kubectl = env.kubectl()
        wait_nodes_ready(kubectl, len(nodes))
        with phase("load images into the nodes", timings):
            cluster.load_images(sorted(set(images.values())))
        with phase("metrics-server", timings):
            metrics_server.install(kubectl, images["metrics-server"])
    except BaseException:
        if created and not opts.keep_on_failure:
            say("cluster setup failed: deleting the cluster it created")
            cluster.delete()
        raise
    return cluster, env


def deploy_stack(env: Environment, target: Target, variant: str, timings: Timings = TIMINGS) -> None:
    """The target's images resolved and in the nodes, its releases installed and Ready."""
    with phase(f"stack {target.name} ({variant})", timings):
        refs = targetimages.resolve(target, env.images, PullSource(mirror=env.pull_mirror))
        missing = targetimages.to_load(refs, env.images)
        if missing and env.nodes:
            kind.KindCluster(env.cluster_name, node_image="").load_images(missing)
        if not env.exposes:
            namespaces.claim(env.kubectl(), target.namespace, env.cluster_name)
        stack.install(env.kubectl(), env.helm(), target, variant, refs, expose=env.exposes)


def upgrade_stack(env: Environment, target: Target, variant: str) -> None:
    """The installed target upgraded to ``variant`` in place (stack.upgrade),
    with the images it needs in the nodes."""
    refs = targetimages.resolve(target, env.images, PullSource(mirror=env.pull_mirror))
    missing = targetimages.to_load(refs, env.images)
    if missing and env.nodes:
        kind.KindCluster(env.cluster_name, node_image="").load_images(missing)
    stack.upgrade(env.helm(), target, variant, refs)


def down(cluster_name: str) -> bool:
    """Delete the cluster if it exists, and what a killed run left: its run
    lock and the Locust processes of runs that no longer exist. Refused while
    a live run holds the cluster. True when something was removed."""
    lock = runlock.acquire(cluster_name)  # BadInputError naming the live run
    try:
        removed = lock.previous is not None
        killed = procs.kill(procs.orphans())
        if killed:
            say(f"stopped {len(killed)} process(es) left by runs that no longer exist: {killed}")
        cluster = kind.KindCluster(cluster_name, node_image="")
        if not cluster.exists():
            say(f"no kind cluster {cluster_name}: nothing to delete")
            return removed or bool(killed)
        cluster.delete()
        return True
    finally:
        lock.release()


def status(cluster_name: str, namespace: str = "chaosgate") -> dict[str, object]:
    cluster = kind.KindCluster(cluster_name, node_image="")
    if not cluster.exists():
        return {"cluster": cluster_name, "exists": False}
    cluster.create(reuse=True)  # only exports the kubeconfig when it exists
    kubectl = Kubectl.for_cluster(cluster.kubeconfig, cluster.context)
    pods = kubectl.json(["get", "pods", "--namespace", namespace])["items"]
    return {
        "cluster": cluster_name,
        "exists": True,
        "kubeconfig": str(cluster.kubeconfig),
        "nodes": cluster.nodes(),
        "stack": str(stack.stack_ready(kubectl, namespace)),
        "pods": {p["metadata"]["name"]: p["status"].get("phase") for p in pods},
        "urls": host_urls(kind.host_ports(cluster_name)),
    }


def effective_mode(mode: str, source: PullSource = UPSTREAM) -> str:
    """``pull`` or ``build``: ``auto`` pulls when every registry of ``source`` answers.
    The one place that decides, for every image chaosgate gets."""
    if mode != "auto":
        return mode
    effective = "pull" if source.reachable() else "build"
    say(f"images: auto -> {effective} ({source.describe()} {'answer' if effective == 'pull' else 'do not answer'})")
    return effective


def prepare_host(images: str, source: PullSource = UPSTREAM) -> list[str]:
    """Docker ready, and the build packages where images will be built. Run
    after every option was checked, so bad input never changes the host."""
    from deployer.hostsetup import host_setup  # noqa: PLC0415 (only kind runs need it)

    return host_setup(builds=effective_mode(images, source) == "build")
