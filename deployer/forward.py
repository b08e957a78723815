"""Port-forwards to single pods, for asking each server directly.

A Service answers from whichever pod it picks; "every server rejoined" must
be asked of every server. `kubectl port-forward` reaches one pod through the
API server, on a free port on 127.0.0.1. A forward dies with its pod, so the
forwards are re-opened on demand; they are probes' paths, never load paths.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterable
from types import TracebackType

from deployer.kind import free_port
from deployer.kubectl import Kubectl
from kernel import procs
from kernel.errors import WaitTimeout
from kernel.wait import Deadline, Seen, wait_until

OPEN_TIMEOUT_S = 10.0


class PodForwards:
    def __init__(self, kubectl: Kubectl, namespace: str, port: int) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.port = port
        self._open: dict[str, tuple[subprocess.Popen[bytes], int]] = {}

    def urls(self, pods: Iterable[str]) -> dict[str, str | None]:
        """pod -> URL of a live forward to it, or None where none could be opened
        (the pod is gone or not running yet)."""
        return {pod: self._url(pod) for pod in pods}

    def _url(self, pod: str) -> str | None:
        proc, local = self._open.get(pod, (None, 0))
        if proc is None or proc.poll() is not None:
            proc, local = self._start(pod)
            if proc is None:
                return None
        return f"http://127.0.0.1:{local}"

    def _start(self, pod: str) -> tuple[subprocess.Popen[bytes] | None, int]:
        self._stop(pod)
        local = free_port()
        proc = port_forward(self.kubectl, self.namespace, pod, [f"{local}:{self.port}"])
        try:
            wait_until(
                lambda: _listening(proc, local),
                what=f"a port-forward to {pod}",
                timeout=Deadline(OPEN_TIMEOUT_S),
                interval=0.2,
            )
        except (WaitTimeout, _Exited):
            procs.kill([proc.pid])
            proc.wait(timeout=10)
            return None, 0
        self._open[pod] = (proc, local)
        return proc, local

    def _stop(self, pod: str) -> None:
        proc, _ = self._open.pop(pod, (None, 0))
        if proc is not None and proc.poll() is None:
            procs.kill([proc.pid])
            proc.wait(timeout=10)

    def close(self) -> None:
        for pod in list(self._open):
            self._stop(pod)

    def __enter__(self) -> PodForwards:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def port_forward(kubectl: Kubectl, namespace: str, pod: str, pairs: Iterable[str]) -> subprocess.Popen[bytes]:
    """`kubectl port-forward` of ``pairs`` (``LOCAL:REMOTE``) to one pod, on
    127.0.0.1 only, in its own session and marked as this run's (the leak
    audit finds it if it outlives the run)."""
    cmd = [
        *kubectl.base(),
        "port-forward", "--namespace", namespace, "--address", "127.0.0.1", f"pod/{pod}", *pairs,
    ]  # fmt: skip
    return subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **procs.owner_env()},
        start_new_session=True,
    )


class _Exited(Exception):
    """kubectl gave up (no such pod, pod not running): no point waiting."""


def _listening(proc: subprocess.Popen[bytes], port: int) -> Seen:
    if proc.poll() is not None:
        raise _Exited(f"kubectl exited with {proc.returncode}")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return Seen(True, "listening")
    except OSError as exc:
        return Seen(False, f"not listening yet: {exc}")
