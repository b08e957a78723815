"""The target's Prometheus alerts in a scenario: quiet before a baseline, and
firing then resolving around a fault (judged by chaos.checkers.alerts)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chaos import alerts
from chaos.checkers.alerts import alert_checks
from chaos.rulebook import Check, Evidence, Verdict
from kernel.errors import WaitTimeout
from kernel.wait import Seen, wait_until

if TYPE_CHECKING:
    from scenarios.harness import ScenarioRun


def check_alert(
    run: ScenarioRun, role: str, fault_wall: float, recovered_wall: float | None, *, gate: bool = True
) -> None:
    """The target's alert for ``role`` went pending or firing within the SLO's
    time of the fault, and was resolved within the SLO's time once the
    stack had recovered (``recovered_wall``). Never active: the alert
    never fired, a failure of the monitoring under test. With ``gate``
    False the times are only recorded (an alert whose source is known to
    lag, shown in the report without judging the run)."""
    target = run.stack.target
    name = target.alerts.get(role)
    if run.stack.prometheus_url is None or name is None:
        why = "no prometheus" if run.stack.prometheus_url is None else f"no prometheus.alerts.{role}"
        reason = f"alert for {role}: not checked (target {target.name} names {why})"
        run.result.record(Check(f"alert_{role}", Verdict.NOT_APPLICABLE, reason, evidence=Evidence(False)))
        return
    outcome = alert_checks(
        run.history(),
        name,
        fault_wall,
        recovered_wall,
        active_max_s=run.slo.alert_active_max_s if gate else None,
        resolve_max_s=run.slo.alert_resolve_max_s if gate else None,
    )
    if outcome.window.active_after_s is not None:
        at = fault_wall + outcome.window.active_after_s
        run.timeline.event("alert.active", alert=name, at_t=run.timeline.wall_to_t(at))
    for key, (value, limit) in outcome.times.items():
        run.measure(key, value, limit)
    if outcome.problem is not None:
        run.result.record(outcome.problem)


def wait_quiet(run: ScenarioRun, names: tuple[str, ...]) -> None:
    """Before a baseline: alerts left active by a deploy or an earlier
    fault resolve first, within the time the SLO gives an alert to resolve.
    One still active then, on a stack MinIO itself calls healthy, fails;
    Prometheus not read (no evidence) is inconclusive."""
    url = run.stack.prometheus_url
    if url is None or not names:
        return

    def quiet() -> Seen:
        now = alerts.Sample(time.time(), alerts.parse(alerts.fetch(url)))
        loud = [name for name in names if now.active(name)]
        return Seen(not loud, f"active: {', '.join(loud)}")

    started = time.time()
    try:
        wait_until(
            quiet,
            what=f"no {', '.join(names)} alert",
            timeout=run.slo.alert_resolve_max_s,
            interval=1.0,
            tolerate=(OSError, ValueError),
        )
    except WaitTimeout as exc:
        if exc.evidence:
            why = f"alerts before the baseline: {exc.last_seen} on a stack MinIO reports healthy"
            run.result.fail(why, "alerts_quiet_before")
        else:
            why = f"alerts before the baseline: Prometheus not read ({exc.last_seen})"
            run.result.inconclusive(why, "alerts_quiet_before")
    else:
        run.timeline.event("alerts.quiet", waited_s=round(time.time() - started, 1))
