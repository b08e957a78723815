"""Measurements rest on evidence: a failed or stale probe reading never
counts as "all online", and an HPA that cannot be read never "scaled in"."""

import time

import pytest

from chaos.minio_health import Topology
from chaos.observe import Sampler
from chaos.slo import PROFILES, Slo
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult, Verdict
from kernel.errors import WaitTimeout
from kernel.wait import Seen, wait_until
from scenarios.harness import ScenarioRun


def _run(tmp_path, timeline=None) -> ScenarioRun:
    result = ScenarioResult("pod-kill")
    return ScenarioRun(None, timeline, result, tmp_path, PROFILES["quick"], Slo())  # type: ignore[arg-type]


def test_a_stale_or_failed_all_online_sample_is_not_a_rejoin(tmp_path):
    tl = Timeline(tmp_path / "timeline.jsonl")
    tl.scenario = "pod-kill"
    since = time.time()
    tl.sample({"minio": {"servers_online": 4, "age_s": 9.5}})  # a hanging probe's old answer
    tl.sample({"minio": {"servers_online": 4, "age_s": 0.3, "error": "ProbeError: timed out"}})
    tl.sample({"minio": {"servers_online": 3, "age_s": 0.4}})
    time.sleep(0.05)
    tl.sample({"minio": {"servers_online": 4, "age_s": 0.4}})  # the first real evidence
    tl.close()
    run = _run(tmp_path, tl)
    first = run.first_sample_after(since, "minio", lambda m: m.get("servers_online") == 4)
    records = [r for r in map(__import__("json").loads, (tmp_path / "timeline.jsonl").read_text().splitlines())]
    assert first == round(records[3]["wall"] - since, 1)
    assert run.first_sample_after(since, "minio", lambda m: m.get("servers_online") == 5) is None


def test_sampler_fresh_refuses_failed_and_old_readings(tmp_path):
    tl = Timeline(tmp_path / "timeline.jsonl")
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("metrics API unavailable")
        return {"current": 3}

    sampler = Sampler(tl, {"hpa": flaky}, period=0.1)
    assert sampler.fresh("hpa") is None, "never read yet"
    sampler._poll_once = None  # not used: drive the poll by hand below
    sampler._readings["hpa"].__init__({"current": 3}, time.monotonic())  # a good reading now
    assert sampler.fresh("hpa") == {"current": 3}
    sampler._readings["hpa"].__init__({"current": 3}, time.monotonic() - 5)  # an old one
    assert sampler.fresh("hpa") is None
    sampler._readings["hpa"].__init__({}, time.monotonic(), "RuntimeError: metrics API unavailable")
    assert sampler.fresh("hpa") is None
    tl.close()


def test_a_blind_wait_is_inconclusive_not_a_failure_of_the_stack(tmp_path):
    """A wait that timed out while its probe gave no evidence (Seen.evidence
    False: the HPA could not be read) is the harness's blindness: the check is
    inconclusive with its reason, and the scenario cannot pass or fail on it."""
    run = _run(tmp_path)
    blind = Seen(False, "no fresh HPA reading (the probe failed or hangs)", evidence=False)
    assert run.time_until(lambda: blind, "time_to_scale_in_s", 0) is None
    run.result.finish()
    assert run.result.verdict is Verdict.INCONCLUSIVE
    [check] = run.result.records
    assert (check.name, check.verdict, check.evidence.observed) == ("time_to_scale_in_s", Verdict.INCONCLUSIVE, False)
    assert check.evidence.last_seen == "no fresh HPA reading (the probe failed or hangs)"
    assert "no evidence either way" in check.reason


def test_a_wait_that_saw_the_stack_not_act_fails(tmp_path):
    run = _run(tmp_path)
    assert run.time_until(lambda: Seen(False, "HPA at 3 replicas (min 1)"), "time_to_scale_in_s", 0) is None
    run.result.finish()
    assert run.result.verdict is Verdict.FAIL
    assert run.result.records[0].evidence.observed is True
    assert run.result.reasons == ["time_to_scale_in_s: not within 0s; last seen: HPA at 3 replicas (min 1)"]


def test_a_tolerated_exception_at_the_deadline_is_no_evidence(tmp_path):
    def probe() -> Seen:
        raise OSError("connection refused")

    with pytest.raises(WaitTimeout) as caught:
        wait_until(probe, what="a reading", timeout=0, tolerate=(OSError,))
    assert caught.value.evidence is False


def test_a_stack_weaker_than_it_claims_fails_the_read_slo_a_within_parity_fault_sets(tmp_path):
    def run_on(parity):
        run = _run(tmp_path)
        run.stack = type("S", (), {"topology": Topology(4, 4, 1, 4, parity)})()  # only the shape is read
        return run

    # About 9% of reads lost during one server's kill: fine for nobody whose
    # parity covers that server, so the strict limit applies and fails it.
    weak = run_on(parity=1)
    weak.measure("read_availability", 0.91, weak.read_availability_limit(servers_down=1), unit="", floor=True)
    assert weak.result.verdict is Verdict.FAIL
    ours = run_on(parity=2)
    ours.measure("read_availability", 0.9936, ours.read_availability_limit(servers_down=1), unit="", floor=True)
    assert ours.result.verdict is not Verdict.FAIL
    # Beyond the read tolerance only the degraded limit applies.
    assert run_on(parity=1).read_availability_limit(servers_down=2) == Slo().read_availability_min
