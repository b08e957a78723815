"""A cluster chaosgate did not create (--cluster existing)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer import access, kind, namespaces
from deployer.images.upstream import PullSource
from deployer.kubectl import Kubectl
from deployer.reach import RelayReach
from deployer.target import Target
from deployer.up import Environment, effective_mode
from kernel.errors import BadInputError

HELPER_NAMESPACE = "chaosgate-helpers"
"""chaosgate's own namespace in the cluster: Locust worker pods and the relay.
Created and labelled by the run, deleted at its end; never a namespace of the
stack under test."""


@dataclass(frozen=True)
class ClusterOptions:
    """What a cluster chaosgate did not make, and its helper pods (relay, Locust workers),
    need of the run's settings (chaos.settings.Settings.cluster_options)."""

    kube_context: str
    images: str
    pull: PullSource
    helper_image: str = ""
    load_workers: int = 0
    load_master_host: str = ""


class ExistingProvider:
    """A cluster chaosgate did not create (--cluster existing): only an
    allowlisted context (Settings checked that before anything ran), every
    check made before the first change, and only chaosgate's own objects
    changed or removed. ``check`` reads; ``open`` makes the helper namespace
    and the relay and returns the Environment; ``close`` removes them."""

    name = "existing"

    def __init__(self, settings: ClusterOptions, target: Target, run_id: str) -> None:
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

            images = stack_images.ensure_stack_images(self.settings.images, self.settings.pull)
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


def helper_image(settings: ClusterOptions, kind_name: str | None) -> str:
    """The image of the relay and the Locust workers: --helper-image as given,
    else built (or on a pulled base) here and loaded into the kind cluster."""
    if settings.helper_image:
        return settings.helper_image
    from deployer.images import loadgen  # noqa: PLC0415 (image builds only where helpers run)

    source = settings.pull
    image = loadgen.ensure(effective_mode(settings.images, source), source)
    if kind_name is not None:
        kind.KindCluster(kind_name, node_image="").load_images([image])
    return image


def leftovers(kube_context: str) -> dict[str, Any]:
    """What a run on an existing cluster must not leave there: its helper namespace (relay, workers)."""
    kubectl = Kubectl.for_cluster(user_kubeconfig(), kube_context)
    return {"helper_namespace_left": namespaces.read(kubectl, HELPER_NAMESPACE) is not None}


def user_kubeconfig() -> Path:
    """The user's kubeconfig for --cluster existing: KUBECONFIG (one file), else ~/.kube/config."""
    return Path(os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config"))).expanduser()
