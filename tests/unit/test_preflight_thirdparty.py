"""The preflight on a chart chaosgate did not write: manifests shaped as
MinIO's community chart (helm/minio 5.4.0) renders them with its defaults,
and one change per rule. CG001 tells a credential from a path, a reference
or an unset value; a placeholder is still a credential."""

from __future__ import annotations

import base64
import copy
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from chaos.preflight import CHECKS, Finding, check
from chaos.preflight.credentials import EMPTY, LITERAL, PATH, PLACEHOLDER, REFERENCE, value_kind

# Made per run, like every credential in this project, test data included.
LITERAL_SECRET = f"Tr{secrets.token_hex(6)}-x"
ROOT_USER_B64 = base64.b64encode(secrets.token_bytes(9)).decode()
ROOT_PASSWORD_B64 = base64.b64encode(secrets.token_bytes(18)).decode()

Doc = dict[str, Any]
NS = "minio-ns"
LABELS = {"app": "minio", "release": "minio"}
ENDPOINTS = f"http://minio-{{0...3}}.minio-svc.{NS}.svc.cluster.local/export"
START = (
    f"/usr/bin/docker-entrypoint.sh minio server {ENDPOINTS} -S /etc/minio/certs/ "
    "--address :9000 --console-address :9001"
)

# The script of the chart's always-rendered ConfigMap, shortened: a temp-file
# path under a name that contains ACCESSKEY and SECRETKEY, and keys read from
# the mounted Secret at run time.
COMMUNITY_SCRIPT = """#!/bin/sh
set -e ; # Have script exit in the event of a failed command.
MC_CONFIG_DIR="/etc/minio/mc/"
MC="/usr/bin/mc --insecure --config-dir ${MC_CONFIG_DIR}"
MINIO_ACCESSKEY_SECRETKEY_TMP="/tmp/accessKey_and_secretKey_tmp"
connectToMinio() {
  SCHEME=$1
  ATTEMPTS=0 ; LIMIT=29 ; # Allow 30 attempts
  ACCESS=$(cat /config/rootUser) ; SECRET=$(cat /config/rootPassword) ;
  MC_COMMAND="${MC} alias set myminio $SCHEME://$MINIO_ENDPOINT:$MINIO_PORT $ACCESS $SECRET" ;
}
createUser() {
  USER=$(head -1 $MINIO_ACCESSKEY_SECRETKEY_TMP)
  PASSWORD=$(tail -n1 $MINIO_ACCESSKEY_SECRETKEY_TMP)
  SECRET_KEY=${ROOT_SECRET}
}
"""


def community_stack() -> list[Doc]:
    """What `helm template` of the community chart gives in distributed mode
    with 4 replicas, in its shape: no probes, no PodDisruptionBudget (off by
    default), a memory request only, no spread rule."""
    meta = {"namespace": NS, "labels": dict(LABELS)}
    container = {
        "name": "minio",
        "image": "quay.io/minio/minio:RELEASE.2024-12-18T13-15-44Z",
        "command": ["/bin/sh", "-ce", START],
        "volumeMounts": [{"name": "export", "mountPath": "/export"}],
        "ports": [{"name": "http", "containerPort": 9000}, {"name": "http-console", "containerPort": 9001}],
        "env": [
            {"name": n, "valueFrom": {"secretKeyRef": {"name": "minio", "key": k}}}
            for n, k in (("MINIO_ROOT_USER", "rootUser"), ("MINIO_ROOT_PASSWORD", "rootPassword"))
        ]
        + [{"name": "MINIO_PROMETHEUS_AUTH_TYPE", "value": "public"}],
        "resources": {"requests": {"memory": "256Mi"}},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "minio", **meta},
            "data": {"initialize": COMMUNITY_SCRIPT, "add-user": COMMUNITY_SCRIPT},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "minio", **meta},
            "type": "Opaque",
            "data": {"rootUser": ROOT_USER_B64, "rootPassword": ROOT_PASSWORD_B64},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "minio-svc", **meta},
            "spec": {
                "publishNotReadyAddresses": True,
                "clusterIP": "None",
                "ports": [{"name": "http", "port": 9000}],
                "selector": dict(LABELS),
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "minio", **meta},
            "spec": {
                "updateStrategy": {"type": "RollingUpdate"},
                "podManagementPolicy": "Parallel",
                "serviceName": "minio-svc",
                "replicas": 4,
                "selector": {"matchLabels": dict(LABELS)},
                "template": {
                    "metadata": {"name": "minio", "labels": dict(LABELS)},
                    "spec": {
                        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
                        "containers": [container],
                        "volumes": [{"name": "minio-user", "secret": {"secretName": "minio"}}],
                    },
                },
                "volumeClaimTemplates": [
                    {"metadata": {"name": "export"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
                ],
            },
        },
    ]


# The community chart's own weaknesses with its defaults, each a true finding
# a team either fixes in values or waives with a reason.
BASELINE = {
    "CG005-servers-share-a-node",  # no anti-affinity or spread rule by default
    "CG008-missing-probe",  # no readiness probe, and no value that adds one
    "CG011-missing-resources",  # a memory request only
    "CG012-no-disruption-budget",  # podDisruptionBudget.enabled is false by default
}


def run(docs: list[Doc]) -> list[Finding]:
    return check(docs, minio_selector="app=minio,release=minio", nodes=4, values_texts={})


def ids(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def _sts(docs: list[Doc]) -> Doc:
    return next(d for d in docs if d["kind"] == "StatefulSet")


def _container(docs: list[Doc]) -> Doc:
    container: Doc = _sts(docs)["spec"]["template"]["spec"]["containers"][0]
    return container


def _service(docs: list[Doc]) -> Doc:
    return next(d for d in docs if d["kind"] == "Service")


def test_the_community_chart_as_rendered_has_its_true_findings_only() -> None:
    findings = run(community_stack())
    assert ids(findings) == BASELINE, [f.text() for f in findings]
    probe = next(f for f in findings if f.check == "CG008-missing-probe")
    assert probe.object == f"{NS}/StatefulSet/minio"


# --- one change per rule, the way a team's values would make it ----------------------------


def _root_password_in_script(docs: list[Doc]) -> None:
    docs[0]["data"]["initialize"] += f'MINIO_ROOT_PASSWORD="{LITERAL_SECRET}"\n'


def _hpa(docs: list[Doc]) -> None:
    docs.append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "minio", "namespace": NS},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "minio"}},
        }
    )


def _persistence_off(docs: list[Doc]) -> None:
    # persistence.enabled=false: the chart mounts an emptyDir at /export
    del _sts(docs)["spec"]["volumeClaimTemplates"]
    _sts(docs)["spec"]["template"]["spec"]["volumes"].append({"name": "export", "emptyDir": {}})


def _pdb(max_unavailable: int) -> Callable[[list[Doc]], None]:
    def change(docs: list[Doc]) -> None:
        docs.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "minio", "namespace": NS},
                "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": dict(LABELS)}},
            }
        )

    return change


def _two_replicas(docs: list[Doc]) -> None:
    _sts(docs)["spec"]["replicas"] = 2
    _container(docs)["command"][2] = START.replace("{0...3}", "{0...1}")


def _replicas_beyond_the_list(docs: list[Doc]) -> None:
    _sts(docs)["spec"]["replicas"] = 6


def _service_with_cluster_ip(docs: list[Doc]) -> None:
    _service(docs)["spec"]["clusterIP"] = "10.96.0.20"


def _ordered_ready(docs: list[Doc]) -> None:
    _sts(docs)["spec"]["podManagementPolicy"] = "OrderedReady"


def _unversioned_app(docs: list[Doc]) -> None:
    env = [{"name": "APP_BUCKET_VERSIONING", "value": "off"}]
    docs.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "uploader", "namespace": NS},
            "spec": {"template": {"spec": {"containers": [{"name": "uploader", "env": env}]}}},
        }
    )


def _unsettled_app(docs: list[Doc]) -> None:
    env = [{"name": "UPLOADER_DELETE_SETTLE", "value": "0"}]
    docs.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "uploader", "namespace": NS},
            "spec": {"template": {"spec": {"containers": [{"name": "uploader", "env": env}]}}},
        }
    )


# The rules the baseline already shows (CG005, CG008, CG011, CG012) need no change.
CHANGES: dict[str, tuple[str, Callable[[list[Doc]], None]]] = {
    "root password in the chart's script": ("CG001-literal-credentials", _root_password_in_script),
    "HPA on the StatefulSet": ("CG002-autoscaled-minio", _hpa),
    "persistence.enabled=false": ("CG003-ephemeral-data", _persistence_off),
    "podDisruptionBudget.maxUnavailable=2": ("CG004-pdb-exceeds-quorum", _pdb(2)),
    "replicas=2": ("CG006-too-few-drives", _two_replicas),
    "replicas beyond the endpoint list": ("CG007-endpoint-list", _replicas_beyond_the_list),
    "a Service with a cluster IP": ("CG009-headless-service", _service_with_cluster_ip),
    "podManagementPolicy=OrderedReady": ("CG010-ordered-ready", _ordered_ready),
    "an app writing to an unversioned bucket": ("CG013-unversioned-bucket", _unversioned_app),
    "an app that believes marker-less deletes": ("CG014-delete-settle-off", _unsettled_app),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_one_change_to_the_community_chart_adds_its_check(change: str) -> None:
    expected, make = CHANGES[change]
    docs = community_stack()
    make(docs)
    found = ids(run(docs))
    assert expected in found, sorted(found)
    assert found - BASELINE - {expected} <= _ALSO.get(expected, set()), sorted(found)


# A change that by its nature shows in a second rule as well.
_ALSO = {
    "CG004-pdb-exceeds-quorum": {"CG012-no-disruption-budget"},
}


def test_every_rule_has_a_third_party_case() -> None:
    assert {e for e, _ in CHANGES.values()} | BASELINE == set(CHECKS)


# --- CG001: a credential, a path, a reference, a placeholder ---------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("", EMPTY),
        ("   ", EMPTY),
        (None, EMPTY),
        ("/tmp/accessKey_and_secretKey_tmp", PATH),
        ("./keys/root", PATH),
        ("$(MINIO_ROOT_PASSWORD)", REFERENCE),
        ("${ROOT_SECRET}", REFERENCE),
        ("$ROOT_SECRET", REFERENCE),
        ("$(cat /config/rootPassword)", REFERENCE),
        ("$(tail -n1 $MINIO_ACCESSKEY_SECRETKEY_TMP)", REFERENCE),
        ("{{ .Values.rootPassword }}", REFERENCE),
        ("changeme", PLACEHOLDER),
        ("<password>", PLACEHOLDER),
        ("minioadmin", PLACEHOLDER),
        ("XXXX", PLACEHOLDER),
        (LITERAL_SECRET, LITERAL),
        ("pa$$word", LITERAL),
        ("s3cr3t /with space", LITERAL),
    ],
)
def test_value_kinds(value: object, kind: str) -> None:
    assert value_kind(value) == kind


def test_the_community_script_temp_file_path_is_not_a_credential() -> None:
    docs = community_stack()
    assert "CG001-literal-credentials" not in ids(run(docs))


def test_references_and_unset_values_are_not_flagged() -> None:
    docs = community_stack()
    _container(docs)["env"] += [
        {"name": "MINIO_SECRET_KEY", "value": "$(MINIO_ROOT_PASSWORD)"},
        {"name": "MINIO_ACCESS_KEY", "value": "${ROOT_USER}"},
        {"name": "MINIO_ROOT_PASSWORD_FILE", "value": "/run/secrets/secret_key"},
        {"name": "APP_PASSWORD", "value": ""},
    ]
    assert "CG001-literal-credentials" not in ids(run(docs))


def test_a_placeholder_is_still_a_credential_and_says_so() -> None:
    docs = community_stack()
    _container(docs)["env"].append({"name": "MINIO_ROOT_PASSWORD", "value": "changeme"})
    found = [f for f in run(docs) if f.check == "CG001-literal-credentials"]
    assert len(found) == 1 and "placeholder 'changeme'" in found[0].why
    assert found[0].field == "spec.template.spec.containers[minio].env[MINIO_ROOT_PASSWORD].value"


def test_a_real_credential_in_the_community_script_is_still_flagged() -> None:
    docs = copy.deepcopy(community_stack())
    _root_password_in_script(docs)
    found = [f for f in run(docs) if f.check == "CG001-literal-credentials"]
    assert [(f.object, f.field) for f in found] == [(f"{NS}/ConfigMap/minio", "data[initialize]")]


def test_placeholders_in_values_files_are_flagged_and_empty_ones_are_not() -> None:
    values = {"values.yaml": "rootUser: ''\nrootPassword: changeme\nexistingSecret: ''\n"}
    found = check(community_stack(), minio_selector="app=minio", nodes=4, values_texts=values)
    flagged = [f for f in found if f.check == "CG001-literal-credentials" and f.object.startswith("ValuesFile/")]
    assert [f.field for f in flagged] == ["rootPassword"]
    assert "placeholder" in flagged[0].why
