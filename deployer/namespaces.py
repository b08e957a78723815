"""Namespaces on a cluster chaosgate did not create: it owns only what it made.

A namespace chaosgate creates carries the managed-by label (deployer.labels)
and the id of the run that made it. A later run may reuse a labelled
namespace; it never adopts, changes or deletes one without the label, because
on a shared cluster that namespace belongs to someone else.

:func:`decide` and :func:`gone` are pure and tested with plain dicts; the rest
asks the cluster through kubectl.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from deployer.kubectl import Kubectl
from deployer.labels import MANAGED_LABEL, MANAGED_LABELS, MANAGED_VALUE
from kernel.errors import BadInputError, InfraError
from kernel.wait import Deadline, Seen, wait_until

RUN_ANNOTATION = "chaosgate.dev/created-by-run"
PICK_IN_TARGET = "pick another namespace in the target file (namespace: ...)"
TERMINATING = "Terminating"

Decision = Literal["create", "reuse", "wait"]


def is_owned(namespace: Mapping[str, Any]) -> bool:
    """Whether a Namespace object carries chaosgate's label."""
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_LABEL) == MANAGED_VALUE)


def phase(namespace: Mapping[str, Any]) -> str:
    return str((namespace.get("status") or {}).get("phase") or "Active")


def decide(existing: Mapping[str, Any] | None, *, pick: str = PICK_IN_TARGET) -> Decision:
    """What to do about a namespace chaosgate wants, given what the cluster has.

    ``"create"`` when there is none; ``"reuse"`` when an earlier run made it;
    ``"wait"`` when an earlier run's namespace is being deleted (wait until
    it is gone, then create). A namespace without the label is refused with
    BadInputError, Terminating or not: its name belongs to someone else.
    ``pick`` says where the user chooses another name.
    """
    if existing is None:
        return "create"
    if not is_owned(existing):
        name = (existing.get("metadata") or {}).get("name", "?")
        state = " (it is being deleted)" if phase(existing) == TERMINATING else ""
        raise BadInputError(
            f"namespace {name} already exists{state} and chaosgate did not create it; chaosgate never adopts "
            f"or deletes a namespace it did not make: {pick} or delete {name} yourself"
        )
    return "wait" if phase(existing) == TERMINATING else "reuse"


def manifest(name: str, run_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(MANAGED_LABELS), "annotations": {RUN_ANNOTATION: run_id}},
    }


def gone(name: str, existing: Mapping[str, Any] | None) -> Seen:
    """True once the namespace no longer exists; otherwise what still holds it."""
    if existing is None:
        return Seen(True, f"namespace {name} is gone")
    conditions = [
        f"{c.get('type')}: {c.get('message')}"
        for c in (existing.get("status") or {}).get("conditions") or []
        if c.get("status") == "True"
    ]
    held = f"; {'; '.join(conditions)}" if conditions else ""
    return Seen(False, f"namespace {name} is {phase(existing)}{held}")


def read(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    """The Namespace object, or None when there is none."""
    out = kubectl.run(["get", "namespace", name, "--ignore-not-found", "-o", "json"], timeout=60)
    if not out.strip():
        return None
    found: dict[str, Any] = json.loads(out)
    return found


def claim(kubectl: Kubectl, name: str, run_id: str, *, timeout: float = 300, pick: str = PICK_IN_TARGET) -> bool:
    """Make sure namespace ``name`` exists and is chaosgate's. True when this
    call created it, False when an earlier run's namespace is reused. Waits up
    to ``timeout`` seconds for an earlier run's namespace that is still being
    deleted."""
    decision = decide(read(kubectl, name), pick=pick)
    if decision == "reuse":
        return False
    if decision == "wait":
        _wait_gone(kubectl, name, Deadline(timeout))
    try:
        # create, not apply: apply would take over a namespace someone made
        # between our read and this call.
        kubectl.run(["create", "-f", "-"], timeout=60, input_text=json.dumps(manifest(name, run_id)))
    except InfraError as exc:
        if "AlreadyExists" not in str(exc):
            raise
        if decide(read(kubectl, name), pick=pick) == "reuse":
            return False  # a concurrent chaosgate run made it
        raise InfraError(f"namespace {name} changed while chaosgate was creating it; run again") from exc
    return True


def owned(kubectl: Kubectl, name: str) -> bool:
    """Whether namespace ``name`` exists and carries chaosgate's label."""
    existing = read(kubectl, name)
    return existing is not None and is_owned(existing)


def release(kubectl: Kubectl, name: str, timeout: float) -> None:
    """Delete a namespace chaosgate made and wait until it is gone. Raises
    InfraError for a namespace without chaosgate's label (it is never
    deleted) and when it is still there after ``timeout`` seconds, with what
    it last saw."""
    existing = read(kubectl, name)
    if existing is None:
        return
    if not is_owned(existing):
        raise InfraError(
            f"refusing to delete namespace {name}: it is not labelled {MANAGED_LABEL}={MANAGED_VALUE}, "
            "so chaosgate did not create it"
        )
    if phase(existing) != TERMINATING:
        # The selector makes the server-side listing re-check the label, so a
        # namespace relabelled since the read above is left alone.
        kubectl.run(
            [
                "delete",
                "namespace",
                "--selector",
                f"{MANAGED_LABEL}={MANAGED_VALUE}",
                "--field-selector",
                f"metadata.name={name}",
                "--wait=false",
            ],
            timeout=60,
        )
    _wait_gone(kubectl, name, Deadline(timeout))


def _wait_gone(kubectl: Kubectl, name: str, deadline: Deadline) -> None:
    wait_until(
        lambda: gone(name, read(kubectl, name)),
        what=f"namespace {name} to be deleted",
        timeout=deadline,
        interval=2.0,
    )
