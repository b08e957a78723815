"""Runbook: cut one MinIO server off from its peers, under load.

1. A packet filter in the server pod's network namespace, set from its node,
   drops everything between it and the other MinIO servers; the kubelet's
   probes and the clients still reach it. Both ways, and one-way (only its
   packets to the peers are lost). Proof: every peer, asked directly, reports
   the server offline. A filter that cuts nothing is not proven and leaves
   the scenario inconclusive (the sabotaged case below shows it).
2. The cut holds for the profile's outage time, then is removed.
3. Pass when: the majority kept serving, the cut-off server rejoined and
   healed after the cut was removed, and every acknowledged write reads back
   intact, none stale. Reads and writes through the Service are held to the
   degraded SLO, not the strict one: the cut-off server's process is
   healthy, so it stays Ready and in the Service, and the requests it gets
   fail (measured on the reference stack: 97% of reads served with the cut
   both ways, 93.5% one-way). A readiness probe on read quorum
   (/minio/health/cluster/read) would take it out, but made every server
   unready for 17 s at the start of the cut: the probe waits on the
   unreachable peer.
"""

import time

import pytest

from chaos import faults, netfaults
from scenarios.harness import NotApplicable, ScenarioRun

pytestmark = pytest.mark.chaos

RECOVERY_S = 75
"""Load planned after the cut is removed: the server is seen again within
one internode ping and its drive reconnects within 15 s."""


def partitioned(scenario: ScenarioRun, direction: str) -> None:
    profile, slo, stack = scenario.profile, scenario.slo, scenario.stack
    if stack.topology.write_tolerance() < 1:
        raise NotApplicable(f"{stack.topology}: one server away already costs write quorum")
    # The second server of the first pool, as in the pod-kill scenario.
    victim = f"{stack.statefulsets[0]}-1"
    planned = profile.steady_s + 30 + profile.outage_s + RECOVERY_S
    scenario.load_with_baseline(planned)
    load_ends = time.time() + planned - profile.steady_s

    with (
        scenario.peers_view(victim) as peers_see_it_offline,
        scenario.fault(f"partition-{direction}", targets=[victim]),
    ):
        t0 = time.time()
        proof = scenario.record_proof(
            netfaults.partition(
                stack.kube,
                stack.namespace,
                stack.minio_selector,
                victim,
                direction=direction,
                proven=peers_see_it_offline,
                rollbacks=scenario.rollbacks,
            )
        )
        noticed = time.time()
        scenario.hold(profile.outage_s, f"{victim} cut off from its peers ({direction})")
        removed = time.time()
        scenario.record_proof(netfaults.heal(stack.namespace, victim, rollbacks=scenario.rollbacks))
        healed = scenario.wait_rejoined(removed, slo.healed_max_s)
    scenario.wait_load()
    if healed is not None and removed + healed > load_ends:
        scenario.result.inconclusive("the server rejoined after the load had ended: recovery was not under load")

    scenario.measure("time_to_detect_s", proof.evidence["proven_after_s"], slo.detect_max_s)
    scenario.measure("read_availability_until_noticed", scenario.read_availability(t0, noticed), unit="")
    scenario.measure(
        "read_availability_partitioned",
        scenario.read_availability(noticed, removed),
        slo.read_availability_min,
        unit="",
        floor=True,
    )
    scenario.measure(
        "write_availability_partitioned",
        scenario.write_availability(noticed, removed),
        slo.read_availability_min,
        unit="",
        floor=True,
    )
    scenario.measure("time_to_healed_after_cut_removed_s", healed, slo.healed_max_s)
    scenario.measure("reads_404_for_acknowledged_keys", scenario.missing_reads(), 0, unit="")
    recovered = None if healed is None else removed + healed
    scenario.check_alert("serverOffline", t0, recovered, gate=False)
    scenario.check_ledger()


@pytest.mark.scenario("partition", title="One MinIO server cut off from its peers under load", extended=True)
def test_partition_both_ways(scenario: ScenarioRun) -> None:
    partitioned(scenario, "both")


@pytest.mark.scenario("partition-one-way", title="One MinIO server's packets to its peers lost", extended=True)
def test_partition_one_way(scenario: ScenarioRun) -> None:
    partitioned(scenario, "outbound")


@pytest.mark.scenario(
    "partition-not-applied", title="Sabotaged: a partition that cuts nothing is not proven", extended=True
)
def test_partition_that_cuts_nothing_is_not_proven(scenario: ScenarioRun) -> None:
    """The filter drops packets from an address no peer has (TEST-NET-1), so
    the peers keep seeing the server: the fault must not be proven."""
    stack = scenario.stack
    victim = f"{stack.statefulsets[0]}-1"
    with scenario.peers_view(victim) as peers_see_it_offline:
        try:
            netfaults.partition(
                stack.kube,
                stack.namespace,
                stack.minio_selector,
                victim,
                direction="both",
                proven=peers_see_it_offline,
                rollbacks=scenario.rollbacks,
                timeout=30.0,
                peer_ips=["192.0.2.1"],
            )
        except faults.FaultNotProven as exc:
            scenario.result.checks.append(f"a filter that cuts nothing was not taken for a partition: {exc}")
        else:
            scenario.result.fail("a partition that cut nothing was reported as proven: the proof cannot fail")
        finally:
            scenario.rollbacks.unwind()
