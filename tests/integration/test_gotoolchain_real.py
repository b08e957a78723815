"""The pinned Go toolchain from the real module proxy: the pinned sha256 is
the zip the proxy serves, and the unpacked go runs and reports the pin.
Slow (a 70 MB download, 240 MB unpacked): run with -m slow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deployer import gotoolchain, pins


@pytest.mark.slow
def test_the_pinned_toolchain_fetches_verifies_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path))
    go = gotoolchain.ensure()
    out = subprocess.run([go, "version"], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.startswith(f"go version {pins.GO_TOOLCHAIN} linux/amd64")
