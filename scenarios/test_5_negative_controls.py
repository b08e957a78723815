"""Negative controls: known-bad stacks that MUST fail.

A suite that never fails proves nothing. These run the real scenarios against
variants with the known weaknesses this project exists to catch, and pass only
when the write ledger reports the loss:

* ephemeral storage (emptyDir) + full outage: every object is gone;
* a gateway that acknowledges before storing + writes beyond MinIO's write
  quorum: acknowledged writes were never stored. (With one server down, as in
  the pod-kill scenario, MinIO still accepts the late writes, so that fault
  alone cannot expose this gateway; beyond write quorum it must.)
"""

import time

import pytest

from chaos import faults
from scenarios.harness import ScenarioRun
from scenarios.test_4_full_outage import full_outage

pytestmark = pytest.mark.chaos


@pytest.mark.variant("ephemeral")
@pytest.mark.scenario("negative-ephemeral", title="Negative control: ephemeral storage, full outage")
def test_ephemeral_storage_loses_data_and_is_caught(scenario: ScenarioRun) -> None:
    full_outage(scenario, expect_loss=True)


@pytest.mark.variant("unsafe-app")
@pytest.mark.scenario("negative-unsafe-app", title="Negative control: the app acknowledges before storing")
def test_unsafe_gateway_loses_acknowledged_writes_and_is_caught(scenario: ScenarioRun) -> None:
    profile, stack = scenario.profile, scenario.stack
    statefulsets, down = scenario.beyond_write_quorum()
    scenario.load_with_baseline(profile.steady_s + profile.outage_s + profile.recovery_s)
    with scenario.fault("servers-down", statefulsets=statefulsets, servers_per_pool=down):
        for name in statefulsets:
            scenario.record_proof(
                faults.take_down_servers(stack.kube, stack.namespace, name, down, rollbacks=scenario.rollbacks)
            )
        scenario.hold(profile.outage_s, "outage beyond write quorum")
        for name in statefulsets:
            scenario.record_proof(
                faults.restore_servers(stack.kube, stack.namespace, name, rollbacks=scenario.rollbacks)
            )
    scenario.wait_rejoined(time.time(), scenario.slo.healed_max_s, required=False)
    scenario.wait_load()
    scenario.check_ledger(expect_loss=True)
