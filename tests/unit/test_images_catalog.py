"""The node's preloaded image list: kubeadm's list, pin checks, the plan, the archive."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from deployer.images import archive, catalog, cni, iptables
from kernel.errors import InfraError

# `kubeadm config images list --kubernetes-version v1.34.4`, as printed by kubeadm v1.34.4
KUBEADM_V1_34_4 = """registry.k8s.io/kube-apiserver:v1.34.4
registry.k8s.io/kube-controller-manager:v1.34.4
registry.k8s.io/kube-scheduler:v1.34.4
registry.k8s.io/kube-proxy:v1.34.4
registry.k8s.io/coredns/coredns:v1.12.1
registry.k8s.io/pause:3.10.1
registry.k8s.io/etcd:3.6.5-0
"""

STORAGE = [
    "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a",
    "docker.io/kindest/local-path-helper:v1",
]


def test_parse_image_list() -> None:
    refs = catalog.parse_image_list(KUBEADM_V1_34_4)
    assert refs["coredns"] == "registry.k8s.io/coredns/coredns:v1.12.1"
    assert refs["etcd"] == "registry.k8s.io/etcd:3.6.5-0"
    assert len(refs) == 7


def test_parse_image_list_names_what_is_missing() -> None:
    with pytest.raises(InfraError, match="lacks etcd"):
        catalog.parse_image_list(KUBEADM_V1_34_4.replace("registry.k8s.io/etcd:3.6.5-0\n", ""))


def test_pins_match_kubeadm_v1_34_4() -> None:
    catalog.check_pins(catalog.parse_image_list(KUBEADM_V1_34_4), "v1.34.4", "3.10.1")


def test_pin_mismatch_names_every_wrong_component() -> None:
    newer = KUBEADM_V1_34_4.replace("etcd:3.6.5-0", "etcd:3.6.6-0").replace("coredns:v1.12.1", "coredns:v1.13.0")
    with pytest.raises(InfraError) as info:
        catalog.check_pins(catalog.parse_image_list(newer), "v1.34.4", "3.10.1")
    message = str(info.value)
    assert "etcd: kubeadm wants 3.6.6, chaosgate builds 3.6.5" in message
    assert "coredns: kubeadm wants v1.13.0, chaosgate builds v1.12.1" in message
    assert "kube-apiserver" not in message


def _built(tmp_path: Path) -> catalog.Built:
    def binary(name: str) -> Path:
        path = tmp_path / "bin" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"fake {name}".encode())
        return path

    kube = {n: binary(n) for n in (*catalog.KUBE_IMAGES, "kubectl")}
    return catalog.Built(
        kubernetes_version="v1.34.4",
        kube=kube,
        etcd=binary("etcd"),
        coredns=binary("coredns"),
        pause=binary("pause"),
        local_path_provisioner=binary("local-path-provisioner"),
        metrics_server=binary("metrics-server"),
    )


def test_plan_covers_every_image_a_node_needs(tmp_path: Path) -> None:
    refs = catalog.parse_image_list(KUBEADM_V1_34_4)
    specs = catalog.plan(refs, _built(tmp_path), STORAGE)
    by_ref = {s.ref: s for s in specs}
    assert set(refs.values()) | set(STORAGE) | {cni.image_ref(), catalog.METRICS_SERVER_REF} == set(by_ref)
    assert len(specs) == len(by_ref)
    pause = by_ref["registry.k8s.io/pause:3.10.1"]
    assert not pause.on_rootfs and pause.entrypoint == ["/pause"]
    routes = by_ref[cni.image_ref()]
    assert {cni.SCRIPT_PATH, cni.KUBECTL_PATH, iptables.WRAPPER_PATH} <= {e.path for e in routes.entries}
    proxy = {e.path: e for e in by_ref["registry.k8s.io/kube-proxy:v1.34.4"].entries}
    assert proxy["/etc/alternatives/iptables-restore"].symlink_to == iptables.WRAPPER_PATH
    assert iptables.WRAPPER_PATH not in {e.path for e in by_ref["registry.k8s.io/kube-apiserver:v1.34.4"].entries}
    assert by_ref[STORAGE[1]].entries == [] and by_ref[STORAGE[1]].on_rootfs
    assert by_ref["registry.k8s.io/etcd:3.6.5-0"].source == "go.etcd.io/etcd/server/v3@v3.6.5"


def test_write_images_one_archive_with_a_shared_base(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    archive.write_layer(rootfs, [archive.text_file("/bin/sh", "#!fake\n", mode=0o755)])
    specs = catalog.plan(catalog.parse_image_list(KUBEADM_V1_34_4), _built(tmp_path), STORAGE)
    out = tmp_path / "images.tar"
    refs = catalog.write_images(specs, rootfs, tmp_path / "work", out)
    assert archive.archive_tags(out) == refs
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        layers = [n for n in tar.getnames() if n.endswith("/layer.tar")]
    # one shared base, one layer per image with files; the helper has only the base
    assert len(layers) == 1 + sum(1 for s in specs if s.entries)
    base = archive.sha256_digest(rootfs).removeprefix("sha256:") + "/layer.tar"
    for entry in manifest:
        if entry["RepoTags"] == ["registry.k8s.io/pause:3.10.1"]:
            assert base not in entry["Layers"]
        else:
            assert entry["Layers"][0] == base
