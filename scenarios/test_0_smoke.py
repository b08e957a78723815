"""Smoke: the cluster and the stack are really up, before any fault.

Nodes Ready, the metrics API answers (`kubectl top nodes`), MinIO reports
every server online, an object written through the target's app is read back
straight from MinIO, and the target's HPA sees a CPU metric.
"""

import hashlib
import json
import secrets
from pathlib import Path

import httpx
import pytest

from chaos.clients import s3_client
from chaos.minio_health import admin_info
from kernel.wait import Deadline, Seen, wait_until
from scenarios import subject
from scenarios.harness import NotApplicable, Stack

pytestmark = pytest.mark.smoke


def test_nodes_ready_and_metrics_api_answers(stack: Stack):
    kubectl = stack.env.kubectl()
    nodes = kubectl.json(["get", "nodes"])["items"]
    assert nodes, "the cluster has no nodes"
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", node["metadata"]["name"]
    top = kubectl.run(["top", "nodes", "--no-headers"], timeout=60)
    assert len(top.strip().splitlines()) == len(nodes)


def test_every_minio_server_is_online(stack: Stack):
    info = admin_info(stack.minio_url, stack.credentials)
    assert len(info.servers_online) == stack.servers, str(info)
    assert len(info.drives_ok) == stack.drives, str(info)


def test_object_written_through_the_app_reads_back_from_minio(stack: Stack):
    app = stack.target.app
    if app is None:
        raise NotApplicable(f"target {stack.target.name} has no app")
    body = secrets.token_bytes(2048)
    key = f"smoke/{secrets.token_hex(8)}"
    with httpx.Client(base_url=stack.app_url, timeout=10) as client:
        put = client.request(app.write_method, app.write_path.replace("{key}", key), content=body)
    assert put.status_code in app.ack_status, f"HTTP {put.status_code}: {put.text[:300]}"
    if app.digest_header:
        assert put.headers.get(app.digest_header) == hashlib.sha256(body).hexdigest()
    s3 = s3_client(stack.minio_url, stack.credentials)
    response = s3.get_object(stack.bucket, app.object_name(key))
    try:
        assert response.read() == body
    finally:
        response.close()
        response.release_conn()
        # The stack keeps nothing of the check (it may be one chaosgate did not deploy).
        s3.remove_object(stack.bucket, app.object_name(key))


def test_hpa_reports_a_cpu_metric(stack: Stack):
    name = stack.need_hpa()

    def cpu_seen() -> Seen:
        hpa = stack.kube.autoscaling.read_namespaced_horizontal_pod_autoscaler_status(name, stack.namespace)
        for metric in hpa.status.current_metrics or []:
            if metric.resource is not None and metric.resource.name == "cpu":
                return Seen(metric.resource.current.average_utilization is not None, "cpu metric present")
        return Seen(False, f"current metrics: {hpa.status.current_metrics}")

    # metrics-server resolution (15 s) plus the HPA's sync period (15 s).
    wait_until(cpu_seen, what=f"HPA {name} to report CPU", timeout=Deadline(180), interval=5.0)


def test_the_run_records_what_it_tested(stack: Stack, run_dir: Path):
    """The report's header is read from the running stack: every release,
    every image with the digest the kubelet resolved, MinIO's version."""
    tested = json.loads((run_dir / subject.FILE).read_text())["stacks"][stack.variant]
    releases, images, minio = tested["releases"], tested["images"], tested["minio"]
    assert isinstance(releases, list), releases
    if stack.target.deploy is not None:  # chaosgate installed it: Helm lists every release
        assert {r["release"] for r in releases} >= {r.name for r in stack.target.deploy.releases}, releases
    assert all(r["chart"] and r["revision"] for r in releases), releases
    assert isinstance(images, list) and images, images
    assert all(i["digest"].startswith("sha256:") for i in images), images
    assert isinstance(minio, list) and minio and all("commit" in v for v in minio), minio
