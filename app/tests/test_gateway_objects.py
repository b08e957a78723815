"""Object round trips through the real gateway into a real MinIO cluster."""

from __future__ import annotations

import hashlib
import json
import secrets

from gateway_proc import RunningGateway
from gateway_tools import BUCKET, direct, metric, samples

from tests.fixtures.localminio import LocalMinioCluster


def test_round_trip_with_sha256(gateway: RunningGateway, minio_cluster: LocalMinioCluster) -> None:
    key = f"dir/sub/obj-{secrets.token_hex(4)}"
    data = secrets.token_bytes(100_000)
    digest = hashlib.sha256(data).hexdigest()
    with gateway.client() as http:
        put = http.put(f"/objects/{key}", content=data)
        assert put.status_code == 200, put.text
        assert put.json()["sha256"] == digest
        assert put.json()["size"] == len(data)
        assert put.headers["x-object-sha256"] == digest

        # Acknowledged means stored: read it straight from MinIO through another server.
        client = direct(minio_cluster, 2)
        stored = client.get_object(BUCKET, key)
        try:
            assert stored.read() == data
            assert stored.headers["x-amz-meta-sha256"] == digest
        finally:
            stored.close()
            stored.release_conn()

        got = http.get(f"/objects/{key}")
        assert got.status_code == 200
        assert got.content == data
        assert got.headers["x-object-sha256"] == digest

        head = http.head(f"/objects/{key}")
        assert head.status_code == 200
        assert int(head.headers["content-length"]) == len(data)
        assert head.headers["x-object-sha256"] == digest

        assert http.delete(f"/objects/{key}").status_code == 204
        missing = http.get(f"/objects/{key}")
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
        assert http.head(f"/objects/{key}").status_code == 404


def test_overwrite_and_empty_object(gateway: RunningGateway) -> None:
    key = f"over-{secrets.token_hex(4)}"
    with gateway.client() as http:
        assert http.put(f"/objects/{key}", content=b"first").status_code == 200
        second = http.put(f"/objects/{key}", content=b"")
        assert second.json()["sha256"] == hashlib.sha256(b"").hexdigest()
        got = http.get(f"/objects/{key}")
        assert got.status_code == 200 and got.content == b""


def test_too_large_is_refused_and_not_stored(gateway: RunningGateway, minio_cluster: LocalMinioCluster) -> None:
    key = f"big-{secrets.token_hex(4)}"
    with gateway.client() as http:
        refused = http.put(f"/objects/{key}", content=b"x" * 1_000_001)
        assert refused.status_code == 413
        assert refused.json()["error"] == "too_large"
        assert http.put(f"/objects/{key}", content=b"x" * 1_000_000).status_code == 200
    assert direct(minio_cluster, 0).stat_object(BUCKET, key).size == 1_000_000


def test_health_and_readiness_when_minio_is_healthy(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "minio_write_quorum": 3}


def test_metrics_count_requests_by_route_and_status(gateway: RunningGateway) -> None:
    route = "/objects/{key:path}"
    key = f"m-{secrets.token_hex(4)}"
    with gateway.client() as http:
        before = samples(http.get("/metrics").text)
        for _ in range(3):
            assert http.put(f"/objects/{key}", content=b"abc").status_code == 200
        assert http.get(f"/objects/{key}").status_code == 200
        assert http.get(f"/objects/nope-{key}").status_code == 404
        assert http.get("/objects", params={"prefix": key}).status_code == 200
        scrape = http.get("/metrics")
    after = samples(scrape.text)
    assert scrape.headers["content-type"].startswith("text/plain")

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("gateway_requests_total", method="PUT", route=route, status="200") == 3
    assert delta("gateway_requests_total", method="GET", route=route, status="200") == 1
    assert delta("gateway_requests_total", method="GET", route=route, status="404") == 1
    assert delta("gateway_request_duration_seconds_count", method="PUT", route=route) == 3
    assert delta("gateway_requests_total", method="GET", route="/objects", status="200") == 1
    # Raw keys never become labels.
    assert not any(key in str(labels) for _, labels in after)
    assert metric(after, "gateway_unsafe_ack_before_write") == 0
    assert metric(after, "gateway_minio_errors_total", operation="put", kind="unavailable") == 0


def test_logs_are_json_lines_without_the_secret(gateway: RunningGateway, minio_cluster: LocalMinioCluster) -> None:
    with gateway.client() as http:
        assert http.put("/objects/logged", content=b"1").status_code == 200
    lines = gateway.log_lines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [e for e in entries if e.get("event") == "request"]
    assert any(e["method"] == "PUT" and e["route"] == "/objects/{key:path}" and e["status"] == 200 for e in requests)
    assert any(e.get("event") == "bucket_ready" for e in entries)
    assert not any(minio_cluster.secret_key in line for line in lines)
