"""A kind cluster chaosgate creates for the run (--cluster kind, the default)."""

from __future__ import annotations

from typing import Any

from deployer import kind
from deployer.up import Environment, UpOptions, create_cluster, prepare_host


class KindProvider:
    """Creates the cluster (idempotently, kubeconfig in a project-local
    folder), and deletes it at the end unless kept."""

    name = "kind"

    def __init__(self, options: UpOptions, *, keep: bool) -> None:
        self.options = options
        self.keep = keep
        self.cluster: kind.KindCluster | None = None

    def check(self) -> None:
        """Nothing to read before the run: the options were checked when made."""

    def needs_images(self) -> bool:
        return True

    def prepare_host(self) -> None:
        prepare_host(self.options.images, self.options.pull)

    def open(self) -> Environment:
        self.cluster, env = create_cluster(self.options)
        return env

    def close(self) -> None:
        if self.cluster is None:
            return
        if self.keep:
            print(f"\nkeeping kind cluster {self.cluster.name}; kubeconfig {self.cluster.kubeconfig}")
        else:
            self.cluster.delete()


def leftovers(cluster_name: str, *, keep: bool) -> dict[str, Any]:
    """What a run that began making a kind cluster must not leave: stopped
    nodes, the cluster and its node containers (unless kept)."""
    containers = kind.node_containers(cluster_name)
    return {
        "nodes_left_stopped": sorted(n for n, up in containers.items() if not up),
        "cluster_left": cluster_name in kind.leftover_clusters() and not keep,
        "node_containers_left": sorted(containers) if not keep else [],
    }
