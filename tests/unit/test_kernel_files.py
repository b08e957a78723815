"""The kernel's file helpers: atomic writes that skip unchanged files, and locks."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from kernel.files import locked, write_if_changed


def test_write_if_changed(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "go.mod"
    assert write_if_changed(target, "a\n") is True
    assert write_if_changed(target, "a\n") is False
    assert write_if_changed(target, "b\n") is True
    assert target.read_text() == "b\n"


def test_write_if_changed_writes_once(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f"
    assert write_if_changed(target, "x\n", mode=0o644, dry_run=False)
    assert target.read_text() == "x\n"
    assert not write_if_changed(target, "x\n", mode=0o644, dry_run=False)
    assert write_if_changed(target, "x\n", mode=0o755, dry_run=False), "mode change counts"
    assert write_if_changed(target, "y\n", mode=0o755, dry_run=True)
    assert target.read_text() == "x\n", "dry run writes nothing"


# ---- runc argument parsing ----------------------------------------------------


def test_locked_excludes_a_second_holder(tmp_path: Path) -> None:
    lock_file = tmp_path / "x" / ".lock"
    with locked(lock_file), lock_file.open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with lock_file.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the block


def test_an_old_python_is_refused_naming_the_fix() -> None:
    import kernel  # noqa: PLC0415

    assert kernel.python_too_old((3, 11, 2), "/usr/bin/python3") == ""
    why = kernel.python_too_old((3, 10, 12), "/usr/bin/python3")
    assert "needs Python 3.11 or newer; /usr/bin/python3 is 3.10.12" in why
    assert "python3.11-venv" in why
