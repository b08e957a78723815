"""report.html and summary.json built from a timeline written by the real Timeline class."""

import json
import re
import xml.etree.ElementTree as ET

from chaos.checkers import against_limit, wait_timed_out
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult, Verdict, exit_code, overall
from reports.build import build, fault_windows, read_records
from reports.summary import load, markdown, text


def _run(tmp_path):
    ticks = iter(range(0, 1000, 2))  # a sample every 2 s of a fake clock
    tl = Timeline(tmp_path / "timeline.jsonl", clock=lambda: float(next(ticks)))
    tl.scenario = "pod-kill"
    for i in range(5):
        tl.sample(
            {
                "load": {"rps": 10 + i, "failures_per_s": 0, "p95_ms": 30.0, "p50_ms": 10.0},
                "minio": {"servers_online": 4 if i != 2 else 3, "drives_ok": 4, "drives_healing": 0},
                "hpa": {"current": 1, "desired": 1, "cpu_percent": 40},
                "pods": {"app_ready": 1, "minio_ready": 4},
            }
        )
        if i == 1:
            tl.event("fault.sigkill.start", targets=["minio-0"])
        if i == 3:
            tl.event("fault.sigkill.end", ok=True)
    tl.close()
    ok = ScenarioResult("pod-kill", "Pod kill under load")
    ok.require(True, "no acknowledged write lost", "lost writes")
    ok.measurements = {"time_to_rejoin_s": 21.5}
    ok.ledger = {"attempted": 10, "acknowledged": 9, "failed": 1, "indeterminate": 0, "counts": {"stable": 9}}
    ok.finish()
    bad = ScenarioResult("full-outage", "Full outage")
    bad.fail("3 acknowledged writes lost")
    bad.finish()
    return ok, bad


def test_report_shows_verdicts_plots_and_fault_windows(tmp_path):
    ok, bad = _run(tmp_path)
    path = build(tmp_path, {"profile": "quick"}, [ok.to_dict(), bad.to_dict()])
    html = path.read_text()
    assert "<script" not in html  # self-contained, nothing executes or fetches
    assert html.count('<svg class="chart"') == 5  # every chart with data for pod-kill, none for full-outage
    assert 'class="fault"' in html
    assert "3 acknowledged writes lost" in html
    assert re.search(r"time_to_rejoin_s</td><td>21.50", html)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["verdict"], summary["exit_code"]) == ("fail", 1)
    assert [s["verdict"] for s in summary["scenarios"]] == ["pass", "fail"]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["full-outage"].find("failure").get("message") == "3 acknowledged writes lost"
    assert cases["pod-kill"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in cases["pod-kill"].iter("property")}
    assert props == {"verdict": "pass", "time_to_rejoin_s": "21.5", "check.1": "pass: no acknowledged write lost"}


def test_fault_windows_pair_start_and_end(tmp_path):
    _run(tmp_path)
    windows = fault_windows(read_records(tmp_path / "timeline.jsonl"), "pod-kill")
    assert len(windows) == 1
    assert windows[0].label == "sigkill"
    assert windows[0].start < windows[0].end


def test_overall_verdict_and_exit_codes():
    a, b, c = ScenarioResult("a"), ScenarioResult("b"), ScenarioResult("c")
    a.finish()
    assert overall([a]) is Verdict.PASS and exit_code(overall([a])) == 0
    b.inconclusive("fault not proven")
    assert overall([a, b]) is Verdict.INCONCLUSIVE and exit_code(overall([a, b])) == 2
    c.fail("lost data")
    c.inconclusive("also could not read")
    assert c.verdict is Verdict.FAIL
    assert overall([a, b, c]) is Verdict.FAIL and exit_code(overall([a, b, c])) == 1
    assert overall([]) is Verdict.INCONCLUSIVE


def test_a_result_is_never_pass_unless_it_finished_with_every_check_decided():
    fresh = ScenarioResult("x")
    assert fresh.verdict is Verdict.INCONCLUSIVE and fresh.status == "not-run"
    fresh.require(True, "held", "broke")
    assert fresh.verdict is Verdict.INCONCLUSIVE, "passing checks alone are not a pass"

    aborted = ScenarioResult("y")
    aborted.start()
    aborted.require(True, "held", "broke")
    aborted.abort("KeyboardInterrupt during fault.sigkill")
    aborted.finish()  # even if something calls finish afterwards
    assert aborted.verdict is Verdict.INCONCLUSIVE
    assert aborted.reasons == ["aborted: KeyboardInterrupt during fault.sigkill"]

    undecided = ScenarioResult("z")
    undecided.inconclusive("3 writes could not be read back")
    undecided.finish()
    assert undecided.verdict is Verdict.INCONCLUSIVE

    failed = ScenarioResult("f")
    failed.fail("lost")
    failed.abort("timeout")
    assert failed.verdict is Verdict.FAIL, "a failure seen before an abort stands"

    skipped = ScenarioResult("s")
    skipped.never_ran("the run stopped before it")
    assert (skipped.verdict, skipped.reasons) == (Verdict.INCONCLUSIVE, ["not run: the run stopped before it"])


def test_not_applicable_rows_count_for_neither_verdict() -> None:
    from chaos.verdict import ScenarioResult, Verdict, overall, overall_of  # noqa: PLC0415

    skipped = ScenarioResult("pod-kill")
    skipped.not_applicable("target has one server")
    skipped.finish()  # a finished body never turns it into a pass
    assert skipped.verdict is Verdict.NOT_APPLICABLE
    passed = ScenarioResult("full-outage")
    passed.start()
    passed.finish()
    assert overall([skipped, passed]) is Verdict.PASS
    assert overall([skipped]) is Verdict.INCONCLUSIVE
    assert overall_of(["not-applicable", "fail"]) is Verdict.FAIL


def test_junit_reports_not_applicable_as_skipped(tmp_path) -> None:
    from reports import junit  # noqa: PLC0415

    rows = [{"name": "pod-kill", "verdict": "not-applicable", "reasons": ["not applicable: one server"]}]
    text = junit.write(tmp_path / "junit.xml", rows).read_text()
    assert '<skipped message="not applicable: one server"' in text
    assert 'skipped="1"' in text


def test_alert_names_are_plotted_as_how_many_were_pending_and_firing() -> None:
    from reports.build import scenario_charts  # noqa: PLC0415

    records = [
        {"t": float(t), "kind": "sample", "scenario": "s", "alerts": {"pending": pending, "firing": firing}}
        for t, pending, firing in ((0, [], []), (1, ["A"], []), (2, ["A", "B"], ["C"]), (3, [], []))
    ]
    (svg,) = [c for c in scenario_charts(records, {"name": "s"}) if "Prometheus alerts" in c]
    assert "&#9632; pending" in svg and "&#9632; firing" in svg
    assert scenario_charts([{**r, "alerts": {}} for r in records], {"name": "s"}) == []


def test_check_records_are_in_summary_json_and_every_report(tmp_path):
    result = ScenarioResult("pod-kill", "Pod kill under load")
    result.start()
    result.record(against_limit("time_to_healed_s", 47.9, 300.0))
    result.record(wait_timed_out("time_to_scale_in_s", 420.0, "no fresh HPA reading", evidence=False))
    result.finish()
    assert result.verdict is Verdict.INCONCLUSIVE
    path = build(tmp_path, {"profile": "quick"}, [result.to_dict()])
    records = json.loads((tmp_path / "summary.json").read_text())["scenarios"][0]["records"]
    assert [(r["name"], r["verdict"], r["margin"]) for r in records] == [
        ("time_to_healed_s", "pass", 252.1),
        ("time_to_scale_in_s", "inconclusive", None),
    ]
    assert records[1]["evidence"]["observed"] is False
    html = path.read_text()
    assert "<h3>Checks</h3>" in html and "252.1 s to spare" in html and "last seen: no fresh HPA reading" in html
    run = load(tmp_path)
    assert "| time_to_healed_s | pass | 47.9 s | at most 300 s | 252.1 s to spare |" in markdown(run, "report.html")
    assert "no evidence; last seen: no fresh HPA reading" in text(run, "report.html")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["check.2.time_to_scale_in_s"].startswith("inconclusive: time_to_scale_in_s: no evidence either way")
