"""Namespace ownership on existing clusters: create, reuse, wait or refuse,
decided from the Namespace object the cluster returns (plain dicts here)."""

from __future__ import annotations

from typing import Any

import pytest

from deployer import namespaces
from deployer.labels import MANAGED_LABEL, MANAGED_VALUE
from kernel.errors import BadInputError


def namespace(name: str, *, ours: bool, phase: str = "Active", **extra: Any) -> dict[str, Any]:
    labels = {"kubernetes.io/metadata.name": name}
    if ours:
        labels[MANAGED_LABEL] = MANAGED_VALUE
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels},
        "status": {"phase": phase, **extra},
    }


def test_a_missing_namespace_is_created() -> None:
    assert namespaces.decide(None) == "create"


def test_a_namespace_an_earlier_run_made_is_reused() -> None:
    assert namespaces.decide(namespace("shop", ours=True)) == "reuse"


def test_an_earlier_runs_namespace_being_deleted_is_waited_for() -> None:
    assert namespaces.decide(namespace("shop", ours=True, phase="Terminating")) == "wait"


def test_a_foreign_namespace_is_refused() -> None:
    with pytest.raises(BadInputError) as raised:
        namespaces.decide(namespace("shop", ours=False))
    assert str(raised.value) == (
        "namespace shop already exists and chaosgate did not create it; chaosgate never adopts or deletes a "
        "namespace it did not make: pick another namespace in the target file (namespace: ...) "
        "or delete shop yourself"
    )


def test_a_foreign_namespace_being_deleted_is_refused_too() -> None:
    with pytest.raises(BadInputError, match=r"namespace shop already exists \(it is being deleted\) and chaosgate"):
        namespaces.decide(namespace("shop", ours=False, phase="Terminating"))


def test_a_label_with_another_value_is_foreign() -> None:
    other = namespace("shop", ours=False)
    other["metadata"]["labels"][MANAGED_LABEL] = "Helm"
    with pytest.raises(BadInputError, match="did not create it"):
        namespaces.decide(other)


def test_a_namespace_without_labels_or_status_is_foreign() -> None:
    with pytest.raises(BadInputError, match="namespace bare already exists and"):
        namespaces.decide({"metadata": {"name": "bare"}})


def test_the_refusal_says_where_to_pick_another_name() -> None:
    with pytest.raises(BadInputError, match="pick another helper namespace with --helper-namespace or delete"):
        namespaces.decide(namespace("cg", ours=False), pick="pick another helper namespace with --helper-namespace")


def test_the_manifest_carries_the_label_and_the_run() -> None:
    made = namespaces.manifest("shop", "run-20250101-abc")
    assert made == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop",
            "labels": {MANAGED_LABEL: MANAGED_VALUE},
            "annotations": {"chaosgate.dev/created-by-run": "run-20250101-abc"},
        },
    }
    # What chaosgate creates, it then recognises as its own.
    assert namespaces.is_owned(made)
    assert namespaces.decide(made) == "reuse"


def test_gone_says_what_still_holds_a_namespace() -> None:
    assert namespaces.gone("shop", None)
    stuck = namespace(
        "shop",
        ours=True,
        phase="Terminating",
        conditions=[
            {"type": "NamespaceDeletionDiscoveryFailure", "status": "False", "message": "all fine"},
            {"type": "NamespaceContentRemaining", "status": "True", "message": "persistentvolumeclaims has 4"},
        ],
    )
    seen = namespaces.gone("shop", stuck)
    assert not seen
    assert str(seen) == "namespace shop is Terminating; NamespaceContentRemaining: persistentvolumeclaims has 4"
