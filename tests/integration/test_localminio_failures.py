"""LocalMinioCluster when servers misbehave: fail fast, say why, leave nothing running.

Stand-in binaries (shell scripts) play a server that dies at once and one
that never answers; no MinIO is needed to prove the harness reacts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kernel.errors import InfraError
from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-minio"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        # Field 3 of /proc/<pid>/stat is the state; a zombie (Z) is dead but not yet reaped.
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_server_that_exits_fails_the_start_at_once_with_its_log(tmp_path: Path) -> None:
    binary = _script(tmp_path, 'echo "ERROR Unable to bind: address already in use"; exit 1')
    cluster = LocalMinioCluster(binary=binary, root=tmp_path / "c")
    start = time.monotonic()
    with pytest.raises(InfraError) as raised:
        cluster.start(timeout=60)
    cluster.cleanup()
    assert time.monotonic() - start < 30  # not the whole deadline
    assert "exited with code 1" in str(raised.value)
    assert "address already in use" in str(raised.value)


def test_servers_that_never_answer_time_out_and_are_killed(tmp_path: Path) -> None:
    binary = _script(tmp_path, 'echo "booting forever"; exec sleep 300')
    cluster = LocalMinioCluster(binary=binary, root=tmp_path / "c")
    with pytest.raises(InfraError) as raised:
        cluster.start(timeout=1.5)
    pids = [cluster.pid(i) for i in range(cluster.size)]
    assert "ready with write quorum" in str(raised.value)
    assert "booting forever" in str(raised.value)  # log tails are part of the message
    assert all(_alive(pid) for pid in pids)
    cluster.cleanup()
    assert not any(_alive(pid) for pid in pids)
    assert not any(cluster.running(i) for i in range(cluster.size))


# A separate Python process owns a cluster of stand-in servers and prints their pids.
_OWNER = """
import sys, time
from pathlib import Path
from tests.fixtures.localminio import LocalMinioCluster
cluster = LocalMinioCluster(binary=Path(sys.argv[1]), root=Path(sys.argv[2]))
for i in range(cluster.size):
    cluster.start_node(i)
print(" ".join(str(cluster.pid(i)) for i in range(cluster.size)), flush=True)
if sys.argv[3] == "hang":
    time.sleep(300)
"""


@pytest.mark.parametrize("owner_end", ["exits without cleanup", "is SIGKILLed"])
def test_servers_die_with_their_owner(owner_end: str, tmp_path: Path) -> None:
    binary = _script(tmp_path, "exec sleep 300")
    mode = "hang" if owner_end == "is SIGKILLed" else "exit"
    repo = Path(__file__).resolve().parents[2]
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(binary), str(tmp_path / "c"), mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
        cwd=repo,
    )
    try:
        assert owner.stdout is not None
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 4
        if mode == "hang":
            assert all(_alive(pid) for pid in pids)
            owner.kill()  # no Python cleanup runs: only PR_SET_PDEATHSIG can save us
        owner.wait(timeout=30)
        # atexit (clean exit) or the kernel (SIGKILL) ends them; the reaper may take a moment.
        wait_until(
            lambda: Seen(not any(_alive(p) for p in pids), f"alive: {[p for p in pids if _alive(p)]}"),
            what="stand-in servers to die with their owner",
            timeout=10,
            interval=0.1,
        )
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(timeout=10)
