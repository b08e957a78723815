"""Runbook: SIGKILL one MinIO server under load.

1. Locust writes and reads through the target's app (or straight to MinIO);
   every acknowledged write is recorded in the ledger.
2. After a baseline, one MinIO server's process is killed with SIGKILL from
   its node (no grace, no shutdown hooks). Proof: its restart count rose.
3. Pass when: reads kept succeeding (availability SLO), writes were
   acknowledged again soon, every server rejoined and healing finished within
   the SLO, and every acknowledged write reads back intact.
"""

import time

import pytest

from chaos import faults
from scenarios.harness import NotApplicable, ScenarioRun

pytestmark = [pytest.mark.chaos, pytest.mark.scenario("pod-kill", title="SIGKILL one MinIO server under load")]


def test_pod_kill_under_load(scenario: ScenarioRun) -> None:
    slo, stack = scenario.slo, scenario.stack
    if stack.servers < 2:
        raise NotApplicable(f"one server ({stack.topology}): killing it is a full outage, not this scenario")
    # The second server of the first pool: a server in the middle of the set.
    victim = f"{stack.statefulsets[0]}-1"
    scenario.load_with_baseline(scenario.profile.steady_s + scenario.profile.recovery_s)

    with scenario.fault("sigkill", targets=[victim]):
        t0 = time.time()
        proof = faults.sigkill_containers(stack.kube, stack.namespace, stack.minio_selector, [victim])
        scenario.record_proof(proof)
        healed = scenario.wait_rejoined(t0, slo.healed_max_s)

    # Measured once the load is over: Locust's history and the ledger are complete.
    scenario.wait_load()
    scenario.measure(
        "time_to_detect_s",
        scenario.first_sample_after(t0, "minio", lambda m: m.get("servers_online", stack.servers) < stack.servers),
        slo.detect_max_s,
    )
    # Rejoined: MinIO sees every server and drive, and every MinIO pod is Ready.
    minio_back = scenario.first_sample_after(
        proof.finished_at,
        "minio",
        lambda m: m.get("servers_online") == stack.servers and m.get("drives_ok") == stack.drives,
    )
    pods_back = scenario.first_sample_after(proof.finished_at, "pods", lambda p: p.get("minio_ready") == stack.servers)
    rejoin = None if minio_back is None or pods_back is None else max(minio_back, pods_back)
    scenario.measure("time_to_rejoin_s", rejoin, slo.rejoin_max_s)
    scenario.measure("time_to_healed_s", healed, slo.healed_max_s)
    scenario.measure("time_to_first_ack_after_fault_s", scenario.first_ack_after(t0), slo.first_ack_max_s)
    # From the kill until healed, and at least 10 s so the share rests on enough reads.
    end = t0 + max(healed or slo.healed_max_s, 10.0)
    availability = scenario.read_availability(t0, end)
    limit = scenario.read_availability_limit(servers_down=1)
    scenario.measure("read_availability", availability, limit, unit="", floor=True)
    # Recorded, not judged: a killed server is back within seconds, often
    # before MinIO's nodes-offline metric is scraped and the rule evaluated.
    scenario.check_alert("serverOffline", t0, None if healed is None else t0 + healed, gate=False)
    scenario.check_ledger()
