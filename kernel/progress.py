"""Progress lines on stderr and per-phase timings.

Long steps (builds, cluster creation, waits) announce themselves when they
start and say how long they took when they end, so a person watching a cold
run knows the run is alive. Timings are kept so callers can write them into a
machine-readable file.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class PhaseTiming:
    name: str
    seconds: float
    ok: bool


@dataclass
class Timings:
    """Phases timed during one command, in the order they ran."""

    phases: list[PhaseTiming] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(p) for p in self.phases], indent=2) + "\n")


TIMINGS = Timings()


def say(message: str) -> None:
    """One progress line for a person; stderr so stdout stays parseable."""
    print(f"[chaosgate] {message}", file=sys.stderr, flush=True)


@contextmanager
def phase(name: str, timings: Timings = TIMINGS) -> Iterator[None]:
    """Time a phase, announcing its start and its end (with success or failure)."""
    say(f"{name} ...")
    start = time.monotonic()
    ok = False
    try:
        yield
        ok = True
    finally:
        seconds = time.monotonic() - start
        timings.phases.append(PhaseTiming(name, round(seconds, 3), ok))
        say(f"{name}: {'done' if ok else 'FAILED'} in {seconds:.1f}s")
