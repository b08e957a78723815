"""Pinned versions of every tool chaosgate runs, and how to get each one.

One place to change a version: each version here is written once, and every
other module (the Kubernetes and node image builds, kind's source, the chart
tests, helm's build stamps) imports it. The stack's images are pinned the same
way in deployer/images/stackpins.py, the node's Go components in
deployer/images/gobuilds.py. Where a version must be restated outside Python
(README tables, chart values), tests/unit/test_pins_restated.py fails when the
copies drift.

Each tool pin says how to recognise an acceptable binary already on the
machine, where the official release lives (with its published checksum), and
how to build it from source through the Go module proxy when nothing else
works (air-gapped runners, machines with no access to release hosts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

KUBERNETES_VERSION = "v1.34.4"
"""Kubernetes of the cluster (built node image), the kubectl client and the API
schema the charts are validated against. The newest v1.34 patch the module proxy
serves for k8s.io/kubernetes (v1.34.5+ are not served); 1.34 is the last minor
that runs on cgroup v1 hosts without extra kubelet settings, and kind v0.30
supports it."""

KIND_VERSION = "v0.30.0"
"""v0.30 is the last kind minor known to support cgroup v1 hosts. The node image
chaosgate builds follows this kind's source (deployer/images/kindsource.py)."""

KIND_NODE_IMAGE = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
"""kind v0.30.0's default node image (its pkg/apis/config/defaults/image.go), used
when images are pulled. Its own Kubernetes patch, fixed by that kind release."""

GO_TOOLCHAIN = "go1.26.8"
"""The Go toolchain chaosgate fetches (deployer/gotoolchain.py) when no Go on the
machine is new enough: the one the builds were measured with here. Served by
the Go module proxy as golang.org/toolchain v0.0.1-go1.26.8.linux-amd64."""

GO_TOOLCHAIN_ZIP_SHA256 = "30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7"
"""sha256 of that module zip as the proxy serves it: a proxy cannot hand out
another toolchain under the pinned name."""

GO_MINIMUM = (1, 25, 0)
"""The oldest Go that builds every pinned module (actionlint v1.7.12's go.mod
says go 1.25.0; Kubernetes v1.34.4 and the MinIO source say 1.24.0). An older
Go on PATH (Debian 12 ships 1.19) is passed over for the fetched toolchain."""

HELM_VERSION = "v3.19.0"

MINIO_MODULE_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
"""MinIO moved to source-only releases in October 2025 and the Go module proxy
serves one revision of github.com/minio/minio: the last commit on master.
Builds from source use it. The commit and its time are written only here, in
the pseudo-version; the build stamps below are read from it."""

MINIO_RELEASE = "RELEASE.2025-09-07T16-13-09Z"
"""Pulled binaries and images use the last published release, which is what
users of upstream images run."""


def _pseudo_version(version: str) -> tuple[str, str]:
    """A Go pseudo-version's commit time (RFC 3339) and 12-hex commit:
    ``v0.0.0-20260212201848-7aac2a2c5b7c`` -> (``2026-02-12T20:18:48Z``, ``7aac2a2c5b7c``)."""
    match = re.search(r"[-.](\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)-([0-9a-f]{12})$", version)
    if not match:
        raise ValueError(f"{version!r} is not a Go pseudo-version")
    year, month, day, hour, minute, second, commit = match.groups()
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}Z", commit


MINIO_SOURCE_TIME, MINIO_COMMIT = _pseudo_version(MINIO_MODULE_VERSION)


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


def _same_minor_as(version: str) -> Callable[[str], bool]:
    """A found version is good enough when its major and minor match ``version``."""

    def compatible(found: str) -> bool:
        have, want = _semver(found), _semver(version)
        return have is not None and want is not None and have[:2] == want[:2]

    return compatible


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
    version=KIND_VERSION,
    version_args=("version",),
    parse_version=_first_semver,
    # Node images are tied to kind's minor version; other minors change defaults.
    compatible=_same_minor_as(KIND_VERSION),
    download=Download(
        url=f"https://kind.sigs.k8s.io/dl/{KIND_VERSION}/kind-linux-amd64",
        checksum_url=f"https://kind.sigs.k8s.io/dl/{KIND_VERSION}/kind-linux-amd64.sha256sum",
    ),
    build=GoBuild(package="sigs.k8s.io/kind", version=KIND_VERSION),
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
_KUBE_MAJOR, _KUBE_MINOR, _ = KUBERNETES_VERSION.removeprefix("v").split(".")
HELM = ToolPin(
    name="helm",
    version=HELM_VERSION,
    version_args=("version", "--template", "{{.Version}}"),
    parse_version=_first_semver,
    compatible=_helm_compatible,
    download=Download(
        url=f"https://get.helm.sh/helm-{HELM_VERSION}-linux-amd64.tar.gz",
        checksum_url=f"https://get.helm.sh/helm-{HELM_VERSION}-linux-amd64.tar.gz.sha256sum",
        member="linux-amd64/helm",
    ),
    build=GoBuild(
        package=f"{_HELM}/cmd/helm",
        version=HELM_VERSION,
        # Without these, helm reports "v3.19" and assumes Kubernetes 1.20 for
        # `helm template` capabilities and deprecation lint.
        ldflags=(
            f"-X {_HELM}/internal/version.version={HELM_VERSION}",
            f"-X {_HELM}/internal/version.gitTreeState=clean",
            f"-X {_HELM}/pkg/lint/rules.k8sVersionMajor={_KUBE_MAJOR}",
            f"-X {_HELM}/pkg/lint/rules.k8sVersionMinor={_KUBE_MINOR}",
            f"-X {_HELM}/pkg/chartutil.k8sVersionMajor={_KUBE_MAJOR}",
            f"-X {_HELM}/pkg/chartutil.k8sVersionMinor={_KUBE_MINOR}",
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
            f"-X {_MINIO_CMD}.CommitID={MINIO_COMMIT}",
            f"-X {_MINIO_CMD}.ShortCommitID={MINIO_COMMIT}",
            # MinIO's gen-ldflags.go takes the year of the release time.
            f"-X {_MINIO_CMD}.CopyrightYear={MINIO_SOURCE_TIME[:4]}",
        ),
    ),
)

ACTIONLINT_VERSION = "v1.7.12"
"""The workflow linter `tox -e lint` runs on .github/workflows. Built from source:
its PyPI wrapper downloads the binary from GitHub at install time."""


ACTIONLINT = ToolPin(
    name="actionlint",
    version=ACTIONLINT_VERSION,
    version_args=("-version",),
    parse_version=_first_semver,
    compatible=_same_minor_as(ACTIONLINT_VERSION),
    download=None,
    build=GoBuild(package="github.com/rhysd/actionlint/cmd/actionlint", version=ACTIONLINT_VERSION),
    notes="lint only: checks the GitHub workflows",
)

PINS: dict[str, ToolPin] = {pin.name: pin for pin in (KIND, KUBECTL, HELM, MINIO, ACTIONLINT)}
