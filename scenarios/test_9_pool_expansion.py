"""Runbook: add a MinIO server pool while Locust writes.

MinIO grows by server pools, never by an autoscaler: every server must list
every pool, so the change reaches all servers together.

1. ``helm upgrade`` of the running stack to the target's ``two-pools``
   variant (its values with one more pool). Proof: the new pool's
   StatefulSet exists.
2. Once every existing server's mounted endpoint list names the new pool
   (kubelet updates a mounted ConfigMap within about a minute), all servers
   restart together through MinIO's admin API (``mc admin service restart``),
   which re-reads that list; a chart that keeps the list elsewhere gets all
   its server pods deleted at once instead.
3. Pass when: MinIO lists one more pool and every server of both pools is
   online and healed;
   the restart paused writes no longer than the SLO allows (a coordinated
   restart is a short planned outage); new objects written afterwards are on
   the new pool's drives (which drives those are, MinIO's admin info says);
   every acknowledged write reads back. Measured: time from the upgrade to
   every server online, the longest write pause, availability during the
   change, the share of new objects in the new pool.
"""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest

from chaos import faults, ledger
from chaos.clients import admin_client
from chaos.minio_health import ProbeError, admin_info
from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Deadline, Seen, wait_until
from scenarios.clusters import StackManager
from scenarios.harness import NotApplicable, ScenarioRun

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.scenario("pool-expansion", title="A second MinIO server pool added under load", extended=True),
]

VARIANT = "two-pools"
"""The target's variant with one more server pool (targets/README.md)."""

EXPANSION_S = 150
"""Load planned for the change: the ConfigMap reaching the pods (up to about
60 s), the restart, and the new pool's servers joining."""

AFTER_S = 40
"""Load planned after the change: new objects for the placement check."""

ENV_FILE = "MINIO_CONFIG_ENV_FILE"


def test_pool_expansion_under_load(scenario: ScenarioRun, stacks: StackManager) -> None:
    profile, slo, stack = scenario.profile, scenario.slo, scenario.stack
    if VARIANT not in stack.target.variants():
        raise NotApplicable(f"target {stack.target.name} has no {VARIANT!r} variant (one more server pool)")
    pools_before, servers_before = stack.topology.pools, stack.servers
    sets_before = _statefulsets(scenario)
    old_servers = [p.name for p in faults.pods(stack.kube, stack.namespace, stack.minio_selector)]
    planned = profile.steady_s + EXPANSION_S + AFTER_S
    scenario.load_with_baseline(planned)
    load_ends = time.time() + planned - profile.steady_s

    with scenario.fault("pool-expansion", variant=VARIANT, servers_before=servers_before):
        t0 = time.time()
        stacks.upgrade_in_place(VARIANT)
        new_sets = _new_statefulsets(scenario, sets_before)
        scenario.record_proof(
            faults.Proof("helm-upgrade", new_sets, t0, time.time(), {"variant": VARIANT, "new": new_sets})
        )
        scenario.record_proof(_restart_together(scenario, old_servers, new_sets))
        scenario.stack = stacks.reconnect()
        online = scenario.wait_rejoined(t0, slo.healed_max_s)
        changed = time.time()
    scenario.wait_load()
    if changed > load_ends - AFTER_S / 2:
        scenario.result.inconclusive("the change outlasted the load: too few writes after it to check placement")

    grown = scenario.stack.topology
    scenario.result.require(
        grown.pools == pools_before + 1,
        f"MinIO lists {grown.pools} pools ({grown}), one more than before",
        f"MinIO lists {grown.pools} pool(s) ({grown}) after the upgrade, expected {pools_before + 1}",
    )
    scenario.measure("servers_before", servers_before, unit="")
    scenario.measure("servers_after", grown.servers, unit="")
    scenario.measure("time_to_all_servers_online_s", online, slo.healed_max_s)
    # The servers restart together once: a planned pause, judged by its length.
    scenario.measure(
        "longest_write_pause_s", scenario.longest_write_gap(t0, changed + AFTER_S / 2), slo.expansion_outage_max_s
    )
    # Over a change of well under a minute that pause is most of the window: recorded.
    scenario.measure(
        "read_availability_during_change",
        scenario.read_availability(t0, changed),
        unit="",
    )
    scenario.measure(
        "write_availability_during_change",
        scenario.write_availability(t0, changed),
        unit="",
    )
    if online is not None:
        _check_new_objects_in_new_pool(scenario, pools_before, since=changed)
    scenario.check_ledger()


def _statefulsets(scenario: ScenarioRun) -> set[str]:
    listed = scenario.stack.kube.apps.list_namespaced_stateful_set(scenario.stack.namespace)
    return {s.metadata.name for s in listed.items}


def _new_statefulsets(scenario: ScenarioRun, before: set[str]) -> list[str]:
    try:
        wait_until(
            lambda: Seen(bool(_statefulsets(scenario) - before), "no new StatefulSet"),
            what="the new pool's StatefulSet",
            timeout=Deadline(60),
            interval=1.0,
        )
    except WaitTimeout as exc:
        raise faults.FaultNotProven(f"the upgrade to {VARIANT} made no new StatefulSet: {exc}") from exc
    return sorted(_statefulsets(scenario) - before)


def _restart_together(scenario: ScenarioRun, old_servers: list[str], new_sets: list[str]) -> faults.Proof:
    """Every existing server restarted at the same moment with the new
    endpoint list: through the admin API once the mounted list names the new
    pool in every server, or by deleting all server pods at once."""
    stack = scenario.stack
    kubectl = stack.env.kubectl()
    pod = stack.kube.core.read_namespaced_pod(old_servers[0], stack.namespace)
    env = {e.name: e.value for e in pod.spec.containers[0].env or []}
    path = env.get(ENV_FILE)
    if not path:
        return faults.delete_pods(stack.kube, stack.namespace, stack.minio_selector, old_servers)
    started = time.time()

    def listed_everywhere() -> Seen:
        stale = []
        for name in old_servers:
            try:
                text = kubectl.run(["exec", "-n", stack.namespace, name, "--", "cat", path], timeout=20)
            except InfraError:
                stale.append(name)
                continue
            if not all(s in text for s in new_sets):
                stale.append(name)
        return Seen(not stale, f"{path} does not name {new_sets} yet in {stale}")

    faults.prove(listed_everywhere, f"the new endpoint list in every server ({path})", timeout=150.0)
    propagated = time.time()
    admin_client(stack.minio_url, stack.credentials).service_restart()
    return faults.Proof(
        "restart-servers-together",
        old_servers,
        started,
        time.time(),
        {"how": "admin service restart", "list_propagated_after_s": round(propagated - started, 1)},
    )


def _check_new_objects_in_new_pool(scenario: ScenarioRun, new_pool: int, *, since: float) -> None:
    """Objects first written after the change, looked up on the drives
    MinIO's admin info places in the new pool (index ``new_pool``)."""
    stack = scenario.stack
    try:
        info = admin_info(stack.minio_url, stack.credentials)
    except ProbeError as exc:
        scenario.result.inconclusive(f"placement not checked: {exc}")
        return
    drives = [d.endpoint for d in info.drives if d.pool_index == new_pool]
    seen_keys = {w.key for w in ledger.load(scenario.ledger_dir) if w.at < since}
    new_keys = {
        w.key
        for w in ledger.load(scenario.ledger_dir)
        if w.at >= since and w.outcome == ledger.ACKED and w.key not in seen_keys and w.op == "put"
    }
    if not new_keys:
        scenario.result.inconclusive("no new object was acknowledged after the change: placement not checked")
        return
    app = stack.target.app
    names = {app.object_name(k) if app is not None else k: k for k in new_keys}
    found: set[str] = set()
    for endpoint in drives:
        host_path = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        pod = host_path.hostname.split(".")[0] if host_path.hostname else ""
        root = PurePosixPath(host_path.path or "/") / stack.bucket / scenario.result.name
        try:
            out = stack.env.kubectl().run(
                ["exec", "-n", stack.namespace, pod, "--", "find", str(root), "-name", "xl.meta"], timeout=60
            )
        except InfraError as exc:
            scenario.result.inconclusive(f"placement not checked: the drives of {pod} could not be listed: {exc}")
            return
        bucket_root = PurePosixPath(host_path.path or "/") / stack.bucket
        for line in out.splitlines():
            name = str(PurePosixPath(line).parent.relative_to(bucket_root))
            if name in names:
                found.add(name)
    share = round(len(found) / len(names), 3)
    scenario.measure("new_objects", len(names), unit="")
    scenario.measure("new_objects_in_new_pool_share", share, unit="")
    scenario.result.require(
        bool(found),
        f"{len(found)} of {len(names)} objects written after the change are on the new pool's drives",
        f"none of {len(names)} objects written after the change is on the new pool's {len(drives)} drives",
    )
