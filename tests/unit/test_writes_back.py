"""When writes were acknowledged again after a fault (chaos.checkers.writes_back_after)."""

from chaos import ledger
from chaos.checkers import writes_back_after

T0 = 1000.0


def _w(at: float, outcome: str = ledger.ACKED) -> ledger.Write:
    return ledger.Write(key=f"k{at}", size=1, sha256="x", outcome=outcome, at=T0 + at, path="app")


def test_writes_that_never_stopped_are_back_at_the_first_ack() -> None:
    assert writes_back_after([_w(0.3), _w(1.0), _w(2.5), _w(3.0)], T0) == 0.3


def test_an_outage_counts_from_the_fault_to_the_first_ack_after_the_failures() -> None:
    # An answer to a request sent before the fault, then refusals for 20 s.
    writes = [_w(0.1), _w(0.5, "failed"), _w(8.0, "failed"), _w(19.9, "failed"), _w(20.4), _w(21.0)]
    assert writes_back_after(writes, T0) == 20.4


def test_a_write_cut_off_when_the_load_stopped_is_not_the_faults_doing() -> None:
    # Seen in a run: no failure after the kill, two writes "stopped mid-request" 60 s later.
    writes = [_w(0.7), _w(2.2), _w(30.0), _w(59.8), _w(60.0, "indeterminate"), _w(60.0, "indeterminate")]
    assert writes_back_after(writes, T0) == 0.7


def test_no_ack_after_the_fault_is_never_back() -> None:
    assert writes_back_after([_w(1.0, "failed"), _w(5.0, "failed")], T0) is None
    assert writes_back_after([], T0) is None
