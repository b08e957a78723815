"""`python -m reports compare`: regressions past the tolerance, data loss always, exit codes like the suite's."""

import json
import shutil
from pathlib import Path

import pytest

from reports.__main__ import main
from reports.compare import DATA_LOSS, REGRESSION, Tolerance, compare, judge
from reports.summary import Measurement, load

NIGHTLY = Path(__file__).parent / "data" / "runs" / "nightly"
LEGACY, BASELINE, SLOWER, LOSSY = (NIGHTLY / n for n in sorted(p.name for p in NIGHTLY.iterdir()))


def _compare(capsys, *args: str) -> tuple[int, str]:
    code = main(["compare", *map(str, args)])
    return code, capsys.readouterr().out


def _flagged(result, status):
    return sorted((f.scenario, f.what) for f in result.findings if f.status == status)


def test_slower_recovery_is_a_regression_and_fails(capsys):
    result = compare(load(BASELINE), load(SLOWER))
    # pod-kill's rejoin (1.84x, +26.5 s) and healing (2.29x, +54.5 s); not p95 (1.11x) nor
    # full-outage's healing (+1 s) nor availability (-1.1 points, inside 2).
    assert _flagged(result, REGRESSION) == [("pod-kill", "time to heal"), ("pod-kill", "time to rejoin")]
    assert _flagged(result, DATA_LOSS) == []
    code, out = _compare(capsys, BASELINE, SLOWER)
    assert code == 1
    assert "2 regressions (fails the comparison)" in out
    assert "31.5 s    58.0 s" in out and "+26.5 s (1.84x)" in out


def test_regression_as_a_warning_and_tolerance_flags(capsys):
    code, out = _compare(capsys, BASELINE, SLOWER, "--on-regression", "warn", "--format", "markdown")
    assert code == 0
    assert "⚠️ regression (warning)" in out
    assert "regressions only warn (--on-regression warn)" in out
    code, out = _compare(capsys, BASELINE, SLOWER, "--factor", "2.5")
    assert code == 0 and "no regression, no data lost" in out
    code, _ = _compare(capsys, BASELINE, SLOWER, "--factor", "2.0", "--min-seconds", "60")
    assert code == 0  # 2.29x but only +54.5 s: within the absolute slack


def test_data_loss_always_fails_even_when_regressions_only_warn(capsys):
    result = compare(load(BASELINE), load(LOSSY), Tolerance(on_regression="warn"))
    assert _flagged(result, DATA_LOSS) == [("pod-kill", "write ledger")]
    # The negative control lost data on purpose and passed: expected, not a failure.
    assert ("negative-ephemeral", "write ledger") not in _flagged(result, DATA_LOSS)
    # The verdict got worse and availability fell 7.8 points: regressions (warnings here).
    assert ("pod-kill", "verdict") in _flagged(result, REGRESSION)
    assert ("pod-kill", "read availability") in _flagged(result, REGRESSION)
    code, out = _compare(capsys, BASELINE, LOSSY, "--on-regression", "warn", "--format", "markdown")
    assert code == 1
    assert "| pod-kill | write ledger | 0 lost, 0 corrupted, 0 stale of 2,214 | 3 lost, 1 corrupted" in out
    assert "❌ data loss" in out


def test_a_baseline_written_before_limits_existed(capsys):
    code, out = _compare(capsys, LEGACY, BASELINE)
    assert code == 0 and "no regression, no data lost" in out
    code, _ = _compare(capsys, LEGACY, SLOWER)
    assert code == 1  # directions come from the names when no limits were recorded


def test_bad_input_exits_2(tmp_path, capsys):
    code = main(["compare", str(tmp_path / "missing"), str(BASELINE)])
    captured = capsys.readouterr()
    assert code == 2 and "no such run folder" in captured.err
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(BASELINE), str(tmp_path / "empty")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(BASELINE), str(SLOWER), "--factor", "0.9"])
    assert exc.value.code == 2


def _m(value, unit="s", name="time_to_rejoin_s"):
    return Measurement(name, value, unit, 180.0 if unit == "s" else None, "max" if unit == "s" else None)


@pytest.mark.parametrize(
    ("base", "now", "unit", "name", "regressed"),
    [
        (2.0, 4.0, "s", "time_to_detect_s", False),  # 2x but only +2 s: jitter
        (20.0, 31.0, "s", "time_to_detect_s", True),
        (0.0, 6.0, "s", "time_to_first_ack_after_fault_s", True),  # from nothing to past the slack
        (40.0, 20.0, "s", "time_to_rejoin_s", False),  # faster is never a regression
        (400.0, 620.0, "ms", "p95_latency_ms", True),
        (0.96, 0.95, "ratio", "read_availability", False),
        (0.96, 0.93, "ratio", "read_availability", True),  # availability: less is worse
        (0.001, 0.03, "ratio", "error_ratio", True),
        (10_000, 30_000, "", "requests", False),  # a count without a direction is shown, not judged
    ],
)
def test_tolerance_rules(base, now, unit, name, regressed):
    finding = judge("s", Measurement(name, base, unit), Measurement(name, now, unit), Tolerance())
    assert (finding.status == REGRESSION) is regressed, finding


def test_a_value_no_longer_observed_is_a_regression():
    finding = judge("pod-kill", _m(31.5), _m(None), Tolerance())
    assert finding.status == REGRESSION and finding.note == "no longer observed"
    assert judge("pod-kill", _m(None), _m(31.5), Tolerance()).status != REGRESSION


def test_scenarios_present_in_one_run_only(tmp_path):
    summary = json.loads((BASELINE / "summary.json").read_text())
    summary["scenarios"] = summary["scenarios"][:1]
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    result = compare(load(BASELINE), load(tmp_path))
    assert result.exit_code == 0
    assert ("pod-kill", "scenario") in [(f.scenario, f.what) for f in result.findings]


def test_refused_acknowledged_keys_are_data_loss(tmp_path, capsys):
    """A store that answers every read of an acknowledged key with an error
    will not return it: the rule book counts refused as damage, and so does
    compare (a run whose only damage is refused keys fails the comparison)."""
    run = tmp_path / "20260304-020000"
    shutil.copytree(LOSSY, run)
    data = json.loads((run / "summary.json").read_text())
    [pod_kill] = [s for s in data["scenarios"] if s["name"] == "pod-kill"]
    pod_kill["ledger"]["counts"] = {"stable": 2210, "refused": 4}
    pod_kill["ledger"]["problems"] = [
        {"key": f"pod-kill/k{i}", "verdict": "refused", "detail": "503 on every try", "expected_sha256": ""}
        for i in range(4)
    ]
    (run / "summary.json").write_text(json.dumps(data))
    result = compare(load(BASELINE), load(run), Tolerance(on_regression="warn"))
    assert _flagged(result, DATA_LOSS) == [("pod-kill", "write ledger")]
    [loss] = result.losses
    assert "4 refused" in loss.current
    code, out = _compare(capsys, BASELINE, run, "--on-regression", "warn")
    assert code == 1 and "data lost in 1 scenario" in out
