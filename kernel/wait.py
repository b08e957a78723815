"""The one wait helper: poll a named predicate until a monotonic deadline.

Every wait for a condition in the Python libraries (kernel, deployer, chaos,
loadtests, scenarios) goes through :func:`wait_until`, so every timeout reads
the same way: what was awaited, for how long, and what was seen last. Outside
it on purpose: the end of a child process is awaited with
``Popen.wait(timeout)`` (the kernel reports the exit, nothing to poll); shell
scripts run inside containers (the node image build) poll with their own
bounded loops; the gateway app (app/) imports nothing of ours and has its own
startup deadline; and a planned hold (``scenarios.harness``) sleeps for a set
time because it waits for no condition.
The clock is ``time.monotonic`` because wall-clock jumps (NTP, suspended
laptops) must neither end a wait early nor stretch it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kernel.errors import WaitTimeout

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock. Pass one Deadline through several waits
    when they share one budget (start four servers, then wait for quorum)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def at(self) -> float:
        return self.started + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at


@dataclass(frozen=True)
class Seen:
    """A predicate answer that carries its own description, so a timeout can
    say *why* the condition was false (``servers offline: [...]``), not just
    that it was."""

    ok: bool
    detail: str
    evidence: bool = True
    """False when the predicate could not look (a probe failed, a reading is
    stale): "not yet" for lack of evidence, not because the condition is false.
    A wait that times out on such an answer is the harness's blindness."""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.detail


def wait_until(
    predicate: Callable[[], T],
    *,
    what: str,
    timeout: float | Deadline,
    interval: float = 0.5,
    tolerate: tuple[type[Exception], ...] = (),
) -> T:
    """Call ``predicate`` until it returns a truthy value and return that value.

    Raises :class:`WaitTimeout` when ``timeout`` (seconds, or a shared
    :class:`Deadline`) passes; its message holds ``what`` and the last value
    seen (``str`` of it, so a :class:`Seen` explains itself). Exceptions listed
    in ``tolerate`` count as "not yet" and are reported as the last value seen
    (with no evidence, like a :class:`Seen` whose ``evidence`` is False: the
    timeout's ``evidence`` says whether the last poll saw anything);
    any other exception propagates at once, because a wait must not hide a bug.
    The predicate is always called at least once, even with no time left, so a
    condition that already holds never times out.
    """
    if interval <= 0:
        raise ValueError("interval must be positive: a zero interval would spin a CPU core")
    deadline = timeout if isinstance(timeout, Deadline) else Deadline(timeout)
    last_seen = "nothing (the predicate never returned)"
    evidence = True
    while True:
        try:
            value = predicate()
        except tolerate as exc:
            last_seen = f"{type(exc).__name__}: {exc}"
            evidence = False
        else:
            if value:
                return value
            last_seen = str(value)
            evidence = value.evidence if isinstance(value, Seen) else True
        remaining = deadline.remaining()
        if remaining <= 0:
            raise WaitTimeout(what, last_seen, deadline.seconds, evidence=evidence)
        # A poll interval, not a "to be safe" pause: never sleep past the deadline.
        time.sleep(min(interval, remaining))
