"""Runbook: the target's HPA under load.

Runs first of the fault scenarios: their load leaves the HPA scaled out, and
this one must start from the minimum.

Locust ramps up until the CPU of the HPA's pods passes its target. Pass when
the HPA scales out within the SLO, errors and p95 latency stay within the SLO,
no acknowledged write is lost while pods come and go, and the HPA scales back
in after the load stops. When the HPA scales a MinIO StatefulSet, every pod it
adds must also become a server MinIO counts online (they never do: MinIO's
server list is fixed at start).
"""

import pytest

from kernel.errors import WaitTimeout
from kernel.wait import Seen, wait_until
from scenarios.harness import ScenarioRun

pytestmark = [pytest.mark.chaos, pytest.mark.scenario("hpa-under-load", title="Autoscaling under load")]


NO_READING = "no fresh HPA reading (the probe failed or hangs)"


def test_hpa_scales_out_and_in(scenario: ScenarioRun) -> None:
    profile, slo, stack = scenario.profile, scenario.slo, scenario.stack
    scaled_kind, scaled_name = scenario.hpa_scale_target()  # not applicable without an HPA
    sampler = scenario.sampler
    assert sampler is not None

    def at_minimum() -> Seen:
        hpa = sampler.fresh("hpa")
        if hpa is None:
            return Seen(False, NO_READING)
        current, low = hpa.get("current"), hpa.get("min")
        return Seen(current is not None and current == low, f"HPA at {current} replicas (min {low})")

    # Pre-check: an HPA still scaled out by an earlier scenario's load would
    # make scale-out look instant. Start from the minimum, or do not judge.
    try:
        wait_until(at_minimum, what="the HPA at its minimum", timeout=slo.hpa_scale_in_max_s, interval=2.0)
    except WaitTimeout as exc:
        scenario.result.inconclusive(f"the HPA never came back to its minimum before the test: {exc.last_seen}")
        return
    minimum = int(sampler.latest("hpa")["min"])

    def replicas(above_minimum: bool) -> Seen:
        # Only a fresh reading counts: a failed or hanging probe is no
        # evidence of either scale-out or scale-in.
        current = (sampler.fresh("hpa") or {}).get("current")
        if current is None:
            return Seen(False, NO_READING, evidence=False)
        ok = current > minimum if above_minimum else current <= minimum
        return Seen(ok, f"HPA at {current} replicas (min {minimum})")

    load = scenario.start_load(profile.hpa_users, profile.hpa_load_s)
    scaled = scenario.time_until(lambda: replicas(above_minimum=True), "time_to_scale_out_s", slo.hpa_scale_out_max_s)
    if scaled is not None and scaled_kind == "StatefulSet" and scaled_name in stack.statefulsets:
        scenario.check_scaled_servers_joined(slo.rejoin_max_s)
    scenario.wait_load()

    totals = load.totals()
    scenario.measure("peak_users", max((r.users for r in load.history()), default=0), unit="")
    scenario.measure("requests", totals.requests, unit="")
    error_ratio = round(totals.failures / totals.requests, 4) if totals.requests else None
    scenario.measure("error_ratio", error_ratio, slo.error_ratio_max, unit="")
    scenario.measure("p95_latency_ms", totals.p95_ms, slo.p95_latency_max_ms, unit="ms")
    scenario.measure("max_replicas_seen", scenario.max_sampled("hpa", "current"), unit="")
    scenario.time_until(lambda: replicas(above_minimum=False), "time_to_scale_in_s", slo.hpa_scale_in_max_s)
    scenario.undecided_when_blind(NO_READING)

    scenario.check_ledger()
