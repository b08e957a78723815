"""Alert windows from recorded Prometheus readings: when an alert became
active after a fault, when it resolved after recovery, and the verdict when
it never fired, never resolved, or was never observed."""

from __future__ import annotations

from chaos import alerts
from chaos.alerts import Sample


def body(*alerts_: tuple[str, str]) -> dict[str, object]:
    return {
        "status": "success",
        "data": {"alerts": [{"labels": {"alertname": n, "pod": "x"}, "state": s} for n, s in alerts_]},
    }


def test_parse_groups_names_by_state_once_each() -> None:
    parsed = alerts.parse(body(("B", "firing"), ("A", "pending"), ("B", "firing"), ("C", "inactive")))
    assert parsed == {"pending": ["A"], "firing": ["B"]}


def seq(*states: dict[str, list[str]] | None, start: float = 100.0) -> list[Sample]:
    return [Sample(start + i, s) for i, s in enumerate(states)]


QUIET: dict[str, list[str]] = {"pending": [], "firing": []}
PENDING = {"pending": ["MinIONodeOffline"], "firing": []}
FIRING = {"pending": [], "firing": ["MinIONodeOffline"]}


def test_window_measures_active_firing_and_resolved() -> None:
    samples = seq(QUIET, QUIET, PENDING, PENDING, FIRING, FIRING, QUIET, QUIET)
    seen = alerts.window(samples, "MinIONodeOffline", fault_wall=100.5, recovered_wall=105.0)
    assert (seen.active_after_s, seen.firing_after_s, seen.resolved_after_recovery_s) == (1.5, 3.5, 1.0)
    assert seen.evidence == 7
    assert alerts.problem(seen, recovered=True) is None


def test_activity_before_the_fault_does_not_count() -> None:
    samples = seq(FIRING, QUIET, QUIET, QUIET)
    seen = alerts.window(samples, "MinIONodeOffline", fault_wall=101.0, recovered_wall=102.0)
    assert seen.active_after_s is None
    outcome, why = alerts.problem(seen, recovered=True) or ("", "")
    assert outcome == "fail"
    assert "alert MinIONodeOffline never fired" in why
    assert "3 readings" in why


def test_a_sabotaged_rule_reads_never_fired() -> None:
    # The stack was down, another alert fired, this one (wrong expression) stayed silent.
    other = {"pending": [], "firing": ["MinIOWriteQuorumLost"]}
    seen = alerts.window(seq(other, other, QUIET), "MinIONodeOffline", 100.0, 102.0)
    assert alerts.problem(seen, recovered=True) == (
        "fail",
        "alert MinIONodeOffline never fired: not pending or firing in 3 readings of Prometheus after the fault "
        "(check its expression and the metrics it reads)",
    )


def test_unreadable_prometheus_is_no_evidence() -> None:
    seen = alerts.window(seq(None, None, None), "MinIONodeOffline", 100.0, 101.0)
    assert seen.evidence == 0
    assert alerts.problem(seen, recovered=True) == (
        "inconclusive",
        "alert MinIONodeOffline: Prometheus' alerts were never read after the fault (no evidence)",
    )


def test_an_alert_that_stays_active_after_recovery_fails() -> None:
    seen = alerts.window(seq(QUIET, FIRING, FIRING, FIRING), "MinIONodeOffline", 100.0, 102.0)
    assert seen.active_after_s == 1.0
    assert seen.resolved_after_recovery_s is None
    assert alerts.problem(seen, recovered=True) == (
        "fail",
        "alert MinIONodeOffline did not resolve after the stack recovered",
    )


def test_resolution_is_unknown_when_the_stack_never_recovered() -> None:
    seen = alerts.window(seq(QUIET, FIRING, QUIET), "MinIONodeOffline", 100.0, None)
    outcome, _ = alerts.problem(seen, recovered=False) or ("", "")
    assert outcome == "inconclusive"


def test_resolution_counts_only_after_recovery_and_after_activation() -> None:
    # Quiet at 101 (before activation) and at 103 (before recovery) are not resolution.
    samples = seq(QUIET, QUIET, PENDING, QUIET, FIRING, QUIET, start=100.0)
    seen = alerts.window(samples, "MinIONodeOffline", fault_wall=100.0, recovered_wall=104.0)
    assert seen.active_after_s == 2.0
    assert seen.resolved_after_recovery_s == 1.0


def test_active_during_names_only_the_watched_alerts_in_the_window() -> None:
    samples = seq(QUIET, PENDING, {"pending": ["Other"], "firing": []}, None, FIRING)
    assert alerts.active_during(samples, ["MinIONodeOffline", "Other"], 100.0, 102.0) == [
        "MinIONodeOffline",
        "Other",
    ]
    assert alerts.active_during(samples, ["MinIONodeOffline"], 102.0, 103.0) == []
