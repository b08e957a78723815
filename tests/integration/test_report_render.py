"""report.html opens in a real headless Chromium without errors and shows its content."""

import os

import pytest

from reports.build import build
from reports.screenshot import chromium, render
from tests.unit.test_report_build import _run

needs_chromium = pytest.mark.skipif(
    chromium() is None and os.environ.get("CHAOSGATE_REQUIRE_CHROMIUM") != "1",
    reason="no Chromium on PATH (CI installs it and sets CHAOSGATE_REQUIRE_CHROMIUM=1)",
)


@needs_chromium
def test_report_renders_in_chromium(tmp_path):
    ok, bad = _run(tmp_path)
    report = build(tmp_path, {"profile": "quick"}, [ok.to_dict(), bad.to_dict()])
    rendered = render(report, tmp_path / "report.png")
    assert rendered.console_errors == []
    # The browser built the page: the verdict table and every chart are in its DOM.
    assert "chaosgate run" in rendered.dom
    assert rendered.dom.count('class="chart"') == 5
    assert "3 acknowledged writes lost" in rendered.dom
    png = rendered.screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
