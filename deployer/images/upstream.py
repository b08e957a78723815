"""The pull side: upstream images for machines that reach container registries.

Pulled images keep their upstream names. They are not re-tagged to the
charts' chaosgate/* tags: upstream MinIO's last image is
RELEASE.2025-09-07T16-13-09Z, and calling it chaosgate/minio:RELEASE.2025-10-15...
would put a wrong version into every report. ``kind load docker-image`` takes
any name, and the charts are pointed at the references with ``--set`` values.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from deployer import pins
from deployer.images import layered
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.progress import phase, say

REGISTRY_HOSTS = ("registry-1.docker.io", "quay.io", "registry.k8s.io")
"""Where the upstream images live (Docker Hub's API host, not docker.io)."""

CHECK_TIMEOUT_S = 5.0
PULL_TIMEOUT_S = 1800.0
"""A few hundred MB per image over a slow link."""

Resolver = Callable[[str], bool]
Prober = Callable[[str, float], bool]


def _resolves(host: str) -> bool:
    try:
        return bool(socket.getaddrinfo(_name_of(host), 443, type=socket.SOCK_STREAM))
    except OSError:
        return False


def _answers(host: str, timeout: float) -> bool:
    """Any HTTP answer from the registry API counts (Docker Hub says 401).
    A loopback registry may speak plain HTTP: Docker pulls from 127.0.0.0/8
    without TLS by default, so that is tried too."""
    schemes = ("https", "http") if is_loopback(host) else ("https",)
    return any(_answers_on(f"{scheme}://{host}/v2/", timeout) for scheme in schemes)


def _answers_on(url: str, timeout: float) -> bool:
    request = urllib.request.Request(url, method="HEAD")  # noqa: S310 (http/https only, made above)
    try:
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _name_of(host: str) -> str:
    """``127.0.0.1:5001`` -> ``127.0.0.1``: a registry address without its port."""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(host: str) -> bool:
    """``127.0.0.1:5001`` -> True; names other than localhost are not resolved."""
    name = _name_of(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def registry_reachable(
    hosts: Sequence[str] = REGISTRY_HOSTS,
    timeout: float = CHECK_TIMEOUT_S,
    *,
    resolve: Resolver = _resolves,
    probe: Prober = _answers,
) -> bool:
    """True when every registry host resolves and answers HTTPS within ``timeout``
    seconds. DNS comes first: a name that does not resolve sends no traffic."""
    # Not a `with` block: leaving one waits for a resolver stuck in the OS.
    pool = ThreadPoolExecutor(max_workers=max(len(hosts), 1), thread_name_prefix="registry-check")
    try:
        resolved = [pool.submit(resolve, host) for host in hosts]
        if not all(f.result(timeout=timeout) for f in resolved):
            return False
        answered = [pool.submit(probe, host, timeout) for host in hosts]
        return all(f.result(timeout=timeout + 1) for f in answered)
    except FutureTimeout:
        return False
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


_MIRROR = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$")
DOCKER_HUB = "docker.io"


def full_name(ref: str) -> str:
    """A reference with its registry host, as Docker reads it:
    ``kindest/node:v1`` -> ``docker.io/kindest/node:v1``, ``python:3`` ->
    ``docker.io/library/python:3``, ``quay.io/minio/minio:X`` unchanged."""
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return ref
    return f"{DOCKER_HUB}/{ref}" if sep else f"{DOCKER_HUB}/library/{ref}"


@dataclass(frozen=True)
class PullSource:
    """Where the pull path gets its images: the upstream registries, or one
    mirror that serves each of them under ``MIRROR/<registry host>/<path>``
    (a pull-through cache with one project per upstream registry, or a copy
    made for machines without internet). Docker's own ``registry-mirrors``
    cover Docker Hub only, so the references themselves are rewritten.
    Digest pins stay in the reference: Docker checks the content it gets."""

    mirror: str = ""
    """HOST[:PORT][/PATH] without a scheme; empty: the upstream registries."""
    node_image: str = ""
    """The kind node image to pull; empty: the pinned ``pins.KIND_NODE_IMAGE``."""

    def __post_init__(self) -> None:
        if self.mirror and not _MIRROR.match(self.mirror):
            raise BadInputError(
                f"--registry-mirror {self.mirror!r} is not a registry address: give HOST[:PORT][/PATH] "
                "without a scheme, e.g. 127.0.0.1:5001 or registry.example.com/proxy"
            )
        if self.node_image and (any(c.isspace() for c in self.node_image) or ":" not in self.node_image):
            raise BadInputError(f"--node-image {self.node_image!r} needs a tag or digest, e.g. kindest/node:v1.33.1")

    def ref(self, upstream_ref: str) -> str:
        """The reference to pull for an upstream one."""
        return f"{self.mirror}/{full_name(upstream_ref)}" if self.mirror else upstream_ref

    def node(self) -> str:
        return self.ref(self.node_image or pins.KIND_NODE_IMAGE)

    def hosts(self) -> tuple[str, ...]:
        return (self.mirror.split("/", 1)[0],) if self.mirror else REGISTRY_HOSTS

    def reachable(self) -> bool:
        """Whether ``auto`` takes the pull path: every registry it would pull from answers."""
        return registry_reachable(self.hosts())

    def describe(self) -> str:
        return f"mirror {self.mirror}" if self.mirror else "the upstream registries"


UPSTREAM = PullSource()


def pull(images: Mapping[str, str], source: PullSource = UPSTREAM) -> dict[str, str]:
    """``docker pull`` every upstream reference (name -> reference) from ``source``;
    returns name -> the reference pulled (the upstream one unless a mirror serves it).
    An image already present is not pulled again: every tag here is pinned."""
    pulled = {name: source.ref(ref) for name, ref in images.items()}
    for name, ref in pulled.items():
        if layered.image_id(ref):
            say(f"{name}: {ref} is present")
            continue
        with phase(f"pull {ref}"):
            try:
                procs.run(["docker", "pull", ref], timeout=PULL_TIMEOUT_S)
            except InfraError as exc:
                raise InfraError(
                    f"could not pull {ref} for {name} from {source.describe()}: {exc}\n"
                    "Fix: check the registry is reachable from the Docker daemon (proxy, --registry-mirror) "
                    "and holds that reference, or build the images locally with --images build"
                ) from exc
    return pulled
