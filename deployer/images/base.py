"""kind's base image, rebuilt without a registry.

kind v0.30's images/base/Dockerfile starts FROM debian:bookworm-slim, installs
packages, copies kind's node files and adds containerd, runc, crictl and CNI
plugins built from source. Here the same tree is assembled on disk: a
debootstrap root filesystem with the same packages, kind's files read from
its pinned module source, the binaries from ``gobuilds``, the Dockerfile's
RUN steps done in a chroot; then ``docker import`` with the Dockerfile's ENV,
STOPSIGNAL and ENTRYPOINT. No FROM, no pull, no BuildKit.

Two changes from kind's image, both for hosts like this project's:
- containerd's sandbox image is the pause version this Kubernetes' kubeadm
  lists (kind keeps an older one it pulls; here only what was built exists);
- ``restrict_oom_score_adj = true``: without CAP_SYS_RESOURCE in the host's
  bounding set nothing may lower an OOM score, and runc in the node would fail
  on every pod kubelet gives a negative score.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deployer import paths, pins
from deployer.images import gobuilds, golang, kindsource, rootfs
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.progress import phase

BASE_REPO = "localhost/chaosgate/kind-base"
RECIPE_VERSION = "1"
"""Bump when the assembly steps below change, so cached images are rebuilt."""

ENTRYPOINT = ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE_TAIL = (
    "ENV container=docker",
    "STOPSIGNAL SIGRTMIN+3",
    "ENTRYPOINT " + json.dumps(ENTRYPOINT),
)
"""The final instructions of kind's base Dockerfile. Docker 20.10's ``import
--change`` rejects STOPSIGNAL, so they are applied by a classic-builder build
FROM the imported tree (a local image: nothing is pulled)."""

SERVICES_ENABLED = ("kubelet.service", "containerd.service", "undo-mount-hacks.service")
SERVICES_MASKED = ("systemd-binfmt.service",)
WANTS_EMPTIED = (
    "lib/systemd/system/multi-user.target.wants",
    "etc/systemd/system/multi-user.target.wants",
    "lib/systemd/system/local-fs.target.wants",
    "lib/systemd/system/basic.target.wants",
)
"""Folders whose contents the Dockerfile deletes so only kind's units start."""

DOCKER_TIMEOUT_S = 1800.0
"""Importing or committing a ~1 GB image on a slow disk."""


def cri_base_spec(oci_spec: Mapping[str, Any]) -> dict[str, Any]:
    """kind's /etc/containerd/cri-base.json from ``ctr oci spec``: add the hook that
    mounts product_uuid/product_name, drop default rlimits (Dockerfile's jq)."""
    spec: dict[str, Any] = json.loads(json.dumps(oci_spec))
    hooks = spec.setdefault("hooks", {})
    hooks.setdefault("createContainer", []).append({"path": "/kind/bin/mount-product-files.sh"})
    spec.get("process", {}).pop("rlimits", None)
    return spec


def patch_containerd_config(text: str, sandbox_image: str, restrict_oom_score_adj: bool = True) -> str:
    """kind's containerd config with our sandbox image and OOM score setting."""
    out, count = re.subn(r'(?m)^(\s*sandbox_image\s*=\s*)"[^"\n]*"', rf'\g<1>"{sandbox_image}"', text)
    if count != 1:
        raise InfraError(f"expected one sandbox_image in kind's containerd config, found {count}")
    value = "true" if restrict_oom_score_adj else "false"
    out, count = re.subn(r"(?m)^(\s*restrict_oom_score_adj\s*=\s*)(true|false)", rf"\g<1>{value}", out)
    if count != 1:
        raise InfraError(f"expected one restrict_oom_score_adj in kind's containerd config, found {count}")
    return out


def file_mode(relative: str) -> int:
    """Modes the Dockerfile's COPY --chmod lines give kind's files."""
    return 0o755 if relative.startswith(("usr/local/bin/", "kind/bin/")) else 0o644


def base_key(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join([RECIPE_VERSION, *parts]).encode()).hexdigest()[:12]


def docker_ready() -> None:
    """Fail early, with the fix, when Docker does not answer."""
    if shutil.which("docker") is None:
        raise BadInputError("docker is not installed; run `python -m deployer host-setup` first")
    try:
        procs.run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=30)
    except InfraError as exc:
        raise BadInputError(f"Docker is not answering ({exc}); start it, e.g. `python -m deployer host-setup`") from exc


def image_exists(ref: str) -> bool:
    try:
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", ref],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except subprocess.CalledProcessError:
        return False
    return True


def build_base_image(sandbox_image: str) -> str:
    """Build (or reuse) the kind base image; returns its reference."""
    docker_ready()
    toolchain = golang.find_go()
    facts = kindsource.node_facts(kindsource.kind_source(toolchain))
    node_tar = rootfs.build_rootfs_tar(rootfs.NODE_ROOTFS)
    built = {c.name: gobuilds.build_component(c) for c in gobuilds.NODE_COMPONENTS}
    key = base_key(
        [
            pins.KIND_VERSION,
            node_tar.name,
            sandbox_image,
            *(c.spec_hash() for c in gobuilds.NODE_COMPONENTS),
        ]
    )
    ref = f"{BASE_REPO}:{pins.KIND_VERSION}-{key}"
    if image_exists(ref):
        return ref
    work_root = paths.cache_dir() / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kind-base-", dir=work_root))
    try:
        tree = work / "tree"
        tree.mkdir()
        with phase(f"assemble kind base image {ref}"):
            procs.run(["tar", "--numeric-owner", "-xpf", node_tar, "-C", tree], timeout=1800)
            install_kind_files(tree, facts, sandbox_image)
            install_binaries(tree, built)
            write_cri_base(tree, built["containerd"]["ctr"])
            run_dockerfile_steps(tree)
            out = work / "base.tar"
            rootfs.tar_tree(tree, out)
        with phase(f"docker import {ref}"):
            import_with_dockerfile_tail(out, ref, work / "context")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ref


def import_with_dockerfile_tail(rootfs_tar: Path, ref: str, context: Path) -> None:
    """``docker import`` the tree, then give it the Dockerfile's last instructions."""
    imported = f"{ref}-rootfs"
    procs.run(["docker", "import", rootfs_tar, imported], timeout=DOCKER_TIMEOUT_S)
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile_tail(imported))
    procs.run(
        ["docker", "build", "--pull=false", "-t", ref, context],
        timeout=DOCKER_TIMEOUT_S,
        env={"DOCKER_BUILDKIT": "0"},
    )
    procs.run(["docker", "rmi", imported], timeout=120)


def dockerfile_tail(from_ref: str) -> str:
    return "\n".join([f"FROM {from_ref}", *DOCKERFILE_TAIL]) + "\n"


def install_kind_files(tree: Path, facts: kindsource.KindNodeFacts, sandbox_image: str) -> None:
    source = facts.base_files
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source).as_posix()
        target = tree / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            target.chmod(0o755)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(path, target)
        target.chmod(file_mode(relative))
    config = tree / "etc" / "containerd" / "config.toml"
    config.write_text(patch_containerd_config(facts.containerd_config, sandbox_image))


def install_binaries(tree: Path, built: Mapping[str, Mapping[str, Path]]) -> None:
    """Where kind's Dockerfile puts each binary."""
    places = {
        "containerd": "usr/local/bin",
        "crictl": "usr/local/bin",
        "runc": "usr/local/sbin",
        "cni-plugins": "opt/cni/bin",
    }
    for component, binaries in built.items():
        folder = tree / places[component]
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in binaries.items():
            target = folder / name
            shutil.copyfile(path, target)
            target.chmod(0o755)


def write_cri_base(tree: Path, ctr: Path) -> None:
    out = procs.run([ctr, "oci", "spec"], timeout=60)
    spec = cri_base_spec(json.loads(out.stdout))
    (tree / "etc" / "containerd" / "cri-base.json").write_text(json.dumps(spec, indent=2) + "\n")


def run_dockerfile_steps(tree: Path) -> None:
    """The RUN lines of kind's base Dockerfile that shape systemd in the node."""
    (tree / "kind" / "bin").chmod(0o755)
    for tmpfiles in (tree / "lib/systemd/system/sysinit.target.wants").glob("systemd-tmpfiles-setup.service"):
        tmpfiles.unlink()
    for relative in WANTS_EMPTIED:
        for entry in (tree / relative).glob("*"):
            entry.unlink()
    for entry in (tree / "etc/systemd/system").glob("*.wants/*"):
        entry.unlink()
    sockets = tree / "lib/systemd/system/sockets.target.wants"
    for pattern in ("*udev*", "*initctl*"):
        for entry in sockets.glob(pattern):
            entry.unlink()
    journald = tree / "etc/systemd/journald.conf"
    journald.write_text(journald.read_text() + "ReadKMsg=no\n")
    init = tree / "sbin" / "init"
    init.unlink(missing_ok=True)
    init.symlink_to("/lib/systemd/systemd")
    procs.run(["chroot", tree, "systemctl", "enable", *SERVICES_ENABLED], timeout=120)
    procs.run(["chroot", tree, "systemctl", "mask", *SERVICES_MASKED], timeout=120)
    (tree / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
