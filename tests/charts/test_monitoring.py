"""Prometheus' configuration and rules as rendered: what it scrapes, with
which permissions, and the alerts the suite reads."""

from __future__ import annotations

from typing import Any

import yaml

from tests.charts.helpers import NAMESPACE, Rendered, RenderFn


def config(rendered: Rendered) -> dict[str, Any]:
    (cm,) = [c for c in rendered.of_kind("ConfigMap") if "prometheus.yml" in c["data"]]
    return yaml.safe_load(cm["data"]["prometheus.yml"])


def rules(rendered: Rendered) -> dict[str, dict[str, Any]]:
    (cm,) = [c for c in rendered.of_kind("ConfigMap") if "alerts.yml" in c["data"]]
    groups = yaml.safe_load(cm["data"]["alerts.yml"])["groups"]
    return {r.get("alert") or r["record"]: r for g in groups for r in g["rules"]}


def test_pods_are_discovered_by_annotation_in_the_release_namespace(render: RenderFn) -> None:
    jobs = {j["job_name"]: j for j in config(render("stack", "values-kind.yaml"))["scrape_configs"]}
    pods = jobs["kubernetes-pods"]
    (sd,) = pods["kubernetes_sd_configs"]
    assert sd["role"] == "pod"
    assert sd["namespaces"]["names"] == [NAMESPACE]
    keep = pods["relabel_configs"][0]
    assert keep["action"] == "keep"
    assert keep["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    targets = {r.get("target_label") for r in pods["relabel_configs"]}
    assert {"__metrics_path__", "__address__", "app", "pod", "namespace"} <= targets
    # MinIO's erasure-set metrics carry their own "pool" label.
    assert "pool" not in targets


def test_hpa_cpu_source_is_scraped_through_the_api_server(render: RenderFn) -> None:
    jobs = {j["job_name"]: j for j in config(render("stack", "values-kind.yaml"))["scrape_configs"]}
    kubelet = jobs["kubelet-resource"]
    assert kubelet["kubernetes_sd_configs"] == [{"role": "node"}]
    relabel = {r["target_label"]: r for r in kubelet["relabel_configs"]}
    assert relabel["__address__"]["replacement"] == "kubernetes.default.svc:443"
    assert relabel["__metrics_path__"]["replacement"] == "/api/v1/nodes/$1/proxy/metrics/resource"
    assert "kubelet-cadvisor" not in jobs


def test_rbac_allows_discovery_and_the_kubelet_proxy(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml")
    role = rendered.one("ClusterRole")
    granted = {
        (res, verb) for rule in role["rules"] for res in rule.get("resources", []) for verb in rule["verbs"]
    }
    for res in ("pods", "nodes", "endpoints", "services"):
        assert {(res, "get"), (res, "list"), (res, "watch")} <= granted
    assert {("nodes/proxy", "get"), ("nodes/metrics", "get")} <= granted
    # Read-only: nothing may change the cluster.
    assert not {verb for _, verb in granted} - {"get", "list", "watch"}
    binding = rendered.one("ClusterRoleBinding")
    account = rendered.one("ServiceAccount")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": NAMESPACE}
    ]
    prometheus = rendered.one("Deployment", "prometheus")
    assert prometheus["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_alert_rules_watch_minio_and_the_gateway(render: RenderFn) -> None:
    found = rules(render("stack", "values-kind.yaml"))
    expected_metrics = {
        "MinIONodeOffline": "minio_cluster_nodes_offline_total",
        "MinIODriveOffline": "minio_cluster_drive_offline_total",
        "MinIOWriteQuorumLost": "minio_cluster_health_erasure_set_status",
        "GatewayHigh5xxRatio": "gateway_requests_total",
        "GatewayAtMaxReplicas": 'up{app="gateway"}',
    }
    for alert, needle in expected_metrics.items():
        rule = found[alert]
        assert needle in rule["expr"], alert
        assert rule["for"] == "30s"
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
    assert "minio_cluster_health_status" in found["MinIOWriteQuorumLost"]["expr"]
    assert 'app="minio"' in found["MinIONodeOffline"]["expr"]
    # Matches the HPA's maxReplicas of values-kind.yaml.
    assert found["GatewayAtMaxReplicas"]["expr"].endswith(">= 4")
    assert 'status=~"5.."' in found["GatewayHigh5xxRatio"]["expr"]


def test_alert_annotations_keep_prometheus_templates(render: RenderFn) -> None:
    # Helm must pass {{ $value }} through untouched for Prometheus to expand.
    found = rules(render("monitoring"))
    assert "{{ $value }}" in found["MinIONodeOffline"]["annotations"]["summary"]


def test_alertmanager_is_optional(render: RenderFn) -> None:
    off = render("monitoring")
    assert "alerting" not in config(off)
    assert not [d for d in off.of_kind("Deployment") if d["metadata"]["name"].endswith("alertmanager")]
    on = render(
        "monitoring",
        set_values=("alertmanager.enabled=true", "alertmanager.webhookUrl=http://hook:8080/alerts"),
    )
    (am,) = config(on)["alerting"]["alertmanagers"]
    assert am["static_configs"][0]["targets"] == ["cg-monitoring-alertmanager:9093"]
    on.one("Deployment", "cg-monitoring-alertmanager")
    on.one("Service", "cg-monitoring-alertmanager")
    receiver = yaml.safe_load(on.one("ConfigMap", "cg-monitoring-alertmanager")["data"]["alertmanager.yml"])
    assert receiver["route"]["receiver"] == "webhook"


def test_config_change_restarts_prometheus(render: RenderFn) -> None:
    def checksum(r: Rendered) -> str:
        return r.one("Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/rules"]

    assert checksum(render("monitoring")) != checksum(render("monitoring", set_values=("alerts.for=5m",)))
