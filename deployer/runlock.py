"""One run per cluster name on this machine: a lock file in the cache folder.

kind cluster names are global to the machine's Docker, whatever folder a run
starts in, so the lock lives in the per-user cache folder, not the checkout.

The lock is an flock held for the whole run, so it vanishes with the process
whatever kills it; the file keeps the holder's pid, start time and command so
a refused run can name the one it collides with, and a later run can tell that
the previous holder died (SIGKILL, power loss) and clean up after it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from deployer import paths
from kernel.errors import BadInputError


@dataclass
class RunLock:
    cluster: str
    path: Path
    # What the file held when this run took the lock: the run before it, if any.
    previous: dict[str, Any] | None = None
    _handle: IO[str] | None = None

    def release(self) -> None:
        if self._handle is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_path(cluster: str) -> Path:
    return paths.cache_dir() / "locks" / f"{cluster}.lock"


def acquire(cluster: str) -> RunLock:
    """Take the run lock of ``cluster``; BadInputError naming the holder when
    another live run has it. ``previous`` is set when a dead run left its file."""
    path = lock_path(cluster)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read(path)
        handle.close()
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
        raise BadInputError(
            f"cluster {cluster!r} is in use by another chaosgate run (pid {holder.get('pid', '?')}, started "
            f"{started}): wait for it to finish, or use another --cluster-name (CHAOSGATE_CLUSTER_NAME)"
        ) from None
    previous = _read(path) or None
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "started": time.time(), "cluster": cluster, "argv": sys.argv}))
    handle.flush()
    return RunLock(cluster, path, previous, handle)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
