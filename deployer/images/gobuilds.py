"""Pinned Go components of a kind node, built from the Go module proxy.

Each component is built in a wrapper module generated in the cache (see
``golang``): it requires the upstream module at the pinned version, keeps the
upstream replaces (local sibling folders become the published siblings at the
same version) and excludes, and lists the binaries as tools so ``go mod tidy``
resolves exactly what they need. That works for modules with replace
directives, which ``go install module@version`` refuses.

Version stamps follow each project's own release build (Makefile or build
script) so ``--version`` says what was built. Where the proxy records the
commit a tag points at (``Origin.Hash`` in the .info), it is stamped too.

Layout: ``cache_dir()/go-builds/<name>/<version>/{module,bin}``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deployer import paths
from deployer.images import golang
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.files import locked
from kernel.progress import phase

WRAPPER_PREFIX = "chaosgate.invalid/build/"


@dataclass(frozen=True)
class GoComponent:
    """One upstream module at a pinned version and the binaries built from it."""

    name: str
    module: str
    version: str
    binaries: Mapping[str, str]
    """Output name -> package path (a ``main`` package inside ``module``)."""
    ldflags: Sequence[str] = ()
    """Templates; fields: {version} (v1.2.3), {version_bare} (1.2.3), {commit},
    {short_commit} (7 hex, like ``git rev-parse --short``), {date} (tag time)."""
    tags: Sequence[str] = ()
    sibling_prefix: str = ""
    """Upstream replaces whose local target starts with this are sibling modules
    of the same repository and tag: they become ``module => module <version>``.
    Other local replaces (guards like etcd's ./FORBIDDEN_DEPENDENCY) are dropped."""
    commit_module: str = ""
    """Module whose proxy .info names the commit of the tag (``Origin.Hash``);
    empty or missing -> the commit stamp stays empty rather than made up."""
    cgo_pkgconfig: Sequence[str] = ()
    """Non-empty: build with cgo; each pkg-config name must be installed."""
    debian_dev_packages: Sequence[str] = field(default_factory=tuple)
    """Debian packages that provide ``cgo_pkgconfig`` (named in the error)."""

    def spec_hash(self) -> str:
        """Changes whenever anything that shapes the binaries changes."""
        blob = json.dumps(asdict(self), sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


ETCD = GoComponent(
    name="etcd",
    module="go.etcd.io/etcd/server/v3",
    version="v3.6.5",
    binaries={"etcd": "go.etcd.io/etcd/server/v3"},
    ldflags=("-X=go.etcd.io/etcd/api/v3/version.GitSHA={short_commit}",),
    sibling_prefix="../",
    commit_module="go.etcd.io/etcd/v3",
)
"""kubeadm v1.34 deploys etcd 3.6.5-0 (cmd/kubeadm/app/constants: DefaultEtcdVersion)."""

COREDNS = GoComponent(
    name="coredns",
    module="github.com/coredns/coredns",
    version="v1.12.1",
    binaries={"coredns": "github.com/coredns/coredns"},
    ldflags=("-X=github.com/coredns/coredns/coremain.GitCommit={short_commit}",),
    commit_module="github.com/coredns/coredns",
)
"""kubeadm v1.34 deploys CoreDNS v1.12.1 (constants.CoreDNSVersion). The proxy serves
it although ``go list -m -versions`` lists only v1.14.3 and later."""

LOCAL_PATH_PROVISIONER = GoComponent(
    name="local-path-provisioner",
    module="github.com/rancher/local-path-provisioner",
    version="v0.0.30",
    binaries={"local-path-provisioner": "github.com/rancher/local-path-provisioner"},
    ldflags=("-X=main.VERSION={version}",),
)
"""The version kind v0.30 packages as kindest/local-path-provisioner
(images/local-path-provisioner/Makefile)."""

METRICS_SERVER = GoComponent(
    name="metrics-server",
    module="sigs.k8s.io/metrics-server",
    version="v0.8.0",
    binaries={"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
    ldflags=(
        "-X=sigs.k8s.io/metrics-server/pkg/version.gitVersion={version}",
        "-X=sigs.k8s.io/metrics-server/pkg/version.gitCommit={commit}",
        "-X=sigs.k8s.io/metrics-server/pkg/version.buildDate={date}",
    ),
)
"""Newest metrics-server the proxy serves for Kubernetes 1.34 (v0.8.0, built against
client-go 0.33); v0.9.0 is served as well."""

CONTAINERD = GoComponent(
    name="containerd",
    module="github.com/containerd/containerd/v2",
    version="v2.1.4",
    binaries={
        "containerd": "github.com/containerd/containerd/v2/cmd/containerd",
        "ctr": "github.com/containerd/containerd/v2/cmd/ctr",
        "containerd-shim-runc-v2": "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
    },
    ldflags=(
        "-X=github.com/containerd/containerd/v2/version.Version={version}",
        "-X=github.com/containerd/containerd/v2/version.Revision={commit}",
        "-X=github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2",
    ),
    tags=("urfave_cli_no_docs", "no_aufs", "no_zfs", "no_btrfs", "no_devmapper"),
)
"""The containerd kind v0.30's base image ships (images/base/Dockerfile), with its
build tags; static, as containerd's own static release build."""

RUNC = GoComponent(
    name="runc",
    module="github.com/opencontainers/runc",
    version="v1.3.0",
    binaries={"runc": "github.com/opencontainers/runc"},
    ldflags=("-X=main.gitCommit={commit}", "-X=main.version={version_bare}"),
    tags=("seccomp", "urfave_cli_no_docs"),
    cgo_pkgconfig=("libseccomp",),
    debian_dev_packages=("gcc", "libc6-dev", "pkg-config", "libseccomp-dev"),
)
"""kind v0.30's runc. runc needs cgo (nsenter is C) and libseccomp; it links
against the libseccomp2 the Debian base image has."""

CRICTL = GoComponent(
    name="crictl",
    module="sigs.k8s.io/cri-tools",
    version="v1.34.0",
    binaries={"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"},
    ldflags=("-X=sigs.k8s.io/cri-tools/pkg/version.Version={version}",),
)
"""kind v0.30 ships v1.33.0, which the proxy does not serve; v1.34.0 matches the
Kubernetes minor."""

CNI_PLUGINS = GoComponent(
    name="cni-plugins",
    module="github.com/containernetworking/plugins",
    version="v1.7.1",
    binaries={
        "host-local": "github.com/containernetworking/plugins/plugins/ipam/host-local",
        "loopback": "github.com/containernetworking/plugins/plugins/main/loopback",
        "ptp": "github.com/containernetworking/plugins/plugins/main/ptp",
        "portmap": "github.com/containernetworking/plugins/plugins/meta/portmap",
    },
    ldflags=("-X=github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion={version}",),
)
"""The four plugins and the version kind v0.30's base image ships."""

NODE_COMPONENTS: tuple[GoComponent, ...] = (CONTAINERD, RUNC, CRICTL, CNI_PLUGINS)
"""Binaries inside the node's root filesystem (the kind base image)."""

IMAGE_COMPONENTS: tuple[GoComponent, ...] = (ETCD, COREDNS, LOCAL_PATH_PROVISIONER, METRICS_SERVER)
"""Binaries that become container images preloaded into the node."""


@dataclass(frozen=True)
class Stamps:
    """Values the ldflags templates are filled with."""

    version: str
    commit: str
    date: str

    def fields(self) -> dict[str, str]:
        return {
            "version": self.version,
            "version_bare": self.version.removeprefix("v"),
            "commit": self.commit,
            "short_commit": self.commit[:7],
            "date": self.date,
        }


def render_ldflags(component: GoComponent, stamps: Stamps) -> str:
    """The ``-ldflags`` value: version stamps, then ``-s -w`` as release builds do."""
    flags = [template.format(**stamps.fields()) for template in component.ldflags]
    if any(" " in flag for flag in flags):
        raise InfraError(f"{component.name}: a version stamp contains a space: {flags}")
    return " ".join([*flags, "-s", "-w"])


def stamps_from_info(version: str, info: Mapping[str, object], commit_info: Mapping[str, object] | None) -> Stamps:
    """Version stamps from the proxy's .info of the module (and of the module that
    records the tag's commit, when that is another one)."""
    origin = (commit_info or info).get("Origin")
    commit = ""
    if isinstance(origin, dict):
        commit = str(origin.get("Hash", ""))
    return Stamps(version=version, commit=commit, date=str(info.get("Time", "")))


def wrapper_gomod(component: GoComponent, upstream: Mapping[str, object]) -> str:
    """The wrapper go.mod for ``component`` given its upstream go.mod as JSON."""
    module_path = upstream.get("Module", {})
    if not isinstance(module_path, dict) or module_path.get("Path") != component.module:
        raise InfraError(f"{component.name}: the go.mod given is not {component.module}'s")

    def sibling(module: str, local_path: str) -> str | None:
        if component.sibling_prefix and local_path.startswith(component.sibling_prefix):
            return component.version
        return None

    return golang.render_wrapper_gomod(
        module_path=WRAPPER_PREFIX + component.name,
        go_directive=str(upstream["Go"]),
        godebug=golang.godebug_of(upstream),
        requires=[(component.module, component.version)],
        replaces=golang.versioned_replaces(upstream, sibling),
        excludes=golang.excludes_of(upstream),
        tools=sorted(set(component.binaries.values())),
        comment=(
            f"Generated by chaosgate (deployer/images/gobuilds.py) to build {component.module}\n"
            f"{component.version} from the Go module proxy. Do not edit."
        ),
    )


def component_dir(component: GoComponent) -> Path:
    return paths.cache_dir() / "go-builds" / component.name / component.version


def build_component(component: GoComponent) -> dict[str, Path]:
    """Build (or reuse) every binary of ``component``; returns name -> path."""
    root = component_dir(component)
    bin_dir = root / "bin"
    stamp = bin_dir / ".spec"
    result = {name: bin_dir / name for name in component.binaries}
    if _is_built(stamp, component, result):
        return result
    toolchain = golang.find_go()
    with locked(root / ".lock"):
        if _is_built(stamp, component, result):
            return result
        _check_cgo(component)
        what = f"{component.name} {component.version}"
        downloaded = golang.download_module(toolchain, component.module, component.version)
        upstream = golang.read_gomod(toolchain, Path(downloaded["GoMod"]))
        golang.require_go_at_least(toolchain, str(upstream["Go"]), what)
        module_dir = golang.prepare_wrapper(toolchain, root / "module", wrapper_gomod(component, upstream), what)
        stamps = _stamps(toolchain, component, Path(downloaded["Info"]))
        ldflags = render_ldflags(component, stamps)
        bin_dir.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        env = {"CGO_ENABLED": "1"} if component.cgo_pkgconfig else {}
        with phase(f"build {what}"):
            for name, package in component.binaries.items():
                tmp = bin_dir / f".{name}.tmp"
                args = ["build", "-trimpath", f"-ldflags={ldflags}", "-o", str(tmp)]
                if component.tags:
                    args.append(f"-tags={','.join(component.tags)}")
                golang.go(toolchain, [*args, package], cwd=module_dir, timeout=golang.BUILD_TIMEOUT_S, env=env)
                tmp.replace(bin_dir / name)
        stamp.write_text(component.spec_hash() + "\n")
    return result


def _is_built(stamp: Path, component: GoComponent, result: Mapping[str, Path]) -> bool:
    if not stamp.is_file() or stamp.read_text().strip() != component.spec_hash():
        return False
    return all(path.is_file() for path in result.values())


def _stamps(toolchain: golang.GoToolchain, component: GoComponent, info_file: Path) -> Stamps:
    info = json.loads(info_file.read_text())
    commit_info = None
    if component.commit_module and component.commit_module != component.module:
        other = golang.download_module(toolchain, component.commit_module, component.version)
        commit_info = json.loads(Path(other["Info"]).read_text())
    return stamps_from_info(component.version, info, commit_info)


def _check_cgo(component: GoComponent) -> None:
    if not component.cgo_pkgconfig:
        return
    missing = [] if shutil.which("gcc") and shutil.which("pkg-config") else ["gcc/pkg-config"]
    for lib in component.cgo_pkgconfig:
        if not missing:
            try:
                procs.run(["pkg-config", "--exists", lib], timeout=30)
            except InfraError:
                missing.append(lib)
    if missing:
        raise BadInputError(
            f"building {component.name} needs a C toolchain and {', '.join(component.cgo_pkgconfig)} "
            f"(missing: {', '.join(missing)}); on Debian: apt-get install " + " ".join(component.debian_dev_packages)
        )
