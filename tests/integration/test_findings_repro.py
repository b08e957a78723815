"""The reproducer in docs/findings/ does what the finding says, with the
pinned MinIO: run as written, a user sees the acknowledged delete come back
(exit 1) in an unversioned bucket and in a versioned one after a look-up
that missed drives, and hold (exit 0) in a versioned bucket after a refused
overwrite."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.minio_local import resolve

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "findings" / "delete-resurrection-repro.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the reproducer uses chattr +i (CI runs as root)")


@pytest.mark.parametrize(
    ("case", "exit_code", "says"),
    [
        ({}, 1, "RESURRECTED"),
        ({"VERSIONED": "1"}, 0, "the delete held"),
        ({"CASE": "lookup"}, 1, "no x-amz-delete-marker header"),
    ],
    ids=["unversioned", "versioned", "lookup"],
)
def test_the_reproducer_shows_the_finding(case: dict[str, str], exit_code: int, says: str) -> None:
    env = {**os.environ, "MINIO": str(resolve("minio").path), **case}
    env.pop("KEEP", None)
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=240, check=False)
    assert (done.returncode, says in done.stdout) == (exit_code, True), done.stdout + done.stderr
