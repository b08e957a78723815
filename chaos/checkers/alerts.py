"""The target's Prometheus alerts, judged from the sampled alert readings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chaos import alerts
from chaos.history import History
from chaos.rulebook import Check, Evidence, Verdict


def alert_samples(history: History) -> list[alerts.Sample]:
    """The recorded alert readings; a failed or stale reading is kept as "no evidence"."""
    return [
        alerts.Sample(s.wall, dict(s.part("alerts")) if s.fresh("alerts") is not None else None)
        for s in history.samples
        if "alerts" in s.parts
    ]


@dataclass(frozen=True)
class AlertOutcome:
    """An alert's window after a fault: its times (seconds, by measurement
    name, with the limit each is held to or None) and what stops them being
    measured (``problem``), if anything."""

    window: alerts.AlertWindow
    times: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    problem: Check | None = None


def alert_checks(
    history: History,
    name: str,
    fault_wall: float,
    recovered_wall: float | None,
    *,
    active_max_s: float | None,
    resolve_max_s: float | None,
) -> AlertOutcome:
    """The alert ``name`` went pending or firing within ``active_max_s`` of the
    fault and resolved within ``resolve_max_s`` of the recovery. Limits None:
    the times are only recorded (an alert whose source is known to lag), and
    no problem is judged. Never active: the monitoring under test failed."""
    seen = alerts.window(alert_samples(history), name, fault_wall, recovered_wall)
    key = f"alert_{name}"
    times: dict[str, tuple[float, float | None]] = {}
    if seen.active_after_s is not None:
        times[f"{key}_active_s"] = (seen.active_after_s, active_max_s)
    if seen.firing_after_s is not None:
        times[f"{key}_firing_s"] = (seen.firing_after_s, None)
    if seen.resolved_after_recovery_s is not None:
        times[f"{key}_resolved_s"] = (seen.resolved_after_recovery_s, resolve_max_s)
    gate = active_max_s is not None or resolve_max_s is not None
    found = alerts.problem(seen, recovered=recovered_wall is not None)
    if found is None or not gate:
        return AlertOutcome(seen, times)
    outcome, why = found
    end = (
        recovered_wall if recovered_wall is not None else (history.samples[-1].wall if history.samples else fault_wall)
    )
    evidence = Evidence(seen.evidence > 0, (history.span(fault_wall, end),), {"readings": seen.evidence})
    verdict = Verdict.FAIL if outcome == "fail" else Verdict.INCONCLUSIVE
    return AlertOutcome(seen, times, Check(f"alert_{name}", verdict, why, evidence=evidence))


def quiet_check(history: History, names: Iterable[str], start_wall: float, end_wall: float, why: str) -> Check:
    """None of ``names`` was pending or firing between two times (a healthy
    baseline raises no data-loss or quorum alert). Without a single reading
    of Prometheus then: inconclusive."""
    wanted = list(names)
    samples = [s for s in alert_samples(history) if start_wall <= s.wall <= end_wall]
    read = sum(1 for s in samples if s.states is not None)
    evidence = Evidence(read > 0, (history.span(start_wall, end_wall),), {"readings": read})
    name = "alerts_quiet"
    if not read:
        reason = f"alerts during {why}: Prometheus' alerts were never read (no evidence)"
        return Check(name, Verdict.INCONCLUSIVE, reason, evidence=evidence)
    loud = alerts.active_during(samples, wanted, start_wall, end_wall)
    if loud:
        reason = f"alert(s) {', '.join(loud)} active during {why}, when the stack was healthy"
        return Check(name, Verdict.FAIL, reason, evidence=evidence)
    return Check(name, Verdict.PASS, f"no {', '.join(wanted)} alert during {why}", evidence=evidence)
