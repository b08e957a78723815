"""The images of the stack under test: MinIO, Prometheus, metrics-server, the gateway.

``ensure_stack_images(mode)`` returns component -> local image reference for
"minio", "prometheus", "metrics-server" and "gateway"; every reference is in
Docker's image store afterwards, ready for ``kind load docker-image``.

- ``build``: from pinned sources, no registry. MinIO, Prometheus and
  metrics-server are Go binaries (the Go module proxy) on a small Debian layer
  (debootstrap) or none, written as archives and loaded (``layered``); the
  gateway is built from app/Dockerfile on a local Python base (``pyapp``).
  Tags are the charts' defaults, so the charts need no overrides.
- ``pull``: upstream images (``stackpins.UPSTREAM``), used under their own
  names; the caller points the charts at them (``--set`` image values).
  The gateway is still built from app/Dockerfile, on the pulled Python base.
- ``auto``: pull when the registries answer (``upstream.registry_reachable``),
  else build; a failed pull falls back to building.

Images are rebuilt only when their inputs change: each carries a content key
label, compared before anything is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from deployer import pins, tools
from deployer.images import archive, base, gobuilds, golang, layered, pyapp, rootfs, stackpins, upstream
from kernel.errors import BadInputError, InfraError
from kernel.progress import phase, say

MODES = ("pull", "build", "auto")

registry_reachable = upstream.registry_reachable
"""Whether ``auto`` would pull (DNS, then HTTPS to each registry, 5 s timeouts)."""

STACK_ROOTFS = rootfs.RootfsSpec(name="stack-base", packages=("ca-certificates", "curl"))
"""Bottom layer of the MinIO and Prometheus images: minbase Debian with CA
certificates and curl (the MinIO chart's helm test curls
/minio/health/cluster with the server image). Docker stores it once for both."""

MINIO_MODULE = "github.com/minio/minio"

MINIO_UID = 1000
"""The MinIO chart runs the server as 1000:1000."""

PROMETHEUS_UID = 65534
"""Debian's nobody, as upstream's image and the monitoring chart use."""

METRICS_SERVER_UID = 1000
"""deployer/metrics_server.py runs it as 1000 with a read-only root and /tmp as emptyDir."""


def pseudo_version_commit(version: str) -> str:
    """The commit of a Go pseudo-version (``v0.0.0-20260212201848-7aac2a2c5b7c``), or ''."""
    match = re.search(r"-\d{14}-([0-9a-f]{12})$", version)
    return match[1] if match else ""


def minio_image(
    ref: str, *, binary: Path, version: str, built_from: str, base_tar: Path, license_file: Path | None
) -> layered.LayeredImage:
    """``minio`` on PATH, curl, CA certificates, user minio (1000) owning /data."""
    passwd, group = layered.add_account(
        layered.read_member(base_tar, "etc/passwd").decode(),
        layered.read_member(base_tar, "etc/group").decode(),
        "minio",
        MINIO_UID,
        "/home/minio",
    )
    entries = [
        archive.executable("/usr/local/bin/minio", binary),
        archive.text_file("/etc/passwd", passwd),
        archive.text_file("/etc/group", group),
    ]
    if license_file:
        entries.append(archive.Entry("/licenses/minio/LICENSE", source=license_file))
    revision = pseudo_version_commit(built_from.rpartition("@")[2])
    return layered.LayeredImage(
        ref=ref,
        lower=[base_tar],
        entries=entries,
        owned=[
            layered.OwnedFolder("/home/minio", MINIO_UID, MINIO_UID, 0o750),
            layered.OwnedFolder("/data", MINIO_UID, MINIO_UID, 0o750),
        ],
        config=archive.ImageConfig(
            entrypoint=["/usr/local/bin/minio"],
            cmd=["server", "/data"],
            user=f"{MINIO_UID}:{MINIO_UID}",
            labels=_labels(version, built_from, revision),
        ),
        created=_minio_created(version),
    )


def _minio_created(version: str) -> str:
    """The source time a MinIO version names (DEVELOPMENT.2026-02-12T20-18-48Z)."""
    match = re.search(r"(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)Z", version)
    return f"{match[1]}T{match[2]}:{match[3]}:{match[4]}Z" if match else "1970-01-01T00:00:00Z"


def prometheus_image(
    ref: str, binaries: dict[str, Path], module_dir: Path, created: str, base_tar: Path
) -> layered.LayeredImage:
    """``prometheus`` and ``promtool`` on PATH, upstream's example config and
    layout: /prometheus owned by nobody, the working folder."""
    entries = [
        archive.executable("/usr/local/bin/prometheus", binaries["prometheus"]),
        archive.executable("/usr/local/bin/promtool", binaries["promtool"]),
        archive.Entry("/etc/prometheus/prometheus.yml", source=module_dir / "documentation/examples/prometheus.yml"),
        archive.Entry("/licenses/prometheus/LICENSE", source=module_dir / "LICENSE"),
        archive.Entry("/licenses/prometheus/NOTICE", source=module_dir / "NOTICE"),
    ]
    component = stackpins.PROMETHEUS
    return layered.LayeredImage(
        ref=ref,
        lower=[base_tar],
        entries=entries,
        owned=[layered.OwnedFolder("/prometheus", PROMETHEUS_UID, PROMETHEUS_UID, 0o775)],
        config=archive.ImageConfig(
            entrypoint=["/usr/local/bin/prometheus"],
            cmd=["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
            user=f"{PROMETHEUS_UID}:{PROMETHEUS_UID}",
            workdir="/prometheus",
            labels=_labels(stackpins.PROMETHEUS_RELEASE, f"{component.module}@{component.version}", ""),
        ),
        created=created,
        extra_key=[component.spec_hash()],
    )


def metrics_server_image(
    ref: str, binary: Path, ca_bundle: bytes, license_file: Path, created: str
) -> layered.LayeredImage:
    """Distroless-like: the static binary, CA certificates, passwd entries and /tmp."""
    uid = METRICS_SERVER_UID
    passwd = (
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"metrics-server:x:{uid}:{uid}:metrics-server:/tmp:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    group = f"root:x:0:\nmetrics-server:x:{uid}:\nnogroup:x:65534:\n"
    component = stackpins.METRICS_SERVER
    return layered.LayeredImage(
        ref=ref,
        lower=[],
        entries=[
            archive.executable("/metrics-server", binary),
            archive.text_file("/etc/passwd", passwd),
            archive.text_file("/etc/group", group),
            archive.Entry("/etc/ssl/certs/ca-certificates.crt", data=ca_bundle),
            archive.Entry("/licenses/metrics-server/LICENSE", source=license_file),
            archive.folder("/tmp", 0o1777),  # noqa: S108 (the image's own /tmp)
        ],
        config=archive.ImageConfig(
            entrypoint=["/metrics-server"],
            user=f"{uid}:{uid}",
            labels=_labels(component.version, f"{component.module}@{component.version}", ""),
        ),
        created=created,
        extra_key=[component.spec_hash()],
    )


def _labels(version: str, built_from: str, revision: str) -> dict[str, str]:
    labels = {layered.VERSION_LABEL: version, layered.BUILT_FROM_LABEL: built_from}
    if revision:
        labels[layered.REVISION_LABEL] = revision
    return labels


def build_minio() -> str:
    ref = stackpins.chart_image(stackpins.CHART_OF["minio"])
    tool = tools.resolve("minio")
    if tool.version == pins.MINIO.version:
        built_from = f"{MINIO_MODULE}@{pins.MINIO_MODULE_VERSION}"
        module = golang.download_module(golang.find_go(), MINIO_MODULE, pins.MINIO_MODULE_VERSION)
        license_file: Path | None = Path(module["Dir"]) / "LICENSE"
    else:
        built_from = f"minio {tool.version} ({tool.source})"
        license_file = None
    tag = stackpins.split_ref(ref)[1]
    if tag != tool.version:
        say(f"{ref}: the chart's tag names {tag}; the binary is {tool.version} ({built_from}), see its labels")
    base_tar = rootfs.build_rootfs_tar(STACK_ROOTFS)
    image = minio_image(
        ref,
        binary=tool.path,
        version=tool.version,
        built_from=built_from,
        base_tar=base_tar,
        license_file=license_file,
    )
    return layered.ensure_image(image)


def build_prometheus() -> str:
    ref = stackpins.chart_image(stackpins.CHART_OF["prometheus"])
    tag = stackpins.split_ref(ref)[1]
    if tag != stackpins.PROMETHEUS_RELEASE:
        raise BadInputError(
            f"charts/monitoring/values.yaml wants Prometheus {tag} but the build is pinned to "
            f"{stackpins.PROMETHEUS_RELEASE} ({stackpins.PROMETHEUS.module}@{stackpins.PROMETHEUS.version}); "
            "change one to match the other (deployer/images/stackpins.py)"
        )
    binaries = gobuilds.build_component(stackpins.PROMETHEUS)
    module = golang.download_module(golang.find_go(), stackpins.PROMETHEUS.module, stackpins.PROMETHEUS.version)
    created = golang.module_time(Path(module["Info"]))
    base_tar = rootfs.build_rootfs_tar(STACK_ROOTFS)
    return layered.ensure_image(prometheus_image(ref, binaries, Path(module["Dir"]), created, base_tar))


def build_metrics_server() -> str:
    component = stackpins.METRICS_SERVER
    binary = gobuilds.build_component(component)["metrics-server"]
    module = golang.download_module(golang.find_go(), component.module, component.version)
    created = golang.module_time(Path(module["Info"]))
    ca_bundle = layered.read_member(rootfs.build_rootfs_tar(STACK_ROOTFS), "etc/ssl/certs/ca-certificates.crt")
    image = metrics_server_image(
        stackpins.METRICS_SERVER_REF, binary, ca_bundle, Path(module["Dir"]) / "LICENSE", created
    )
    return layered.ensure_image(image)


def build_all() -> dict[str, str]:
    """Every stack image from pinned sources."""
    steps: dict[str, Callable[[], str]] = {
        "minio": build_minio,
        "prometheus": build_prometheus,
        "metrics-server": build_metrics_server,
        "gateway": lambda: pyapp.build_gateway(pyapp.build_python_base()),
    }
    return {name: _timed(name, step) for name, step in steps.items()}


def pull_all(source: upstream.PullSource = upstream.UPSTREAM) -> dict[str, str]:
    """Upstream images (under their own names, or the mirror's), and the gateway
    on the pulled base."""
    pulled = upstream.pull(stackpins.UPSTREAM, source)
    images = {name: pulled[name] for name in ("minio", "prometheus", "metrics-server")}
    images["gateway"] = _timed("gateway", lambda: pyapp.build_gateway(pulled["python-base"]))
    return images


def _timed(name: str, step: Callable[[], str]) -> str:
    start = time.monotonic()
    ref = step()
    say(f"{name}: {ref} ({layered.image_size_mb(ref):.0f} MB) ready after {time.monotonic() - start:.0f}s")
    return ref


def ensure_stack_images(mode: str, source: upstream.PullSource = upstream.UPSTREAM) -> dict[str, str]:
    """Make sure every stack image is in Docker's store; returns component ->
    reference for "minio", "prometheus", "metrics-server" and "gateway"."""
    if mode not in MODES:
        raise BadInputError(f"image mode must be one of {', '.join(MODES)}, got {mode!r}")
    base.docker_ready()
    chosen = mode
    if mode == "auto":
        chosen = "pull" if source.reachable() else "build"
        say(f"images: {source.describe()} {'answer' if chosen == 'pull' else 'do not answer'}; using {chosen}")
    with phase(f"stack images ({chosen})"):
        if chosen == "pull":
            try:
                images = pull_all(source)
            except InfraError as exc:
                if mode != "auto":
                    raise
                say(f"pulling failed ({str(exc).splitlines()[0]}); building the images instead")
                images = build_all()
        else:
            images = build_all()
    missing = [name for name in stackpins.COMPONENTS if name not in images]
    if missing:
        raise InfraError(f"no image for {', '.join(missing)}")
    return {name: images[name] for name in stackpins.COMPONENTS}
