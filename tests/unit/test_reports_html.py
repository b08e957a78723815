"""report.html: measurements next to their SLO limits, and fault proofs as a table."""

import json
import re
from pathlib import Path

from reports.html import render
from tests.unit.test_reports_summary import _ledger_with_classes

NIGHTLY = Path(__file__).parent / "data" / "runs" / "nightly"


def _page(run: str) -> str:
    summary = json.loads((NIGHTLY / run / "summary.json").read_text())
    return render(summary["verdict"], summary["settings"], summary["scenarios"], {}, ["summary.json"])


def _rows(html: str, scenario: str, heading: str) -> list[list[str]]:
    section = html.split(f'<h2 id="{scenario}">')[1].split("<h2", maxsplit=1)[0]
    table = section.split(f"<h3>{heading}</h3>")[1].split("</table>")[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in table.split("<tr>")[2:]]


def test_measurements_show_unit_limit_margin_and_whether_they_held():
    rows = {r[1]: r for r in _rows(_page("20260303-020000"), "pod-kill", "Measured")}
    assert rows["read_availability"] == [
        "read availability",
        "read_availability",
        "88.40 %",
        "at least 90 %",
        "1.60 percentage points short of the limit",
        '<span class="bad">not met</span>',
    ]
    assert rows["time_to_healed_s"][2:] == [
        "47.90 s",
        "at most 300 s",
        "252.1 s to spare",
        '<span class="ok">ok</span>',
    ]
    assert rows["time_to_detect_s"][3:] == ["–", "–", ""]  # noqa: RUF001 (measured, no SLO)


def test_results_written_before_limits_still_render():
    rows = {r[1]: r for r in _rows(_page("20260228-020000"), "pod-kill", "Measured")}
    assert rows["time_to_rejoin_s"] == ["time to rejoin", "time_to_rejoin_s", "33.00 s", "–", "–", ""]  # noqa: RUF001


def test_fault_proofs_are_a_table_not_raw_json():
    html = _page("20260301-020000")
    assert _rows(html, "pod-kill", "Fault proofs") == [
        ["sigkill", "minio-pool0-1", "6.2 s", "minio-pool0-1: node chaosgate-worker2, pid 4242, restarts 0 → 1"]
    ]
    (proof,) = _rows(html, "full-outage", "Fault proofs")
    assert proof[0] == "delete-pods" and "minio-pool0-3: uid 6f1c2a30… → a93e7b31…" in proof[3]
    assert "<pre>" not in html and '"evidence"' not in html


def test_the_ledger_table_per_size_class():
    summary = json.loads((NIGHTLY / "20260301-020000" / "summary.json").read_text())
    scenario = summary["scenarios"][1]
    scenario["ledger"] = _ledger_with_classes()
    html = render(summary["verdict"], summary["settings"], summary["scenarios"], {}, ["summary.json"])
    section = html.split(f'<h2 id="{scenario["name"]}">')[1].split("<h3>Write ledger</h3>")[1].split("<h3")[0]
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in section.split("<tr>")]
    rows = {r[0]: r[1:] for r in cells if r and r[0] in ("small", "medium", "large")}
    assert rows["large"] == ["1", "1", "0", "1", "0", "0", "0", "0", "0", "0"]
    assert rows["small"][:2] == ["3", "3"] and rows["small"][6] == "1"  # the resurrected key
    assert "<th>missing from listing</th>" in html
    assert "<li>incomplete multipart uploads aborted at the end: 2</li>" in html


def test_preflight_findings_are_a_table_with_why_and_fix():
    finding = {
        "check": "CG003-ephemeral-data",
        "severity": "error",
        "object": "naive/StatefulSet/minio",
        "field": "spec.template.spec.volumes[data].emptyDir",
        "why": "every object is gone when all servers are down at once",
        "fix": "keep every drive on a PersistentVolumeClaim",
    }
    row = {"name": "preflight", "title": "Preflight", "verdict": "fail", "reasons": ["[CG003-ephemeral-data] x"]}
    html = render("fail", {}, [{**row, "findings": [finding]}], {}, [])
    assert "<h3>Findings</h3>" in html
    for value in finding.values():
        assert f"<td>{value}</td>" in html.replace("&#x27;", "'")
    assert "<h3>Findings</h3>" not in render("fail", {}, [row], {}, [])
