"""Finding and stopping what chaosgate started: never the caller's own group."""

import os
import subprocess
import sys

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
