"""chaos.preflight: every check fires on a manifest that has its weakness and
stays quiet on one that does not; the reference chart has no error; the
naive example chart shows its three weaknesses; the CLI's exit codes."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos import preflight
from chaos.__main__ import main
from chaos.preflight import CHECKS, Finding, check, parse_manifests
from chaos.preflight.erasure import layouts, parse_pools
from chaos.preflight.manifests import minio_workloads
from chaos.preflight.servers import read_server
from kernel.errors import BadInputError

# The chart tests' fixtures: the pinned helm and a cached `helm template`.
from tests.charts.conftest import charts_dir, helm, render  # noqa: F401
from tests.charts.helpers import CHARTS, REPO, RenderFn

Doc = dict[str, Any]
HOST = "kubernetes.io/hostname"
LABELS = {"app.kubernetes.io/name": "minio"}
NS = "store"
NAIVE_CHART = REPO / "examples" / "naive-stack" / "chart"


# --- a stack that passes every check, and ways to break it ----------------------------


def statefulset(name: str = "minio", servers: int = 4, drives: str = "/data") -> Doc:
    endpoints = f"http://{name}-{{0...{servers - 1}}}.minio-hl.{NS}.svc.cluster.local:9000{drives}"
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "serviceName": "minio-hl",
            "replicas": servers,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": HOST,
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": LABELS},
                        }
                    ],
                    "containers": [
                        {
                            "name": "minio",
                            "image": "quay.io/minio/minio:test",
                            "command": ["minio", "server", endpoints, "--address", ":9000"],
                            "env": [
                                {"name": n, "valueFrom": {"secretKeyRef": {"name": "minio-creds", "key": k}}}
                                for n, k in (("MINIO_ROOT_USER", "rootUser"), ("MINIO_ROOT_PASSWORD", "rootPassword"))
                            ],
                            "ports": [{"name": "api", "containerPort": 9000}],
                            "readinessProbe": {"httpGet": {"path": "/minio/health/ready", "port": "api"}},
                            "livenessProbe": {"httpGet": {"path": "/minio/health/live", "port": "api"}},
                            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
                            "volumeMounts": [
                                {"name": "data", "mountPath": "/data"},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
            "volumeClaimTemplates": [
                {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
            ],
        },
    }


def good_stack() -> list[Doc]:
    meta = {"namespace": NS}
    return [
        statefulset(),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "minio-hl", **meta},
            "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": LABELS},
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "minio", **meta},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": LABELS}},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "minio-creds", **meta},
            "data": {"rootUser": _b64("generated-user"), "rootPassword": _b64("generated-password-0123456789")},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "gateway", **meta},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "gateway"}},
                    "spec": {"containers": [{"name": "gateway", "image": "chaosgate/gateway:0.1.0"}]},
                }
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "gateway", **meta},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}},
        },
    ]


GOOD_VALUES = {
    "values.yaml": "auth:\n  existingSecret: ''\n  userKey: rootUser\n  passwordKey: rootPassword\n"
    "  rootPassword: ''\nimagePullSecrets: []\n",
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _of(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    return next(d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name))


def _minio(docs: list[Doc]) -> Doc:
    return docs[0]


def _pod(docs: list[Doc]) -> Doc:
    spec: Doc = _minio(docs)["spec"]["template"]["spec"]
    return spec


def _container(docs: list[Doc]) -> Doc:
    container: Doc = _pod(docs)["containers"][0]
    return container


def ids(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def run(docs: list[Doc], **kwargs: Any) -> list[Finding]:
    kwargs.setdefault("values_texts", GOOD_VALUES)
    kwargs.setdefault("nodes", 4)
    return check(docs, **kwargs)


def test_the_good_stack_has_no_finding() -> None:
    assert run(good_stack()) == []
    assert run(good_stack(), nodes=None) == []
    assert run(good_stack(), minio_selector="app.kubernetes.io/name=minio") == []


# --- failing cases: the good stack with one weakness, each yields exactly its check -----

Case = tuple[Callable[[list[Doc]], Any], dict[str, Any]]


def _literal_env(docs: list[Doc]) -> None:
    _container(docs)["env"][1] = {"name": "MINIO_ROOT_PASSWORD", "value": "hunter2-hunter2"}


def _configmap_env_file(docs: list[Doc]) -> None:
    text = 'export MINIO_VOLUMES="/data"\nexport MINIO_ROOT_PASSWORD="hunter2-hunter2"\n'
    docs.append({"kind": "ConfigMap", "metadata": {"name": "env", "namespace": NS}, "data": {"config.env": text}})


def _configmap_key(docs: list[Doc]) -> None:
    docs.append({"kind": "ConfigMap", "metadata": {"name": "keys"}, "data": {"MINIO_SECRET_KEY": "abc123abc123"}})


def _secret_from_values(docs: list[Doc]) -> None:
    _of(docs, "Secret")["data"]["rootPassword"] = "aHVudGVyMi1odW50ZXIy"  # as written in the values file


def _hpa_on_minio(docs: list[Doc]) -> None:
    _of(docs, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"] = {"kind": "StatefulSet", "name": "minio"}


def _keda_on_minio(docs: list[Doc]) -> None:
    target = {"kind": "StatefulSet", "name": "minio"}
    docs.append(
        {"kind": "ScaledObject", "metadata": {"name": "m", "namespace": NS}, "spec": {"scaleTargetRef": target}}
    )


def _empty_dir_data(docs: list[Doc]) -> None:
    del _minio(docs)["spec"]["volumeClaimTemplates"]
    _pod(docs)["volumes"].append({"name": "data", "emptyDir": {}})


def _no_data_mount(docs: list[Doc]) -> None:
    _container(docs)["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    del _minio(docs)["spec"]["volumeClaimTemplates"]


def _minio_deployment(docs: list[Doc], servers: int = 4) -> None:
    # MinIO as a Deployment whose pods share one claim: every other check passes.
    deployment = statefulset(servers=servers)
    deployment["kind"] = "Deployment"
    spec = deployment["spec"]
    del spec["volumeClaimTemplates"], spec["serviceName"], spec["podManagementPolicy"]
    spec["template"]["spec"]["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": "minio"}})
    docs[0] = deployment


def _pdb_too_generous(docs: list[Doc]) -> None:
    _of(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] = "50%"  # 2 of 4; EC:2 writes survive 1


def _pdb_min_available_too_low(docs: list[Doc]) -> None:
    spec = _of(docs, "PodDisruptionBudget")["spec"]
    del spec["maxUnavailable"]
    spec["minAvailable"] = 2


def _soft_spread(docs: list[Doc]) -> None:
    del _pod(docs)["topologySpreadConstraints"]
    term = {"topologyKey": HOST, "labelSelector": {"matchLabels": LABELS}}
    _pod(docs)["affinity"] = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]
        }
    }


def _required_anti_affinity(docs: list[Doc]) -> None:
    del _pod(docs)["topologySpreadConstraints"]
    term = {"topologyKey": HOST, "labelSelector": {"matchLabels": LABELS}}
    _pod(docs)["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}


def _two_servers(docs: list[Doc]) -> None:
    docs[0] = statefulset(servers=2)
    _of(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] = 0


def _two_servers_two_drives(docs: list[Doc]) -> None:
    docs[0] = statefulset(servers=2, drives="/data{1...2}")
    _container(docs)["volumeMounts"][0]["mountPath"] = "/data1"
    _container(docs)["volumeMounts"].append({"name": "data2", "mountPath": "/data2"})
    _minio(docs)["spec"]["volumeClaimTemplates"].append({"metadata": {"name": "data2"}})
    _of(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] = 0


def _single_server(docs: list[Doc]) -> None:
    _container(docs)["command"][2] = "/data"
    _minio(docs)["spec"]["replicas"] = 1


def _more_replicas_than_listed(docs: list[Doc]) -> None:
    _minio(docs)["spec"]["replicas"] = 5


def _refused_layout(docs: list[Doc]) -> None:
    docs[0] = statefulset(servers=17)  # 17 drives split into no set of 2-16


def _endpoints_from_env_file(docs: list[Doc]) -> None:
    # The reference chart's shape: MINIO_VOLUMES in a mounted env file. It
    # names 4 servers while the StatefulSet runs 3.
    container = _container(docs)
    container["command"] = ["minio", "server", "--address", ":9000"]
    container["env"].append({"name": "MINIO_CONFIG_ENV_FILE", "value": "/etc/minio/env/config.env"})
    container["volumeMounts"].append({"name": "env", "mountPath": "/etc/minio/env"})
    _pod(docs)["volumes"].append({"name": "env", "configMap": {"name": "minio-env"}})
    text = 'export MINIO_VOLUMES="http://minio-{0...3}.minio-hl/data"\n'
    docs.append({"kind": "ConfigMap", "metadata": {"name": "minio-env", "namespace": NS}, "data": {"config.env": text}})
    _minio(docs)["spec"]["replicas"] = 3


def _pools_disagree(docs: list[Doc]) -> None:
    # A second pool was added, but only its own servers got the longer list.
    second = statefulset(name="minio-b")
    command = second["spec"]["template"]["spec"]["containers"][0]["command"]
    command[2:3] = [_container(docs)["command"][2], command[2]]
    docs.append(second)


def _no_probes(docs: list[Doc]) -> None:
    del _container(docs)["readinessProbe"], _container(docs)["livenessProbe"]


def _hides_not_ready(docs: list[Doc]) -> None:
    del _of(docs, "Service", "minio-hl")["spec"]["publishNotReadyAddresses"]


def _not_headless(docs: list[Doc]) -> None:
    _of(docs, "Service", "minio-hl")["spec"]["clusterIP"] = "10.0.0.9"


def _ordered_ready_by_default(docs: list[Doc]) -> None:
    del _minio(docs)["spec"]["podManagementPolicy"]


def _no_resources(docs: list[Doc]) -> None:
    del _container(docs)["resources"]


def _no_pdb(docs: list[Doc]) -> None:
    docs.remove(_of(docs, "PodDisruptionBudget"))


def _gateway_env(name: str, value: str) -> Callable[[list[Doc]], None]:
    """A gateway Deployment whose container sets ``name`` to ``value``."""

    def change(docs: list[Doc]) -> None:
        container = {"name": "gateway", "env": [{"name": name, "value": value}]}
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "gateway", "namespace": NS},
                "spec": {"template": {"spec": {"containers": [container]}}},
            }
        )

    return change


LITERAL_VALUES = {"values.yaml": "minio:\n  auth:\n    rootPassword: aHVudGVyMi1odW50ZXIy\n"}

FAILING: dict[str, tuple[str, Callable[[list[Doc]], None], dict[str, Any]]] = {
    "literal env credential": ("CG001-literal-credentials", _literal_env, {}),
    "env file in a ConfigMap": ("CG001-literal-credentials", _configmap_env_file, {}),
    "ConfigMap credential key": ("CG001-literal-credentials", _configmap_key, {}),
    "Secret rendered from values": ("CG001-literal-credentials", _secret_from_values, {"values_texts": LITERAL_VALUES}),
    "HPA on MinIO": ("CG002-autoscaled-minio", _hpa_on_minio, {}),
    "KEDA on MinIO": ("CG002-autoscaled-minio", _keda_on_minio, {}),
    "emptyDir drive": ("CG003-ephemeral-data", _empty_dir_data, {}),
    "no drive volume": ("CG003-ephemeral-data", _no_data_mount, {}),
    "MinIO Deployment": ("CG003-ephemeral-data", _minio_deployment, {}),
    "PDB 50% of 4": ("CG004-pdb-exceeds-quorum", _pdb_too_generous, {}),
    "PDB minAvailable 2 of 4": ("CG004-pdb-exceeds-quorum", _pdb_min_available_too_low, {}),
    "preferred anti-affinity": ("CG005-servers-share-a-node", _soft_spread, {"nodes": None}),
    "4 servers on 2 nodes": ("CG005-servers-share-a-node", lambda docs: None, {"nodes": 2}),
    "required anti-affinity, too few nodes": ("CG005-servers-share-a-node", _required_anti_affinity, {"nodes": 3}),
    "2 drives": ("CG006-too-few-drives", _two_servers, {}),
    "2 servers x 2 drives": ("CG006-too-few-drives", _two_servers_two_drives, {}),
    "single server": ("CG006-too-few-drives", _single_server, {}),
    "replicas beyond the list": ("CG007-endpoint-list", _more_replicas_than_listed, {}),
    "17 drives": ("CG007-endpoint-list", _refused_layout, {"nodes": 17}),
    "env file list vs replicas": ("CG007-endpoint-list", _endpoints_from_env_file, {}),
    "pools with different lists": ("CG007-endpoint-list", _pools_disagree, {}),
    "no probes": ("CG008-missing-probe", _no_probes, {}),
    "no publishNotReadyAddresses": ("CG009-headless-service", _hides_not_ready, {}),
    "not headless": ("CG009-headless-service", _not_headless, {}),
    "OrderedReady by default": ("CG010-ordered-ready", _ordered_ready_by_default, {}),
    "no resources": ("CG011-missing-resources", _no_resources, {}),
    "no PDB": ("CG012-no-disruption-budget", _no_pdb, {}),
    "unversioned gateway bucket": ("CG013-unversioned-bucket", _gateway_env("GATEWAY_BUCKET_VERSIONING", "off"), {}),
    "gateway settle off": ("CG014-delete-settle-off", _gateway_env("GATEWAY_DELETE_SETTLE", "0"), {}),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_each_weakness_yields_exactly_its_check(case: str) -> None:
    expected, breaks, kwargs = FAILING[case]
    docs = good_stack()
    breaks(docs)
    findings = run(docs, **kwargs)
    assert ids(findings) == {expected}, [f.text() for f in findings]
    for finding in findings:
        assert finding.check in CHECKS and finding.severity in {preflight.ERROR, preflight.WARNING}
        assert finding.object and finding.field and finding.why and finding.fix


def test_every_check_has_a_failing_case() -> None:
    assert {expected for expected, _, _ in FAILING.values()} == set(CHECKS)


# --- the details of each check -----------------------------------------------------------


def _one(findings: list[Finding], check_id: str) -> Finding:
    found = [f for f in findings if f.check == check_id]
    assert len(found) == 1, [f.text() for f in findings]
    return found[0]


def test_credentials_name_the_field_and_skip_references() -> None:
    docs = good_stack()
    _literal_env(docs)
    env = _container(docs)["env"]
    env.append({"name": "MINIO_ROOT_PASSWORD_FILE", "value": "/run/secrets/password"})  # a path, not a secret
    env.append({"name": "MINIO_SECRET_KEY", "value": "$(MINIO_ROOT_PASSWORD)"})  # a reference
    env.append({"name": "MINIO_ACCESS_KEY", "value": ""})
    found = _one(run(docs), "CG001-literal-credentials")
    assert found.severity == "error"
    assert found.object == f"{NS}/StatefulSet/minio"
    assert found.field == "spec.template.spec.containers[minio].env[MINIO_ROOT_PASSWORD].value"
    assert "existing Secret" in found.fix


def test_values_files_with_literal_credentials_flag_the_file_and_the_secret() -> None:
    values = {
        "values.yaml": "auth:\n  rootUser: admin\n  passwordKey: rootPassword\n  existingSecret: ''\n",
        "overlay.yaml": "extraEnv:\n  - name: MINIO_ROOT_PASSWORD\n    value: hunter2-hunter2\n",
    }
    findings = [f for f in run(good_stack(), values_texts=values) if f.check == "CG001-literal-credentials"]
    where = {(f.object, f.field) for f in findings}
    assert ("ValuesFile/values.yaml", "auth.rootUser") in where
    assert ("ValuesFile/overlay.yaml", "extraEnv[0].value") in where
    # The chart renders a Secret while the values carry credentials: it is suspect too.
    assert (f"{NS}/Secret/minio-creds", "data[rootPassword]") in where
    assert not any(f.field == "auth.passwordKey" for f in findings)


def test_a_secret_holding_a_values_file_credential_says_so() -> None:
    docs = good_stack()
    _of(docs, "Secret")["stringData"] = {"token": "hunter2-hunter2"}
    values = {"v.yaml": "password: hunter2-hunter2\n"}
    found = [f for f in run(docs, values_texts=values) if f.field == "stringData[token]"]
    assert len(found) == 1 and "written in a values file (v.yaml)" in found[0].why


def test_autoscaler_elsewhere_or_on_another_workload_is_fine() -> None:
    docs = good_stack()
    hpa = _of(docs, "HorizontalPodAutoscaler")
    hpa["spec"]["scaleTargetRef"] = {"kind": "StatefulSet", "name": "minio"}
    hpa["metadata"]["namespace"] = "elsewhere"
    assert run(docs) == []


def test_autoscaler_beyond_the_endpoint_list_counts_the_stray_pods() -> None:
    docs = good_stack()
    _hpa_on_minio(docs)
    _of(docs, "HorizontalPodAutoscaler")["spec"]["maxReplicas"] = 6
    found = _one(run(docs), "CG002-autoscaled-minio")
    assert found.object == f"{NS}/HorizontalPodAutoscaler/gateway" and found.field == "spec.scaleTargetRef"
    assert "up to 2 pod(s) beyond the 4 servers" in found.why
    assert "server pool" in found.fix


def test_ephemeral_drive_points_at_the_volume() -> None:
    docs = good_stack()
    _empty_dir_data(docs)
    found = _one(run(docs), "CG003-ephemeral-data")
    assert (found.severity, found.field) == ("error", "spec.template.spec.volumes[data].emptyDir")
    assert "every object is gone" in found.why


def test_scratch_emptydir_is_not_a_drive_when_no_endpoint_list_is_known() -> None:
    docs = good_stack()
    _container(docs)["command"] = ["minio", "server", "$(MINIO_VOLUMES)"]  # unknown: no list in sight
    assert "CG003-ephemeral-data" not in ids(run(docs))


def test_minio_deployment_severity() -> None:
    docs = good_stack()
    _minio_deployment(docs)
    found = _one(run(docs), "CG003-ephemeral-data")
    assert (found.severity, found.field) == ("error", "kind")
    # One server on its own claim runs; it is still not how MinIO should run.
    single = good_stack()
    _minio_deployment(single, servers=1)
    _container(single)["command"][2] = "/data"
    found = _one(run(single), "CG003-ephemeral-data")
    assert (found.severity, found.field) == ("warning", "kind")


@pytest.mark.parametrize(
    ("budget", "allowed"),
    [({"maxUnavailable": 1}, True), ({"minAvailable": "75%"}, True), ({"maxUnavailable": 2}, False)],
)
def test_pdb_against_write_quorum(budget: dict[str, Any], allowed: bool) -> None:
    docs = good_stack()
    _of(docs, "PodDisruptionBudget")["spec"] = {**budget, "selector": {"matchLabels": LABELS}}
    assert ("CG004-pdb-exceeds-quorum" not in ids(run(docs))) is allowed


def test_pdb_on_eight_servers_may_allow_three() -> None:
    docs = good_stack()
    docs[0] = statefulset(servers=8)
    _of(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] = 3
    assert run(docs, nodes=8) == []
    _of(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] = 4
    found = _one(run(docs, nodes=8), "CG004-pdb-exceeds-quorum")
    assert found.field == "spec.maxUnavailable" and "maxUnavailable: 3" in found.fix


def test_spread_is_judged_against_the_node_count() -> None:
    docs = good_stack()
    assert run(docs, nodes=4) == []  # DoNotSchedule, maxSkew 1: one server per node
    soft = good_stack()
    _soft_spread(soft)
    warning = _one(run(soft, nodes=None), "CG005-servers-share-a-node")
    assert warning.severity == "warning" and "only a preferred" in warning.why
    error = _one(run(docs, nodes=2), "CG005-servers-share-a-node")
    assert error.severity == "error" and "put up to 2 on one node" in error.why
    assert error.field == "spec.template.spec.topologySpreadConstraints"
    required = good_stack()
    _required_anti_affinity(required)
    assert run(required, nodes=4) == []
    pending = _one(run(required, nodes=3), "CG005-servers-share-a-node")
    assert "stay Pending" in pending.why


def test_endpoint_list_from_a_mounted_env_file_is_read() -> None:
    docs = good_stack()
    _endpoints_from_env_file(docs)
    (workload,) = minio_workloads(docs, None)
    server = read_server(workload, docs)
    assert server.endpoints == ("http://minio-{0...3}.minio-hl/data",)
    assert server.endpoints_field == "spec.template.spec.containers[minio].env[MINIO_CONFIG_ENV_FILE]"
    assert server.data_paths == ("/data",)
    found = _one(run(docs), "CG007-endpoint-list")
    assert found.field == "spec.replicas"
    assert "names 4 servers" in found.why and "replicas is 3" in found.why


def test_probes_fix_names_minio_health_endpoints() -> None:
    docs = good_stack()
    _no_probes(docs)
    findings = {f.field.rsplit(".", 1)[1]: f for f in run(docs)}
    assert findings["readinessProbe"].severity == "error"
    assert findings["livenessProbe"].severity == "warning"
    assert "/minio/health/ready" in findings["readinessProbe"].fix and "port api" in findings["readinessProbe"].fix
    assert "/minio/health/live" in findings["livenessProbe"].fix


def test_headless_service_missing_from_the_render_is_a_warning() -> None:
    docs = good_stack()
    docs.remove(_of(docs, "Service", "minio-hl"))
    found = _one(run(docs), "CG009-headless-service")
    assert (found.severity, found.field) == ("warning", "spec.serviceName")


def test_ordered_ready_says_it_is_the_default() -> None:
    docs = good_stack()
    _ordered_ready_by_default(docs)
    found = _one(run(docs), "CG010-ordered-ready")
    assert "default" in found.why and "Parallel" in found.fix


def test_resources_name_what_is_missing() -> None:
    docs = good_stack()
    _container(docs)["resources"] = {"requests": {"cpu": "100m"}}
    findings = run(docs)
    assert {f.field for f in findings} == {
        "spec.template.spec.containers[minio].resources.requests",
        "spec.template.spec.containers[minio].resources.limits.memory",
    }
    assert any("requests no memory" in f.why for f in findings)


# --- MinIO's erasure arithmetic -------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        # (set size, parity, servers down writes survive, reads survive): shared/notes/minio.md
        ("http://m-{0...3}.hl/data", (4, 2, 1, 2)),
        ("http://m-{0...3}.hl/data{1...2}", (8, 4, 1, 2)),
        ("http://m-{0...5}.hl/data", (6, 3, 2, 3)),
        ("http://m-{0...7}.hl/data", (8, 4, 3, 4)),
        ("http://m-{0...2}.hl/data", (3, 1, 1, 1)),
        ("http://m-{0...1}.hl/data", (2, 1, 0, 1)),
        ("http://m-{0...15}.hl/data{1...4}", (16, 4, 4, 4)),
        ("http://m-{1...12}.hl/data", (12, 4, 4, 4)),
    ],
)
def test_erasure_sets_parity_and_quorum(endpoint: str, expected: tuple[int, int, int, int]) -> None:
    (layout,) = layouts(parse_pools([endpoint]))
    got = (layout.set_size, layout.parity, layout.servers_lost_for_writes, layout.servers_lost_for_reads)
    assert got == expected


def test_erasure_overrides_and_refusals() -> None:
    (custom,) = layouts(parse_pools(["http://m-{0...7}.hl/data"]), set_drive_count=4)
    assert (custom.set_size, custom.parity) == (4, 2)
    (explicit,) = layouts(parse_pools(["http://m-{0...7}.hl/data"]), parity=2)
    assert (explicit.write_quorum, explicit.servers_lost_for_writes) == (6, 2)
    (prime,) = layouts(parse_pools(["http://m-{0...16}.hl/data"]))
    assert prime.set_size == 0 and "2-16" in prime.problem
    first, second = layouts(parse_pools(["http://a-{0...7}.hl/d", "http://b-{0...3}.hl/d"]), parity=3)
    assert first.set_size == 8 and second.set_size == 0 and "more than half" in second.problem
    (legacy,) = parse_pools(["http://a/d", "http://b/d", "http://c/d", "http://d/d"])
    assert (legacy.servers, legacy.drives_per_server, legacy.distributed) == (4, 1, True)


# --- reading manifests -------------------------------------------------------------------------


def test_parse_manifests_skips_empty_documents_and_flattens_lists() -> None:
    text = "---\n# only a comment\n---\nkind: List\nitems:\n  - {kind: Service, metadata: {name: a}}\n---\n{}\n"
    text += "---\nkind: ConfigMap\nmetadata: {name: b}\n"
    assert [d["kind"] for d in parse_manifests(text)] == ["Service", "ConfigMap"]


@pytest.mark.parametrize("text", ["- just\n- a list\n", "kind: [unclosed\n", "42\n"])
def test_parse_manifests_refuses_what_is_no_manifest(text: str) -> None:
    with pytest.raises(BadInputError):
        parse_manifests(text)


def test_selector_picks_the_servers_even_with_another_image() -> None:
    # The deployer renders with placeholder images: the selector still finds MinIO.
    docs = good_stack()
    _container(docs)["image"] = "preflight.invalid/image:0"
    _container(docs)["command"] = ["/entrypoint"]
    _no_probes(docs)
    assert "CG008-missing-probe" in ids(run(docs, minio_selector="app.kubernetes.io/name=minio"))
    assert run(docs) == []  # without a selector nothing says it is MinIO


def test_mc_is_not_a_minio_server() -> None:
    docs = good_stack()
    gateway = _of(docs, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0]
    gateway["image"] = "quay.io/minio/mc:latest"
    assert run(docs) == []


@pytest.mark.parametrize(
    "selector", ["app.kubernetes.io/name=nothing", "app.kubernetes.io/name!=minio,app.kubernetes.io/name!=gateway"]
)
def test_a_selector_that_matches_nothing_is_bad_input(selector: str) -> None:
    with pytest.raises(BadInputError, match="matches no StatefulSet or Deployment"):
        run(good_stack(), minio_selector=selector)


@pytest.mark.parametrize("selector", ["a=b,,c=d", "a=", "a b"])
def test_a_malformed_selector_is_bad_input(selector: str) -> None:
    with pytest.raises(BadInputError, match="fix"):
        run(good_stack(), minio_selector=selector)


def test_nodes_below_one_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="nodes"):
        check(good_stack(), nodes=0)


def test_finding_text_and_dict() -> None:
    finding = Finding("CG001-literal-credentials", "error", "StatefulSet/minio", "spec.x", "it leaks.", "use a Secret")
    assert finding.text() == "[CG001] StatefulSet/minio spec.x: it leaks. Fix: use a Secret"
    assert finding.to_dict() == {
        "check": "CG001-literal-credentials",
        "severity": "error",
        "object": "StatefulSet/minio",
        "field": "spec.x",
        "why": "it leaks.",
        "fix": "use a Secret",
    }
    assert json.loads(json.dumps(finding.to_dict())) == finding.to_dict()


# --- rendered charts -----------------------------------------------------------------------


def _values_texts(*paths: Path) -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text() for p in paths}


def test_reference_chart_has_no_error(render: RenderFn) -> None:  # noqa: F811
    rendered = render("stack", "values-kind.yaml")
    # Every values file the render used, the subcharts' defaults included.
    values = _values_texts(
        CHARTS / "stack" / "values.yaml",
        CHARTS / "stack" / "values-kind.yaml",
        *(CHARTS / sub / "values.yaml" for sub in ("minio", "app", "monitoring")),
    )
    for selector in (None, "app.kubernetes.io/name=minio"):
        findings = check(parse_manifests(rendered.text), minio_selector=selector, values_texts=values)
        assert [f.text() for f in findings if f.severity == "error"] == []
        # What it does say: the servers prefer, but are not forced, to spread over nodes.
        assert ids(findings) <= {"CG005-servers-share-a-node"}


def test_reference_chart_ephemeral_variant_is_caught(render: RenderFn) -> None:  # noqa: F811
    rendered = render("stack", "values-kind.yaml", "values-ephemeral.yaml")
    findings = check(parse_manifests(rendered.text), minio_selector="app.kubernetes.io/name=minio")
    assert "CG003-ephemeral-data" in {f.check for f in findings if f.severity == "error"}


def test_naive_chart_shows_its_three_weaknesses(render: RenderFn) -> None:  # noqa: F811
    if not NAIVE_CHART.is_dir():
        pytest.skip(f"{NAIVE_CHART} is not there yet")
    values = NAIVE_CHART / "values.yaml"
    rendered = render(str(NAIVE_CHART), str(values))
    findings = check(
        parse_manifests(rendered.text),
        minio_selector="app.kubernetes.io/name=minio",
        values_texts=_values_texts(values),
    )
    errors = {(f.check, f.object.split("/")[-2]) for f in findings if f.severity == "error"}
    assert ("CG001-literal-credentials", "Secret") in errors
    assert ("CG002-autoscaled-minio", "HorizontalPodAutoscaler") in errors
    assert ("CG003-ephemeral-data", "StatefulSet") in errors
    credential_fields = {f.field for f in findings if f.object.startswith("ValuesFile/")}
    assert {"auth.rootUser", "auth.rootPassword"} <= credential_fields


# --- the command line ------------------------------------------------------------------------


def test_cli_bad_target_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preflight", "--target", str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err.startswith("chaosgate preflight: bad input: ")


def test_cli_refuses_zero_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["preflight", "--target", "x.yaml", "--nodes", "0"])
    assert exited.value.code == 2
    assert "schedulable nodes" in capsys.readouterr().err


def test_cli_exit_codes_follow_error_findings(capsys: pytest.CaptureFixture[str]) -> None:
    reference = REPO / "targets" / "reference.yaml"
    assert main(["preflight", "--target", str(reference)]) == 0
    assert "0 error(s)" in capsys.readouterr().out
    naive = REPO / "examples" / "naive-stack" / "target.yaml"
    if not naive.is_file():
        pytest.skip(f"{naive} is not there yet")
    assert main(["preflight", "--target", str(naive), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] >= 3 and report["findings"][0]["severity"] == "error"


def test_rendered_text_round_trips_through_yaml() -> None:
    # parse_manifests reads what yaml.safe_dump_all writes (helm's own output is YAML too).
    docs = good_stack()
    assert parse_manifests(yaml.safe_dump_all(copy.deepcopy(docs))) == docs


def test_versioning_rule_reads_the_rendered_gateway(render: RenderFn) -> None:  # noqa: F811
    """The reference stack versions its bucket; its negative-control variant does not, and says so."""
    reference = check(parse_manifests(render("stack", "values-kind.yaml").text))
    unversioned = check(parse_manifests(render("stack", "values-kind.yaml", "values-unversioned.yaml").text))
    assert "CG013-unversioned-bucket" not in ids(reference)
    assert _one(unversioned, "CG013-unversioned-bucket").object.endswith("Deployment/gateway")


def test_settle_rule_reads_the_rendered_gateway(render: RenderFn) -> None:  # noqa: F811
    """The reference gateway holds marker-less deletes back after restarts; the unsettled variant does not."""
    reference = check(parse_manifests(render("stack", "values-kind.yaml").text))
    unsettled = check(parse_manifests(render("stack", "values-kind.yaml", "values-unsettled.yaml").text))
    assert "CG014-delete-settle-off" not in ids(reference)
    finding = _one(unsettled, "CG014-delete-settle-off")
    assert finding.object.endswith("Deployment/gateway") and finding.severity == "warning"
