"""Running external commands: always checked, always with a timeout."""

from __future__ import annotations

import os
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
