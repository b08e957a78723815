"""The stack under test, as a target file describes it, installed with Helm
into a labelled namespace.

Every release of the target is installed in order (`helm upgrade --install`,
its values files, its --set values and the image references chosen for this
run); a variant adds its values overlay to one release. The MinIO credentials
are read from the Secret the target names, when needed; they are never
written to a file, a log or a report. Services of the target are reached
through NodePort Services chaosgate adds next to them (``make_reachable``), so any
target on a kind cluster is reachable on loopback whatever its Service types.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deployer import charts, rootsecret
from deployer.kubectl import Helm, Kubectl
from deployer.labels import MANAGED_LABELS
from deployer.target import DEFAULT_VARIANT, Overlay, Release, Target
from kernel.errors import BadInputError, InfraError
from kernel.progress import phase, say
from kernel.wait import Deadline, Seen, wait_until

# Image references used when rendering for the preflight, before any image is
# resolved: the rendered manifests only need a well-formed reference.
PLACEHOLDER_IMAGE = "preflight.invalid/image:0"
REACH_PREFIX = "chaosgate-reach-"


def overlay_for(target: Target, variant: str) -> Overlay | None:
    if variant == DEFAULT_VARIANT:
        return None
    if target.deploy is None or variant not in target.deploy.variants:
        raise BadInputError(f"target {target.name} has no variant {variant!r}; it has: {', '.join(target.variants())}")
    return target.deploy.variants[variant]


def release_args(release: Release, namespace: str, overlay: Overlay | None, refs: Mapping[str, str]) -> list[str]:
    """The arguments after `helm upgrade --install` / `helm template`; a chart
    named by reference is pulled into the cache first (once)."""
    args = [release.name, str(charts.local_chart(release.chart)), "--namespace", namespace]
    extra = overlay if overlay is not None and overlay.release == release.name else None
    for values in (*release.values, *(extra.values if extra else ())):
        args += ["--values", str(values)]
    sets = dict(release.set)
    if extra:
        sets.update(extra.set)
    for wanted in release.images:
        repository, _, tag = refs.get(wanted.image, PLACEHOLDER_IMAGE).rpartition(":")
        sets[wanted.repository] = repository
        sets[wanted.tag] = tag
    for key, value in sorted(sets.items()):
        args += ["--set-string", f"{key}={value}"]
    return args


def _releases(target: Target) -> tuple[Release, ...]:
    if target.deploy is None:
        raise BadInputError(f"target {target.name} has no deploy section: chaosgate cannot install it")
    return target.deploy.releases


def ensure_namespace(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": dict(MANAGED_LABELS)},
        }
    )


def install(
    kubectl: Kubectl,
    helm: Helm,
    target: Target,
    variant: str,
    refs: Mapping[str, str],
    *,
    timeout: float = 900,
    expose: bool = True,
) -> None:
    """helm upgrade --install every release of the target, then wait until
    every StatefulSet and Deployment in its namespace is Ready. ``expose``:
    NodePort twins of its Services (kind clusters chaosgate made)."""
    overlay = overlay_for(target, variant)
    ensure_namespace(kubectl, target.namespace)
    rootsecret.ensure(kubectl, target)  # charts with an existingSecret need it first
    for release in _releases(target):
        args = ["upgrade", "--install", *release_args(release, target.namespace, overlay, refs)]
        with phase(f"helm install {release.name} ({variant}) into {target.namespace}"):
            helm.run(args, timeout=300)
    if expose:
        make_reachable(kubectl, target)
    wait_ready(kubectl, target.namespace, timeout=timeout)


def upgrade(helm: Helm, target: Target, variant: str, refs: Mapping[str, str]) -> None:
    """helm upgrade every release of the installed target to ``variant``, in
    place and without waiting for Ready: a change MinIO finishes only when its
    servers restart together (a new server pool) is finished by the caller."""
    overlay = overlay_for(target, variant)
    for release in _releases(target):
        args = ["upgrade", *release_args(release, target.namespace, overlay, refs)]
        with phase(f"helm upgrade {release.name} to {variant} in {target.namespace}"):
            helm.run(args, timeout=300)


def render(helm: Helm, target: Target, variant: str, refs: Mapping[str, str] | None = None) -> str:
    """The target's manifests as `helm template` renders them (for the preflight)."""
    overlay = overlay_for(target, variant)
    docs = []
    for release in _releases(target):
        docs.append(helm.run(["template", *release_args(release, target.namespace, overlay, refs or {})], timeout=120))
    return "\n---\n".join(docs)


def render_manifests(target: Target, variant: str = DEFAULT_VARIANT) -> tuple[str, dict[str, str]]:
    """What the preflight reads: the rendered manifests and the values files as written."""
    return render(Helm.offline(), target, variant), values_texts(target, variant)


def values_texts(target: Target, variant: str) -> dict[str, str]:
    """The values files a deploy of ``variant`` uses, as written, by their
    path relative to the target file (how its author wrote them)."""
    overlay = overlay_for(target, variant)
    files = [f for r in _releases(target) for f in r.values]
    files += list(overlay.values) if overlay else []
    return {os.path.relpath(f, target.file.parent): f.read_text() for f in files}


def uninstall(kubectl: Kubectl, helm: Helm, target: Target, *, timeout: float = 300) -> None:
    """Remove the releases (newest first) and the namespace with its PVCs, and wait until it is gone."""
    with phase(f"remove stack from {target.namespace}"):
        installed = helm.run(["list", "--namespace", target.namespace, "--short"], timeout=60).split()
        for release in reversed(_releases(target)):
            if release.name in installed:
                helm.run(["uninstall", release.name, "--namespace", target.namespace, "--wait"], timeout=timeout)
        kubectl.run(["delete", "namespace", target.namespace, "--ignore-not-found", "--wait=true"], timeout=timeout)


def make_reachable(kubectl: Kubectl, target: Target, node_ports: Mapping[str, int] | None = None) -> dict[str, str]:
    """A NodePort Service next to each of the target's Services the harness
    talks to, with the same selector and target port, on the node port kind
    maps to loopback. kube-proxy follows the pods through restarts, which a
    port-forward to one pod would not. Returns role -> Service made."""
    from deployer.kind import NODE_PORTS  # noqa: PLC0415 (kind's port map; kind itself is not needed)

    ports = node_ports or NODE_PORTS
    wanted = {"minio": (target.minio.service, target.minio.port)}
    if target.app is not None:
        wanted["app"] = (target.app.service, target.app.port)
    if target.prometheus is not None:
        wanted["prometheus"] = (target.prometheus.service, target.prometheus.port)
    made = {}
    for role, (name, port) in wanted.items():
        service = kubectl.json(["get", "service", name, "--namespace", target.namespace])
        twin = reach_service(role, service, port, ports[role], target.namespace)
        kubectl.apply(twin)
        made[role] = twin["metadata"]["name"]
    return made


def reach_service(role: str, service: Mapping[str, Any], port: int, node_port: int, namespace: str) -> dict[str, Any]:
    """The NodePort twin of ``service`` for ``port``; BadInputError when the
    Service has no such port or selects no pods by label."""
    name = service["metadata"]["name"]
    spec = service.get("spec", {})
    selector = spec.get("selector")
    if not selector:
        raise BadInputError(f"Service {name} has no pod selector: chaosgate cannot reach its pods through a NodePort")
    matching = [p for p in spec.get("ports", []) if p.get("port") == port]
    if not matching:
        have = [p.get("port") for p in spec.get("ports", [])]
        raise BadInputError(f"Service {name} has no port {port} (it has {have}); fix the port in the target file")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": REACH_PREFIX + role, "namespace": namespace, "labels": dict(MANAGED_LABELS)},
        "spec": {
            "type": "NodePort",
            "selector": dict(selector),
            "ports": [
                {
                    "name": "reach",
                    "port": port,
                    "targetPort": matching[0].get("targetPort", port),
                    "protocol": "TCP",
                    "nodePort": node_port,
                }
            ],
        },
    }


def _rollout_seen(items: Sequence[Mapping[str, Any]], kind: str) -> Seen:
    """StatefulSets/Deployments are ready when the controller saw the latest
    spec and every replica is updated and Ready."""
    waiting = []
    for obj in items:
        name = obj["metadata"]["name"]
        want = obj["spec"].get("replicas", 1)
        status = obj.get("status", {})
        if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
            waiting.append(f"{kind} {name}: generation not yet observed")
            continue
        ready = status.get("readyReplicas", 0)
        updated = status.get("updatedReplicas", 0)
        if ready != want or updated != want:
            waiting.append(f"{kind} {name}: {ready}/{want} ready, {updated} updated")
    if not items:
        waiting.append(f"no {kind} found yet")
    return Seen(not waiting, "; ".join(waiting) or f"all {kind}s ready")


def stack_ready(kubectl: Kubectl, namespace: str) -> Seen:
    sts = kubectl.json(["get", "statefulsets", "--namespace", namespace])["items"]
    deps = kubectl.json(["get", "deployments", "--namespace", namespace])["items"]
    seen = [_rollout_seen(sts, "StatefulSet"), _rollout_seen(deps, "Deployment")]
    return Seen(all(seen), " | ".join(str(s) for s in seen))


def wait_ready(kubectl: Kubectl, namespace: str, *, timeout: float) -> None:
    with phase(f"wait for the stack in {namespace} to be Ready"):
        wait_until(
            lambda: stack_ready(kubectl, namespace),
            what=f"every StatefulSet and Deployment in {namespace} Ready",
            timeout=Deadline(timeout),
            interval=2.0,
            tolerate=(InfraError,),
        )


def credentials(kubectl: Kubectl, target: Target) -> tuple[str, str]:
    """MinIO's root user and password from the Secret the target names."""
    spec = target.minio
    secret = kubectl.json(["get", "secret", spec.secret, "--namespace", target.namespace])
    data = secret.get("data", {})
    try:
        user = base64.b64decode(data[spec.user_key]).decode()
        password = base64.b64decode(data[spec.password_key]).decode()
    except KeyError as exc:
        raise BadInputError(
            f"Secret {spec.secret} in {target.namespace} has no key {exc}; fix minio.credentials in {target.file}"
        ) from None
    return user, password


def describe_failure(kubectl: Kubectl, namespace: str, out_dir: Path) -> None:
    """Pod logs and events for a failure report (best effort: the cluster may be the problem)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, args in (
        ("pods.txt", ["get", "pods", "-o", "wide", "--namespace", namespace]),
        ("events.txt", ["get", "events", "--sort-by=.lastTimestamp", "--namespace", namespace]),
        ("describe-pods.txt", ["describe", "pods", "--namespace", namespace]),
    ):
        try:
            (out_dir / name).write_text(kubectl.run(args, timeout=60))
        except InfraError as exc:
            (out_dir / name).write_text(f"could not collect: {exc}\n")
    try:
        pods = kubectl.json(["get", "pods", "--namespace", namespace])["items"]
    except InfraError:
        return
    for pod in pods:
        for container in pod["spec"]["containers"]:
            target = out_dir / f"log-{pod['metadata']['name']}-{container['name']}.txt"
            try:
                text = kubectl.run(
                    [
                        "logs",
                        pod["metadata"]["name"],
                        "-c",
                        container["name"],
                        "--namespace",
                        namespace,
                        "--tail=500",
                    ],
                    timeout=60,
                )
            except InfraError as exc:
                text = f"could not collect: {exc}\n"
            target.write_text(text)
    say(f"pod logs and events saved to {out_dir}")
