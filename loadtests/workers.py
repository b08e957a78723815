"""Locust workers as local processes: Locust's own ``--worker`` mode on
this machine, each worker its own process (group) so one can be killed alone.
The in-cluster pool (loadtests/incluster.py) is the same thing as pods."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from kernel.errors import BadInputError
from kernel.procs import owner_env
from loadtests.runner import LOCUSTFILES, REPO_ROOT


class LocalWorkers:
    def __init__(self, count: int) -> None:
        if count < 1:
            raise BadInputError(f"local Locust workers: need at least 1, got {count}")
        self.count = count
        self.procs: list[subprocess.Popen[bytes]] = []

    def bind_host(self) -> str:
        return "127.0.0.1"

    def dial_host(self) -> str:
        return "127.0.0.1"

    def start(self, locustfile: str, master_port: int, env: Mapping[str, str], out_dir: Path) -> None:
        pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        full_env = {**os.environ, **env, **owner_env(), "PYTHONPATH": pythonpath}
        for index in range(self.count):
            cmd = [
                sys.executable, "-m", "locust",
                "-f", str(LOCUSTFILES / f"{locustfile}.py"),
                "--worker",
                "--master-host", self.dial_host(),
                "--master-port", str(master_port),
                "--loglevel", "WARNING",
            ]  # fmt: skip
            with (out_dir / f"locust-{locustfile}-worker{index}.log").open("wb") as log:
                self.procs.append(
                    subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True)
                )

    def kill(self, index: int) -> None:
        """Kill one worker at once (SIGKILL): a worker that dies mid-run."""
        os.killpg(self.procs[index].pid, signal.SIGKILL)
        self.procs[index].wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
