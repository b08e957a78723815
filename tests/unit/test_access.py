"""The permission check of existing-cluster runs: the rules file, the reviews
it turns into, and how the API server's answers become messages. No cluster:
answers are built as the server builds them (it echoes the question)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deployer import access, pins
from deployer.access import Review, Rule
from kernel.errors import BadInputError, InfraError

KUBE_VERSION = pins.KUBERNETES_VERSION.removeprefix("v")


def answer(review: Review, *, allowed: bool) -> dict[str, Any]:
    """What the API server returns for ``review``: the question and a status."""
    obj = review.manifest()
    return {**obj, "metadata": {"creationTimestamp": None}, "status": {"allowed": allowed}}


def answers(reviews: Sequence[Review], deny: Sequence[Review] = ()) -> list[dict[str, Any]]:
    return [answer(r, allowed=r not in deny) for r in reviews]


def find(reviews: Sequence[Review], verb: str, resource: str, namespace: str = "") -> Review:
    (found,) = [r for r in reviews if (r.rule.verb, r.rule.resource, r.namespace) == (verb, resource, namespace)]
    return found


# --- the rules file -------------------------------------------------------


def test_the_shipped_file_parses_into_both_roles() -> None:
    rules = access.required_rules()
    cluster = {(r.verb, r.resource) for r in rules if not r.namespaced}
    namespaced = {(r.verb, r.group, r.resource) for r in rules if r.namespaced}
    assert cluster == {
        ("get", "nodes"),
        ("list", "nodes"),
        ("watch", "nodes"),
        ("get", "namespaces"),
        ("list", "namespaces"),
        ("create", "namespaces"),
        ("delete", "namespaces"),
    }
    assert ("delete", "", "pods") in namespaced
    assert ("get", "", "pods/log") in namespaced
    assert ("create", "", "pods/portforward") in namespaced
    assert ("patch", "apps", "statefulsets/scale") in namespaced
    assert ("list", "autoscaling", "horizontalpodautoscalers") in namespaced
    # Least privilege: what a run never needs is not asked for.
    assert ("delete", "apps", "statefulsets") not in namespaced
    assert ("list", "", "secrets") not in namespaced
    assert len(set(rules)) == len(rules)


def test_every_rule_has_a_why() -> None:
    for rule in access.required_rules():
        assert rule.why.startswith("to "), rule


def test_only_namespace_create_and_delete_are_deploy_only() -> None:
    deploy_only = {(r.verb, r.resource) for r in access.required_rules() if r.deploy_only}
    assert deploy_only == {("create", "namespaces"), ("delete", "namespaces")}


def test_the_shipped_roles_are_valid_kubernetes_objects() -> None:
    docs = [d for d in yaml.safe_load_all(access.RBAC_FILE.read_text()) if d]
    assert [d["metadata"]["name"] for d in docs] == [access.CLUSTER_ROLE, access.NAMESPACED_ROLE]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_rule_names_read_like_kubectl() -> None:
    assert Rule("patch", "apps", "statefulsets/scale", True, "to x").name == "statefulsets.apps/scale"
    assert Rule("get", "", "pods/log", True, "to x").name == "pods/log"
    assert Rule("list", "policy", "poddisruptionbudgets", True, "to x").name == "poddisruptionbudgets.policy"


ROLES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: chaosgate-run-cluster
  annotations:
    chaosgate.dev/why: |
      nodes: to see nodes
      namespaces create: to make namespaces
    chaosgate.dev/deploy-only: |
      namespaces create
rules:
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list]
  - apiGroups: [""]
    resources: [namespaces]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: chaosgate-run-namespaced
  annotations:
    chaosgate.dev/why: |
      pods get: to find servers
      pods delete: to kill MinIO servers
      statefulsets.apps/scale: to scale out
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, delete]
  - apiGroups: [apps]
    resources: [statefulsets/scale]
    verbs: [patch]
"""


def test_a_small_file_parses_with_specific_and_general_whys() -> None:
    rules = access.parse_rules(ROLES)
    assert rules == [
        Rule("get", "", "nodes", False, "to see nodes"),
        Rule("list", "", "nodes", False, "to see nodes"),
        Rule("create", "", "namespaces", False, "to make namespaces", deploy_only=True),
        Rule("get", "", "pods", True, "to find servers"),
        Rule("delete", "", "pods", True, "to kill MinIO servers"),
        Rule("patch", "apps", "statefulsets/scale", True, "to scale out"),
    ]


def test_only_the_two_cluster_roles_are_read() -> None:
    extra = """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: something-else
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: chaosgate-run
  namespace: NAMESPACE
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: chaosgate-run-namespaced}
"""
    assert access.parse_rules(ROLES + extra) == access.parse_rules(ROLES)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (ROLES.replace("      pods delete: to kill MinIO servers\n", ""), "pods delete has no line"),
        (ROLES.replace("pods get: to find servers", "pods get, list: to find servers"), "RESOURCE"),
        (ROLES.replace("nodes: to see nodes", "nodes: to see nodes\n      services: to expose"), "services"),
        (ROLES.replace("namespaces create\n", "namespaces delete\n"), "namespaces delete"),
        (ROLES.replace("pods get: to find servers", "pods get:"), "needs a reason"),
        (ROLES.replace("verbs: [get, delete]", "verbs: ['*']"), "wildcards"),
        (ROLES.replace("name: chaosgate-run-namespaced", "name: other"), "no ClusterRole chaosgate-run-namespaced"),
        (ROLES.replace("    verbs: [patch]", "    verbs: [patch]\n    resourceNames: [minio]"), "resourceNames"),
    ],
)
def test_a_broken_file_is_refused(broken: str, message: str) -> None:
    with pytest.raises(InfraError, match=message):
        access.parse_rules(broken)


# --- reviews --------------------------------------------------------------


def test_namespaced_rules_expand_per_namespace_and_cluster_rules_once() -> None:
    rules = access.parse_rules(ROLES)
    reviews = access.expand(rules, ["shop", "chaosgate", "shop"], deploys=False)
    assert [(r.rule.verb, r.rule.resource, r.namespace) for r in reviews] == [
        ("get", "nodes", ""),
        ("list", "nodes", ""),
        ("get", "pods", "shop"),
        ("get", "pods", "chaosgate"),
        ("delete", "pods", "shop"),
        ("delete", "pods", "chaosgate"),
        ("patch", "statefulsets/scale", "shop"),
        ("patch", "statefulsets/scale", "chaosgate"),
    ]


def test_namespace_create_and_delete_are_asked_only_when_deploying() -> None:
    rules = access.required_rules()
    asked = {(r.rule.verb, r.rule.resource) for r in access.expand(rules, ["shop"], deploys=False)}
    assert ("create", "namespaces") not in asked
    assert ("delete", "namespaces") not in asked
    assert ("list", "namespaces") in asked
    deploying = {(r.rule.verb, r.rule.resource) for r in access.expand(rules, ["shop"], deploys=True)}
    assert deploying - asked == {("create", "namespaces"), ("delete", "namespaces")}


def test_a_review_is_a_self_subject_access_review_with_the_subresource_split() -> None:
    rule = Rule("patch", "apps", "statefulsets/scale", True, "to scale out")
    assert Review(rule, "shop").manifest() == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "verb": "patch",
                "group": "apps",
                "resource": "statefulsets",
                "subresource": "scale",
                "namespace": "shop",
            }
        },
    }
    nodes = Review(Rule("list", "", "nodes", False, "to see nodes")).manifest()
    assert nodes["spec"]["resourceAttributes"] == {"verb": "list", "group": "", "resource": "nodes"}


def test_the_batch_is_a_v1_list_of_every_review() -> None:
    reviews = access.expand(access.parse_rules(ROLES), ["shop"], deploys=True)
    batch = access.review_list(reviews)
    assert (batch["apiVersion"], batch["kind"]) == ("v1", "List")
    assert batch["items"] == [r.manifest() for r in reviews]
    json.dumps(batch)  # it travels as JSON on kubectl's stdin


# --- answers ----------------------------------------------------------------


def test_everything_allowed_means_nothing_missing() -> None:
    reviews = access.expand(access.required_rules(), ["shop", "chaosgate"], deploys=True)
    assert access.denied(reviews, answers(reviews)) == []


def test_one_denied_review_produces_exactly_its_line() -> None:
    reviews = access.expand(access.required_rules(), ["shop", "chaosgate"], deploys=False)
    kill = find(reviews, "delete", "pods", "shop")
    missing = access.denied(reviews, answers(reviews, deny=[kill]))
    assert [r.missing() for r in missing] == ["cannot delete pods in namespace shop (needed to kill MinIO servers)"]


def test_a_denied_cluster_rule_says_cluster_scope() -> None:
    reviews = access.expand(access.parse_rules(ROLES), ["shop"], deploys=True)
    make = find(reviews, "create", "namespaces")
    (missing,) = access.denied(reviews, answers(reviews, deny=[make]))
    assert missing.missing() == "cannot create namespaces at cluster scope (needed to make namespaces)"


def test_answers_are_matched_by_what_they_echo_not_by_order() -> None:
    reviews = access.expand(access.parse_rules(ROLES), ["shop", "chaosgate"], deploys=False)
    scale = find(reviews, "patch", "statefulsets/scale", "chaosgate")
    given = list(reversed(answers(reviews, deny=[scale])))
    # The server leaves empty fields out of its answer.
    for item in given:
        attrs = item["spec"]["resourceAttributes"]
        if not attrs["group"]:
            del attrs["group"]
    assert access.denied(reviews, given) == [scale]


def test_a_review_without_an_answer_is_not_taken_as_allowed() -> None:
    reviews = access.expand(access.parse_rules(ROLES), ["shop"], deploys=False)
    kill = find(reviews, "delete", "pods", "shop")
    given = [a for a, r in zip(answers(reviews), reviews, strict=True) if r != kill]
    with pytest.raises(InfraError, match="no access review answer for: delete pods shop"):
        access.denied(reviews, given)


def test_an_answer_without_status_is_a_denial() -> None:
    reviews = access.expand(access.parse_rules(ROLES), [], deploys=False)
    given = answers(reviews)
    del given[0]["status"]
    assert access.denied(reviews, given) == [reviews[0]]


def pretty(objects: Sequence[Mapping[str, Any]]) -> str:
    """What `kubectl create -f - -o json` prints: each object as its own indented document."""
    return "".join(json.dumps(o, indent=4) + "\n" for o in objects)


def test_output_of_several_objects_parses() -> None:
    reviews = access.expand(access.parse_rules(ROLES), ["shop"], deploys=False)
    given = answers(reviews)
    assert access.parse_answers(pretty(given)) == given


def test_output_of_a_single_object_parses() -> None:
    (one,) = answers(access.expand(access.parse_rules(ROLES), [], deploys=False)[:1])
    assert access.parse_answers(json.dumps(one, indent=4)) == [one]


def test_output_as_a_list_parses() -> None:
    given = answers(access.expand(access.parse_rules(ROLES), ["shop"], deploys=False))
    listed = {"apiVersion": "v1", "kind": "List", "items": given, "metadata": {"resourceVersion": ""}}
    assert access.parse_answers(json.dumps(listed, indent=4)) == given
    assert access.parse_answers("") == []


def test_output_that_is_not_json_objects_is_an_infra_error() -> None:
    with pytest.raises(InfraError, match="other than JSON"):
        access.parse_answers('{"kind": "SelfSubjectAccessReview"}\nerror: oops')
    with pytest.raises(InfraError, match="list where an object"):
        access.parse_answers("[]")


# --- messages -------------------------------------------------------------

FAILED = "/bin/kubectl --kubeconfig /home/u/.kube/config --context prod create -f - failed with exit code 1:\n"


# Lines as kubectl 1.34 prints them.
REFUSED = (
    'E1201 20:19:31.28 5606 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list: '
    'Get \\"https://127.0.0.1:6443/api?timeout=30s\\": dial tcp 127.0.0.1:6443: connect: connection refused"'
)
NO_HOST = (
    'error: unable to recognize "STDIN": Get "https://api.prod.example:6443/api?timeout=30s": '
    "dial tcp: lookup api.prod.example on 127.0.0.53:53: no such host"
)
TIMEOUT = (
    "Unable to connect to the server: net/http: request canceled while waiting for connection "
    "(Client.Timeout exceeded while awaiting headers)"
)
BAD_CERT = (
    'error: unable to recognize "STDIN": Get "https://10.0.0.1:6443/api?timeout=30s": tls: failed to verify '
    "certificate: x509: certificate signed by unknown authority"
)
OLD_REFUSED = "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?"


@pytest.mark.parametrize(
    ("stderr", "cause"),
    [
        (REFUSED, "dial tcp 127.0.0.1:6443: connect: connection refused"),
        (NO_HOST, "dial tcp: lookup api.prod.example on 127.0.0.53:53: no such host"),
        (TIMEOUT, "net/http: request canceled while waiting for connection"),
        (BAD_CERT, "tls: failed to verify certificate: x509: certificate signed by unknown authority"),
        (OLD_REFUSED, OLD_REFUSED),
    ],
)
def test_an_unreachable_cluster_is_bad_input(stderr: str, cause: str) -> None:
    error = access.unreachable_error("prod", "/home/u/.kube/config", FAILED + stderr)
    assert isinstance(error, BadInputError)
    assert str(error).startswith(f"the cluster of context prod is not reachable: {cause}")
    assert str(error).endswith("check it with `kubectl --kubeconfig /home/u/.kube/config --context prod get nodes`")


@pytest.mark.parametrize(
    "stderr",
    [
        'error: context "prod" does not exist',
        "Error in configuration: context was not found for specified context: prod",
    ],
)
def test_a_missing_context_is_bad_input(stderr: str) -> None:
    error = access.unreachable_error("prod", "/home/u/.kube/config", FAILED + stderr)
    assert isinstance(error, BadInputError)
    assert "kube context prod does not exist in /home/u/.kube/config" in str(error)
    assert "--kube-context" in str(error)


def test_other_kubectl_failures_are_not_called_unreachable() -> None:
    forbidden = "Error from server (Forbidden): selfsubjectaccessreviews.authorization.k8s.io is forbidden"
    assert access.unreachable_error("prod", "/k", FAILED + forbidden) is None


def test_the_message_lists_every_missing_permission_and_the_fix() -> None:
    lines = [
        "cannot delete pods in namespace shop (needed to kill MinIO servers)",
        "cannot list nodes at cluster scope",
    ]
    text = access.missing_message("prod", lines, deploys=False)
    assert text.startswith("the user of kube context prod lacks 2 permissions a chaosgate run needs:\n")
    assert "\n  - cannot delete pods in namespace shop (needed to kill MinIO servers)\n" in text
    assert "\n  - cannot list nodes at cluster scope\n" in text
    assert text.endswith(
        "Fix: apply deployer/rbac/chaosgate.yaml (bind the roles to your user or ServiceAccount), "
        "or use a context that has them."
    )
    assert "admin" in access.missing_message("prod", lines[:1], deploys=True)
    assert "lacks 1 permission a" in access.missing_message("prod", lines[:1], deploys=True)
