"""The naive-stack example target (examples/naive-stack): its chart lints and
renders, its weaknesses are really in the manifests (an HPA on the MinIO
StatefulSet, emptyDir drives, credentials from the values file), and its
target file names objects the chart really renders."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deployer.images import stackpins
from tests.charts.helpers import KUBE_VERSION, REPO, HelmRun, Rendered, pod_spec

EXAMPLE = REPO / "examples" / "naive-stack"
CHART = EXAMPLE / "chart"
TARGET: dict[str, Any] = yaml.safe_load((EXAMPLE / "target.yaml").read_text())
VALUES: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
NAMESPACE = TARGET["namespace"]
RELEASE = TARGET["deploy"]["releases"][0]["name"]
ELLIPSIS = re.compile(r"\{(\d+)\.\.\.(\d+)\}")

NaiveRender = Callable[..., Rendered]


@pytest.fixture(scope="module")
def naive(helm: HelmRun) -> NaiveRender:
    """naive(*--set values) -> Rendered, as the target installs it."""
    cache: dict[tuple[str, ...], Rendered] = {}

    def _render(*set_values: str) -> Rendered:
        if set_values not in cache:
            args: list[str | Path] = ["template", RELEASE, CHART, "--namespace", NAMESPACE]
            args += ["--kube-version", KUBE_VERSION, "--values", CHART / "values.yaml"]
            for s in set_values:
                args += ["--set", s]
            result = helm(*args)
            assert result.returncode == 0, result.stderr
            cache[set_values] = Rendered(result.stdout, tuple(d for d in yaml.safe_load_all(result.stdout) if d))
        return cache[set_values]

    return _render


def expand(arg: str) -> list[str]:
    """MinIO's ellipsis notation, one {a...b} range: the endpoints it names."""
    match = ELLIPSIS.search(arg)
    if match is None:
        return [arg]
    low, high = int(match[1]), int(match[2])
    return [arg[: match.start()] + str(i) + arg[match.end() :] for i in range(low, high + 1)]


def minio_endpoints(rendered: Rendered) -> list[str]:
    (container,) = pod_spec(rendered.one("StatefulSet", "minio"))["containers"]
    command = container["command"]
    assert command[:2] == ["minio", "server"]
    urls = [a for a in command[2:] if a.startswith("http")]
    return [e for url in urls for e in expand(url)]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def labels_match(selector: str, labels: dict[str, str]) -> bool:
    wanted = dict(part.split("=", 1) for part in selector.split(","))
    return all(labels.get(k) == v for k, v in wanted.items())


# --- lint and API ------------------------------------------------------------


def test_helm_lint_strict(helm: HelmRun) -> None:
    result = helm("lint", "--strict", CHART, "--kube-version", KUBE_VERSION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_every_manifest_matches_the_kubernetes_api(naive: NaiveRender) -> None:
    rendered = naive()
    kinds = sorted(d["kind"] for d in rendered.docs)
    assert kinds == ["Deployment", "HorizontalPodAutoscaler", "Secret", "Service", "Service", "Service", "StatefulSet"]
    for doc in rendered.docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


# --- the weaknesses, as rendered -----------------------------------------------


def test_weakness_hpa_scales_the_minio_statefulset(naive: NaiveRender) -> None:
    rendered = naive()
    hpa = rendered.one("HorizontalPodAutoscaler", TARGET["hpa"])
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "StatefulSet", "minio")
    sts = rendered.one("StatefulSet", "minio")
    # It starts at the installed size and may only grow past the endpoint list.
    assert hpa["spec"]["minReplicas"] == sts["spec"]["replicas"] == 4
    assert hpa["spec"]["maxReplicas"] == 6
    assert hpa["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] <= 50
    (container,) = pod_spec(sts)["containers"]
    assert container["resources"]["requests"]["cpu"] == "50m"


def test_weakness_minio_drives_are_emptydir(naive: NaiveRender) -> None:
    sts = naive().one("StatefulSet", "minio")
    assert "volumeClaimTemplates" not in sts["spec"]
    spec = pod_spec(sts)
    volumes = {v["name"]: v for v in spec["volumes"]}
    (container,) = spec["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/data"]
    assert "emptyDir" in volumes[mount["name"]]
    assert all(e.endswith("/data") for e in minio_endpoints(naive()))


def test_weakness_secret_holds_the_values_file_credentials(naive: NaiveRender) -> None:
    creds = TARGET["minio"]["credentials"]
    secret = naive().one("Secret", creds["secret"])
    data = secret["data"]
    assert data[creds["userKey"]] == VALUES["auth"]["rootUser"]
    assert data[creds["passwordKey"]] == VALUES["auth"]["rootPassword"]
    # Real base64 of throwaway values, so MinIO accepts them (user >= 3, password >= 8 characters).
    user = base64.b64decode(data[creds["userKey"]], validate=True).decode()
    password = base64.b64decode(data[creds["passwordKey"]], validate=True).decode()
    assert user.startswith("naive-") and len(user) >= 3
    assert "do-not-use" in password and len(password) >= 8


def test_weakness_no_probes_on_minio(naive: NaiveRender) -> None:
    (container,) = pod_spec(naive().one("StatefulSet", "minio"))["containers"]
    assert "readinessProbe" not in container
    assert "livenessProbe" not in container


# --- MinIO topology ------------------------------------------------------------------


@pytest.mark.parametrize("replicas", [4, 6])
def test_endpoint_list_names_exactly_the_installed_servers(naive: NaiveRender, replicas: int) -> None:
    rendered = naive() if replicas == VALUES["minio"]["replicas"] else naive(f"minio.replicas={replicas}")
    sts = rendered.one("StatefulSet", "minio")
    assert sts["spec"]["replicas"] == replicas
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    headless = rendered.one("Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    domain = f"{headless['metadata']['name']}.{NAMESPACE}.svc.cluster.local"
    expected = [f"http://minio-{i}.{domain}/data" for i in range(replicas)]
    assert minio_endpoints(rendered) == expected
    (container,) = pod_spec(sts)["containers"]
    command = container["command"]
    assert command[command.index("--address") + 1] == ":9000"
    assert command[command.index("--console-address") + 1] == ":9001"


def test_expand_reads_minio_ellipses() -> None:
    # Guards the test above: an expander that returned its input unchanged
    # would compare one URL with one URL and pass for a single server.
    assert expand("http://m-{0...2}.hl/data") == ["http://m-0.hl/data", "http://m-1.hl/data", "http://m-2.hl/data"]
    assert expand("http://m-0.hl/data") == ["http://m-0.hl/data"]


# --- credentials are read from the Secret -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "wanted"),
    [
        ("StatefulSet", "minio", {"MINIO_ROOT_USER": "userKey", "MINIO_ROOT_PASSWORD": "passwordKey"}),
        ("Deployment", "app", {"GATEWAY_ACCESS_KEY": "userKey", "GATEWAY_SECRET_KEY": "passwordKey"}),
    ],
)
def test_credentials_come_by_secret_key_ref(naive: NaiveRender, kind: str, name: str, wanted: dict[str, str]) -> None:
    creds = TARGET["minio"]["credentials"]
    (container,) = pod_spec(naive().one(kind, name))["containers"]
    env = env_of(container)
    for variable, key_field in wanted.items():
        assert "value" not in env[variable], f"{variable} is a literal"
        ref = env[variable]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == (creds["secret"], creds[key_field])


# --- the app -------------------------------------------------------------------


def test_app_reaches_minio_and_uses_the_target_bucket(naive: NaiveRender) -> None:
    rendered = naive()
    deployment = rendered.one("Deployment", TARGET["app"]["deployment"])
    assert deployment["spec"]["replicas"] == 2
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    env = env_of(container)
    assert env["MINIO_ENDPOINT"]["value"] == f"http://{TARGET['minio']['service']}:{TARGET['minio']['port']}"
    assert env["GATEWAY_BUCKET"]["value"] == TARGET["minio"]["bucket"]
    assert env["GATEWAY_PORT"]["value"] == str(TARGET["app"]["port"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    # The gateway image runs as 10001 with a read-only root: /tmp must be writable.
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]]
    assert not [d for d in rendered.of_kind("HorizontalPodAutoscaler") if d["spec"]["scaleTargetRef"]["name"] == "app"]


# --- the target file names what the chart renders ---------------------------------------


@pytest.mark.parametrize("role", ["minio", "app"])
def test_target_services_select_the_target_pods(naive: NaiveRender, role: str) -> None:
    rendered = naive()
    section = TARGET[role]
    service = rendered.one("Service", section["service"])
    assert section["port"] in [p["port"] for p in service["spec"]["ports"]]
    workloads = (
        [rendered.one("StatefulSet", n) for n in section["statefulsets"]]
        if role == "minio"
        else [rendered.one("Deployment", section["deployment"])]
    )
    for workload in workloads:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert labels_match(section["selector"], labels)
        assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    # The selector matches no pod of the other role.
    other = rendered.one("Deployment", "app") if role == "minio" else rendered.one("StatefulSet", "minio")
    assert not labels_match(section["selector"], other["spec"]["template"]["metadata"]["labels"])


def test_target_image_keys_exist_in_values() -> None:
    (release,) = TARGET["deploy"]["releases"]
    assert {i["image"] for i in release["images"]} == set(TARGET["deploy"]["images"])
    for wanted in release["images"]:
        for key in (wanted["repository"], wanted["tag"]):
            node: Any = VALUES
            for part in key.split("."):
                node = node[part]
            assert isinstance(node, str) and node, key


def test_default_images_restate_the_stack_pins() -> None:
    # The target always sets both; the defaults only serve a bare helm install,
    # and must not drift from the images chaosgate ships.
    minio, app = VALUES["minio"]["image"], VALUES["app"]["image"]
    assert f"{minio['repository']}:{minio['tag']}" == stackpins.UPSTREAM["minio"]
    assert f"{app['repository']}:{app['tag']}" == stackpins.chart_image("app")
