"""The kind node image, assembled the way ``kind build node-image`` does it,
but from local builds only.

kind's builder (pkg/build/nodeimage/buildcontext.go) starts the base image,
copies kubeadm, kubelet and kubectl to /usr/bin, writes /kind/version and the
default CNI and storage manifests, starts containerd inside and imports the
preloaded images, then ``docker commit``s with kind's entrypoint. It pulls
every required image it was not handed as a tar, and reads tars only for the
four kube-* images, so offline it cannot be used as is. This module runs the
same steps and imports one archive holding every image (``catalog``).

``kind create cluster --image <ref>`` uses a node image that is present
locally without pulling, so the result is all kind needs.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from deployer import k8sbuild, paths, pins
from deployer.images import archive, base, catalog, cni, gobuilds, golang, kindsource, pause, rootfs
from kernel import procs
from kernel.errors import InfraError
from kernel.files import locked
from kernel.progress import phase, say

NODE_REPO = "localhost/chaosgate/kind-node"
RECIPE_VERSION = "1"
"""Bump when the assembly steps change, so cached node images are rebuilt."""

NODE_BINARIES = ("kubeadm", "kubelet", "kubectl")
"""Copied to /usr/bin in the node (kind's kubelet unit expects /usr/bin/kubelet)."""

IMAGES_IN_NODE = "/kind/images.tar"
"""Where the archive is copied for import; removed before the commit."""

CONTAINERD_READY = """set -e
nohup containerd > /var/log/containerd-build.log 2>&1 &
for i in $(seq 1 60); do
  [ -S /run/containerd/containerd.sock ] && ctr version > /dev/null 2>&1 && exit 0
  sleep 1
done
echo "containerd did not start:" >&2
tail -n 20 /var/log/containerd-build.log >&2
exit 1
"""
"""Start containerd in the build container and wait up to a minute for its socket
(kind's imageimporter does the same)."""

CONTAINERD_STOP = """pkill -x containerd || true
for i in $(seq 1 30); do
  ps -C containerd -o stat= | grep -qv '^Z' || exit 0
  sleep 1
done
echo "containerd did not stop" >&2
exit 1
"""
"""Stop containerd so its database is closed before the commit. The build
container's PID 1 is ``sleep``, which never reaps, so the stopped daemon stays
a zombie: only live processes count."""


@dataclass(frozen=True)
class NodeImage:
    ref: str
    alias: str
    kubernetes_version: str
    preloaded: tuple[str, ...]


def build_node_image(kubernetes_version: str = pins.KUBERNETES_VERSION) -> NodeImage:
    """Build (or reuse) the node image for ``kubernetes_version``.

    Builds whatever is missing first: Kubernetes binaries, etcd, CoreDNS,
    pause, local-path-provisioner, metrics-server, the root filesystems and the
    base image. Every step is cached, so a second call only checks."""
    base.docker_ready()
    kube = k8sbuild.build_kubernetes([*NODE_BINARIES, *catalog.KUBE_IMAGES], kubernetes_version)
    toolchain = golang.find_go()
    k8s_source = Path(golang.download_module(toolchain, "k8s.io/kubernetes", kubernetes_version)["Dir"])
    pause_binary, pause_tag = pause.build_pause(k8s_source, kubernetes_version)
    listed = procs.run(
        [kube["kubeadm"], "config", "images", "list", "--kubernetes-version", kubernetes_version], timeout=60
    )
    refs = catalog.parse_image_list(listed.stdout)
    catalog.check_pins(refs, kubernetes_version, pause_tag)
    components = {c.name: gobuilds.build_component(c) for c in gobuilds.IMAGE_COMPONENTS}
    facts = kindsource.node_facts(kindsource.kind_source(toolchain))
    base_ref = base.build_base_image(sandbox_image=refs["pause"])
    image_rootfs = rootfs.build_rootfs_tar(rootfs.IMAGE_ROOTFS)
    built = catalog.Built(
        kubernetes_version=kubernetes_version,
        kube=kube,
        etcd=components["etcd"]["etcd"],
        coredns=components["coredns"]["coredns"],
        pause=pause_binary,
        local_path_provisioner=components["local-path-provisioner"]["local-path-provisioner"],
        metrics_server=components["metrics-server"]["metrics-server"],
    )
    specs = catalog.plan(refs, built, [facts.storage_provisioner_image, facts.storage_helper_image])
    out_dir = paths.cache_dir() / "images" / kubernetes_version
    # One run at a time from here: the preloaded archive is rewritten in place,
    # and two runs (different cluster names) may resolve images together.
    with locked(out_dir / ".node-image.lock"):
        return _assemble_cached(
            specs=specs,
            image_rootfs=image_rootfs,
            out_dir=out_dir,
            kube=kube,
            kubernetes_version=kubernetes_version,
            base_ref=base_ref,
            facts=facts,
        )


def _assemble_cached(
    *,
    specs: list[catalog.ImageSpec],
    image_rootfs: Path,
    out_dir: Path,
    kube: dict[str, Path],
    kubernetes_version: str,
    base_ref: str,
    facts: kindsource.KindNodeFacts,
) -> NodeImage:
    images_tar = out_dir / "preloaded.tar"
    with phase(f"write {len(specs)} preloaded images"), tempfile.TemporaryDirectory(dir=paths.cache_dir()) as tmp:
        preloaded = catalog.write_images(specs, image_rootfs, Path(tmp), images_tar)
    cni_manifest = cni.manifest()
    key = node_key(
        base_ref,
        archive.sha256_digest(images_tar),
        *(archive.sha256_digest(kube[name]) for name in NODE_BINARIES),
        cni_manifest,
        facts.storage_manifest,
    )
    ref = f"{NODE_REPO}:{kubernetes_version}-{key}"
    alias = f"{NODE_REPO}:{kubernetes_version}"
    if not base.image_exists(ref):
        with phase(f"assemble node image {ref}"):
            assemble(
                base_ref=base_ref,
                ref=ref,
                kube={name: kube[name] for name in NODE_BINARIES},
                kubernetes_version=kubernetes_version,
                files={
                    "/kind/manifests/default-cni.yaml": cni_manifest,
                    "/kind/manifests/default-storage.yaml": facts.storage_manifest,
                },
                images_tar=images_tar,
                expected=preloaded,
            )
    procs.run(["docker", "tag", ref, alias], timeout=60)
    say(f"node image {ref} (also {alias}) preloads {len(preloaded)} images")
    return NodeImage(ref, alias, kubernetes_version, tuple(preloaded))


def node_key(*parts: str) -> str:
    return hashlib.sha256("\n".join([RECIPE_VERSION, *parts]).encode()).hexdigest()[:12]


def assemble(
    *,
    base_ref: str,
    ref: str,
    kube: dict[str, Path],
    kubernetes_version: str,
    files: dict[str, str],
    images_tar: Path,
    expected: list[str],
) -> None:
    """kind's buildImage steps against ``base_ref``, committed as ``ref``."""
    name = f"chaosgate-node-build-{int(time.time())}"
    procs.run(
        [
            "docker",
            "run",
            "-d",
            "--entrypoint=sleep",
            f"--name={name}",
            "--security-opt",
            "seccomp=unconfined",
            base_ref,
            "infinity",
        ],
        timeout=300,
    )
    try:
        for binary, path in kube.items():
            procs.run(["docker", "cp", path, f"{name}:/usr/bin/{binary}"], timeout=300)
            docker_exec(name, "chmod", "+x", f"/usr/bin/{binary}")
            docker_exec(name, "chown", "root:root", f"/usr/bin/{binary}")
        with tempfile.TemporaryDirectory() as tmp:
            for target, text in {"/kind/version": kubernetes_version, **files}.items():
                local = Path(tmp) / Path(target).name
                local.write_text(text)
                docker_exec(name, "mkdir", "-p", str(Path(target).parent))
                procs.run(["docker", "cp", local, f"{name}:{target}"], timeout=60)
        procs.run(["docker", "cp", images_tar, f"{name}:{IMAGES_IN_NODE}"], timeout=1800)
        docker_exec(name, "bash", "-c", CONTAINERD_READY, timeout=120)
        docker_exec(
            name,
            "ctr",
            "--namespace=k8s.io",
            "images",
            "import",
            "--label=io.cri-containerd.pinned=pinned",
            "--all-platforms",
            "--no-unpack",
            "--digests",
            IMAGES_IN_NODE,
            timeout=1800,
        )
        listed = docker_exec(name, "ctr", "--namespace=k8s.io", "images", "list", "-q").stdout.split()
        missing = sorted(set(expected) - set(listed))
        if missing:
            raise InfraError(f"containerd in the node did not list {', '.join(missing)} after import")
        docker_exec(name, "bash", "-c", CONTAINERD_STOP, timeout=60)
        docker_exec(name, "rm", "-f", IMAGES_IN_NODE, "/var/log/containerd-build.log")
        procs.run(
            [
                "docker",
                "commit",
                "--change",
                'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
                "--change",
                'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""',
                name,
                ref,
            ],
            timeout=base.DOCKER_TIMEOUT_S,
        )
    finally:
        procs.run(["docker", "rm", "-f", "-v", name], timeout=300)


def docker_exec(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return procs.run(["docker", "exec", name, *args], timeout=timeout)
