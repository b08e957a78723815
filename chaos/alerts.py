"""Prometheus alerts: a probe of their states, and what the timeline says of them.

The probe reads ``/api/v1/alerts`` (every alert that is pending or firing,
with the time it became active) into the timeline once a second, so the
checks below work on recorded samples, like every other measurement.

An alert check answers three questions about one alert and one fault:
did it become active (pending or firing) within a stated time of the fault,
how long it took, and did it resolve once the stack recovered. "Never
fired" is a failure of the monitoring under test, never a pass; a probe
that saw nothing (Prometheus unreachable) is no evidence either way.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chaos.observe import Source

TIMEOUT_S = 3.0

ACTIVE = ("pending", "firing")


def alerts_source(url: str) -> Source:
    """Names of the alerts that are pending and firing, as Prometheus says now."""

    def read() -> Mapping[str, Any]:
        return parse(fetch(url))

    return read


def fetch(url: str) -> Mapping[str, Any]:
    request = urllib.request.Request(f"{url.rstrip('/')}/api/v1/alerts")  # noqa: S310 (the stack's own URL)
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:  # noqa: S310
        body: Mapping[str, Any] = json.load(reply)
    if body.get("status") != "success":
        raise ValueError(f"Prometheus answered {body.get('status')!r}: {body.get('error', '')}")
    return body


def parse(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{"pending": [...], "firing": [...]}``, names sorted and unique."""
    states: dict[str, set[str]] = {state: set() for state in ACTIVE}
    for alert in body.get("data", {}).get("alerts", []):
        state = alert.get("state")
        name = (alert.get("labels") or {}).get("alertname")
        if state in states and name:
            states[state].add(str(name))
    return {state: sorted(names) for state, names in states.items()}


@dataclass(frozen=True)
class Sample:
    """One recorded reading: wall time and the alert states, or None when the
    probe failed or its reading was stale (no evidence)."""

    wall: float
    states: Mapping[str, Iterable[str]] | None

    def active(self, name: str) -> bool | None:
        if self.states is None:
            return None
        return any(name in self.states.get(state, ()) for state in ACTIVE)

    def firing(self, name: str) -> bool | None:
        if self.states is None:
            return None
        return name in self.states.get("firing", ())


@dataclass(frozen=True)
class AlertWindow:
    """What the samples say about one alert after a fault started (seconds
    from the fault; None: not seen)."""

    name: str
    active_after_s: float | None
    firing_after_s: float | None
    resolved_after_recovery_s: float | None
    evidence: int
    """Samples with a reading (the probe answered) from the fault on."""


def window(samples: Iterable[Sample], name: str, fault_wall: float, recovered_wall: float | None) -> AlertWindow:
    """When ``name`` became active and firing after ``fault_wall``, and when
    it was first seen inactive at or after ``recovered_wall`` following that."""
    active_at = firing_at = resolved_at = None
    evidence = 0
    for sample in samples:
        if sample.wall < fault_wall or sample.states is None:
            continue
        evidence += 1
        if active_at is None and sample.active(name):
            active_at = sample.wall
        if firing_at is None and sample.firing(name):
            firing_at = sample.wall
        if (
            active_at is not None
            and resolved_at is None
            and recovered_wall is not None
            and sample.wall >= recovered_wall
            and not sample.active(name)
        ):
            resolved_at = sample.wall

    def since(at: float | None, start: float | None) -> float | None:
        return None if at is None or start is None else round(at - start, 1)

    return AlertWindow(
        name=name,
        active_after_s=since(active_at, fault_wall),
        firing_after_s=since(firing_at, fault_wall),
        resolved_after_recovery_s=since(resolved_at, recovered_wall),
        evidence=evidence,
    )


def problem(seen: AlertWindow, recovered: bool) -> tuple[str, str] | None:
    """Why the window cannot be measured against the SLO: ("inconclusive", why)
    when nothing was observed, ("fail", why) when the alert never fired or never
    resolved; None when both times are there to be measured."""
    if seen.evidence == 0:
        return "inconclusive", f"alert {seen.name}: Prometheus' alerts were never read after the fault (no evidence)"
    if seen.active_after_s is None:
        return "fail", (
            f"alert {seen.name} never fired: not pending or firing in {seen.evidence} readings of Prometheus "
            "after the fault (check its expression and the metrics it reads)"
        )
    if not recovered:
        return "inconclusive", f"alert {seen.name}: the stack never recovered, so its resolution is unknown"
    if seen.resolved_after_recovery_s is None:
        return "fail", f"alert {seen.name} did not resolve after the stack recovered"
    return None


def active_during(samples: Iterable[Sample], names: Iterable[str], start_wall: float, end_wall: float) -> list[str]:
    """Which of ``names`` were seen pending or firing between two times."""
    wanted = list(names)
    seen: set[str] = set()
    for sample in samples:
        if start_wall <= sample.wall <= end_wall and sample.states is not None:
            seen.update(name for name in wanted if sample.active(name))
    return sorted(seen)
