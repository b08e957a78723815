"""Availability from the ledger (writes) and the load's read history (GETs)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from chaos import ledger
from chaos.checkers.limits import Measured
from chaos.history import History
from chaos.rulebook import Evidence

IN_FLIGHT_S = 2.0
"""Seconds after a fault in which answers may still be to requests sent before it."""


def read_availability(history: History, start_wall: float, end_wall: float) -> Measured:
    """Share of GETs that succeeded between two wall-clock times."""
    inside = [r for r in history.reads if start_wall <= r.at <= end_wall]
    before = [r for r in history.reads if r.at < start_wall]
    span = (history.span(start_wall, end_wall),)
    if not inside:
        return Measured(None, Evidence(False, span, {"rows": 0}))
    base_req = before[-1].total_requests if before else 0
    base_fail = before[-1].total_failures if before else 0
    requests = inside[-1].total_requests - base_req
    failures = inside[-1].total_failures - base_fail
    evidence = Evidence(requests > 0, span, {"rows": len(inside), "requests": requests, "failures": failures})
    return Measured(None if requests <= 0 else round(1 - failures / requests, 4), evidence)


def write_availability(history: History, start_wall: float, end_wall: float) -> Measured:
    """Share of the writes made between two wall-clock times that were
    acknowledged; None when none was made."""
    writes = history.writes_between(start_wall, end_wall)
    acked = sum(1 for w in writes if w.outcome == ledger.ACKED)
    evidence = Evidence(bool(writes), (history.span(start_wall, end_wall),), {"writes": len(writes), "acked": acked})
    return Measured(round(acked / len(writes), 4) if writes else None, evidence)


def longest_write_gap(history: History, start_wall: float, end_wall: float) -> Measured:
    """Longest stretch between two times with no write acknowledged (its
    edges count as acks); None without any write then."""
    writes = history.writes_between(start_wall, end_wall)
    span = (history.span(start_wall, end_wall),)
    if not writes:
        return Measured(None, Evidence(False, span, {"writes": 0}))
    acks = sorted([start_wall, end_wall] + [w.at for w in writes if w.outcome == ledger.ACKED])
    gap = round(max(b - a for a, b in itertools.pairwise(acks)), 1)
    return Measured(gap, Evidence(True, span, {"writes": len(writes), "acked": len(acks) - 2}))


def writes_back_after(writes: Iterable[ledger.Write], since_wall: float) -> float | None:
    """Seconds from ``since_wall`` until writes were acknowledged again.

    Requests in flight when the fault hit may still be answered right after
    it, so the clock stops at the first ack that follows the first failed
    write after the fault. Only failures before writes were steadily
    acknowledged again count (the first ack IN_FLIGHT_S or more after the
    fault): a write cut off when the load stopped, a minute later, is not the
    fault's doing. With no such failure writes never stopped, and it is the
    first ack after the fault."""
    after = sorted((w for w in writes if w.at > since_wall), key=lambda w: w.at)
    acks = [w.at for w in after if w.outcome == ledger.ACKED]
    settled = next((at for at in acks if at >= since_wall + IN_FLIGHT_S), None)
    failures = [w.at for w in after if w.outcome != ledger.ACKED and (settled is None or w.at < settled)]
    first_failure = failures[0] if failures else since_wall
    later = [at for at in acks if at >= first_failure]
    return round(min(later) - since_wall, 1) if later else None


def first_ack_after(history: History, since_wall: float) -> Measured:
    """:func:`writes_back_after` on the History's ledger."""
    value = writes_back_after(history.writes, since_wall)
    after = [w for w in history.writes if w.at > since_wall]
    end = (
        history.to_t(since_wall + value)
        if value is not None
        else history.to_t(max((w.at for w in after), default=since_wall))
    )
    evidence = Evidence(bool(after), ((history.to_t(since_wall), end),), {"writes_after": len(after)})
    return Measured(value, evidence)
