"""trend.html opens in a real headless Chromium without errors and shows every chart."""

import os
import shutil
from pathlib import Path

import pytest

from reports.screenshot import chromium, render
from reports.trend import write

NIGHTLY = Path(__file__).resolve().parents[1] / "unit" / "data" / "runs" / "nightly"

needs_chromium = pytest.mark.skipif(
    chromium() is None and os.environ.get("CHAOSGATE_REQUIRE_CHROMIUM") != "1",
    reason="no Chromium on PATH (CI installs it and sets CHAOSGATE_REQUIRE_CHROMIUM=1)",
)


@needs_chromium
def test_trend_renders_in_chromium(tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(NIGHTLY, runs)
    page, _ = write(runs)
    rendered = render(page, tmp_path / "trend.png", height=1600)
    assert rendered.console_errors == []
    # The browser built the page: the verdict table and one chart per scenario measurement.
    assert "chaosgate trend: the last 4 runs" in rendered.dom
    assert rendered.dom.count('class="trend"') == 16
    assert rendered.dom.count("<circle") == 16 * 4
    png = rendered.screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
