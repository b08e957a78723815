"""A stand-in for a cluster chaosgate did not create: a kind cluster with
metrics-server, and the reference charts installed by hand with Helm into
namespace shop (no chaosgate label, a release the user owns).

    python examples/existing-cluster/standin.py up      # prints KUBECONFIG and the context
    python examples/existing-cluster/standin.py down

On machines without a registry the images come from chaosgate's own builds
(the same ones `tox -e chaos` uses); the stack itself is plain `helm install`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deployer import kind, tools
from deployer.up import UpOptions, create_cluster

NAME = "standin"
NAMESPACE = "shop"
REPO = Path(__file__).resolve().parents[2]


def up() -> None:
    cluster, env = create_cluster(UpOptions(cluster_name=NAME, workers=2, reuse=True))
    images = env.images
    sets = []
    for value, ref in (("minio", images["minio"]), ("app", images["gateway"]), ("monitoring", images["prometheus"])):
        repository, _, tag = ref.rpartition(":")
        sets += ["--set", f"{value}.image.repository={repository}", "--set", f"{value}.image.tag={tag}"]
    helm = str(tools.resolve("helm").path)
    subprocess.run(
        [
            helm, "--kubeconfig", str(cluster.kubeconfig), "--kube-context", cluster.context,
            "upgrade", "--install", "stack", str(REPO / "charts" / "stack"),
            "--namespace", NAMESPACE, "--create-namespace",
            "-f", str(REPO / "charts" / "stack" / "values-kind.yaml"), *sets,
            "--wait", "--timeout", "10m",
        ],
        check=True,
        timeout=900,
    )  # fmt: skip
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    print(f"context: {cluster.context}")


def down() -> None:
    kind.KindCluster(NAME, node_image="").delete()


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1] if len(sys.argv) > 1 else "up"]()
