"""The gateway chart: HPA on CPU with the configured behaviour, credentials
from MinIO's Secret, probes, and the unsafe mode only with its acknowledgement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.charts.helpers import Rendered, RenderFn, pod_spec


def gateway(rendered: Rendered) -> dict[str, Any]:
    return rendered.one("Deployment", "gateway")


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (c,) = pod_spec(deployment)["containers"]
    return {e["name"]: e for e in c["env"]}


def test_hpa_scales_the_gateway_on_cpu_with_kind_windows(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml")
    hpa = rendered.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 60}
    behavior = hpa["spec"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    # kind windows are shorter than the chart's defaults, so a short chaos run
    # sees scale-in.
    default = render("app").one("HorizontalPodAutoscaler")["spec"]["behavior"]
    assert (
        behavior["scaleDown"]["stabilizationWindowSeconds"]
        < default["scaleDown"]["stabilizationWindowSeconds"]
    )


def test_hpa_owns_the_replica_count(render: RenderFn) -> None:
    # A replicas field next to an HPA resets the HPA's count on every upgrade.
    assert "replicas" not in gateway(render("stack", "values-kind.yaml"))["spec"]
    fixed = render("app", set_values=("autoscaling.enabled=false", "replicaCount=3"))
    assert not fixed.of_kind("HorizontalPodAutoscaler")
    assert fixed.one("Deployment")["spec"]["replicas"] == 3


def test_cpu_request_present_for_the_hpa(render: RenderFn) -> None:
    (c,) = pod_spec(gateway(render("stack", "values-kind.yaml")))["containers"]
    assert c["resources"]["requests"]["cpu"] == "50m"


def test_gateway_env_and_credentials(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml")
    env = env_of(gateway(rendered))
    assert env["MINIO_ENDPOINT"]["value"] == "http://minio:9000"
    assert env["GATEWAY_BUCKET"]["value"] == "chaosgate"
    assert env["GATEWAY_PORT"]["value"] == "8080"
    # The gateway reads GATEWAY_ACCESS_KEY/GATEWAY_SECRET_KEY (app/gateway/config.py).
    pairs = (
        ("GATEWAY_ACCESS_KEY", "rootUser"),
        ("GATEWAY_SECRET_KEY", "rootPassword"),
        ("MINIO_ROOT_USER", "rootUser"),
        ("MINIO_ROOT_PASSWORD", "rootPassword"),
    )
    for var, key in pairs:
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "minio-credentials", "key": key}
    assert "GATEWAY_ACK_BEFORE_WRITE" not in env
    assert env["GATEWAY_BUCKET_VERSIONING"]["value"] == "enabled"
    assert env["GATEWAY_NONCURRENT_DAYS"]["value"] == "1"


def test_unversioned_variant_turns_bucket_versioning_off(render: RenderFn) -> None:
    env = env_of(gateway(render("stack", "values-kind.yaml", "values-unversioned.yaml")))
    assert env["GATEWAY_BUCKET_VERSIONING"]["value"] == "off"


def test_repair_is_on_by_default_and_the_unrepaired_variant_turns_it_off(render: RenderFn) -> None:
    assert env_of(gateway(render("stack", "values-kind.yaml")))["GATEWAY_REPAIR"]["value"] == "on"
    env = env_of(gateway(render("stack", "values-kind.yaml", "values-unrepaired.yaml")))
    assert env["GATEWAY_REPAIR"]["value"] == "off"
    assert env["GATEWAY_BUCKET_VERSIONING"]["value"] == "enabled"


def test_delete_settle_is_30_s_by_default_and_the_unsettled_variant_turns_it_off(render: RenderFn) -> None:
    assert env_of(gateway(render("stack", "values-kind.yaml")))["GATEWAY_DELETE_SETTLE"]["value"] == "30"
    env = env_of(gateway(render("stack", "values-kind.yaml", "values-unsettled.yaml")))
    assert env["GATEWAY_DELETE_SETTLE"]["value"] == "0"
    assert env["GATEWAY_BUCKET_VERSIONING"]["value"] == "enabled"


def test_endpoint_and_secret_accept_templates(render: RenderFn, tmp_path: Path) -> None:
    # Standalone installs point at "<release>-minio" without knowing the release name.
    values = tmp_path / "values.yaml"
    values.write_text(
        "minio:\n"
        '  endpoint: "http://{{ .Release.Name }}-minio:9000"\n'
        '  existingSecret: "{{ .Release.Name }}-minio-credentials"\n'
    )
    rendered = render("app", values)
    env = env_of(rendered.one("Deployment"))
    assert env["MINIO_ENDPOINT"]["value"] == "http://cg-minio:9000"
    assert env["MINIO_ROOT_USER"]["valueFrom"]["secretKeyRef"]["name"] == "cg-minio-credentials"


def test_unsafe_variant_sets_the_env_and_marks_the_deployment(render: RenderFn) -> None:
    deployment = gateway(render("stack", "values-kind.yaml", "values-unsafe-app.yaml"))
    assert env_of(deployment)["GATEWAY_ACK_BEFORE_WRITE"]["value"] == "unsafe-ack-before-write"
    assert deployment["metadata"]["annotations"]["chaosgate/unsafe"] == "ack-before-write"


def test_probes_pdb_and_scrape_annotations(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml")
    deployment = gateway(rendered)
    (c,) = pod_spec(deployment)["containers"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # Readiness follows the process, not MinIO (see the Deployment template).
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == "8080"
    pdb = rendered.one("PodDisruptionBudget", "gateway")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    service = rendered.one("Service", "gateway")
    assert service["spec"]["ports"][0]["port"] == 8080


def test_gateways_spread_over_nodes_and_can_opt_out(render: RenderFn) -> None:
    deployment = gateway(render("stack", "values-kind.yaml"))
    (spread,) = pod_spec(deployment)["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["maxSkew"] == 1
    # Soft: a one-node cluster still schedules every gateway.
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    off = render("app", set_values=("topologySpread.enabled=false",)).one("Deployment")
    assert "topologySpreadConstraints" not in pod_spec(off)
