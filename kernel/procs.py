"""Running external commands: always checked, always with a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from kernel.errors import InfraError


def run(
    cmd: Sequence[str | Path],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    capture: bool = True,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` and return its result; raise ``InfraError`` with the tail of its
    output when it fails or runs past ``timeout`` seconds.

    ``env`` is added to the current environment rather than replacing it, so
    PATH and proxies keep working.
    """
    full_env = {**os.environ, **env} if env else None
    args = [str(c) for c in cmd]
    try:
        return subprocess.run(
            args,
            check=True,
            timeout=timeout,
            env=full_env,
            cwd=cwd,
            text=True,
            capture_output=capture,
            input=input_text,
        )
    except subprocess.TimeoutExpired as exc:
        raise InfraError(f"{args[0]} did not finish within {timeout:.0f}s: {' '.join(args)}") from exc
    except subprocess.CalledProcessError as exc:
        tail = _tail((exc.stderr or "") + (exc.stdout or ""))
        raise InfraError(f"{' '.join(args)} failed with exit code {exc.returncode}:\n{tail}") from exc
    except FileNotFoundError as exc:
        raise InfraError(f"{args[0]} is not installed or not on PATH") from exc


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# Processes chaosgate starts in the background (Locust) carry this variable
# with the pid of the run that owns them, so a later run, the leak audit or
# `python -m deployer down` can find what a killed run left behind.
OWNER_ENV = "CHAOSGATE_OWNER_PID"


def owner_env() -> dict[str, str]:
    return {OWNER_ENV: str(os.getpid())}


def _pid_namespace(process: Path) -> str | None:
    try:
        return os.readlink(process / "ns" / "pid")
    except OSError:
        return None


def owned_processes(proc: Path = Path("/proc")) -> dict[int, int]:
    """Live processes started by any chaosgate run in this PID namespace:
    pid -> owning run's pid. A process in another namespace (a container's
    run, seen from the host as root) names its owner by a pid of that
    namespace, which means nothing here: it is never ours to judge."""
    found: dict[int, int] = {}
    here = _pid_namespace(proc / "self")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        if _pid_namespace(entry) != here:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours to read
        for item in environ.split(b"\0"):
            key, _, value = item.partition(b"=")
            if key == OWNER_ENV.encode() and value.isdigit():
                found[int(entry.name)] = int(value)
                break
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphans(proc: Path = Path("/proc")) -> list[int]:
    """Processes whose owning run is gone (killed, crashed, power lost)."""
    return sorted(pid for pid, owner in owned_processes(proc).items() if not alive(owner))


def kill(pids: Sequence[int]) -> list[int]:
    """SIGKILL each pid's process group (Locust and port-forwards run in sessions
    of their own); returns those signalled. Our own group is never signalled:
    a process in it is killed alone."""
    killed = []
    for pid in pids:
        try:
            group = os.getpgid(pid)
            if group == os.getpgrp():
                os.kill(pid, signal.SIGKILL)
            else:
                os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(pid)
    return killed
