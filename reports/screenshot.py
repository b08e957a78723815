"""Render report.html in headless Chromium: a screenshot for people, and a
check that the page loads with no console errors."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Flags that keep Chromium from reaching out to the network on its own (this
# report fetches nothing; background services would).
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
)


@dataclass(frozen=True)
class Rendered:
    screenshot: Path
    dom: str
    console_errors: list[str]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def render(report: Path, screenshot: Path, *, width: int = 1000, height: int = 2400) -> Rendered:
    browser = chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium on PATH (Debian: apt-get install chromium)")
    url = report.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="chaosgate-chromium-") as profile:
        base = [browser, *QUIET_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        # Its own session: a Ctrl-C that reaches the terminal's process group
        # while the report is written must not kill the screenshot.
        shot = _run([*base, f"--screenshot={screenshot}", url])
        dom = _run([*base, "--dump-dom", url])
    errors = [
        line
        for line in (shot.stderr + dom.stderr).splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or ":ERROR:" in line or "error" in line.lower())
    ]
    return Rendered(screenshot, dom.stdout, errors)


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True, start_new_session=True)
