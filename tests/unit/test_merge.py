"""The master's merge of the workers' ledger messages (loadtests.merge)."""

from dataclasses import asdict

from chaos.ledger import ACKED, DELETE, INDETERMINATE, PUT, Write
from loadtests.merge import LOST_DETAIL, Intent, Merger
from loadtests.runner import worker_env
from loadtests.traffic import PatternStream


def _write(key: str, op: str = PUT, sha: str = "ab") -> Write:
    return Write(key, 3 if op == PUT else 0, sha if op == PUT else "", ACKED, 10.0, "s3", 5.0, "", op, "small")


def _intent(seq: int, key: str, op: str = PUT, **extra) -> dict:
    base = {"seq": seq, "key": key, "op": op, "size_class": "small", "size": 3, "path": "s3", "start": 9.0}
    return {**base, **extra}


def test_a_confirmed_worker_is_complete_and_every_entry_recorded():
    recorded: list[Write] = []
    merger = Merger(recorded.append, clock=lambda: 20.0)
    merger.hello("w1")
    merger.intent("w1", _intent(1, "a", sha256="ab"))
    merger.operation("w1", {"seq": 1, "write": asdict(_write("a"))})
    assert merger.waiting_for() == {"w1"}, "no final count yet"
    merger.done("w1", {"sent": 1, "requests": 4, "seconds": 2.0})
    assert merger.waiting_for() == set()
    summary = merger.finish()
    assert summary["complete"] is True and summary["problems"] == []
    assert summary["workers"]["w1"] == {
        "received": 1,
        "sent": 1,
        "in_flight_indeterminate": 0,
        "requests": 4,
        "seconds": 2.0,
        "rps": 2.0,
    }
    assert [w.key for w in recorded] == ["a"]


def test_a_lost_worker_leaves_indeterminate_entries_and_a_problem():
    recorded: list[Write] = []
    merger = Merger(recorded.append, clock=lambda: 20.0)
    merger.intent("w1", _intent(1, "a", sha256="ab"))
    merger.operation("w1", {"seq": 1, "write": asdict(_write("a"))})
    merger.intent("w1", _intent(2, "b", sha256="cd"))
    merger.intent("w1", _intent(3, "a", op=DELETE))
    merger.intent("w1", _intent(4, "big", size=2 * 2**20, seed=7, multipart=True, size_class="large"))
    summary = merger.finish()
    assert summary["complete"] is False
    assert "w1 ended without confirming its ledger" in summary["problems"][0]
    lost = {w.key: w for w in recorded if w.detail == LOST_DETAIL}
    assert set(lost) == {"b", "a", "big"}
    assert all(w.outcome == INDETERMINATE for w in lost.values())
    assert lost["b"].sha256 == "cd" and lost["b"].latency_ms == 11000.0
    assert lost["a"].op == DELETE and lost["a"].sha256 == "" and lost["a"].size == 0
    # A multipart upload's content is made again from its seed: the read-back can recognise it.
    assert lost["big"].sha256 == PatternStream(2 * 2**20, 7).finish() and lost["big"].multipart
    assert summary["workers"]["w1"]["in_flight_indeterminate"] == 3


def test_a_count_that_does_not_match_is_a_problem():
    merger = Merger(lambda w: None)
    merger.operation("w1", {"seq": 1, "write": asdict(_write("a"))})
    merger.done("w1", {"sent": 2})
    assert merger.waiting_for() == {"w1"}
    assert merger.finish()["problems"] == ["Locust worker w1 sent 2 ledger entries, the master received 1"]


def test_a_connected_worker_that_never_spoke_is_waited_for():
    merger = Merger(lambda w: None)
    assert merger.waiting_for({"w9"}) == {"w9"}


def test_intent_round_trips_as_a_message():
    intent = Intent(5, "k", PUT, "medium", 10, "app", 1.5, "ff")
    assert Intent(**intent.to_message()) == intent


def test_workers_share_the_byte_budget_and_get_no_ledger_folder():
    env = {"CHAOSGATE_LEDGER_DIR": "/tmp/x", "CHAOSGATE_BYTES_PER_S": "1000", "CHAOSGATE_RUN_ID": "r"}
    shared = worker_env(env, 4)
    assert "CHAOSGATE_LEDGER_DIR" not in shared
    assert (shared["CHAOSGATE_BYTES_PER_S"], shared["CHAOSGATE_RUN_ID"]) == ("250.0", "r")
