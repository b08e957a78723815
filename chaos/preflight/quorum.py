"""The rules that need MinIO's erasure arithmetic: how many servers of a pool
may be down before writes stop, against what disruption budgets (CG004,
CG012), node placement (CG005) and the layout itself (CG006, CG007) allow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chaos.preflight.erasure import Layout
from chaos.preflight.findings import ERROR, WARNING, Finding
from chaos.preflight.manifests import (
    as_dict,
    as_list,
    dig,
    label_selector_matches,
    object_ref,
    same_namespace,
)
from chaos.preflight.servers import Context, Server

HOSTNAME = "kubernetes.io/hostname"
SPREAD_FIX = (
    "add topologySpreadConstraints (topologyKey: kubernetes.io/hostname, maxSkew: 1, whenUnsatisfiable: "
    "DoNotSchedule) or required pod anti-affinity on kubernetes.io/hostname, and give MinIO at least {nodes} nodes."
)


def _tolerance_fix(tolerated: int) -> str:
    if tolerated:
        return (
            f"allow at most {tolerated} unavailable: one PodDisruptionBudget per pool with maxUnavailable: {tolerated}."
        )
    return "add servers or drives so a pool survives one server down (see CG006), then budget maxUnavailable: 1."


def check_disruption_budgets(ctx: Context) -> list[Finding]:
    findings = []
    covered: set[int] = set()
    for pdb in ctx.manifests:
        if pdb.get("kind") != "PodDisruptionBudget":
            continue
        matched = [
            s
            for s in ctx.servers
            if same_namespace(pdb, s.workload.doc)
            and label_selector_matches(dig(pdb, "spec", "selector"), s.workload.labels)
        ]
        covered.update(id(s) for s in matched)
        # A single server has no quorum to keep: CG006 says what that costs.
        layouts = [s.own for s in matched if s.own and s.own.set_size and s.own.pool.distributed]
        allowed = allowed_disruptions(as_dict(pdb.get("spec")), sum(s.workload.replicas for s in matched))
        if not layouts or allowed is None:
            continue
        worst = min(layouts, key=lambda layout: layout.servers_lost_for_writes)
        tolerated = worst.servers_lost_for_writes
        if allowed[0] > tolerated:
            why = (
                f"it lets voluntary disruptions (node drains, cluster upgrades) take {allowed[0]} MinIO server(s) "
                f"down at once, but the pool has {worst.summary()}; a drain that uses the budget stops writes."
            )
            findings.append(
                Finding("CG004-pdb-exceeds-quorum", ERROR, object_ref(pdb), allowed[1], why, _tolerance_fix(tolerated))
            )
    for server in ctx.servers:
        if id(server) not in covered and server.own and server.own.pool.distributed:
            why = (
                "no PodDisruptionBudget selects these pods: node drains, cluster upgrades and node autoscalers may "
                f"evict more servers at once than the pool allows ({server.own.summary()})."
            )
            fix = _tolerance_fix(server.own.servers_lost_for_writes)
            findings.append(
                Finding(
                    "CG012-no-disruption-budget",
                    WARNING,
                    server.workload.ref,
                    "spec.template.metadata.labels",
                    why,
                    fix,
                )
            )
    return findings


def allowed_disruptions(spec: dict[str, Any], pods: int) -> tuple[int, str] | None:
    """(servers a PDB lets go at once, the field that says so); percentages round up, as Kubernetes does."""
    if spec.get("maxUnavailable") is not None:
        return _scaled(spec["maxUnavailable"], pods), "spec.maxUnavailable"
    if spec.get("minAvailable") is not None:
        return max(0, pods - _scaled(spec["minAvailable"], pods)), "spec.minAvailable"
    return None


def _scaled(value: Any, total: int) -> int:
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        return math.ceil(int(text[:-1]) * total / 100)
    return int(text) if text.isdigit() else 0


def check_spread(ctx: Context) -> list[Finding]:
    findings = []
    for server in ctx.servers:
        layout = server.own
        if layout is None or not layout.pool.distributed or not layout.servers_lost_for_writes:
            continue  # unknown, single-server, or CG006's case: no placement makes it survive a node
        finding = _spread(server, layout, ctx.nodes)
        if finding:
            findings.append(finding)
    return findings


def _spread(server: Server, layout: Layout, nodes: int | None) -> Finding | None:
    w = server.workload
    servers, tolerated = layout.pool.servers, layout.servers_lost_for_writes
    affinity = as_dict(dig(w.pod, "affinity", "podAntiAffinity"))
    required = any(
        _own_hostname_term(t, w.labels) for t in as_list(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"))
    )
    preferred = any(
        _own_hostname_term(dig(t, "podAffinityTerm"), w.labels)
        for t in as_list(affinity.get("preferredDuringSchedulingIgnoredDuringExecution"))
    )
    skews = [
        _scaled(dig(c, "maxSkew") or 1, 1)
        for c in as_list(w.pod.get("topologySpreadConstraints"))
        if dig(c, "whenUnsatisfiable") == "DoNotSchedule" and _own_hostname_term(c, w.labels)
    ]
    check, field = "CG005-servers-share-a-node", "spec.template.spec.affinity.podAntiAffinity"
    spread_field = "spec.template.spec.topologySpreadConstraints" if skews and not required else field
    need = math.ceil(servers / tolerated)
    if nodes is not None and required and servers > nodes:
        why = (
            f"required anti-affinity allows one server per node, but the pool has {servers} servers and the cluster "
            f"{nodes} nodes: {servers - nodes} stay Pending, and a fresh pool never forms."
        )
        fix = (
            f"run at least {servers} schedulable nodes, or spread with topologySpreadConstraints (maxSkew: 1) instead."
        )
        return Finding(check, ERROR, w.ref, field + ".requiredDuringSchedulingIgnoredDuringExecution", why, fix)
    if nodes is not None:
        bound = 1 if required else _skew_bound(servers, nodes, min(skews)) if skews else math.ceil(servers / nodes)
        if bound > tolerated:
            why = (
                f"{servers} servers on {nodes} nodes put up to {bound} on one node, but the pool has "
                f"{layout.summary()}; losing that node stops writes."
            )
            return Finding(check, ERROR, w.ref, spread_field, why, SPREAD_FIX.format(nodes=need))
        if required or skews:
            return None
    elif required or skews:
        return None
    why = (
        f"the pods have {'only a preferred' if preferred else 'no'} pod anti-affinity and no DoNotSchedule "
        f"topology spread on {HOSTNAME}, so the scheduler may put more than {tolerated} of the pool's {servers} "
        f"servers on one node ({layout.summary()}); losing that node stops writes."
    )
    return Finding(check, WARNING, w.ref, field, why, SPREAD_FIX.format(nodes=need))


def _own_hostname_term(term: Any, labels: dict[str, str]) -> bool:
    """A per-node term that selects the workload's own pods."""
    return dig(term, "topologyKey") == HOSTNAME and label_selector_matches(dig(term, "labelSelector"), labels)


def _skew_bound(servers: int, nodes: int, skew: int) -> int:
    """The most pods one node can hold when counts differ by at most `skew`."""
    return min(servers, (servers + (nodes - 1) * skew) // nodes)


def check_drive_count(ctx: Context) -> list[Finding]:
    findings = []
    check, field = "CG006-too-few-drives", "spec.replicas"
    for server in ctx.servers:
        layout = server.own
        if layout is None or not layout.set_size:
            continue
        pool, w = layout.pool, server.workload
        if pool.distributed and pool.drives < 4:
            why = (
                f"the pool has {pool.drives} drives in all: erasure sets of {layout.set_size} with EC:{layout.parity}, "
                f"so one lost drive leaves no redundancy and {layout.survives()}."
            )
            fix = "run at least 4 drives per pool (e.g. 4 servers x 1 drive: EC:2, writes survive one server down)."
            findings.append(Finding(check, ERROR, w.ref, field, why, fix))
        elif pool.distributed and not layout.servers_lost_for_writes:
            why = f"one server down stops writes: the pool has {layout.summary()}."
            fix = "spread the drives over more servers (e.g. 4 servers x 1 drive instead of 2 x 2)."
            findings.append(Finding(check, ERROR, w.ref, field, why, fix))
        elif not pool.distributed:
            drives = (
                "a single drive: no erasure coding, a lost volume loses everything"
                if pool.drives == 1
                else f"{pool.drives} drives"
            )
            why = f"a single MinIO server with {drives}; every restart, eviction or node loss is a full outage."
            fix = "run MinIO distributed: at least 4 servers (pods) with an endpoint list naming them all."
            findings.append(Finding(check, WARNING, w.ref, field, why, fix))
    return findings


def check_endpoint_list(ctx: Context) -> list[Finding]:
    findings = []
    check = "CG007-endpoint-list"
    for server in ctx.servers:
        w = server.workload
        if not server.endpoints:
            continue
        for layout in server.layouts:
            if layout.problem:
                why = (
                    f"MinIO refuses the pool {layout.pool.arg} at start ({layout.problem}), so every server "
                    "exits and restarts."
                )
                fix = (
                    "choose servers x drives that split into erasure sets of 2-16 drives spread evenly over the "
                    "servers."
                )
                findings.append(Finding(check, ERROR, w.ref, server.endpoints_field, why, fix))
        own = server.own
        if own and w.kind == "StatefulSet" and own.pool.servers != w.replicas:
            extra = w.replicas - own.pool.servers
            loss = (
                f"{extra} pod(s) are in no server's endpoint list and never join"
                if extra > 0
                else f"{-extra} listed server(s) never exist, so the pool runs with their drives offline for good"
            )
            why = (
                f"the endpoint list names {own.pool.servers} servers for this pool ({own.pool.arg}) but replicas "
                f"is {w.replicas}: {loss}."
            )
            fix = "keep spec.replicas equal to the servers the endpoint list names; grow by adding a pool."
            findings.append(Finding(check, ERROR, w.ref, "spec.replicas", why, fix))
        findings += _disagreeing_lists(server, ctx.servers)
    return findings


def _disagreeing_lists(server: Server, servers: Sequence[Server]) -> list[Finding]:
    # Servers refuse peers whose endpoint list differs: a pool that names
    # another workload's hosts must carry the very same list.
    findings = []
    for other in servers:
        named = any(f"{other.workload.name}-" == layout.pool.host_prefix for layout in server.layouts)
        if other is server or not named or not other.endpoints or other.endpoints == server.endpoints:
            continue
        if same_namespace(other.workload.doc, server.workload.doc):
            why = (
                f"its endpoint list differs from the one {other.workload.ref} gets although it names that "
                "workload's servers; MinIO servers refuse peers with another list, so the cluster never forms."
            )
            fix = "render one endpoint list (one ConfigMap or value) for every pool's servers."
            findings.append(
                Finding("CG007-endpoint-list", ERROR, server.workload.ref, server.endpoints_field, why, fix)
            )
    return findings
