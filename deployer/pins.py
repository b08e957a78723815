"""Pinned versions of every tool chaosgate runs, and how to get each one.

One place to change a version. Each pin says how to recognise an acceptable
binary already on the machine, where the official release lives (with its
published checksum), and how to build it from source through the Go module
proxy when nothing else works (air-gapped runners, machines with no access to
release hosts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Kubernetes version of the cluster, the kubectl client and the API schema the
# charts are validated against. 1.34 is the newest minor that still runs on
# cgroup v1 hosts without extra kubelet flags (see shared notes).
KUBERNETES_VERSION = "v1.34.4"

# MinIO moved to source-only releases in October 2025 and the Go module proxy
# serves one revision of github.com/minio/minio: the last commit on master
# (2026-02-12). Builds from source use it. Pulled binaries and images use the
# last published release, which is what users of upstream images run.
MINIO_MODULE_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
MINIO_SOURCE_TIME = "2026-02-12T20:18:48Z"
MINIO_RELEASE = "RELEASE.2025-09-07T16-13-09Z"


def _semver(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def _minio_date(text: str) -> str | None:
    """MinIO versions are dates: RELEASE.2025-09-07T16-13-09Z, DEVELOPMENT.2026-02-12T20-18-48Z."""
    match = re.search(r"(RELEASE|DEVELOPMENT)\.(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)", text)
    return f"{match[1]}.{match[2]}" if match else None


@dataclass(frozen=True)
class GoBuild:
    """How to build a tool from source with ``go install package@version``."""

    package: str
    version: str
    ldflags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Download:
    """An official release binary and the URL of its published sha256."""

    url: str
    checksum_url: str
    # Path of the binary inside a .tar.gz, or None for a bare binary.
    member: str | None = None


@dataclass(frozen=True)
class ToolPin:
    name: str
    version: str
    # Arguments that make the tool print its version, and how to read it.
    version_args: tuple[str, ...]
    parse_version: Callable[[str], str | None]
    # Whether a version found on PATH (or given explicitly) is good enough.
    compatible: Callable[[str], bool]
    download: Download | None
    build: GoBuild | None
    # Built by deployer.k8sbuild rather than a plain ``go install``.
    kubernetes_binary: bool = False
    notes: str = field(default="", compare=False)


def _kind_compatible(found: str) -> bool:
    # Node images are tied to kind's minor version; other minors change defaults.
    have, want = _semver(found), _semver(KIND.version)
    return have is not None and want is not None and have[:2] == want[:2]


def _kubectl_compatible(found: str) -> bool:
    # kubectl supports one minor version of skew either way.
    have, want = _semver(found), _semver(KUBERNETES_VERSION)
    return have is not None and want is not None and have[0] == want[0] and abs(have[1] - want[1]) <= 1


def _helm_compatible(found: str) -> bool:
    have = _semver(found)
    return have is not None and have[0] == 3 and have[1] >= 14


def _minio_compatible(found: str) -> bool:
    # Any build from 2025 on speaks the admin and health APIs the probes use.
    date = _minio_date(found)
    return date is not None and date.split(".", 1)[1] >= "2025-01-01"


def _kubectl_version(text: str) -> str | None:
    match = re.search(r'"gitVersion":\s*"(v[^"]+)"', text) or re.search(r"Client Version: (v\S+)", text)
    return match[1] if match else None


def _first_semver(text: str) -> str | None:
    match = re.search(r"v\d+\.\d+\.\d+\S*", text)
    return match[0] if match else None


KIND = ToolPin(
    name="kind",
    version="v0.30.0",
    version_args=("version",),
    parse_version=_first_semver,
    compatible=_kind_compatible,
    download=Download(
        url="https://kind.sigs.k8s.io/dl/v0.30.0/kind-linux-amd64",
        checksum_url="https://kind.sigs.k8s.io/dl/v0.30.0/kind-linux-amd64.sha256sum",
    ),
    build=GoBuild(package="sigs.k8s.io/kind", version="v0.30.0"),
    notes="v0.30 is the last kind minor known to support cgroup v1 hosts",
)

KUBECTL = ToolPin(
    name="kubectl",
    version=KUBERNETES_VERSION,
    version_args=("version", "--client", "-o", "json"),
    parse_version=_kubectl_version,
    compatible=_kubectl_compatible,
    download=Download(
        url=f"https://dl.k8s.io/release/{KUBERNETES_VERSION}/bin/linux/amd64/kubectl",
        checksum_url=f"https://dl.k8s.io/release/{KUBERNETES_VERSION}/bin/linux/amd64/kubectl.sha256",
    ),
    build=None,
    kubernetes_binary=True,
)

_HELM = "helm.sh/helm/v3"
HELM = ToolPin(
    name="helm",
    version="v3.19.0",
    version_args=("version", "--template", "{{.Version}}"),
    parse_version=_first_semver,
    compatible=_helm_compatible,
    download=Download(
        url="https://get.helm.sh/helm-v3.19.0-linux-amd64.tar.gz",
        checksum_url="https://get.helm.sh/helm-v3.19.0-linux-amd64.tar.gz.sha256sum",
        member="linux-amd64/helm",
    ),
    build=GoBuild(
        package=f"{_HELM}/cmd/helm",
        version="v3.19.0",
        # Without these, helm reports "v3.19" and assumes Kubernetes 1.20 for
        # `helm template` capabilities and deprecation lint.
        ldflags=(
            f"-X {_HELM}/internal/version.version=v3.19.0",
            f"-X {_HELM}/internal/version.gitTreeState=clean",
            f"-X {_HELM}/pkg/lint/rules.k8sVersionMajor=1",
            f"-X {_HELM}/pkg/lint/rules.k8sVersionMinor=34",
            f"-X {_HELM}/pkg/chartutil.k8sVersionMajor=1",
            f"-X {_HELM}/pkg/chartutil.k8sVersionMinor=34",
        ),
    ),
)

_MINIO_CMD = "github.com/minio/minio/cmd"
_MINIO_TAG = "DEVELOPMENT." + MINIO_SOURCE_TIME.replace(":", "-")
MINIO = ToolPin(
    name="minio",
    # The version a built binary reports; a downloaded one reports MINIO_RELEASE.
    version=_MINIO_TAG,
    version_args=("--version",),
    parse_version=_minio_date,
    compatible=_minio_compatible,
    download=Download(
        url=f"https://dl.min.io/server/minio/release/linux-amd64/archive/minio.{MINIO_RELEASE}",
        checksum_url=f"https://dl.min.io/server/minio/release/linux-amd64/archive/minio.{MINIO_RELEASE}.sha256sum",
    ),
    build=GoBuild(
        package="github.com/minio/minio",
        version=MINIO_MODULE_VERSION,
        # The same stamps MinIO's own Makefile sets; without them the server
        # reports DEVELOPMENT.GOGET and peers cannot compare versions.
        ldflags=(
            f"-X {_MINIO_CMD}.Version={MINIO_SOURCE_TIME}",
            f"-X {_MINIO_CMD}.ReleaseTag={_MINIO_TAG}",
            f"-X {_MINIO_CMD}.CommitID=7aac2a2c5b7c",
            f"-X {_MINIO_CMD}.ShortCommitID=7aac2a2c5b7c",
            f"-X {_MINIO_CMD}.CopyrightYear=2026",
        ),
    ),
)

PINS: dict[str, ToolPin] = {pin.name: pin for pin in (KIND, KUBECTL, HELM, MINIO)}
