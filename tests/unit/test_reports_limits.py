"""ScenarioRun.measure records each SLO limit next to its value, and summary.json carries it."""

import json

from chaos.slo import PROFILES, Slo
from chaos.verdict import ScenarioResult, Verdict
from reports.build import write_summary
from scenarios.harness import ScenarioRun


def _run(tmp_path) -> ScenarioRun:
    # measure() touches only the result: no stack, no timeline needed.
    result = ScenarioResult("pod-kill", "SIGKILL one MinIO server under load", verdict=Verdict.PASS)
    return ScenarioRun(None, None, result, tmp_path, PROFILES["quick"], Slo())  # type: ignore[arg-type]


def test_measure_records_limit_kind_and_unit(tmp_path):
    run = _run(tmp_path)
    run.measure("time_to_healed_s", 84.2, 300)
    run.measure("read_availability", 0.95, 0.9, unit="", floor=True)
    run.measure("p95_latency_ms", 2500.0, 2000.0, unit="ms")
    run.measure("time_to_detect_s", 12.0)  # no SLO: a measurement, not a check
    run.measure("time_to_rejoin_s", None, 180)  # never observed: the limit is still known
    assert run.result.limits == {
        "time_to_healed_s": {"limit": 300.0, "kind": "max", "unit": "s"},
        "read_availability": {"limit": 0.9, "kind": "min", "unit": ""},
        "p95_latency_ms": {"limit": 2000.0, "kind": "max", "unit": "ms"},
        "time_to_rejoin_s": {"limit": 180.0, "kind": "max", "unit": "s"},
    }
    assert "time_to_detect_s" in run.result.measurements
    assert run.result.verdict is Verdict.FAIL  # the latency check and the unobserved rejoin failed
    assert run.result.measurements["time_to_rejoin_s"] is None


def test_limits_reach_summary_json(tmp_path):
    run = _run(tmp_path)
    run.measure("time_to_healed_s", 84.2, 300)
    write_summary(tmp_path, {"profile": "quick"}, [run.result.to_dict()])
    scenario = json.loads((tmp_path / "summary.json").read_text())["scenarios"][0]
    assert scenario["limits"] == {"time_to_healed_s": {"limit": 300.0, "kind": "max", "unit": "s"}}
    assert scenario["measurements"] == {"time_to_healed_s": 84.2}
