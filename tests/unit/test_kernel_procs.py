"""Finding and stopping what chaosgate started: never the caller's own group."""

import os
import subprocess
import sys
from pathlib import Path

from kernel.procs import kill, orphans, owned_processes, owner_env


def test_kill_stops_a_process_of_our_own_group_without_signalling_the_group():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert os.getpgid(child.pid) == os.getpgrp()
    assert kill([child.pid]) == [child.pid]
    assert child.wait(timeout=10) == -9  # and this test is still alive to say so


def test_a_process_whose_owning_run_is_gone_is_an_orphan():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    env = {**os.environ, "CHAOSGATE_OWNER_PID": str(dead.pid)}
    stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env, start_new_session=True)
    mine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env={**os.environ, **owner_env()}, start_new_session=True
    )
    try:
        owned = owned_processes()
        assert owned[stray.pid] == dead.pid and owned[mine.pid] == os.getpid()
        assert stray.pid in orphans() and mine.pid not in orphans()
    finally:
        kill([stray.pid, mine.pid])
        stray.wait(timeout=10)
        mine.wait(timeout=10)


def _process(proc: Path, name: str, namespace: str, owner: int | None = None) -> None:
    entry = proc / name
    (entry / "ns").mkdir(parents=True)
    (entry / "ns" / "pid").symlink_to(namespace)
    (entry / "environ").write_bytes(b"PATH=/bin\0" + (f"CHAOSGATE_OWNER_PID={owner}\0".encode() if owner else b""))


def test_processes_of_another_pid_namespace_are_never_ours(tmp_path: Path) -> None:
    # As root on a host, /proc shows a container's processes too; their owner
    # pid belongs to the container's namespace. A reaper that judged them by
    # it killed a Locust run inside a container on the same machine.
    proc = tmp_path / "proc"
    _process(proc, "self", "pid:[4026531836]")
    _process(proc, "100", "pid:[4026531836]", owner=99999999)
    _process(proc, "200", "pid:[4026532999]", owner=99999999)
    _process(proc, "300", "pid:[4026531836]")
    assert owned_processes(proc) == {100: 99999999}
    assert orphans(proc) == [100]
