"""`python -m reports trend`: one self-contained page, each measurement over the last runs."""

import re
import shutil
from pathlib import Path

import pytest

from reports.__main__ import main

NIGHTLY = Path(__file__).parent / "data" / "runs" / "nightly"


@pytest.fixture
def runs(tmp_path) -> Path:
    folder = tmp_path / "runs"
    shutil.copytree(NIGHTLY, folder)
    return folder


def _charts(html: str) -> dict[str, str]:
    """aria-label of each trend chart -> its SVG."""
    return dict(re.findall(r'<svg class="trend"[^>]*aria-label="([^"]+)"(.*?)</svg>', html, re.S))


def test_trend_page_over_all_runs(runs, capsys):
    assert main(["trend", str(runs)]) == 0
    # Same target and profile, pod-kill passed three times and failed once: a flip, stated.
    assert capsys.readouterr().out.strip().splitlines() == [
        f"wrote {runs / 'trend.html'}",
        "verdict flip: pod-kill (reference, profile quick): fail in 20260303-020000; "
        "pass in 20260228-020000, 20260301-020000, 20260302-020000",
    ]
    html = (runs / "trend.html").read_text()
    assert "<h2>Verdict flips</h2>" in html
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    # Verdict per run, oldest first, each linking to its report.
    assert re.findall(r'href="([^"]+)/report.html"', html) == sorted(p.name for p in NIGHTLY.iterdir())
    assert html.count('class="verdict pass"') == 3 and html.count('class="verdict fail"') == 1
    charts = _charts(html)
    # Every measurement of every scenario: 7 (HPA) + 5 (pod kill) + 2 + 2.
    assert len(charts) == 16
    healed = charts["pod-kill: time to heal (time_to_healed_s)"]
    assert healed.count("<circle") == 4 and "SLO: at most 300 s" in healed
    # The regression shows: the third point sits higher than the second (smaller y).
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', healed)]
    assert ys[2] < ys[1] - 10
    # Points take their run's verdict colour; the lossy run's pod-kill point is red.
    colours = re.findall(r'<circle [^>]*fill="(#[0-9a-f]+)"', healed)
    assert colours == ["#2e7d32", "#2e7d32", "#2e7d32", "#c62828"]
    # Availability in percent against its floor.
    assert "SLO: at least 90 %" in charts["pod-kill: read availability (read_availability)"]
    # A measurement without an SLO has no limit line.
    assert 'class="limit"' not in charts["pod-kill: time to detect (time_to_detect_s)"]


def test_last_n_and_a_broken_run_folder(runs):
    (runs / "20260304-020000").mkdir()
    (runs / "20260304-020000" / "summary.json").write_text("{torn")
    (runs / "20260305-020000").mkdir()  # interrupted before any summary: not a run yet
    out = runs / "site" / "trend.html"
    out.parent.mkdir()
    assert main(["trend", str(runs), "--last", "2", "--out", str(out)]) == 0
    html = out.read_text()
    assert "20260303-020000" in html and "20260302-020000" not in html
    assert "Skipped run folders" in html and "20260304-020000: " in html
    assert 'href="../20260303-020000/report.html"' in html  # relative to where the page is
    healed = _charts(html)["pod-kill: time to heal (time_to_healed_s)"]
    assert healed.count("<circle") == 1


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["trend", str(tmp_path / "nothing")]) == 2
    assert main(["trend", str(tmp_path)]) == 2
    assert "no run folder with a summary.json" in capsys.readouterr().err
    assert main(["trend", str(NIGHTLY), "--last", "0", "--out", str(tmp_path / "t.html")]) == 2


def test_fail_on_flip_exits_1_only_when_a_verdict_flips(runs):
    assert main(["trend", str(runs), "--fail-on-flip"]) == 1
    assert main(["trend", str(runs), "--last", "2", "--fail-on-flip"]) == 1  # 20260302 pass, 20260303 fail
    # The three passing runs alone: no flip.
    shutil.rmtree(runs / "20260303-020000")
    assert main(["trend", str(runs), "--fail-on-flip"]) == 0
    html = (runs / "trend.html").read_text()
    assert "Verdict flips" not in html
