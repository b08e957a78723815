"""A wait for the stack to do something, judged when it ran out of time."""

from __future__ import annotations

from chaos.rulebook import Check, Evidence, Verdict
from chaos.rulebook.checks import MAX


def wait_timed_out(measurement: str, limit: float, last_seen: str, *, evidence: bool) -> Check:
    """The stack did not do it within ``limit`` seconds: a failure, when the
    last poll saw the system; when it saw nothing either way (a probe that
    failed or hung), the harness was blind and the check is inconclusive."""
    seen = Evidence(observed=evidence, last_seen=last_seen)
    if not evidence:
        reason = f"{measurement}: no evidence either way within {limit:.0f}s ({last_seen})"
        return Check(measurement, Verdict.INCONCLUSIVE, reason, None, float(limit), MAX, "s", seen)
    reason = f"{measurement}: not within {limit:.0f}s; last seen: {last_seen}"
    return Check(measurement, Verdict.FAIL, reason, None, float(limit), MAX, "s", seen)
