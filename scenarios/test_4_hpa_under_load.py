"""Runbook: the gateway's HPA under load.

Locust ramps up until the gateway's CPU passes the HPA target. Pass when the
HPA scales out within the SLO, errors and p95 latency stay within the SLO, no
acknowledged write is lost while pods come and go, and the HPA scales back
in after the load stops.
"""

import time

import pytest

from deployer.errors import WaitTimeout
from deployer.wait import Deadline, Seen, wait_until
from scenarios.harness import ScenarioRun

pytestmark = [pytest.mark.chaos, pytest.mark.scenario("hpa-under-load", title="Gateway autoscaling under load")]


def test_hpa_scales_out_and_in(scenario: ScenarioRun) -> None:
    profile, slo = scenario.profile, scenario.slo
    sampler = scenario.sampler
    assert sampler is not None

    def at_minimum() -> Seen:
        hpa = sampler.latest("hpa")
        current, low = hpa.get("current"), hpa.get("min")
        return Seen(current is not None and current == low, f"HPA at {current} replicas (min {low})")

    # Pre-check: an HPA still scaled out by an earlier scenario's load would
    # make scale-out look instant. Start from the minimum, or do not judge.
    try:
        wait_until(at_minimum, what="the gateway HPA at its minimum", timeout=slo.hpa_scale_in_max_s, interval=2.0)
    except WaitTimeout as exc:
        scenario.result.inconclusive(f"the HPA never came back to its minimum before the test: {exc.last_seen}")
        return
    minimum = int(sampler.latest("hpa")["min"])
    started = time.time()
    load = scenario.start_load(profile.hpa_users, profile.hpa_load_s)

    def scaled_out() -> Seen:
        current = sampler.latest("hpa").get("current") or 0
        return Seen(current > minimum, f"HPA at {current} replicas (min {minimum})")

    try:
        wait_until(
            scaled_out, what="the gateway HPA to scale out", timeout=Deadline(slo.hpa_scale_out_max_s), interval=1.0
        )
        scenario.measure("time_to_scale_out_s", round(time.time() - started, 1), slo.hpa_scale_out_max_s)
    except WaitTimeout as exc:
        scenario.measure("time_to_scale_out_s", None)
        scenario.result.fail(f"the HPA did not scale out within {slo.hpa_scale_out_max_s:.0f}s: {exc.last_seen}")

    scenario.wait_load()
    stopped = time.time()
    peak = max((r.users for r in load.history()), default=0)
    scenario.measure("peak_users", peak, unit="")
    totals = load.totals()
    scenario.measure("requests", totals.requests, unit="")
    error_ratio = round(totals.failures / totals.requests, 4) if totals.requests else None
    scenario.measure("error_ratio", error_ratio, slo.error_ratio_max, unit="")
    scenario.measure("p95_latency_ms", totals.p95_ms, slo.p95_latency_max_ms, unit="ms")
    scenario.measure("max_replicas_seen", scenario.max_sampled("hpa", "current"), unit="")

    def scaled_in() -> Seen:
        current = sampler.latest("hpa").get("current") or 0
        return Seen(current <= minimum, f"HPA at {current} replicas (min {minimum})")

    try:
        wait_until(
            scaled_in, what="the gateway HPA to scale in", timeout=Deadline(slo.hpa_scale_in_max_s), interval=2.0
        )
        scenario.measure("time_to_scale_in_s", round(time.time() - stopped, 1), slo.hpa_scale_in_max_s)
    except WaitTimeout as exc:
        scenario.measure("time_to_scale_in_s", None)
        scenario.result.fail(f"the HPA did not scale back in within {slo.hpa_scale_in_max_s:.0f}s: {exc.last_seen}")

    scenario.check_ledger()
