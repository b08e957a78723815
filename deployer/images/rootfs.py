"""Debian root filesystems made with debootstrap, cached as tar files.

kind's base image starts FROM debian:bookworm-slim, which no registry can give
us here; debootstrap builds the same kind of tree from the Debian archive,
which is reachable. The tars serve as the node's root filesystem (``docker
import``) and as the shared bottom layer of the small images preloaded into
the node (kube-proxy needs iptables/nft/conntrack; the local-path helper
needs a shell).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deployer import paths
from kernel import procs
from kernel.errors import BadInputError
from kernel.files import locked
from kernel.progress import phase

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
MIRROR_ENV = "CHAOSGATE_DEBIAN_MIRROR"
"""Debian mirror for debootstrap; the default is Debian's own CDN."""

DEBOOTSTRAP_TIMEOUT_S = 1800.0
"""A minbase tree plus ~40 packages downloads ~150 MB; slow mirrors take minutes."""

REMOVE_AFTER_INSTALL = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "var/cache/debconf",
    "var/log",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "tmp",
    "var/tmp",
)
"""What kind's clean-install removes after installing packages, to keep images small."""


@dataclass(frozen=True)
class RootfsSpec:
    """A Debian tree: suite, debootstrap variant and packages on top."""

    name: str
    packages: Sequence[str]
    suite: str = DEBIAN_SUITE
    variant: str = "minbase"

    def key(self) -> str:
        blob = "\n".join([self.suite, self.variant, *sorted(self.packages)]).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


NODE_ROOTFS = RootfsSpec(
    name="kind-node",
    packages=(
        "systemd",
        "conntrack",
        "iptables",
        "nftables",
        "iproute2",
        "ethtool",
        "util-linux",
        "mount",
        "kmod",
        "libseccomp2",
        "pigz",
        "fuse-overlayfs",
        "nfs-common",
        "open-iscsi",
        "bash",
        "ca-certificates",
        "curl",
        "jq",
        "procps",
    ),
)
"""kind v0.30's base image package list (images/base/Dockerfile)."""

IMAGE_ROOTFS = RootfsSpec(
    name="image-base",
    packages=("iptables", "nftables", "conntrack", "ipset", "iproute2", "kmod", "ca-certificates"),
)
"""Bottom layer of the preloaded images: what kube-proxy's distroless-iptables image
provides, plus a shell for the local-path helper pod."""


def mirror() -> str:
    return os.environ.get(MIRROR_ENV) or DEBIAN_MIRROR


def rootfs_dir() -> Path:
    return paths.cache_dir() / "rootfs"


def build_rootfs_tar(spec: RootfsSpec) -> Path:
    """The tar of ``spec``'s tree (numeric owners, no /dev nodes); built once and
    reused until the spec changes. Needs root and debootstrap."""
    out = rootfs_dir() / f"{spec.name}-{spec.suite}-{spec.key()}.tar"
    if out.is_file():
        return out
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if debootstrap is None:
        raise BadInputError("debootstrap is not installed; on Debian/Ubuntu: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise BadInputError("building a Debian root filesystem with debootstrap needs root; run as root")
    with locked(rootfs_dir() / f".{spec.name}.lock"):
        if out.is_file():
            return out
        work = Path(tempfile.mkdtemp(prefix=f"{spec.name}-", dir=rootfs_dir()))
        try:
            tree = work / "tree"
            with phase(f"debootstrap {spec.name} ({spec.suite}, {len(spec.packages)} packages)"):
                procs.run(
                    [
                        debootstrap,
                        f"--variant={spec.variant}",
                        f"--include={','.join(spec.packages)}",
                        spec.suite,
                        tree,
                        mirror(),
                    ],
                    timeout=DEBOOTSTRAP_TIMEOUT_S,
                )
            clean_tree(tree)
            tar_tree(tree, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return out


def clean_tree(tree: Path) -> None:
    """Empty the folders kind's clean-install empties (keeping the folders)."""
    for relative in REMOVE_AFTER_INSTALL:
        folder = tree / relative
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()


def tar_tree(tree: Path, out: Path) -> None:
    """Tar a tree the way image layers want it: relative names, numeric owners,
    sorted, device nodes and /proc, /sys contents left out (runtimes mount them)."""
    tmp = out.with_name(out.name + ".tmp")
    members = sorted(p.name for p in tree.iterdir())
    procs.run(
        [
            "tar",
            "--numeric-owner",
            "--sort=name",
            "--xattrs",
            "--exclude=./dev/*",
            "--exclude=dev/*",
            "--exclude=proc/*",
            "--exclude=sys/*",
            "-C",
            tree,
            "-cf",
            tmp,
            *members,
        ],
        timeout=1800,
    )
    tmp.replace(out)
