"""The stack images, built for real and started with Docker.

``ensure_stack_images("build")`` builds (or reuses) every image; then each is
started briefly: MinIO answers /minio/health/live as user 1000, prometheus
and promtool report 3.5.0, metrics-server's --help exits 0, the gateway
refuses to start without MINIO_ENDPOINT and answers /healthz next to a MinIO
container. Cold, the builds take tens of minutes on two cores; warm, seconds.
Skipped when no Docker daemon answers, unless CHAOSGATE_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from deployer import engine
from deployer.images import layered, stack
from kernel import procs
from kernel.errors import InfraError
from kernel.wait import Seen, wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REQUIRED = os.environ.get("CHAOSGATE_REQUIRE_DOCKER") == "1"
CREDENTIALS = ["-e", "MINIO_ROOT_USER=chaosgate", "-e", "MINIO_ROOT_PASSWORD=chaosgate-test-secret"]


def docker(*args: str, timeout: float = 120) -> str:
    return procs.run(["docker", *args], timeout=timeout).stdout


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    status = engine.docker_status()
    if not status.ok:
        if REQUIRED:
            pytest.fail(f"CHAOSGATE_REQUIRE_DOCKER=1 but {engine.problem_message(status)}")
        pytest.skip(engine.problem_message(status))
    return stack.ensure_stack_images("build")


class Started:
    """Containers and networks a test starts, removed afterwards (containers first)."""

    def __init__(self) -> None:
        self.containers: list[str] = []
        self.networks: list[str] = []

    def network(self) -> str:
        name = f"cg-net-{uuid.uuid4().hex[:8]}"
        docker("network", "create", name)
        self.networks.append(name)
        return name

    def run(self, prefix: str, *args: str) -> str:
        name = f"cg-{prefix}-{uuid.uuid4().hex[:8]}"
        self.containers.append(name)
        docker("run", "-d", "--name", name, *args)
        return name

    def remove(self) -> None:
        for name in self.containers:
            procs.run(["docker", "rm", "-f", "-v", name], timeout=120)
        for name in self.networks:
            procs.run(["docker", "network", "rm", name], timeout=120)


@pytest.fixture
def started() -> Iterator[Started]:
    containers = Started()
    yield containers
    containers.remove()


def _http_status(container: str, url: str) -> Seen:
    try:
        code = docker("exec", container, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url)
    except InfraError as exc:
        return Seen(False, str(exc).splitlines()[-1])
    return Seen(code == "200", f"HTTP {code}")


def test_every_component_is_tagged_and_labelled(images: dict[str, str]) -> None:
    assert list(images) == ["minio", "prometheus", "metrics-server", "gateway"]
    assert images["minio"] == "chaosgate/minio:DEVELOPMENT.2026-02-12T20-18-48Z"
    for ref in images.values():
        labels = layered.docker_labels(ref)
        assert labels and labels.get(layered.CONTENT_KEY_LABEL), ref
    assert stack.ensure_stack_images("build") == images  # warm: keys match, nothing rebuilt


def test_minio_serves_as_user_1000(images: dict[str, str], started: Started) -> None:
    name = started.run("minio", *CREDENTIALS, images["minio"], "server", "/data")
    assert docker("exec", name, "id", "-u").strip() == "1000"
    wait_until(lambda: _http_status(name, "http://127.0.0.1:9000/minio/health/live"), what="MinIO live", timeout=60)
    assert "DEVELOPMENT." in docker("exec", name, "minio", "--version")


def test_prometheus_and_promtool_report_the_release(images: dict[str, str]) -> None:
    ref = images["prometheus"]
    assert "version 3.5.0" in docker("run", "--rm", ref, "--version")
    assert "version 3.5.0" in docker("run", "--rm", "--entrypoint", "promtool", ref, "--version")


def test_prometheus_is_ready_as_nobody(images: dict[str, str], started: Started) -> None:
    name = started.run("prom", images["prometheus"])
    assert docker("exec", name, "id", "-u").strip() == "65534"
    wait_until(lambda: _http_status(name, "http://127.0.0.1:9090/-/ready"), what="Prometheus ready", timeout=60)
    # What the monitoring chart's helm test runs; exit 0 (procs.run checks) and says so.
    checked = procs.run(
        ["docker", "exec", name, "promtool", "check", "ready", "--url=http://127.0.0.1:9090"], timeout=60
    )
    assert "Ready" in checked.stdout + checked.stderr


def test_metrics_server_help(images: dict[str, str]) -> None:
    out = docker("run", "--rm", "--read-only", images["metrics-server"], "--help")
    assert "--kubelet-insecure-tls" in out


def test_gateway_refuses_to_start_without_an_endpoint(images: dict[str, str]) -> None:
    result = procs.run(
        ["sh", "-c", f"docker run --rm {images['gateway']}; echo exit=$?"],
        timeout=120,
    )
    assert "exit=2" in result.stdout
    assert "MINIO_ENDPOINT" in result.stdout + result.stderr


def test_gateway_answers_next_to_minio(images: dict[str, str], started: Started) -> None:
    network = started.network()
    minio = started.run("minio", "--network", network, *CREDENTIALS, images["minio"], "server", "/data")
    gateway = started.run(
        "gw",
        "--network",
        network,
        "-e",
        f"MINIO_ENDPOINT=http://{minio}:9000",
        "-e",
        "GATEWAY_ACCESS_KEY=chaosgate",
        "-e",
        "GATEWAY_SECRET_KEY=chaosgate-test-secret",
        images["gateway"],
    )
    probe = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status)"

    def healthz() -> Seen:
        try:
            out = docker("exec", gateway, "python", "-c", probe).strip()
        except InfraError as exc:
            return Seen(False, str(exc).splitlines()[-1])
        return Seen(out == "200", out)

    wait_until(healthz, what="gateway /healthz", timeout=90, interval=1.0)
    assert docker("exec", gateway, "id", "-u").strip() == "10001"
