"""The images a kind node preloads, and how each is made from local builds.

The list comes from the same places kind's node image builder reads it:
``kubeadm config images list`` (control plane, etcd, CoreDNS, pause), kind's
storage manifest (local-path provisioner and helper), and the default CNI
(node-routes, standing in for kindnetd). metrics-server is added for the
monitoring stack. All of them are written into one archive so the shared
Debian layer is stored and imported once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deployer.images import archive, cni, gobuilds, iptables
from kernel.errors import InfraError

KUBE_IMAGES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")

METRICS_SERVER_REF = f"registry.k8s.io/metrics-server/metrics-server:{gobuilds.METRICS_SERVER.version}"
"""The name the upstream metrics-server chart uses for this version."""


@dataclass(frozen=True)
class ImageSpec:
    ref: str
    entries: Sequence[archive.Entry]
    entrypoint: Sequence[str] = ()
    on_rootfs: bool = True
    """Put the shared Debian layer (iptables, nft, conntrack, sh, CA certs) under it."""
    user: str = ""
    source: str = ""
    """module@version the binaries were built from (an image label)."""

    @property
    def short_name(self) -> str:
        return self.ref.rsplit("/", 1)[-1].split(":", 1)[0]


def parse_image_list(text: str) -> dict[str, str]:
    """``kubeadm config images list`` output -> short name -> reference
    (``registry.k8s.io/coredns/coredns:v1.12.1`` -> ``coredns``)."""
    refs: dict[str, str] = {}
    for line in text.splitlines():
        ref = line.strip()
        if not ref:
            continue
        archive.check_reference(ref)
        name = ref.rsplit("/", 1)[-1].split(":", 1)[0]
        refs[name] = ref
    missing = {*KUBE_IMAGES, "etcd", "coredns", "pause"} - set(refs)
    if missing:
        raise InfraError(f"kubeadm's image list lacks {', '.join(sorted(missing))}:\n{text}")
    return refs


def tag_of(ref: str) -> str:
    return ref.rsplit(":", 1)[1]


def check_pins(refs: Mapping[str, str], kubernetes_version: str, pause_tag: str) -> None:
    """Fail when kubeadm wants a version other than the one chaosgate builds: a
    node would then try to pull an image that no registry can give it."""
    wanted = {
        **{name: (tag_of(refs[name]), kubernetes_version) for name in KUBE_IMAGES},
        # etcd images are tagged <version>-<image revision>, e.g. 3.6.5-0
        "etcd": (re.sub(r"-\d+$", "", tag_of(refs["etcd"])), gobuilds.ETCD.version.removeprefix("v")),
        "coredns": (tag_of(refs["coredns"]), gobuilds.COREDNS.version),
        "pause": (tag_of(refs["pause"]), pause_tag),
    }
    wrong = [
        f"{name}: kubeadm wants {want}, chaosgate builds {have}"
        for name, (want, have) in wanted.items()
        if want != have
    ]
    if wrong:
        raise InfraError(
            "the pinned component versions do not match Kubernetes "
            f"{kubernetes_version}'s kubeadm; update the pins in deployer/images/gobuilds.py:\n" + "\n".join(wrong)
        )


@dataclass(frozen=True)
class Built:
    """Paths of the binaries the images are made of."""

    kubernetes_version: str
    kube: Mapping[str, Path]
    """kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl."""
    etcd: Path
    coredns: Path
    pause: Path
    local_path_provisioner: Path
    metrics_server: Path


def plan(refs: Mapping[str, str], built: Built, storage_images: Sequence[str]) -> list[ImageSpec]:
    """Every image the node preloads. ``storage_images`` are kind's provisioner and
    helper references (its storage manifest names them)."""
    provisioner_ref, helper_ref = storage_images
    k8s_source = f"k8s.io/kubernetes@{built.kubernetes_version}"

    def component(module: gobuilds.GoComponent) -> str:
        return f"{module.module}@{module.version}"

    specs = [
        ImageSpec(
            refs[name],
            [
                archive.executable(f"/usr/local/bin/{name}", built.kube[name]),
                # kube-proxy programs iptables: use the node's backend
                *(iptables.entries() if name == "kube-proxy" else []),
            ],
            entrypoint=[f"/usr/local/bin/{name}"],
            source=k8s_source,
        )
        for name in KUBE_IMAGES
    ]
    specs += [
        ImageSpec(
            refs["etcd"],
            [archive.executable("/usr/local/bin/etcd", built.etcd)],
            entrypoint=["/usr/local/bin/etcd"],
            source=component(gobuilds.ETCD),
        ),
        ImageSpec(
            refs["coredns"],
            [archive.executable("/coredns", built.coredns)],
            entrypoint=["/coredns"],
            source=component(gobuilds.COREDNS),
        ),
        # pause runs as the nobody user upstream and needs nothing else
        ImageSpec(
            refs["pause"],
            [archive.executable("/pause", built.pause)],
            entrypoint=["/pause"],
            on_rootfs=False,
            user="65535:65535",
            source=f"{k8s_source} build/pause",
        ),
        ImageSpec(
            provisioner_ref,
            [archive.executable("/usr/local/bin/local-path-provisioner", built.local_path_provisioner)],
            entrypoint=["/usr/local/bin/local-path-provisioner"],
            source=component(gobuilds.LOCAL_PATH_PROVISIONER),
        ),
        # the helper pod runs `sh`, `mkdir` and `rm`: the Debian layer has them
        ImageSpec(helper_ref, [], source="debian"),
        ImageSpec(
            cni.image_ref(),
            [
                *cni.image_entries(),
                *iptables.entries(),
                archive.executable(cni.KUBECTL_PATH, built.kube["kubectl"]),
            ],
            entrypoint=[cni.SCRIPT_PATH],
            source=k8s_source,
        ),
        ImageSpec(
            METRICS_SERVER_REF,
            [archive.executable("/metrics-server", built.metrics_server)],
            entrypoint=["/metrics-server"],
            source=component(gobuilds.METRICS_SERVER),
        ),
    ]
    return specs


def write_images(specs: Sequence[ImageSpec], rootfs_layer: Path, work: Path, out: Path) -> list[str]:
    """Write all ``specs`` into one archive at ``out``; returns the references."""
    images: list[archive.ArchiveImage] = []
    for spec in specs:
        layers = [rootfs_layer] if spec.on_rootfs else []
        if spec.entries:
            layer = work / f"{spec.short_name}.layer.tar"
            archive.write_layer(layer, spec.entries)
            layers.append(layer)
        if not layers:
            raise InfraError(f"image {spec.ref} would be empty")
        config = archive.ImageConfig(
            entrypoint=spec.entrypoint,
            user=spec.user,
            labels={
                "org.opencontainers.image.version": tag_of(spec.ref),
                "dev.chaosgate.built-from": spec.source,
            },
        )
        images.append(archive.ArchiveImage([spec.ref], layers, config))
    archive.write_multi_archive(out, images)
    return [spec.ref for spec in specs]
