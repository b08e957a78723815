"""Classification rules of the write ledger (read-back is a dict here; the
real read-back against MinIO is in tests/integration/test_ledger_minio.py)."""

import json

import pytest

from chaos.ledger import (
    ACKED,
    FAILED,
    INDETERMINATE,
    LedgerWriter,
    StoreRefused,
    Verdict,
    Write,
    check,
    load,
    sha256_hex,
)


def w(key, data, outcome=ACKED, at=1.0):
    return Write(key=key, size=len(data), sha256=sha256_hex(data), outcome=outcome, at=at, path="app")


def store(objects):
    def fetch(key):
        value = objects.get(key)
        if isinstance(value, Exception):
            raise value
        return value

    return fetch


def test_every_verdict_is_reached():
    writes = [
        w("stable", b"a"),
        w("lost", b"b"),
        w("corrupt", b"c"),
        w("stale", b"old", at=1),
        w("stale", b"new", at=2),
        w("unreadable", b"e"),
        w("refused", b"r"),
    ]
    objects = {
        "stable": b"a",
        "corrupt": b"C!",
        "stale": b"old",
        "unreadable": TimeoutError("our read timed out"),
        "refused": StoreRefused("SlowDown: Resource requested is unreadable, please reduce your request rate"),
    }
    report = check(writes, store(objects), refuse_retry_s=0.5)
    assert report.counts == {
        "stable": 1,
        "lost": 1,
        "corrupted": 1,
        "stale": 1,
        "refused": 1,
        "unreadable": 1,
    }
    assert report.lost == 1
    assert report.damaged == 4, "a store that will not return an acknowledged object failed it"
    assert report.unreadable == 1
    assert report.damage_text() == "1 lost, 1 corrupted, 1 stale, 1 refused by the store"
    by_key = {p.key: p.verdict for p in report.problems}
    assert by_key == {
        "lost": Verdict.LOST,
        "corrupt": Verdict.CORRUPTED,
        "stale": Verdict.STALE,
        "unreadable": Verdict.UNREADABLE,
        "refused": Verdict.REFUSED,
    }


def test_a_store_that_recovers_within_the_retry_period_is_not_refusing():
    answers = iter([StoreRefused("XMinioServerNotInitialized"), StoreRefused("SlowDown"), b"a"])

    def fetch(key):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    report = check([w("k", b"a")], fetch, refuse_retry_s=30)
    assert report.counts["stable"] == 1 and report.damaged == 0


def test_failed_and_indeterminate_writes_never_count_as_loss():
    writes = [w("f", b"x", FAILED), w("i", b"y", INDETERMINATE), w("i2", b"z", INDETERMINATE)]
    report = check(writes, store({"i2": b"z"}))
    assert report.acknowledged == 0
    assert report.damaged == 0
    assert (report.failed, report.indeterminate, report.indeterminate_stored) == (1, 2, 1)


def test_a_later_unacknowledged_write_may_win():
    writes = [w("k", b"first", at=1), w("k", b"second", INDETERMINATE, at=2)]
    report = check(writes, store({"k": b"second"}))
    assert report.counts["stable"] == 1


def test_an_earlier_unacknowledged_write_does_not_excuse_old_content():
    writes = [w("k", b"early", INDETERMINATE, at=1), w("k", b"acked", at=2)]
    report = check(writes, store({"k": b"early"}))
    assert report.counts["corrupted"] == 1


def test_writer_and_load_round_trip_and_skip_a_torn_line(tmp_path):
    with LedgerWriter(tmp_path / "a.jsonl") as writer:
        writer.record(w("k1", b"1", at=2.0))
    with LedgerWriter(tmp_path / "b.jsonl") as writer:
        writer.record(w("k2", b"2", at=1.0))
    with (tmp_path / "b.jsonl").open("a") as f:
        f.write(json.dumps({"key": "torn"})[:7])
    loaded = load(tmp_path)
    assert [x.key for x in loaded] == ["k2", "k1"]


def test_unknown_outcome_is_rejected():
    with pytest.raises(ValueError, match="outcome"):
        Write(key="k", size=1, sha256="0", outcome="maybe", at=0.0, path="s3")
