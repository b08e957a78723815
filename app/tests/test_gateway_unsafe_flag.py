"""GATEWAY_ACK_BEFORE_WRITE: refused unless explicit; when on, it really
acknowledges writes that are then lost (the ledger's negative control)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from gateway.config import UNSAFE_ACK_VALUE
from gateway_proc import GatewayFactory, RunningGateway, gateway_env, spawn_gateway
from gateway_tools import MiB, direct, payload, payload_sha256

from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster
from tests.fixtures.minio_local import ClusterFactory


@pytest.mark.parametrize("value", ["1", "true", "UNSAFE-ACK-BEFORE-WRITE", f" {UNSAFE_ACK_VALUE}"])
def test_anything_but_the_explicit_value_is_refused_at_startup(value: str, tmp_path: Path) -> None:
    # Nothing listens on port 9: the refusal must come before any MinIO call.
    env = gateway_env("http://127.0.0.1:9", "user", "password", 1, GATEWAY_ACK_BEFORE_WRITE=value)
    log_path = tmp_path / "gateway.log"
    process = spawn_gateway(env, log_path)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        pytest.fail("the gateway did not refuse the unsafe switch; it kept running")
    assert code == 2
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    refusal = [e for e in entries if e.get("event") == "config_error"]
    assert len(refusal) == 1
    assert "GATEWAY_ACK_BEFORE_WRITE" in refusal[0]["msg"]
    assert UNSAFE_ACK_VALUE in refusal[0]["msg"]


def _no_quorum(gateway: RunningGateway) -> Seen:
    answer = httpx.get(f"{gateway.url}/readyz", timeout=10.0)
    return Seen(answer.status_code == 503, f"/readyz {answer.status_code}")


def test_explicit_value_acknowledges_writes_that_are_then_lost(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory()
    gateway = gateway_factory(cluster, node=0, GATEWAY_ACK_BEFORE_WRITE=UNSAFE_ACK_VALUE)
    with gateway.client() as http:
        assert "gateway_unsafe_ack_before_write 1.0" in http.get("/metrics").text
        for node in (1, 2, 3):
            cluster.kill(node)
        wait_until(lambda: _no_quorum(gateway), what="/readyz to report no quorum", timeout=30)

        # The lie: 200 with a sha256 although MinIO cannot store anything.
        lie = http.put("/objects/acknowledged", content=b"never stored")
        assert lie.status_code == 200
        assert lie.json()["sha256"]

        def lost_ack_logged() -> Seen:
            events = [json.loads(line).get("event") for line in gateway.log_lines()]
            return Seen("lost_ack" in events, f"events so far: {events[-5:]}")

        wait_until(lost_ack_logged, what="the background write to fail", timeout=30)

        for node in (1, 2, 3):
            cluster.start_node(node)
        cluster.wait_ready()
        # The acknowledged object does not exist: exactly what a ledger must catch.
        assert http.get("/objects/acknowledged").status_code == 404
    assert any(json.loads(line).get("event") == "unsafe_mode" for line in gateway.log_lines())


def test_unsafe_mode_still_writes_a_streamed_body_after_the_ack(
    minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory
) -> None:
    # The negative control acknowledges first, so it must see the whole body
    # before answering; it spools it (to disk past one part) and writes after.
    gateway = gateway_factory(minio_cluster, GATEWAY_ACK_BEFORE_WRITE=UNSAFE_ACK_VALUE)
    size = 12 * MiB
    digest = payload_sha256(size, b"unsafe")
    with gateway.client() as http:
        ack = http.put("/objects/unsafe/streamed", content=payload(size, b"unsafe"))
        assert ack.status_code == 200
        assert (ack.json()["sha256"], ack.json()["size"], ack.json()["etag"]) == (digest, size, None)
    client = direct(minio_cluster)

    def written() -> Seen:
        try:
            info = client.stat_object("chaosgate", "unsafe/streamed")
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            return Seen(False, f"{type(exc).__name__}: {exc}")
        return Seen(True, f"stored, {info.size} bytes")

    wait_until(written, what="the write after the ack", timeout=30)
    info = client.stat_object("chaosgate", "unsafe/streamed")
    assert info.size == size
    assert (info.metadata or {}).get("x-amz-meta-sha256") == digest
