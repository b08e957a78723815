"""Pinned sources and image references of the stack under test.

Two ways to get each image: build it here from pinned sources (``stack``,
``pyapp``), or pull the upstream image where a registry answers
(``upstream``). Both sides are listed here so a version bump touches one file
(the MinIO versions come from deployer/pins.py, metrics-server's from gobuilds).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from deployer import pins
from deployer.images import catalog, gobuilds, rootfs
from deployer.paths import SOURCE_ROOT
from kernel.errors import BadInputError

CHARTS = SOURCE_ROOT / "charts"
APP_DIR = SOURCE_ROOT / "app"

COMPONENTS = ("minio", "prometheus", "metrics-server", "gateway")
"""Keys of the mapping ``stack.ensure_stack_images`` returns."""

PROMETHEUS_RELEASE = "v3.5.0"
"""The 3.5 LTS release. Restated as the monitoring chart's default tag and
appVersion; tests/unit/test_pins_restated.py ties them."""


def prometheus_module_version(release: str) -> str:
    """Prometheus' Go module version of a 3.x release: v3.5.0 -> v0.305.0."""
    match = re.fullmatch(r"v3\.(\d+)\.(\d+)", release)
    if not match:
        raise BadInputError(f"{release!r} is not a Prometheus 3.x release tag (v3.MINOR.PATCH)")
    return f"v0.{300 + int(match[1])}.{match[2]}"


PROMETHEUS = gobuilds.GoComponent(
    name="prometheus",
    module="github.com/prometheus/prometheus",
    version=prometheus_module_version(PROMETHEUS_RELEASE),
    binaries={
        "prometheus": "github.com/prometheus/prometheus/cmd/prometheus",
        "promtool": "github.com/prometheus/prometheus/cmd/promtool",
    },
    # .promu.yml's stamps. The proxy's .info for this version has no Origin,
    # so the revision stays empty rather than made up.
    ldflags=(
        "-X=github.com/prometheus/common/version.Version=" + PROMETHEUS_RELEASE.removeprefix("v"),
        "-X=github.com/prometheus/common/version.Revision={commit}",
        "-X=github.com/prometheus/common/version.Branch=HEAD",
        "-X=github.com/prometheus/common/version.BuildUser=chaosgate",
        "-X=github.com/prometheus/common/version.BuildDate={date}",
    ),
    # Upstream builds with netgo,builtinassets. builtinassets needs web/ui's
    # generated embed.go and the compiled React app, which are not in the
    # module (they need npm); without it the API, /-/ready and /metrics work
    # and the web UI pages answer 500 ("Error opening React index.html").
    tags=("netgo",),
)

METRICS_SERVER = gobuilds.METRICS_SERVER
"""The same pin the kind node preloads (gobuilds), so one build serves both."""

METRICS_SERVER_REF = f"chaosgate/metrics-server:{METRICS_SERVER.version}"
"""Not deployed by a chart: deployer/metrics_server.py takes the reference."""

PYTHON_VERSION = "3.11"
"""CPython of the gateway image: Debian's python3 in the suite the local base is
built from (rootfs.DEBIAN_SUITE), and the upstream base image's tag."""

PYTHON_BASE_REF = f"chaosgate/python-base:{PYTHON_VERSION}-{rootfs.DEBIAN_SUITE}"
"""Local stand-in for the upstream python base when no registry answers."""

UPSTREAM: dict[str, str] = {
    "minio": f"quay.io/minio/minio:{pins.MINIO_RELEASE}",
    "prometheus": f"quay.io/prometheus/prometheus:{PROMETHEUS_RELEASE}",
    "metrics-server": catalog.METRICS_SERVER_REF,
    "python-base": f"docker.io/library/python:{PYTHON_VERSION}-slim-{rootfs.DEBIAN_SUITE}",
}
"""What users with registry access pull. MinIO: upstream's last published image
(source-only releases since October 2025). Prometheus' image has promtool in
/bin. The gateway is always built from app/Dockerfile; only its base is pulled
(the Dockerfile's default BASE_IMAGE restates it; a test ties the two)."""

CHART_OF = {"minio": "minio", "prometheus": "monitoring", "gateway": "app"}
"""Chart (folder under charts/) that deploys each component."""


def chart_image(chart: str, charts: Path = CHARTS) -> str:
    """``repository:tag`` of a chart's default ``image`` value."""
    path = charts / chart / "values.yaml"
    try:
        values: Any = yaml.safe_load(path.read_text())
        repository, tag = values["image"]["repository"], values["image"]["tag"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise BadInputError(f"cannot read image.repository/image.tag from {path}: {exc}") from exc
    if not repository or not tag:
        raise BadInputError(f"{path}: image.repository and image.tag must be set")
    return f"{repository}:{tag}"


def split_ref(ref: str) -> tuple[str, str]:
    """``quay.io/minio/minio:RELEASE.x`` -> (``quay.io/minio/minio``, ``RELEASE.x``);
    a port in the registry host is not a tag."""
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag or not name:
        raise BadInputError(f"image reference {ref!r} needs an explicit :tag")
    return name, tag
