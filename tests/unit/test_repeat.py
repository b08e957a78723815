"""The repeat runner refuses bad input before it creates anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.repeat import main


@pytest.mark.parametrize(
    "argv", [[], ["0"], ["21"], ["x"], ["3", "--keep-cluster"], ["2", "--report-dir", "elsewhere"]]
)
def test_bad_input_exits_2_and_writes_nothing(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert not (tmp_path / "runs").exists()
    assert capsys.readouterr().err.strip()
