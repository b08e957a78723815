"""The pure checkers on Histories a real run recorded: real MinIO server
processes on loopback, the suite's own sampler, Locust and ledger
(tests/unit/data/runs/record_local.py ran it, record.py kept the files;
nothing is written by hand). The checkers reproduce what was measured
straight from the files when the run ended, and a wait the probe could not
see through is inconclusive, with its reason."""

import dataclasses
import json
from pathlib import Path

import pytest

from chaos import history
from chaos.checkers import (
    against_limit,
    first_ack_after,
    first_sample_after,
    ledger_checks,
    longest_write_gap,
    max_sampled,
    quiet_check,
    read_availability,
    time_to_sample,
    write_availability,
)
from chaos.ledger import LedgerReport
from chaos.rulebook import Verdict
from chaos.slo import Slo
from scenarios.load import rows_from

RECORDED = Path(__file__).parent / "data" / "runs" / "recorded"
RUN = max(RECORDED.iterdir())
SUMMARY = json.loads((RUN / "summary.json").read_text())
RESULTS = {s["name"]: s for s in SUMMARY["scenarios"]}
SLO = Slo()


def recorded(name: str) -> history.History:
    folder = RUN / name
    [csv] = folder.glob("locust-*_stats_history.csv")
    reads, missing = rows_from(Path(str(csv).removesuffix("_stats_history.csv")))
    return history.load(RUN / "timeline.jsonl", name, folder / "ledger", reads, missing)


def fault(name: str) -> tuple[float, float]:
    proof = RESULTS[name]["proofs"][0]
    return proof["started_at"], proof["finished_at"]


def servers(h: history.History) -> int:
    value = max_sampled(h, "minio", "servers_online").value
    assert value is not None
    return int(value)


@pytest.mark.parametrize("name", ["pod-kill", "full-outage"])
def test_the_history_holds_what_the_run_recorded(name):
    h = recorded(name)
    assert len(h.samples) > 30 and len(h.writes) > 500 and len(h.reads) > 30
    assert [e.name for e in h.events if e.name.startswith("fault.")][-2:] == [
        f"fault.{'sigkill' if name == 'pod-kill' else 'all-servers-down'}.{edge}" for edge in ("start", "end")
    ]
    assert abs(h.to_t(h.samples[0].wall) - h.samples[0].t) < 1e-6
    assert h.missing_reads == 0
    with pytest.raises(TypeError):
        h.samples[0].parts["minio"]["servers_online"] = 0  # type: ignore[index]


@pytest.mark.parametrize("name", ["pod-kill", "full-outage"])
def test_the_checkers_measure_what_was_read_from_the_files(name):
    measured = RESULTS[name]["measurements"]
    h = recorded(name)
    n = servers(h)
    t0, _ = fault(name)
    detect = first_sample_after(h, t0, "minio", lambda m: m.get("servers_online", n) < n)
    assert detect.value == measured["time_to_detect_s"]
    assert detect.evidence.observed and detect.evidence.counts["fresh"] > 0
    assert first_ack_after(h, t0).value == measured["time_to_first_ack_after_fault_s"]
    reads = read_availability(h, t0, t0 + max(measured["time_to_healed_s"], 10.0))
    assert reads.value == measured["read_availability"]
    assert reads.evidence.counts["requests"] > 0


def test_limits_judge_the_recorded_values_with_their_margin():
    kill, outage = RESULTS["pod-kill"]["measurements"], RESULTS["full-outage"]["measurements"]
    healed = against_limit("time_to_healed_s", kill["time_to_healed_s"], SLO.healed_max_s)
    assert healed.verdict is Verdict.PASS and healed.margin == pytest.approx(
        SLO.healed_max_s - kill["time_to_healed_s"]
    )
    # Every server down: most reads failed, far below what a fault within parity allows.
    reads = against_limit(
        "read_availability", outage["read_availability"], SLO.read_availability_min, unit="", floor=True
    )
    assert reads.verdict is Verdict.FAIL and reads.margin is not None and reads.margin < -0.5
    assert reads.reason == f"read_availability = {outage['read_availability']:g} < {SLO.read_availability_min:g}"


def test_writes_stopped_in_the_full_outage_and_not_in_the_pod_kill():
    for name, stopped in (("pod-kill", False), ("full-outage", True)):
        h = recorded(name)
        t0, _ = fault(name)
        gap = longest_write_gap(h, t0, t0 + RESULTS[name]["measurements"]["time_to_healed_s"])
        during = write_availability(h, t0, t0 + 8)
        assert gap.value is not None and during.value is not None
        assert (gap.value > 8) is stopped, (name, gap.value)
        assert (during.value < 0.5) is stopped, (name, during.value)


@pytest.mark.parametrize("name", ["pod-kill", "full-outage"])
def test_the_ledger_verdict_from_the_recorded_read_back(name):
    result = RESULTS[name]
    known = {f.name for f in dataclasses.fields(LedgerReport)}
    report = LedgerReport(**{k: v for k, v in result["ledger"].items() if k in known and k != "problems"})
    [check] = ledger_checks(report)
    assert check.verdict is Verdict.PASS and check.reason in result["checks"]
    assert check.evidence.counts["acknowledged"] == result["ledger"]["acknowledged"]
    # The same read-back from a stack that said "acknowledged" but kept nothing: loss, not a pass.
    gone = dataclasses.replace(report, counts={"lost": report.counts["stable"]})
    [lost] = ledger_checks(gone)
    assert lost.verdict is Verdict.FAIL and lost.reason.startswith(f"{report.counts['stable']} lost (of ")
    [caught] = ledger_checks(gone, expect_loss=True)
    assert caught.verdict is Verdict.PASS


def test_a_wait_the_probe_could_not_see_through_is_inconclusive_with_its_reason():
    """Every server down: the sampler's MinIO probe failed until a server
    answered again. A wait judged on that stretch saw nothing either way."""
    h = recorded("full-outage")
    t0, _ = fault("full-outage")
    blind = [s for s in h.samples if s.wall >= t0 and s.fresh("minio") is None]
    assert blind, "the recorded outage has samples without a fresh MinIO reading"
    stretch = []
    for sample in (s for s in h.samples if s.wall >= blind[0].wall):
        if sample.fresh("minio") is not None:
            break
        stretch.append(sample)
    assert len(stretch) >= 5
    limit = stretch[-1].wall - blind[0].wall
    n = servers(h)
    check = time_to_sample(
        h, "time_to_rejoin_s", blind[0].wall, "minio", lambda m: m.get("servers_online") == n, limit=limit
    )
    assert check.verdict is Verdict.INCONCLUSIVE
    assert check.evidence.observed is False and check.evidence.counts == {"samples": len(stretch), "fresh": 0}
    assert check.reason.startswith("time_to_rejoin_s: no evidence either way within")
    assert check.evidence.last_seen.startswith("ProbeError: admin info from")
    # The same wait given the time to see the servers back passes, with the time it took.
    back = time_to_sample(
        h, "time_to_rejoin_s", blind[0].wall, "minio", lambda m: m.get("servers_online") == n, limit=120
    )
    assert back.verdict is Verdict.PASS and back.value is not None and back.value > limit


def test_a_wait_that_saw_the_stack_is_judged_on_what_it_saw():
    h = recorded("pod-kill")
    t0, finished = fault("pod-kill")
    n = servers(h)
    never = time_to_sample(h, "more_servers_s", t0, "minio", lambda m: m.get("servers_online", 0) > n, limit=30)
    assert never.verdict is Verdict.FAIL and never.evidence.observed
    assert (
        never.reason.startswith("more_servers_s: not within 30s; last seen: ") and f"servers_online={n}" in never.reason
    )
    back = time_to_sample(h, "time_to_rejoin_s", finished, "minio", lambda m: m.get("servers_online") == n, limit=120)
    expect = first_sample_after(h, finished, "minio", lambda m: m.get("servers_online") == n).value
    assert back.verdict is Verdict.PASS and back.value == expect


def test_without_a_single_alert_reading_the_quiet_check_is_inconclusive():
    """This run had no Prometheus: no alert was read, so none can be said to have been quiet."""
    h = recorded("pod-kill")
    hold = next(e for e in h.events if e.name == "hold")
    t0, _ = fault("pod-kill")
    check = quiet_check(h, ("MinIOWriteQuorumLost",), hold.wall, t0, "the baseline before the fault")
    assert check.verdict is Verdict.INCONCLUSIVE and check.evidence.counts == {"readings": 0}
