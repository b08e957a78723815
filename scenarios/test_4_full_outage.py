"""Runbook: delete every MinIO pod at once (full outage).

All servers die together. With persistent volumes they come back with their
drives, and every write acknowledged before the outage must still be there.
"""

import time

import pytest

from chaos import faults
from scenarios.harness import ScenarioRun

pytestmark = [pytest.mark.chaos, pytest.mark.scenario("full-outage", title="Every MinIO pod deleted at once")]


def full_outage(scenario: ScenarioRun, *, expect_loss: bool) -> None:
    """Shared with the ephemeral negative control, which must lose everything."""
    slo, stack = scenario.slo, scenario.stack
    scenario.load_with_baseline(scenario.profile.steady_s + scenario.profile.recovery_s)

    with scenario.fault("delete-all-minio-pods"):
        t0 = time.time()
        scenario.record_proof(faults.delete_pods(stack.kube, stack.namespace, stack.minio_selector))
        healed = scenario.wait_rejoined(t0, slo.healed_max_s, required=not expect_loss)

    # Measured once the load is over: the ledger is complete.
    scenario.wait_load()
    # A negative control is judged by the ledger alone: a stack that loses its
    # data may recover in any way, the point is that the loss is caught.
    gate = not expect_loss
    scenario.measure("time_to_healed_s", healed, slo.healed_max_s if gate else None)
    scenario.measure(
        "time_to_first_ack_after_fault_s",
        scenario.first_ack_after(t0),
        slo.full_outage_recovery_max_s if gate else None,
    )
    scenario.check_ledger(expect_loss=expect_loss)


def test_full_outage_keeps_every_acknowledged_write(scenario: ScenarioRun) -> None:
    full_outage(scenario, expect_loss=False)
