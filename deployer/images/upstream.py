"""The pull side: upstream images for machines that reach container registries.

Pulled images keep their upstream names. They are not re-tagged to the
charts' chaosgate/* tags: upstream MinIO's last image is
RELEASE.2025-09-07T16-13-09Z, and calling it chaosgate/minio:RELEASE.2025-10-15...
would put a wrong version into every report. ``kind load docker-image`` takes
any name, and the charts are pointed at the references with ``--set`` values.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from deployer.images import layered
from kernel import procs
from kernel.errors import InfraError
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
        return bool(socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM))
    except OSError:
        return False


def _answers(host: str, timeout: float) -> bool:
    """Any HTTP answer from the registry API counts (Docker Hub says 401)."""
    request = urllib.request.Request(f"https://{host}/v2/", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
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


def pull(images: Mapping[str, str]) -> dict[str, str]:
    """``docker pull`` every reference (name -> reference); returns the same mapping.
    An image already present is not pulled again: every tag here is pinned."""
    for name, ref in images.items():
        if layered.image_id(ref):
            say(f"{name}: {ref} is present")
            continue
        with phase(f"pull {ref}"):
            try:
                procs.run(["docker", "pull", ref], timeout=PULL_TIMEOUT_S)
            except InfraError as exc:
                raise InfraError(
                    f"could not pull {ref} for {name}: {exc}\n"
                    "Fix: check the registry is reachable from the Docker daemon (proxy, mirror), "
                    "or build the images locally with --images build"
                ) from exc
    return dict(images)
