"""The alert checkers on a History a kind run recorded: the quick profile's
beyond-write-quorum scenario on the reference stack, with its real
Prometheus (tests/unit/data/runs/record.py kept the files). The checkers
give the alert times the run measured, a healthy baseline reads quiet, and
the same question asked of the outage itself fails, naming the alert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos import history
from chaos.checkers import quiet_check
from chaos.checkers.alerts import alert_checks
from chaos.rulebook import Verdict
from scenarios.load import rows_from

RUN = Path(__file__).parent / "data" / "runs" / "recorded" / "20261207-144237"
NAME = "beyond-write-quorum"
ALERT = "MinIOWriteQuorumLost"
SCENARIO = json.loads((RUN / "summary.json").read_text())["scenarios"][0]


def recorded() -> history.History:
    folder = RUN / NAME
    [csv] = folder.glob("locust-*_stats_history.csv")
    reads, missing = rows_from(Path(str(csv).removesuffix("_stats_history.csv")))
    return history.load(RUN / "timeline.jsonl", NAME, folder / "ledger", reads, missing)


def walls() -> tuple[float, float, float]:
    """Fault start, servers back, and healed, as the scenario took them."""
    down, up = SCENARIO["proofs"][0], SCENARIO["proofs"][1]
    assert (down["fault"], up["fault"]) == ("take-down-servers", "restore-servers")
    healed = SCENARIO["measurements"]["time_to_healed_after_restore_s"]
    return down["started_at"], up["started_at"], up["started_at"] + healed


def test_the_alert_times_are_the_ones_the_run_measured() -> None:
    fault, _, recovered = walls()
    outcome = alert_checks(recorded(), ALERT, fault, recovered, active_max_s=60.0, resolve_max_s=120.0)
    assert outcome.problem is None
    measured = SCENARIO["measurements"]
    for key in ("active_s", "firing_s", "resolved_s"):
        value, _limit = outcome.times[f"alert_{ALERT}_{key}"]
        assert value == pytest.approx(measured[f"alert_{ALERT}_{key}"], abs=0.2)


def test_a_tighter_limit_is_not_a_problem_of_the_window_but_of_the_limit() -> None:
    # The window itself is sound; limits are judged by the limit checkers, so
    # the outcome carries the value and the limit side by side.
    fault, _, recovered = walls()
    outcome = alert_checks(recorded(), ALERT, fault, recovered, active_max_s=1.0, resolve_max_s=120.0)
    value, limit = outcome.times[f"alert_{ALERT}_active_s"]
    assert limit == 1.0 and value > limit


def test_the_baseline_was_quiet_and_the_outage_was_not() -> None:
    h = recorded()
    fault, up, _ = walls()
    baseline = quiet_check(h, [ALERT], fault - 15, fault, "the baseline")
    assert baseline.verdict is Verdict.PASS and baseline.evidence.observed
    outage = quiet_check(h, [ALERT], fault, up, "the outage")
    assert outage.verdict is Verdict.FAIL and ALERT in outage.reason


def test_an_alert_that_never_fired_fails_the_window() -> None:
    fault, _, recovered = walls()
    outcome = alert_checks(recorded(), "NoSuchAlertRule", fault, recovered, active_max_s=60.0, resolve_max_s=120.0)
    assert outcome.problem is not None and outcome.problem.verdict is Verdict.FAIL
