"""Pure checkers: plain functions of a scenario's History (chaos.history), the
limits the SLO sets and what the target names, returning check records
(chaos.rulebook.Check) or measured values with their evidence.

They know nothing of Kubernetes, Locust or MinIO's API: what the harness
observed is already in the History, so a checker gives the same answer on a
live run and on a recorded one.
"""

from chaos.checkers.alerts import alert_checks, alert_samples, quiet_check
from chaos.checkers.availability import (
    IN_FLIGHT_S,
    first_ack_after,
    longest_write_gap,
    read_availability,
    write_availability,
    writes_back_after,
)
from chaos.checkers.ledger import ledger_checks
from chaos.checkers.limits import Measured, against_limit
from chaos.checkers.samples import first_sample_after, max_sampled, time_to_sample
from chaos.checkers.waits import wait_timed_out

__all__ = [
    "IN_FLIGHT_S",
    "Measured",
    "against_limit",
    "alert_checks",
    "alert_samples",
    "first_ack_after",
    "first_sample_after",
    "ledger_checks",
    "longest_write_gap",
    "max_sampled",
    "quiet_check",
    "read_availability",
    "time_to_sample",
    "wait_timed_out",
    "write_availability",
    "writes_back_after",
]
