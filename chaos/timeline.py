"""The run's timeline: samples and events as JSON lines in the run folder.

Every line has ``t`` (seconds since the timeline started, monotonic clock, so
intervals are exact) and ``wall`` (time.time, to line up with Locust's CSV and
the ledger, which come from other processes). Kinds:

* ``sample``: one observation from the sampler (MinIO, pods, HPA, load);
* ``event``: a phase or a fault starting or ending (``name``, ``scenario``,
  optional ``data``).

The report is built from this file alone, so a run can be re-reported later.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Timeline:
    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._start = clock()
        self._wall0 = time.time()
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")
        self.scenario = ""
        self._open: list[str] = []  # spans not yet ended, innermost last
        self._unwound: str | None = None  # the innermost span an exception left

    def now(self) -> float:
        return round(self._clock() - self._start, 3)

    def wall_of(self, t: float) -> float:
        """The wall-clock time of a point on this timeline."""
        return self._wall0 + t

    def wall_to_t(self, wall: float) -> float:
        """Place a wall-clock time from another process on this timeline."""
        return round(wall - self._wall0, 3)

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), default=str)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def sample(self, data: dict[str, Any]) -> None:
        self._write({"t": self.now(), "wall": time.time(), "kind": "sample", "scenario": self.scenario, **data})

    def event(self, name: str, **data: Any) -> None:
        self._write(
            {
                "t": self.now(),
                "wall": time.time(),
                "kind": "event",
                "scenario": self.scenario,
                "name": name,
                **data,
            }
        )

    @contextmanager
    def span(self, name: str, **data: Any) -> Iterator[None]:
        """A phase or fault window: ``<name>.start`` and ``<name>.end`` events
        (``.end`` carries ``ok`` and the duration)."""
        start = time.monotonic()
        self.event(f"{name}.start", **data)
        self._open.append(name)
        self._unwound = None
        ok = False
        try:
            yield
            ok = True
        finally:
            self._open.remove(name)
            if not ok and self._unwound is None:
                self._unwound = name
            self.event(f"{name}.end", ok=ok, seconds=round(time.monotonic() - start, 3), **data)

    def phase(self) -> str:
        """Where the run is now, for "aborted during ...": the innermost open
        span, or the one an exception just left, else the scenario, else "setup"."""
        if self._open:
            return self._open[-1]
        if self._unwound is not None:
            return self._unwound
        return f"scenario {self.scenario}" if self.scenario else "setup"

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read(path: Path) -> list[dict[str, Any]]:
    """The timeline's records, oldest first; none when the file does not exist."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line from an interrupted run
    return records
