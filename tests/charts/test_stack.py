"""Properties every shipped variant must keep: the HPA is on the gateway and
never on MinIO, every pod runs as non-root, no credential is written in a
values file or the rendered output, and the subcharts point at each other."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from deployer.kind import NODE_PORTS
from tests.charts.helpers import (
    CHART_NAMES,
    CHARTS,
    STACK_VARIANTS,
    VARIANTS,
    WORKLOAD_KINDS,
    RenderFn,
    pod_spec,
)

BAD_VALUES = Path(__file__).parent / "bad-values"


@pytest.mark.parametrize("variant", STACK_VARIANTS)
def test_hpa_only_on_the_gateway(render: RenderFn, variant: str) -> None:
    rendered = render("stack", *VARIANTS[variant][1])
    hpas = rendered.of_kind("HorizontalPodAutoscaler")
    assert len(hpas) == 1
    target = hpas[0]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "gateway")
    # Every StatefulSet is MinIO, and none is a scale target.
    assert rendered.of_kind("StatefulSet")
    assert all(
        s["metadata"]["labels"]["app.kubernetes.io/name"] == "minio" for s in rendered.of_kind("StatefulSet")
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_pod_runs_as_non_root_without_privileges(render: RenderFn, variant: str) -> None:
    chart, values = VARIANTS[variant]
    workloads = [d for d in render(chart, *values).docs if d["kind"] in WORKLOAD_KINDS]
    assert workloads
    for doc in workloads:
        spec = pod_spec(doc)
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] > 0, where
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert not sc.get("privileged", False), where
            assert "resources" in c and c["resources"]["requests"], where


@pytest.mark.parametrize("variant", STACK_VARIANTS)
def test_subcharts_point_at_each_other(render: RenderFn, variant: str) -> None:
    rendered = render("stack", *VARIANTS[variant][1])
    secrets = {s["metadata"]["name"]: s for s in rendered.of_kind("Secret")}
    (gateway_container,) = pod_spec(rendered.one("Deployment", "gateway"))["containers"]
    env = {e["name"]: e for e in gateway_container["env"]}
    ref = env["GATEWAY_SECRET_KEY"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] in secrets[ref["name"]]["data"]
    endpoint = urlsplit(env["MINIO_ENDPOINT"]["value"])
    host, port = endpoint.hostname, endpoint.port
    service = rendered.one("Service", host)
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    prometheus = rendered.one("Service", "prometheus")
    assert prometheus["spec"]["ports"][0]["port"] == 9090


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_chart_ships_a_helm_test(render: RenderFn, variant: str) -> None:
    chart, values = VARIANTS[variant]
    hooks = [
        d
        for d in render(chart, *values).of_kind("Pod")
        if d["metadata"]["annotations"].get("helm.sh/hook") == "test"
    ]
    expected = 4 if chart == "stack" else 1  # the umbrella runs its subcharts' tests plus its own
    assert len(hooks) == expected


# --- credentials ------------------------------------------------------------

# Keys that may legitimately name a Secret or a key inside one.
REFERENCE_KEYS = {"existingSecret", "userKey", "passwordKey", "imagePullSecrets"}
CREDENTIAL_KEY = re.compile(
    r"(password|passwd|secret|token|accesskey|secretkey|rootuser|credential)", re.IGNORECASE
)


def _walk(node: Any, path: str = "") -> list[tuple[str, str, Any]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((f"{path}.{key}", str(key), value))
            out += _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _walk(value, f"{path}[{i}]")
    return out


VALUES_FILES = sorted(
    [p for chart in CHART_NAMES for p in (CHARTS / chart).glob("values*.yaml")]
    + list(BAD_VALUES.glob("*.yaml"))
)


def credential_findings(path: Path) -> list[str]:
    """Credential-like keys holding a value, and MinIO's default credentials."""
    text = path.read_text()
    findings = ["minioadmin"] if "minioadmin" in text.lower() else []
    for where, key, value in _walk(yaml.safe_load(text) or {}):
        if key in REFERENCE_KEYS or not CREDENTIAL_KEY.search(key):
            continue
        # A credential-like key may only hold a toggle, a section or nothing.
        if value not in (None, "", True, False) and not isinstance(value, dict):
            findings.append(where)
    return findings


@pytest.mark.parametrize("path", VALUES_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_credentials_in_values_files(path: Path) -> None:
    assert credential_findings(path) == []


def test_credential_scan_catches_planted_credentials(tmp_path: Path) -> None:
    # Guards the scan above: it must report what it is meant to find.
    planted = tmp_path / "values.yaml"
    planted.write_text("auth:\n  rootPassword: hunter22\n  accessKey: minioadmin\n  existingSecret: fine\n")
    assert credential_findings(planted) == ["minioadmin", ".auth.rootPassword", ".auth.accessKey"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_literal_credentials_in_rendered_output(render: RenderFn, variant: str) -> None:
    chart, values = VARIANTS[variant]
    rendered = render(chart, *values)
    for doc in rendered.docs:
        if doc["kind"] in WORKLOAD_KINDS:
            for c in pod_spec(doc).get("initContainers", []) + pod_spec(doc)["containers"]:
                for e in c.get("env", []):
                    if CREDENTIAL_KEY.search(e["name"]) or e["name"].startswith("MINIO_ROOT"):
                        assert "value" not in e, f"{doc['metadata']['name']}: {e['name']} is a literal"
    # The generated values appear base64-encoded in the Secret and nowhere else.
    for secret in rendered.of_kind("Secret"):
        for encoded in secret["data"].values():
            plain = base64.b64decode(encoded).decode()
            assert rendered.text.count(plain) == 0
            assert rendered.text.count(encoded) == 1


def test_the_reference_target_reaches_every_service_through_a_node_port_twin(render: RenderFn) -> None:
    # kind maps NODE_PORTS to 127.0.0.1 (deployer/kind.py); chaosgate adds a
    # NodePort twin of each Service the target names. The chart's own Services
    # stay ClusterIP, so no node port is taken twice.
    from deployer import stack, target  # noqa: PLC0415

    reference = target.load(target.REFERENCE)
    rendered = render("stack", "values-kind.yaml")
    services = {s["metadata"]["name"]: s for s in rendered.of_kind("Service")}
    assert all(s["spec"].get("type", "ClusterIP") != "NodePort" for s in services.values())
    pods = [
        w["spec"]["template"]["metadata"]["labels"]
        for w in (*rendered.of_kind("StatefulSet"), *rendered.of_kind("Deployment"))
    ]
    assert reference.app is not None and reference.prometheus is not None
    for role, name, port in (
        ("minio", reference.minio.service, reference.minio.port),
        ("app", reference.app.service, reference.app.port),
        ("prometheus", reference.prometheus.service, reference.prometheus.port),
    ):
        twin = stack.reach_service(role, services[name], port, NODE_PORTS[role], "chaosgate")
        assert twin["spec"]["ports"][0]["nodePort"] == NODE_PORTS[role]
        selector = twin["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pods), f"{name} selects no pod"