"""The pause binary (the pod sandbox), compiled from Kubernetes' own source.

k8s.io/kubernetes ships build/pause/linux/pause.c in its module; the release
image is that file compiled with ``gcc -Os -Wall -Werror -static`` (build/pause/
Makefile). The pause version is that Makefile's TAG, which is also the image
tag kubeadm lists (registry.k8s.io/pause:<TAG>).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from deployer import paths
from deployer.images import golang
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.progress import phase


def pause_tag(makefile_text: str) -> str:
    """``TAG ?= 3.10.1`` in build/pause/Makefile -> ``3.10.1``."""
    match = re.search(r"(?m)^TAG\s*\?=\s*(\S+)\s*$", makefile_text)
    if not match:
        raise InfraError("build/pause/Makefile has no TAG")
    return match[1]


def compile_args(source: Path, out: Path, tag: str, kubernetes_version: str) -> list[str]:
    """The upstream CFLAGS; the VERSION define's suffix names the source release."""
    return [
        "gcc",
        "-Os",
        "-Wall",
        "-Werror",
        "-static",
        f"-DVERSION=v{tag}-{kubernetes_version}",
        "-o",
        str(out),
        str(source),
    ]


def build_pause(kubernetes_source: Path, kubernetes_version: str) -> tuple[Path, str]:
    """Compile pause from the k8s.io/kubernetes module at ``kubernetes_source``;
    returns (binary, tag)."""
    tag = pause_tag((kubernetes_source / "build" / "pause" / "Makefile").read_text())
    out_dir = paths.cache_dir() / "go-builds" / "pause" / f"{tag}-{kubernetes_version}"
    binary = out_dir / "pause"
    if golang.binary_reports_version(binary, ["-v"], f"v{tag}-{kubernetes_version}"):
        return binary, tag
    if shutil.which("gcc") is None:
        raise BadInputError("compiling pause needs gcc and static libc; on Debian: apt-get install gcc libc6-dev")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".pause.tmp"
    source = kubernetes_source / "build" / "pause" / "linux" / "pause.c"
    with phase(f"compile pause {tag}"):
        procs.run(compile_args(source, tmp, tag, kubernetes_version), timeout=300)
    tmp.replace(binary)
    return binary, tag
