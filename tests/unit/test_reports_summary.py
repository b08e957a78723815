"""`python -m reports summary`: verdicts, measurements next to their SLO limits, ledger, proofs."""

import json
import shutil
from dataclasses import fields
from pathlib import Path

import pytest

from chaos.ledger import SIZE_CLASSES, Write, check, sha256_hex
from chaos.ledger import KeyState as LedgerVerdict
from chaos.verdict import ScenarioResult
from reports.__main__ import main
from reports.summary import (
    CLASS_COLUMNS,
    LEDGER_STATES,
    BadRun,
    Measurement,
    ledger_class_rows,
    ledger_line,
    ledger_notes,
    load,
    measurements,
    resolve,
)
from reports.summary import SIZE_CLASSES as SHOWN_CLASSES

NIGHTLY = Path(__file__).parent / "data" / "runs" / "nightly"
LEGACY, BASELINE, SLOWER, LOSSY = (NIGHTLY / n for n in sorted(p.name for p in NIGHTLY.iterdir()))


def _summary(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["summary", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_markdown_for_a_failed_run(capsys):
    code, out, _ = _summary(capsys, str(LOSSY), "--format", "markdown", "--report-url", "https://ci.example/run/7")
    assert code == 0  # the summary was written; the run's own exit code is in its header
    assert out.startswith("## chaosgate run `20260303-020000`: ❌ fail (exit 1)")
    assert "[report.html](https://ci.example/run/7)" in out
    assert "| SIGKILL one MinIO server under load | ❌ fail | read_availability = 0.884 < 0.9; 3 acknowledged" in out
    # Each measurement with its unit, the SLO limit, the margin in words, and whether it held.
    assert "| read availability | 88.40 % | at least 90 % | 1.60 percentage points short of the limit | ❌ |" in out
    assert "| time to rejoin | 34.0 s | at most 180 s | 146.0 s to spare | ✅ |" in out
    assert "| p95 latency | 420 ms | at most 2000 ms | 1580 ms to spare | ✅ |" in out
    assert "| time to detect | 14.1 s | – | – |  |" in out  # noqa: RUF001 (measured, no SLO)
    assert "2,210 stable, 3 lost, 1 corrupted, 0 stale, 0 refused, 0 unreadable" in out
    # Fault proofs as a table, evidence in words.
    assert (
        "| sigkill | minio-pool0-1 | 6.2 s | minio-pool0-1: node chaosgate-worker2, pid 4242, restarts 0 → 1 |" in out
    )
    # A GitHub step summary: every table row is one line with balanced cells.
    for line in out.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line


def test_text_for_a_passing_run(capsys):
    code, out, _ = _summary(capsys, str(BASELINE))
    assert code == 0
    assert out.startswith("chaosgate run 20260301-020000: PASS (exit 0)")
    assert "profile quick" in out
    assert "time to heal" in out and "42.3 s" in out and "257.7 s to spare" in out


def test_summary_written_before_limits_existed(capsys):
    scenario = json.loads((LEGACY / "summary.json").read_text())["scenarios"][1]
    assert "limits" not in scenario  # the point of this sample
    code, out, _ = _summary(capsys, str(LEGACY), "--format", "markdown")
    assert code == 0
    # Units come from the names; no limit is invented.
    assert "| time to rejoin | 33.0 s | – | – |  |" in out  # noqa: RUF001
    assert "| read availability | 95.80 % | – | – |  |" in out  # noqa: RUF001


def test_a_folder_of_runs_means_its_newest_run(tmp_path):
    assert resolve(NIGHTLY) == LOSSY
    assert resolve(LOSSY / "summary.json") == LOSSY
    with pytest.raises(BadRun, match=r"no summary\.json"):
        resolve(tmp_path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (None, "no such run folder"),
        ("{not json", "cannot read"),
        ('{"verdict": "pass"}', "no 'scenarios' list"),
        ('{"scenarios": [{"name": "pod-kill", "verdict": "green"}]}', "has verdict 'green'"),
        ('{"verdict": "pass", "scenarios": [{"name": "a", "verdict": "fail"}]}', "does not follow"),
        ('{"scenarios": [{"verdict": "pass"}]}', "not an object with a name"),
    ],
)
def test_bad_input_exits_2_and_says_what_is_wrong(tmp_path, capsys, damage, message):
    run = tmp_path / "20260101-000000"
    if damage is not None:
        run.mkdir()
        (run / "summary.json").write_text(damage)
    code, out, err = _summary(capsys, str(run))
    assert (code, out) == (2, "")
    assert message in err and str(run) in err


def test_margin_words_for_every_kind_of_measurement():
    over = Measurement("time_to_healed_s", 320.5, "s", 300.0, "max")
    assert (over.ok, over.margin, over.limit_shown) == (False, "20.5 s over the limit", "at most 300 s")
    never = Measurement("time_to_rejoin_s", None, "s", 180.0, "max")
    assert (never.ok, never.shown, never.margin) == (False, "never observed", "never observed: the check failed")
    floor = Measurement("read_availability", 0.95, "ratio", 0.9, "min")
    assert (floor.ok, floor.margin) == (True, "5.00 percentage points to spare")
    exact = Measurement("p95_latency_ms", 2000.0, "ms", 2000.0, "max")
    assert exact.ok is True
    count = Measurement("requests", 10412, "")
    assert (count.ok, count.shown, count.words) == (None, "10,412", "requests")


def test_units_and_limits_are_read_from_the_scenario(tmp_path):
    scenario = {
        "measurements": {"time_to_scale_in_s": 181.0, "error_ratio": 0.0012, "peak_users": 40, "broken": "n/a"},
        "limits": {"time_to_scale_in_s": {"limit": 420, "kind": "max", "unit": "s"}, "error_ratio": "junk"},
    }
    found = {m.name: m for m in measurements(scenario)}
    assert (found["time_to_scale_in_s"].limit, found["time_to_scale_in_s"].unit) == (420.0, "s")
    assert (found["error_ratio"].unit, found["error_ratio"].limit) == ("ratio", None)
    assert found["peak_users"].unit == ""
    assert found["broken"].value is None


def test_sample_runs_load_and_use_only_fields_scenario_results_have():
    known = {f.name for f in fields(ScenarioResult)}
    for folder in (LEGACY, BASELINE, SLOWER, LOSSY):
        run = load(folder)
        assert run.scenarios and (folder / "timeline.jsonl").read_text().count("\n") >= 8
        for scenario in run.scenarios:
            assert set(scenario) <= known, set(scenario) - known


def test_summary_of_a_copied_run_folder(tmp_path, capsys):
    # A downloaded artifact keeps the run folder inside: the newest one is taken.
    shutil.copytree(BASELINE, tmp_path / "artifact" / BASELINE.name)
    code, out, _ = _summary(capsys, str(tmp_path / "artifact"))
    assert code == 0 and "20260301-020000" in out


def test_the_report_lists_every_read_back_class_the_ledger_has():
    assert set(LEDGER_STATES) == {v.value for v in LedgerVerdict}


def _ledger_with_classes():
    """What check_ledger stores now: the old keys plus per-class rows and notes."""

    def put(key, data, size_class, at=1.0):
        return Write(key, len(data), sha256_hex(data), "acked", at, "s3", size_class=size_class)

    writes = [
        put("run/s", b"s", "small"),
        put("run/m", b"m" * 300, "medium"),
        put("run/l", b"l" * 900, "large"),
        put("run/gone", b"g", "small"),
        Write("run/gone", 0, "", "acked", 2.0, "s3", op="delete", size_class="small"),
    ]
    stored = {"run/s": b"s", "run/m": b"m" * 300, "run/gone": b"g"}
    report = check(
        writes,
        lambda key: (sha256_hex(stored[key]), len(stored[key])) if key in stored else None,
        lister=lambda prefix: ["run/s", "run/gone"],
    )
    report.aborted_uploads = 2
    return {**report.to_dict(), "load": {"size_mix": "small=4KiB:83,medium=1MiB:15,large=16MiB:2"}}


def test_the_ledger_shows_each_size_class_and_what_else_was_checked():
    ledger = _ledger_with_classes()
    assert CLASS_COLUMNS[:2] == ("attempted", "acknowledged")
    rows = {r[0]: dict(zip(CLASS_COLUMNS, r[1:], strict=True)) for r in ledger_class_rows(ledger)}
    assert (rows["small"]["attempted"], rows["small"]["stable"], rows["small"]["resurrected"]) == ("3", "1", "1")
    assert (rows["medium"]["missing_from_listing"], rows["large"]["lost"]) == ("1", "1")
    assert "1 resurrected, 1 missing from listing" in ledger_line(ledger)
    notes = "\n".join(ledger_notes(ledger))
    assert "deletes: 1 attempted, 1 acknowledged" in notes
    assert "incomplete multipart uploads aborted at the end: 2" in notes
    assert "listing of 'run/': 2 keys listed, 2 expected, 0 not in the ledger" in notes
    assert "load: size mix small=4KiB:83,medium=1MiB:15,large=16MiB:2" in notes


def test_the_ledger_classes_reach_markdown_and_text(tmp_path, capsys):
    run = tmp_path / "20260401-020000"
    shutil.copytree(BASELINE, run)
    summary = json.loads((run / "summary.json").read_text())
    summary["scenarios"][1]["ledger"] = _ledger_with_classes()
    (run / "summary.json").write_text(json.dumps(summary))
    _, out, _ = _summary(capsys, str(run), "--format", "markdown")
    head = "| size class | attempted | acknowledged | stable | lost | corrupted | stale | resurrected | missing from"
    assert head in out
    assert "| large | 1 | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 0 |" in out
    assert "- incomplete multipart uploads aborted at the end: 2" in out
    _, text_out, _ = _summary(capsys, str(run))
    assert "size class" in text_out and "multipart uploads: 0 attempted" in text_out


def test_the_reports_size_classes_are_the_ledgers():
    assert SHOWN_CLASSES == SIZE_CLASSES
