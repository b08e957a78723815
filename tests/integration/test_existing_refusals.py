"""``--cluster existing`` refuses what it must refuse, with exit code 2 and
before it changes anything, against a REAL kube-apiserver (tests.fixtures.apiserver).

Each refusal runs the real chaos-tier plugin in a child pytest, as a user
would, and compares a snapshot of the cluster (namespaces, RBAC, every object
in the namespaces concerned) from before and after: a refusal that changed
anything fails, in particular one that made chaosgate's helper namespace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos.settings import Settings
from deployer import access
from deployer.kubectl import Kubectl
from deployer.labels import MANAGED_LABEL, MANAGED_VALUE
from deployer.providers import HELPER_NAMESPACE
from kernel.wait import Seen, wait_until
from scenarios.clusters import leak_audit
from tests.fixtures.apiserver import LocalApiServer, apiserver, free_port
from tests.integration.plugin_env import own_cluster_name

__all__ = ["apiserver"]  # the fixture, used by name

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "targets" / "reference.yaml"
EXAMPLE = ROOT / "examples" / "existing-cluster" / "target.yaml"
SHOP = "shop"  # the example target's namespace
CHILD_TIMEOUT = 90  # seconds; a refusal comes within seconds
CHILD_TEST = "def test_it(scenario_result, cluster):\n    pass\n"
"""A scenario needs the ``cluster`` fixture: that is where the existing cluster is checked."""

Snapshot = dict[tuple[str, str, str], tuple[str, str]]


# --- targets ------------------------------------------------------------------


def _deploy_target(tmp_path: Path, namespace: str) -> Path:
    """targets/reference.yaml (it has a deploy section) in ``namespace``, written
    elsewhere: its paths are relative to the file, so they become absolute."""
    data = yaml.safe_load(REFERENCE.read_text())
    data["namespace"] = namespace
    deploy = data["deploy"]

    def absolute(path: str) -> str:
        return str((REFERENCE.parent / path).resolve())

    for release in deploy["releases"]:
        release["chart"] = absolute(release["chart"])
        release["values"] = [absolute(v) for v in release.get("values", [])]
    for variant in deploy.get("variants", {}).values():
        variant["values"] = [absolute(v) for v in variant.get("values", [])]
    path = tmp_path / "deploy-target.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _used_as_deployed(tmp_path: Path, namespace: str) -> Path:
    """examples/existing-cluster/target.yaml (no deploy section) in ``namespace``."""
    data = yaml.safe_load(EXAMPLE.read_text())
    assert "deploy" not in data
    data["namespace"] = namespace
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- the cluster ------------------------------------------------------------------


def _ensure_namespace(kubectl: Kubectl, name: str, labels: dict[str, str] | None = None) -> None:
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}
    kubectl.apply(manifest)


def _namespaces(kubectl: Kubectl) -> set[str]:
    return {item["metadata"]["name"] for item in kubectl.json(["get", "namespaces"])["items"]}


@pytest.fixture(scope="module")
def listable_kinds(apiserver: LocalApiServer) -> str:
    """Every namespaced kind the server lists, as one ``kubectl get`` argument."""
    out = apiserver.admin_kubectl().run(["api-resources", "--namespaced=true", "--verbs=list", "-o", "name"])
    return ",".join(sorted(out.split()))


def _snapshot(kubectl: Kubectl, kinds: str, namespaces: Sequence[str]) -> Snapshot:
    """(kind, namespace, name) -> (uid, resourceVersion) of the namespaces, the
    RBAC objects and every object in ``namespaces``: any create, change or
    delete shows as a difference."""
    items: list[dict[str, Any]] = kubectl.json(["get", "namespaces,clusterroles,clusterrolebindings"])["items"]
    for namespace in dict.fromkeys(namespaces):
        items += kubectl.json(["get", kinds, "--namespace", namespace])["items"]
    found: Snapshot = {}
    for item in items:
        meta = item["metadata"]
        found[(item["kind"], meta.get("namespace", ""), meta["name"])] = (meta["uid"], meta["resourceVersion"])
    return found


def _differences(before: Snapshot, after: Snapshot) -> list[str]:
    made = [f"created {key}" for key in after.keys() - before.keys()]
    gone = [f"deleted {key}" for key in before.keys() - after.keys()]
    changed = [f"changed {key}" for key in before.keys() & after.keys() if before[key] != after[key]]
    return sorted(made + gone + changed)


# --- the run ------------------------------------------------------------------


def _run_existing(
    work: Path, kubeconfig: Path, context: str, target: Path, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """The chaos-tier plugin against ``context`` of ``kubeconfig``, as a user runs it."""
    work.mkdir(exist_ok=True)
    (work / "test_scenario.py").write_text(CHILD_TEST)
    outer = {k: v for k, v in os.environ.items() if not k.startswith("CHAOSGATE_") or k == "CHAOSGATE_CACHE"}
    env = {
        **outer,
        "CHAOSGATE_CLUSTER_NAME": own_cluster_name(),
        "KUBECONFIG": str(kubeconfig),
        "KUBECACHEDIR": str(work / "kube-cache"),
        "PYTHONPATH": str(ROOT),
    }
    # fmt: off
    args = [
        "--cluster", "existing", "--kube-context", context, "--allowed-contexts", context,
        "--target", str(target), *extra,
    ]
    # fmt: on
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "scenarios.plugin", "-p", "no:cacheprovider", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )


@dataclass(frozen=True)
class Refusal:
    """One run of the plugin and what it changed in the cluster."""

    done: subprocess.CompletedProcess[str]
    work: Path
    changes: list[str]

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


def _run_watched(
    apiserver: LocalApiServer,
    kinds: str,
    work: Path,
    *,
    context: str,
    target: Path,
    namespace: str,
    kubeconfig: Path | None = None,
    extra: Sequence[str] = (),
) -> Refusal:
    """The plugin against ``context``, with the cluster snapshotted around it:
    the namespaces and RBAC objects, and every object in the target's
    namespace, chaosgate's helper namespace and default."""
    admin = apiserver.admin_kubectl()
    watched = [namespace, HELPER_NAMESPACE, "default"]
    before = _snapshot(admin, kinds, watched)
    done = _run_existing(work, kubeconfig or apiserver.kubeconfig_for(context), context, target, extra)
    return Refusal(done, work, _differences(before, _snapshot(admin, kinds, watched)))


def _assert_refused_unchanged(refusal: Refusal, *messages: str) -> None:
    output = refusal.output
    assert refusal.done.returncode == 2, output
    assert "chaosgate: bad input:" in output, output
    for message in messages:
        assert message in output, output
    assert refusal.changes == [], output
    assert not (refusal.work / ".chaosgate").exists(), "cluster state was created for bad input"


# --- the refusals -------------------------------------------------------------


def test_the_snapshot_sees_every_kind_of_change(apiserver, listable_kinds):
    # The control for the tests below: their "nothing changed" can fail.
    admin = apiserver.admin_kubectl()
    _ensure_namespace(admin, SHOP)
    watched = [SHOP, HELPER_NAMESPACE]
    before = _snapshot(admin, listable_kinds, watched)
    admin.run(["create", "configmap", "probe", "--namespace", SHOP])
    admin.run(["label", "namespace", SHOP, "probe=1"])
    try:
        changes = _differences(before, _snapshot(admin, listable_kinds, watched))
    finally:
        admin.run(["delete", "configmap", "probe", "--namespace", SHOP])
        admin.run(["label", "namespace", SHOP, "probe-"])
    assert changes == [f"changed ('Namespace', '', '{SHOP}')", f"created ('ConfigMap', '{SHOP}', 'probe')"]


def test_a_deploy_target_refuses_a_namespace_chaosgate_did_not_make(apiserver, listable_kinds, tmp_path):
    admin = apiserver.admin_kubectl()
    _ensure_namespace(admin, SHOP)
    assert HELPER_NAMESPACE not in _namespaces(admin)
    refusal = _run_watched(
        apiserver,
        listable_kinds,
        tmp_path / "work",
        context="admin",
        target=_deploy_target(tmp_path, SHOP),
        namespace=SHOP,
    )
    _assert_refused_unchanged(refusal, f"namespace {SHOP} already exists and chaosgate did not create it")
    assert HELPER_NAMESPACE not in _namespaces(admin)


def test_a_user_without_the_roles_is_refused_with_every_missing_permission(apiserver, listable_kinds, tmp_path):
    _ensure_namespace(apiserver.admin_kubectl(), SHOP)
    refusal = _run_watched(
        apiserver,
        listable_kinds,
        tmp_path / "work",
        context="nobody",
        target=_used_as_deployed(tmp_path, SHOP),
        namespace=SHOP,
    )
    _assert_refused_unchanged(
        refusal,
        "the user of kube context nobody lacks",
        f"cannot delete pods in namespace {SHOP} (needed to kill MinIO servers)",
        f"cannot create deployments.apps in namespace {HELPER_NAMESPACE}",
        "cannot list nodes at cluster scope",
        "Fix: apply deployer/rbac/chaosgate.yaml",
        # The target names no URLs, so chaosgate would run its relay in its own
        # namespace: namespace create and delete are asked for too.
        "cannot create namespaces at cluster scope",
    )


@pytest.fixture(scope="module")
def missing_namespace(
    apiserver: LocalApiServer, listable_kinds: str, tmp_path_factory: pytest.TempPathFactory
) -> Refusal:
    """A target used as deployed whose namespace does not exist, run once for two tests."""
    root = tmp_path_factory.mktemp("missing-namespace")
    assert "nowhere" not in _namespaces(apiserver.admin_kubectl())
    target = _used_as_deployed(root, "nowhere")
    return _run_watched(apiserver, listable_kinds, root / "work", context="admin", target=target, namespace="nowhere")


def test_a_target_used_as_deployed_needs_its_namespace(missing_namespace):
    _assert_refused_unchanged(missing_namespace, "namespace nowhere does not exist in context admin")


def test_an_unreachable_cluster_is_refused(apiserver, listable_kinds, tmp_path):
    closed = f"https://127.0.0.1:{free_port()}"
    refusal = _run_watched(
        apiserver,
        listable_kinds,
        tmp_path / "work",
        context="admin",
        kubeconfig=apiserver.kubeconfig_for("admin", server=closed),
        target=_used_as_deployed(tmp_path, SHOP),
        namespace=SHOP,
    )
    _assert_refused_unchanged(refusal, "the cluster of context admin is not reachable", "connection refused")


# --- the same user with the roles ---------------------------------------------


def _bindings(user: str) -> list[dict[str, Any]]:
    """The bindings docs/existing-cluster.md tells users to make."""
    subject = [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}]

    def binding(kind: str, metadata: dict[str, str], role: str) -> dict[str, Any]:
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": metadata,
            "subjects": subject,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        }

    return [
        binding("ClusterRoleBinding", {"name": access.CLUSTER_ROLE}, access.CLUSTER_ROLE),
        *(
            binding("RoleBinding", {"name": "chaosgate-run", "namespace": namespace}, access.NAMESPACED_ROLE)
            for namespace in (SHOP, HELPER_NAMESPACE)
        ),
    ]


def _check(kubectl: Kubectl) -> list[str]:
    """What the user of ``kubectl`` lacks for a run that makes chaosgate's namespace."""
    return access.check(kubectl, [SHOP, HELPER_NAMESPACE], deploys=True)


def _allowed(kubectl: Kubectl) -> Seen:
    missing = _check(kubectl)
    return Seen(not missing, f"still missing: {missing}")


@pytest.fixture
def bound_nobody(apiserver: LocalApiServer) -> Iterator[Kubectl]:
    """User nobody with chaosgate's roles bound as the docs say, and the helper
    namespace made with chaosgate's label (a RoleBinding needs its namespace).
    Yields nobody's kubectl before the roles are bound; all undone afterwards."""
    admin = apiserver.admin_kubectl()
    nobody = apiserver.kubectl("nobody")
    _ensure_namespace(admin, SHOP)
    bindings = {"apiVersion": "v1", "kind": "List", "items": _bindings("nobody")}
    helpers_made = HELPER_NAMESPACE not in _namespaces(admin)
    try:
        yield nobody
    finally:
        admin.run(["delete", "-f", "-", "--ignore-not-found"], input_text=json.dumps(bindings))
        admin.run(["delete", "-f", str(access.RBAC_FILE), "--ignore-not-found"])
        if helpers_made:
            apiserver.delete_namespace(HELPER_NAMESPACE)
        # RBAC reaches the authorizer through a watch: wait until nobody is nobody again.
        wait_until(lambda: not _allowed(nobody), what="the roles of user nobody to be gone", timeout=30)


def _bind(apiserver: LocalApiServer) -> None:
    admin = apiserver.admin_kubectl()
    admin.run(["apply", "-f", str(access.RBAC_FILE)])
    _ensure_namespace(admin, HELPER_NAMESPACE, {MANAGED_LABEL: MANAGED_VALUE})
    admin.apply({"apiVersion": "v1", "kind": "List", "items": _bindings("nobody")})


def test_the_check_allows_nothing_before_and_everything_after_the_documented_bindings(apiserver, bound_nobody):
    before = _check(bound_nobody)
    every = access.expand(access.required_rules(), [SHOP, HELPER_NAMESPACE], deploys=True)
    assert len(before) == len(every), before  # nobody may do nothing a run needs
    assert f"cannot delete pods in namespace {SHOP} (needed to kill MinIO servers)" in before

    _bind(apiserver)
    # RBAC reaches the authorizer through a watch: a moment after the apply.
    wait_until(lambda: _allowed(bound_nobody), what="user nobody to hold every permission a run needs", timeout=30)


def test_a_user_with_the_roles_gets_past_the_checks(apiserver, listable_kinds, bound_nobody, tmp_path):
    _bind(apiserver)
    wait_until(lambda: _allowed(bound_nobody), what="the roles of user nobody to take effect", timeout=30)
    # Load workers on a cluster that is not kind without a master address: the
    # last check of all, so this refusal shows that every earlier one passed.
    refusal = _run_watched(
        apiserver,
        listable_kinds,
        tmp_path / "work",
        context="nobody",
        target=_used_as_deployed(tmp_path, SHOP),
        namespace=SHOP,
        extra=["--load-workers", "1", "--helper-image", "registry.example/chaosgate/loadgen:0.1.0"],
    )
    _assert_refused_unchanged(refusal, "--load-workers on a cluster that is not kind needs --load-master-host")
    assert "lacks" not in refusal.output


def test_helpers_on_a_cluster_that_is_not_kind_need_an_image_it_can_pull(apiserver, listable_kinds, tmp_path):
    _ensure_namespace(apiserver.admin_kubectl(), SHOP)
    refusal = _run_watched(
        apiserver,
        listable_kinds,
        tmp_path / "work",
        context="admin",
        target=_used_as_deployed(tmp_path, SHOP),
        namespace=SHOP,
    )
    _assert_refused_unchanged(refusal, "is not a kind cluster", "--helper-image")


# --- what a refusal leaves on this machine ---------------------------------------


def test_a_refusal_leaves_no_run_folder(missing_namespace):
    # README, "Bad input": exit 2 ... and leaves nothing behind (no run folder, no cluster).
    assert missing_namespace.done.returncode == 2
    runs = missing_namespace.work / "runs"
    assert not runs.exists(), sorted(str(p.relative_to(runs)) for p in runs.rglob("*"))


def test_the_leak_audit_sees_a_helper_namespace_left_behind(apiserver, monkeypatch):
    """The run-cleanup row's check on an existing cluster, failing once on
    purpose: chaosgate's helper namespace still there is a leak."""
    admin = apiserver.admin_kubectl()
    monkeypatch.setenv("KUBECONFIG", str(apiserver.kubeconfig_for("admin")))
    settings = Settings(cluster="existing", kube_context="admin", allowed_contexts=("admin",))
    _ensure_namespace(admin, HELPER_NAMESPACE, {MANAGED_LABEL: MANAGED_VALUE})
    try:
        left = leak_audit(settings, [], kind_cluster=False, existing_cluster=True)
        assert left["helper_namespace_left"] is True and left["clean"] is False
    finally:
        apiserver.delete_namespace(HELPER_NAMESPACE)
    gone = leak_audit(settings, [], kind_cluster=False, existing_cluster=True)
    assert gone["helper_namespace_left"] is False and gone["clean"] is True
