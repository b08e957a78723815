"""What the MinIO chart must get right: every server lists every server of
every pool, drives are persistent unless asked otherwise, credentials come
from a Secret, and an endpoint-list change outdates every pool."""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

import pytest

from tests.charts.helpers import NAMESPACE, Rendered, RenderFn, pod_spec

ELLIPSIS = re.compile(r"\{(\d+)\.\.\.(\d+)\}")


def expand(pattern: str) -> list[str]:
    """Expand MinIO's ellipsis syntax ({0...3}) into every endpoint it names."""
    match = ELLIPSIS.search(pattern)
    if not match:
        return [pattern]
    lo, hi = int(match.group(1)), int(match.group(2))
    assert lo <= hi, f"empty range in {pattern}"
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [e for i in range(lo, hi + 1) for e in expand(f"{head}{i}{tail}")]


def env_file(rendered: Rendered) -> dict[str, str]:
    """KEY=value pairs of the MINIO_CONFIG_ENV_FILE the servers read."""
    (config,) = [c for c in rendered.of_kind("ConfigMap") if "config.env" in c.get("data", {})]
    out = {}
    for raw in config["data"]["config.env"].splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        out[key] = shlex.split(value)[0] if value.startswith('"') else value
    return out


def container(sts: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod_spec(sts)["containers"] if c["name"] == "minio")


def env_of(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c.get("env", [])}


def minio_sets(rendered: Rendered) -> list[dict[str, Any]]:
    return [
        s
        for s in rendered.of_kind("StatefulSet")
        if s["metadata"]["labels"]["app.kubernetes.io/name"] == "minio"
    ]


POOL_VARIANTS = {
    "one pool, one drive": ("stack", ("values-kind.yaml",), ()),
    "two pools": ("stack", ("values-kind.yaml", "values-two-pools.yaml"), ()),
    "ephemeral": ("stack", ("values-kind.yaml", "values-ephemeral.yaml"), ()),
    "multi-drive pools": (
        "minio",
        (),
        (
            "pools[0].name=p0,pools[0].servers=2,pools[0].drivesPerServer=2",
            "pools[1].name=p1,pools[1].servers=4,pools[1].drivesPerServer=2,pools[1].size=3Gi",
        ),
    ),
}


@pytest.mark.parametrize("variant", sorted(POOL_VARIANTS))
def test_endpoint_list_names_every_server_and_drive_of_every_pool(render: RenderFn, variant: str) -> None:
    chart, values, sets = POOL_VARIANTS[variant]
    rendered = render(chart, *values, set_values=sets)
    volumes = env_file(rendered)["MINIO_VOLUMES"].split()
    statefulsets = minio_sets(rendered)
    assert len(volumes) == len(statefulsets), "one ellipsis argument per pool"
    expected: list[str] = []
    for sts in statefulsets:
        mounts = [
            m["mountPath"] for m in container(sts)["volumeMounts"] if m["mountPath"].startswith("/data")
        ]
        headless = sts["spec"]["serviceName"]
        for i in range(sts["spec"]["replicas"]):
            host = f"{sts['metadata']['name']}-{i}.{headless}.{NAMESPACE}.svc.cluster.local:9000"
            expected += [f"http://{host}{m}" for m in mounts]
    listed = [e for arg in volumes for e in expand(arg)]
    assert sorted(listed) == sorted(expected)
    assert len(listed) == len(set(listed))


def test_single_drive_uses_plain_path_and_multi_drive_uses_ellipsis(render: RenderFn) -> None:
    # MinIO reads "/data{1...1}" as a one-element range and "/data" as a
    # path; the chart must use the plain path for one drive.
    single = env_file(render("stack", "values-kind.yaml"))["MINIO_VOLUMES"]
    assert single.endswith(":9000/data")
    multi = env_file(
        render("minio", set_values=("pools[0].name=p0,pools[0].servers=2,pools[0].drivesPerServer=3",))
    )
    assert multi["MINIO_VOLUMES"].endswith(":9000/data{1...3}")


def test_servers_read_the_endpoint_list_from_a_directory_mounted_file(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml")
    for sts in minio_sets(rendered):
        c = container(sts)
        # No endpoint arguments on the command line: only the file carries them.
        assert c["command"] == ["minio", "server", "--address", ":9000", "--console-address", ":9001"]
        env_path = env_of(c)["MINIO_CONFIG_ENV_FILE"]["value"]
        mount = next(m for m in c["volumeMounts"] if env_path.startswith(m["mountPath"] + "/"))
        # subPath mounts never see ConfigMap updates; the file must update in place.
        assert "subPath" not in mount
        volume = next(v for v in pod_spec(sts)["volumes"] if v["name"] == mount["name"])
        config = rendered.one("ConfigMap", volume["configMap"]["name"])
        assert env_path.rsplit("/", 1)[1] in config["data"]


def test_statefulset_shape(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml", "values-two-pools.yaml")
    headless = rendered.one("Service", "minio-hl")
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    for sts in minio_sets(rendered):
        spec = sts["spec"]
        assert spec["podManagementPolicy"] == "Parallel"
        assert spec["serviceName"] == "minio-hl"
        # Coordinated restarts only: never one server at a time on a new list.
        assert spec["updateStrategy"]["type"] == "OnDelete"
        labels = spec["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in headless["spec"]["selector"].items())
    client = rendered.one("Service", "minio")
    assert {p["name"]: p["port"] for p in client["spec"]["ports"]} == {"api": 9000, "console": 9001}


def test_endpoint_change_outdates_every_pool(render: RenderFn) -> None:
    one = render("stack", "values-kind.yaml")
    two = render("stack", "values-kind.yaml", "values-two-pools.yaml")

    def checksums(r: Rendered) -> dict[str, str]:
        return {
            s["metadata"]["name"]: s["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            for s in minio_sets(r)
        }

    before, after = checksums(one), checksums(two)
    assert set(after) == {"minio-pool0", "minio-pool1"}
    assert len(set(after.values())) == 1, "all pools must carry the same checksum"
    assert before["minio-pool0"] != after["minio-pool0"], "adding a pool must change pool0's pod template"


@pytest.mark.parametrize(
    ("values", "persistent"),
    [
        (("values-kind.yaml",), True),
        (("values-kind.yaml", "values-two-pools.yaml"), True),
        (("values-kind.yaml", "values-ephemeral.yaml"), False),
    ],
)
def test_drives_are_claims_unless_ephemeral(
    render: RenderFn, values: tuple[str, ...], persistent: bool
) -> None:
    for sts in minio_sets(render("stack", *values)):
        drive_mounts = {
            m["name"] for m in container(sts)["volumeMounts"] if m["mountPath"].startswith("/data")
        }
        claims = {t["metadata"]["name"]: t for t in sts["spec"].get("volumeClaimTemplates", [])}
        empty_dirs = {v["name"] for v in pod_spec(sts)["volumes"] if "emptyDir" in v}
        if persistent:
            assert set(claims) == drive_mounts
            assert not drive_mounts & empty_dirs
            for claim in claims.values():
                assert claim["spec"]["storageClassName"] == "standard"
                assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
        else:
            assert not claims
            assert drive_mounts <= empty_dirs


def test_pool_size_overrides_the_default(render: RenderFn) -> None:
    rendered = render("minio", set_values=("pools[0].name=p0,pools[0].servers=4,pools[0].size=7Gi",))
    (sts,) = minio_sets(rendered)
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "7Gi"
    # An empty storageClass means the cluster default: the field is left out.
    assert "storageClassName" not in sts["spec"]["volumeClaimTemplates"][0]["spec"]


def test_probes_metrics_and_placement(render: RenderFn) -> None:
    for sts in minio_sets(render("stack", "values-kind.yaml")):
        c = container(sts)
        assert c["livenessProbe"]["httpGet"]["path"] == "/minio/health/live"
        assert c["readinessProbe"]["httpGet"]["path"] == "/minio/health/ready"
        assert env_of(c)["MINIO_PROMETHEUS_AUTH_TYPE"]["value"] == "public"
        annotations = sts["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/minio/v2/metrics/cluster"
        assert annotations["prometheus.io/port"] == "9000"
        terms = pod_spec(sts)["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"
        ]
        assert terms[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert (
            "requiredDuringSchedulingIgnoredDuringExecution"
            not in pod_spec(sts)["affinity"]["podAntiAffinity"]
        )
        assert c["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}


def test_one_pdb_per_pool_allows_one_server_down(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml", "values-two-pools.yaml")
    pdbs = {p["metadata"]["name"]: p for p in rendered.of_kind("PodDisruptionBudget")}
    for sts in minio_sets(rendered):
        pdb = pdbs[sts["metadata"]["name"]]
        assert pdb["spec"]["maxUnavailable"] == 1
        assert pdb["spec"]["selector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]


def test_credentials_come_from_the_generated_secret(render: RenderFn) -> None:
    rendered = render("stack", "values-kind.yaml")
    secret = rendered.one("Secret", "minio-credentials")
    assert set(secret["data"]) == {"rootUser", "rootPassword"}
    # Kept on uninstall: the drives outlive the release and hold data
    # encrypted with these credentials.
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    for sts in minio_sets(rendered):
        env = env_of(container(sts))
        for var, key in (("MINIO_ROOT_USER", "rootUser"), ("MINIO_ROOT_PASSWORD", "rootPassword")):
            assert "value" not in env[var]
            assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "minio-credentials", "key": key}


def test_generated_credentials_are_random_per_render(render_fresh: RenderFn) -> None:
    # helm template cannot look up the cluster, so every offline render
    # generates new values; in a cluster, lookup keeps the first ones.
    first, second = (render_fresh("minio").one("Secret")["data"] for _ in range(2))
    for key in ("rootUser", "rootPassword"):
        assert first[key] != second[key]
    password = base64.b64decode(first["rootPassword"]).decode()
    assert len(password) == 40 and password.isalnum()


def test_existing_secret_is_referenced_not_generated(render: RenderFn) -> None:
    rendered = render(
        "minio", set_values=("auth.existingSecret=my-creds,auth.userKey=access,auth.passwordKey=secret",)
    )
    assert not rendered.of_kind("Secret")
    env = env_of(container(minio_sets(rendered)[0]))
    assert env["MINIO_ROOT_USER"]["valueFrom"]["secretKeyRef"] == {"name": "my-creds", "key": "access"}
    assert env["MINIO_ROOT_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "my-creds", "key": "secret"}


def test_no_autoscaler_targets_minio(render: RenderFn) -> None:
    rendered = render("minio", "values-kind.yaml")
    assert not rendered.of_kind("HorizontalPodAutoscaler")


def test_the_reference_target_asks_servers_on_the_port_the_chart_gives_them() -> None:
    import yaml  # noqa: PLC0415

    from deployer import target  # noqa: PLC0415
    from tests.charts.helpers import CHARTS  # noqa: PLC0415

    values = yaml.safe_load((CHARTS / "minio" / "values.yaml").read_text())
    assert values["containerPorts"]["api"] == target.load(target.REFERENCE).minio.pod_port
