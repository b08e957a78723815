"""The gateway under MinIO quorum loss: clear 503s, never a false 2xx."""

from __future__ import annotations

import json

import httpx
import pytest
from gateway_proc import GatewayFactory, RunningGateway
from gateway_tools import MiB, payload

from kernel.wait import Seen, wait_until
from tests.fixtures.minio_local import ClusterFactory


def _not_ready(gateway: RunningGateway) -> Seen:
    answer = httpx.get(f"{gateway.url}/readyz", timeout=10.0)
    return Seen(answer.status_code == 503, f"/readyz {answer.status_code} {answer.text}")


def test_no_quorum_answers_503_with_a_clear_body(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory()
    gateway = gateway_factory(cluster, node=0)
    with gateway.client() as http:
        assert http.put("/objects/kept", content=b"before the outage").status_code == 200

        for node in (1, 2, 3):
            cluster.kill(node)
        ready = wait_until(lambda: _not_ready(gateway), what="/readyz to report no quorum", timeout=30)
        assert ready.ok
        body = http.get("/readyz").json()
        assert body["status"] == "not ready"
        assert "no write quorum" in body["reason"]

        put = http.put("/objects/refused", content=b"during the outage")
        assert put.status_code == 503
        assert put.headers["retry-after"] == "1"
        assert put.json()["error"] == "storage_unavailable"
        assert put.json()["operation"] == "put"
        assert "NOT acknowledged" in put.json()["message"]
        # Which symptom MinIO shows (SlowDownWrite or no answer in time) may vary; it is named.
        assert put.json()["upstream"] in ("SlowDownWrite", "ReadTimeoutError")

        get = http.get("/objects/kept")  # 1 of 4 drives is below read quorum (2)
        assert get.status_code == 503
        assert get.json()["error"] == "storage_unavailable"
        assert http.head("/objects/kept").status_code == 503

        assert http.get("/healthz").status_code == 200  # the process itself is fine
        metrics = http.get("/metrics").text
        assert 'gateway_minio_errors_total{kind="unavailable",operation="put"}' in metrics
        assert 'gateway_requests_total{method="PUT",route="/objects/{key:path}",status="503"} 1.0' in metrics

        cluster.kill(0)  # now nothing answers at all
        unreachable = http.get("/readyz")
        assert unreachable.status_code == 503
        assert "MinIO unreachable" in unreachable.json()["reason"]
        refused = http.put("/objects/refused", content=b"x")
        assert refused.status_code == 503
        assert refused.json()["upstream"] == "NewConnectionError"


def test_a_read_cut_by_an_outage_is_never_a_short_200(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    # The 200 and Content-Length go out before the body is read from MinIO;
    # when MinIO fails after that, the gateway cuts the connection, so the
    # client sees a short body against the promised length, never a "complete" one.
    cluster = minio_cluster_factory()
    gateway = gateway_factory(cluster, node=0)
    size = 48 * MiB
    with gateway.client() as http:
        assert http.put("/objects/read-cut", content=payload(size, b"cut")).status_code == 200
    received = 0
    with httpx.Client(base_url=gateway.url, timeout=30) as http, http.stream("GET", "/objects/read-cut") as got:
        assert got.status_code == 200
        assert int(got.headers["content-length"]) == size
        chunks = got.iter_raw(65536)
        while received < MiB:
            received += len(next(chunks))
        for node in (1, 2, 3):
            cluster.kill(node)
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            for data in chunks:
                received += len(data)
    assert received < size
    events = [json.loads(line) for line in gateway.log_lines()]
    assert any(e.get("event") == "get_interrupted" and e["key"] == "read-cut" for e in events)
    with gateway.client() as http:
        assert http.get("/healthz").status_code == 200
        metrics = http.get("/metrics").text
    assert 'gateway_minio_errors_total{kind="interrupted",operation="get"} 1.0' in metrics
