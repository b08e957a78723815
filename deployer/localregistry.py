"""A container registry on loopback, built from source, holding copies of the
images the pull path names: the pull path proven on a machine with no registry.

``python -m deployer registry up`` builds distribution's ``registry`` from the
Go module proxy and starts it on 127.0.0.1 (plain HTTP: Docker pulls from
127.0.0.0/8 without TLS by default). ``registry fill`` pushes stand-ins for
every upstream reference of pull mode under ``MIRROR/<registry host>/<path>``,
the layout ``--registry-mirror`` reads; the stand-ins are the images built here
from pinned sources. ``registry down`` stops it; the data stays in the cache.

What cannot be copied: a digest pin. A digest is the hash of the upstream
manifest, so an image built here never has it. The node image built here goes
in as ``kindest/node:<its Kubernetes version>``; ``fill`` prints the digest it
got, to pull it by with ``--node-image``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from deployer import paths, pins
from deployer.images import gobuilds, stackpins
from deployer.images.upstream import PullSource
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.progress import phase, say
from kernel.wait import Seen, wait_until

REGISTRY = gobuilds.GoComponent(
    name="registry",
    module="github.com/distribution/distribution/v3",
    version="v3.1.2",
    binaries={"registry": "github.com/distribution/distribution/v3/cmd/registry"},
    # The Makefile's stamps, so `registry --version` names what was built.
    ldflags=(
        "-X=github.com/distribution/distribution/v3/version.version={version}",
        "-X=github.com/distribution/distribution/v3/version.revision={commit}",
        "-X=github.com/distribution/distribution/v3/version.mainpkg=github.com/distribution/distribution/v3",
    ),
)
"""distribution v3.1.2 (September 2026), the newest the proxy serves."""

DEFAULT_ADDRESS = "127.0.0.1:5001"
"""5000 is often taken (macOS AirPlay, other local registries)."""

NODE_STAND_IN = f"kindest/node:{pins.KUBERNETES_VERSION}"

START_TIMEOUT_S = 30.0
PUSH_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class LocalRegistry:
    address: str = DEFAULT_ADDRESS

    def __post_init__(self) -> None:
        host, _, port = self.address.rpartition(":")
        if host not in ("127.0.0.1", "localhost") or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadInputError(
                f"registry address {self.address!r} must be 127.0.0.1:PORT: it serves only this machine, "
                "and Docker talks plain HTTP only to loopback registries"
            )

    @property
    def root(self) -> Path:
        return paths.cache_dir() / "registry" / self.address.replace(":", "-")

    @property
    def pid_file(self) -> Path:
        return self.root / "registry.pid"

    def config(self) -> str:
        return json.dumps(
            {
                "version": "0.1",
                "log": {"level": "info"},
                "storage": {"filesystem": {"rootdirectory": str(self.root / "data")}},
                "http": {"addr": self.address},
            },
            indent=2,
        )

    def answers(self) -> Seen:
        try:
            with urllib.request.urlopen(f"http://{self.address}/v2/", timeout=2) as reply:
                return Seen(reply.status == 200, f"/v2/ answered {reply.status}")
        except urllib.error.HTTPError as exc:
            return Seen(False, f"/v2/ answered {exc.code}")
        except (urllib.error.URLError, OSError) as exc:
            return Seen(False, f"no answer on {self.address}: {exc}")

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if procs.alive(pid) else None

    def up(self) -> None:
        """Build (once) and start the registry; a running one is kept."""
        if self.running_pid() is not None and self.answers():
            say(f"registry on {self.address} is running")
            return
        if self.answers():
            raise InfraError(
                f"something else answers as a registry on {self.address}; stop it or give another --address"
            )
        binary = gobuilds.build_component(REGISTRY)["registry"]
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.json"  # YAML is a superset of JSON: the registry reads it
        config.write_text(self.config())
        log = self.root / "registry.log"
        with phase(f"start registry on {self.address}"), log.open("ab") as out:
            # A server: its own session keeps it running after this command ends.
            proc = subprocess.Popen(
                [str(binary), "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
            self.pid_file.write_text(f"{proc.pid}\n")
            try:
                wait_until(self.answers, what=f"the registry to answer on {self.address}", timeout=START_TIMEOUT_S)
            except InfraError as exc:
                proc.kill()
                raise InfraError(f"{exc}\nlog: {log}") from exc

    def down(self) -> bool:
        """Stop the registry; True when one was running."""
        pid = self.running_pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: _exited(pid), what=f"registry pid {pid} to exit", timeout=15, interval=0.2)
        return True

    def fill(self, node_image: str = "") -> dict[str, str]:
        """Push a stand-in for each upstream reference of pull mode; returns
        the reference to pull -> the digest the registry holds."""
        if not self.answers():
            raise InfraError(f"no registry answers on {self.address}: run `python -m deployer registry up` first")
        mirror = PullSource(mirror=self.address)
        pushed: dict[str, str] = {}
        for upstream_ref, local in stand_ins(node_image).items():
            if "@" in upstream_ref:
                raise BadInputError(f"{upstream_ref} is pinned by digest: an image built here cannot have it")
            target = mirror.ref(upstream_ref)
            with phase(f"push {local} as {target}"):
                procs.run(["docker", "tag", local, target], timeout=60)
                procs.run(["docker", "push", target], timeout=PUSH_TIMEOUT_S)
                # Untagged again: a later pull of that name must come from the registry.
                procs.run(["docker", "rmi", target], timeout=60)
            pushed[target] = self.digest(target)
        return pushed

    def digest(self, ref: str) -> str:
        """The manifest digest the registry serves for a pushed reference."""
        name, _, tag = ref.removeprefix(f"{self.address}/").rpartition(":")
        request = urllib.request.Request(
            f"http://{self.address}/v2/{name}/manifests/{tag}",
            method="HEAD",
            headers={
                "Accept": ", ".join(
                    (
                        "application/vnd.oci.image.index.v1+json",
                        "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.docker.distribution.manifest.v2+json",
                    )
                )
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
                return str(reply.headers["Docker-Content-Digest"])
        except (urllib.error.URLError, OSError, KeyError) as exc:
            raise InfraError(f"the registry on {self.address} has no manifest for {ref}: {exc}") from exc


def _exited(pid: int) -> bool:
    # Started by this process (tests): reap it, or it stays a zombie that looks alive.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return not procs.alive(pid)


def stand_ins(node_image: str = "") -> dict[str, str]:
    """Upstream reference of pull mode -> the image built here that stands in
    for it (built now if missing): MinIO, Prometheus, metrics-server, the
    gateway's Python base and the kind node."""
    from deployer.images import nodeimage, pyapp  # noqa: PLC0415 (heavy; only `fill` builds)
    from deployer.images import stack as stack_images  # noqa: PLC0415

    built = stack_images.build_all()
    local = {
        "minio": built["minio"],
        "prometheus": built["prometheus"],
        "metrics-server": built["metrics-server"],
        "python-base": pyapp.build_python_base(),
    }
    refs = {stackpins.UPSTREAM[name]: image for name, image in local.items()}
    # Under its own version: the pinned upstream node (by digest) is not what is built here.
    refs[node_image or NODE_STAND_IN] = nodeimage.build_node_image().ref
    return refs


def describe(pushed: dict[str, str], address: str) -> list[str]:
    """Lines a person needs to pull through the registry."""
    lines = [f"{ref}  {digest}" for ref, digest in pushed.items()]
    nodes = [ref for ref in pushed if "/kindest/node:" in ref]
    lines.append(f"pull through it: --images pull --registry-mirror {address}")
    for ref in nodes:
        upstream_name = ref.removeprefix(f"{address}/").removeprefix("docker.io/")
        lines.append(f"  the node image by the digest pushed: --node-image {upstream_name}@{pushed[ref]}")
    return lines
