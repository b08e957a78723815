"""Run the real gateway (``python -m gateway``, uvicorn) as a subprocess on loopback.

Kept out of conftest.py so test modules can import these names without
depending on which conftest module pytest loaded last."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kernel.errors import InfraError
from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster

APP_DIR = Path(__file__).resolve().parents[1]
# Seconds: a cold interpreter imports fastapi and reaches MinIO in ~2 s.
START_TIMEOUT = 30.0


@dataclass
class RunningGateway:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=httpx.Timeout(20.0, connect=2.0))

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_env(minio_url: str, access_key: str, secret_key: str, port: int, **extra: str) -> dict[str, str]:
    # The caller's MINIO_*/GATEWAY_* variables must not leak into the gateway.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "GATEWAY_"))}
    return {
        **base,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(APP_DIR), base.get("PYTHONPATH", "")])),
        "MINIO_ENDPOINT": minio_url,
        "GATEWAY_ACCESS_KEY": access_key,
        "GATEWAY_SECRET_KEY": secret_key,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "GATEWAY_STARTUP_TIMEOUT": "20",
        # MinIO without quorum can hold a request for minutes; the gateway's
        # read timeout turns that into a 503, and a short one keeps tests quick.
        "GATEWAY_MINIO_READ_TIMEOUT": "3",
        **extra,
    }


def spawn_gateway(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _serving(gateway: RunningGateway) -> Seen:
    code = gateway.process.poll()
    if code is not None:
        tail = "\n".join(gateway.log_lines()[-20:])
        raise InfraError(f"gateway exited with code {code} while starting:\n{tail}")
    try:
        answer = httpx.get(f"{gateway.url}/healthz", timeout=2.0)
    except httpx.HTTPError as exc:
        return Seen(False, f"{type(exc).__name__}: {exc}")
    return Seen(answer.status_code == 200, f"/healthz answered {answer.status_code}")


GatewayFactory = Callable[..., RunningGateway]


def factory(root: Path, started: list[RunningGateway]) -> GatewayFactory:
    def start(cluster: LocalMinioCluster, node: int = 0, **extra_env: str) -> RunningGateway:
        port = _free_port()
        log_path = root / f"gateway{len(started)}.log"
        env = gateway_env(cluster.url(node), cluster.access_key, cluster.secret_key, port, **extra_env)
        gateway = RunningGateway(f"http://127.0.0.1:{port}", spawn_gateway(env, log_path), log_path)
        started.append(gateway)
        # uvicorn binds only after startup (bucket ensured), so /healthz 200 means ready to serve.
        wait_until(lambda: _serving(gateway), what="gateway serving /healthz", timeout=START_TIMEOUT)
        return gateway

    return start


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[GatewayFactory]:
    """Start real gateways against a loopback cluster; every one is stopped after the test."""
    started: list[RunningGateway] = []
    try:
        yield factory(tmp_path, started)
    finally:
        for gateway in started:
            gateway.stop()
