"""Cluster and stack lifecycle for the chaos tier: existing clusters, the
stack in the variant a scenario needs, and the leak audit at the end."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chaos import preflight as preflight_rules
from chaos.clients import Credentials, s3_client
from chaos.kube import connect
from chaos.minio_health import ProbeError, Topology, admin_info
from chaos.preflight import waivers
from chaos.settings import Settings
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult
from deployer import stack
from deployer.providers import existing as existing_provider
from deployer.providers import kind as kind_provider
from deployer.target import Target
from deployer.up import Environment, deploy_stack, upgrade_stack
from kernel import procs
from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Deadline, wait_until
from loadtests import runner
from scenarios import subject
from scenarios.probes import require_healthy
from scenarios.stack import NotApplicable, Stack


class StackManager:
    """Deploys the target in the variant each scenario asks for, one at a time.

    Variants share the fixed NodePorts, so switching variants removes the
    previous stack (namespace and volumes) first; scenarios are ordered so
    each variant is installed once."""

    def __init__(self, env: Environment, target: Target, timeline: Timeline, run_dir: Path) -> None:
        self.env = env
        self.target = target
        self.timeline = timeline
        self.run_dir = run_dir
        self.variant: str | None = None
        self.current: Stack | None = None

    def ensure(self, variant: str) -> Stack:
        if variant not in self.target.variants():
            raise NotApplicable(
                f"target {self.target.name} has no variant {variant!r} (it has {', '.join(self.target.variants())})"
            )
        if self.target.deploy is None:
            # Used as deployed: chaosgate only connects (its one variant is the stack as it runs).
            if self.current is None:
                self.variant = variant
                self.current = self._connect(variant)
            require_healthy(self.current)
            return self.current
        if self.variant != variant or self.current is None:
            self.remove()
            with self.timeline.span("phase.stack", variant=variant, target=self.target.name):
                try:
                    deploy_stack(self.env, self.target, variant)
                except InfraError:
                    stack.describe_failure(self.env.kubectl(), self.env.namespace, self.run_dir / f"failed-{variant}")
                    raise
            self.variant = variant
            self.current = self._connect(variant)
        require_healthy(self.current)
        return self.current

    def upgrade_in_place(self, variant: str) -> None:
        """Upgrade the running stack to ``variant`` without reinstalling it (a
        pool expansion under load). The stack is unknown until ``reconnect``:
        the caller finishes the change (MinIO restarts) first."""
        if self.target.deploy is None or self.variant is None:
            raise NotApplicable(f"target {self.target.name} is used as deployed: chaosgate does not upgrade it")
        with self.timeline.span("phase.stack-upgrade", variant=variant, target=self.target.name):
            upgrade_stack(self.env, self.target, variant)
        self.variant = variant
        self.current = None

    def reconnect(self) -> Stack:
        """The stack as it now is (topology read from MinIO again)."""
        if self.variant is None:
            raise InfraError("no stack is deployed")
        self.current = self._connect(self.variant)
        return self.current

    def _connect(self, variant: str) -> Stack:
        user, password = stack.credentials(self.env.kubectl(), self.target)
        credentials = Credentials(user, password)
        shape = read_topology(self.env.urls["minio"], credentials)
        self.timeline.event("stack.topology", variant=variant, topology=str(shape))
        ensure_bucket(self.env.urls["minio"], credentials, self.target.minio.bucket)
        connected = Stack(
            env=self.env,
            kube=connect(self.env.kubeconfig, self.env.context, granted=self._granted()),
            credentials=credentials,
            variant=variant,
            topology=shape,
            target=self.target,
        )
        subject.record(self.run_dir, connected)
        return connected

    def _granted(self) -> frozenset[str]:
        """Faults may act in the target's namespace without chaosgate's label
        only when the target is used as deployed on an existing cluster."""
        if self.target.deploy is None and not self.env.exposes:
            return frozenset({self.target.namespace})
        return frozenset()

    def remove(self) -> None:
        if self.variant is None:
            return
        if self.target.deploy is None:  # never uninstall what chaosgate did not install
            self.variant = None
            self.current = None
            return
        with self.timeline.span("phase.stack-remove", variant=self.variant):
            stack.uninstall(self.env.kubectl(), self.env.helm(), self.target)
        self.variant = None
        self.current = None


def preflight(target: Target, result: ScenarioResult, run_dir: Path) -> None:
    """The target's rendered manifests (default variant) through the
    MinIO-aware static checks: each error a failed check of the row unless the
    target waives it with a reason, each warning stated; all of them, waived
    or not, in preflight.json. A waiver that matches nothing is bad input."""
    if target.deploy is None:
        result.not_applicable(f"target {target.name} has no deploy section: there are no manifests to check")
        return
    text, values = stack.render_manifests(target)
    findings = preflight_rules.check(
        preflight_rules.parse_manifests(text), minio_selector=target.minio.selector, values_texts=values
    )
    judged = waivers.apply(findings, target.waivers, tuple(preflight_rules.CHECKS))
    result.findings = [j.to_dict() for j in judged]
    (run_dir / "preflight.json").write_text(json.dumps(result.findings, indent=2) + "\n")
    # Short reasons for the verdict table; why and fix are in the findings table.
    errors = [j.finding for j in judged if j.finding.severity == "error" and not j.waived]
    for finding in errors:
        result.fail(f"[{finding.check}] {finding.object} {finding.field}")
    result.checks += [
        f"waived: [{j.finding.check}] {j.finding.object} {j.finding.field}: {j.waived}" for j in judged if j.waived
    ]
    result.checks += [
        f"warning: [{j.finding.check}] {j.finding.object} {j.finding.field}"
        for j in judged
        if j.finding.severity != "error" and not j.waived
    ]
    if not errors:
        waived = " but those waived" if any(j.waived for j in judged) else ""
        result.checks.append(f"no finding that loses data or availability in {target.name}'s manifests{waived}")


def ensure_bucket(url: str, credentials: Credentials, bucket: str) -> None:
    """The bucket the ledger reads, created when absent (an app may create it
    only on its first write)."""
    client = s3_client(url, credentials)
    try:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
    except Exception as exc:
        raise InfraError(f"could not ensure bucket {bucket} at {url}: {type(exc).__name__}: {exc}") from exc


def read_topology(url: str, credentials: Credentials, timeout: float = 120.0) -> Topology:
    """The stack's shape from MinIO's own admin info, not from what the charts say."""
    try:
        info = wait_until(
            lambda: admin_info(url, credentials),
            what=f"MinIO admin info from {url}",
            timeout=Deadline(timeout),
            interval=2.0,
            tolerate=(ProbeError,),
        )
    except WaitTimeout as exc:
        raise InfraError(f"could not read the stack's topology: {exc}") from exc
    shape = info.topology
    if shape.servers == 0 or shape.drives == 0:
        raise InfraError(f"MinIO at {url} reports no erasure layout ({shape}); is it running in distributed mode?")
    return shape


def leak_audit(
    settings: Settings, faults_pending: list[str], *, kind_cluster: bool, existing_cluster: bool = False
) -> dict[str, Any]:
    """What a run must not leave behind: Locust processes (of this run, or of
    any run that no longer exists), stopped nodes, the cluster and its node
    containers (unless kept). The cluster part only for a run that began
    making a kind cluster."""
    is_kind = kind_cluster and settings.cluster == "kind"
    mine = os.getpid()
    audit: dict[str, Any] = {
        "locust_running": sum(1 for r in runner.RUNNING if r.running())
        + sum(1 for owner in procs.owned_processes().values() if owner == mine),
        "locust_orphans": len(procs.orphans()),
        "faults_not_reverted": faults_pending,
        # Each provider's own part (deployer.providers).
        "nodes_left_stopped": [],
        "cluster_left": False,
        "node_containers_left": [],
        "helper_namespace_left": False,
    }
    if is_kind:
        audit.update(kind_provider.leftovers(settings.cluster_name, keep=settings.keep_cluster))
    if existing_cluster:
        audit.update(existing_provider.leftovers(settings.kube_context))
    audit["clean"] = not any(audit[key] for key in list(audit))
    return audit
