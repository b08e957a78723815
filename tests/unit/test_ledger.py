"""Classification rules of the write ledger (read-back is a dict here; the
real read-back against MinIO is in tests/integration/test_ledger_real.py)."""

import json

import pytest

from chaos.ledger import (
    ACKED,
    DELETE,
    FAILED,
    INDETERMINATE,
    KeyState,
    LedgerWriter,
    StoreRefused,
    Write,
    check,
    judge,
    load,
    may_have_won,
    outcome_of_status,
    sha256_hex,
)


def w(key, data, outcome=ACKED, at=1.0, *, start=None, size_class="small", multipart=False):
    """A put answered at ``at`` and sent at ``start`` (default: ``at``)."""
    latency_ms = 0.0 if start is None else (at - start) * 1000.0
    return Write(
        key=key,
        size=len(data),
        sha256=sha256_hex(data),
        outcome=outcome,
        at=at,
        path="app",
        latency_ms=latency_ms,
        op="put",
        size_class=size_class,
        multipart=multipart,
    )


def d(key, outcome=ACKED, at=1.0, *, start=None, size_class="small"):
    latency_ms = 0.0 if start is None else (at - start) * 1000.0
    return Write(key, 0, "", outcome, at, "s3", latency_ms, op=DELETE, size_class=size_class)


def found(data):
    return None if data is None else (sha256_hex(data), len(data))


def store(objects):
    calls = []

    def fetch(key):
        calls.append(key)
        value = objects.get(key)
        if isinstance(value, Exception):
            raise value
        return found(value)

    fetch.calls = calls
    return fetch


def verdict(ops, data):
    return judge(ops, found(data)).verdict


def test_every_verdict_is_reached():
    writes = [
        w("stable", b"a"),
        w("lost", b"b"),
        w("corrupt", b"c"),
        w("stale", b"old", at=1),
        w("stale", b"new", at=2),
        w("gone", b"g", at=1),
        d("gone", at=2),
        w("unlisted", b"u"),
        w("unreadable", b"e"),
        w("refused", b"r"),
    ]
    objects = {
        "stable": b"a",
        "corrupt": b"C!",
        "stale": b"old",
        "gone": b"g",
        "unlisted": b"u",
        "unreadable": TimeoutError("our read timed out"),
        "refused": StoreRefused("SlowDown: Resource requested is unreadable, please reduce your request rate"),
    }
    listed = ["stable", "corrupt", "stale", "gone", "unreadable", "refused"]
    report = check(writes, store(objects), lister=lambda prefix: listed, prefix="", refuse_retry_s=0.5)
    assert report.counts == {
        "stable": 1,
        "lost": 1,
        "corrupted": 1,
        "stale": 1,
        "resurrected": 1,
        "missing_from_listing": 1,
        "refused": 1,
        "unreadable": 1,
    }
    assert report.lost == 1
    assert report.damaged == 6, "a store that will not return an acknowledged object failed it"
    assert report.unreadable == 1
    assert report.damage_text() == (
        "1 lost, 1 corrupted, 1 stale, 1 resurrected, 1 missing from listing, 1 refused by the store"
    )
    by_key = {p.key: p.verdict for p in report.problems}
    assert by_key == {
        "lost": KeyState.LOST,
        "corrupt": KeyState.CORRUPTED,
        "stale": KeyState.STALE,
        "gone": KeyState.RESURRECTED,
        "unlisted": KeyState.MISSING_FROM_LISTING,
        "unreadable": KeyState.UNREADABLE,
        "refused": KeyState.REFUSED,
    }
    data = report.to_dict()
    # The keys reports read before size classes existed are still there.
    assert {"counts", "acknowledged", "lost", "damaged", "problems"} <= set(data)
    assert data["classes"]["small"]["attempted"] == 10 and data["classes"]["small"]["resurrected"] == 1


def test_a_store_that_recovers_within_the_retry_period_is_not_refusing():
    answers = iter([StoreRefused("XMinioServerNotInitialized"), StoreRefused("SlowDown"), b"a"])

    def fetch(key):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return found(answer)

    report = check([w("k", b"a")], fetch, refuse_retry_s=30)
    assert report.counts["stable"] == 1 and report.damaged == 0


def test_failed_and_indeterminate_writes_never_count_as_loss():
    writes = [w("f", b"x", FAILED), w("i", b"y", INDETERMINATE), w("i2", b"z", INDETERMINATE)]
    fetch = store({"i2": b"z", "f": b"x"})
    report = check(writes, fetch)
    assert report.acknowledged == 0
    assert report.damaged == 0
    assert (report.failed, report.indeterminate, report.indeterminate_stored) == (1, 2, 1)
    # A single PUT answered with an error was not stored: its key is not even read.
    assert sorted(fetch.calls) == ["i", "i2"]


# -- interleavings: which content may win (chaos/ledger/__init__.py states the rule)


def test_sequential_overwrites_the_last_acknowledged_wins_and_an_older_one_is_stale():
    # v1 [0, 1] then v2 [2, 3]: v2 was sent after v1 was answered.
    ops = [w("k", b"v1", at=1, start=0), w("k", b"v2", at=3, start=2)]
    assert verdict(ops, b"v2") is KeyState.STABLE
    assert verdict(ops, b"v1") is KeyState.STALE
    assert verdict(ops, None) is KeyState.LOST
    assert verdict(ops, b"v3") is KeyState.CORRUPTED


def test_concurrent_acknowledged_writers_either_may_win():
    # v1 [0, 3] and v2 [1, 2] overlap: the store may order either last.
    ops = [w("k", b"v1", at=3, start=0), w("k", b"v2", at=2, start=1)]
    assert judge(ops, found(b"v1")).detail == ""
    assert verdict(ops, b"v2") is KeyState.STABLE
    assert judge(ops, found(b"v2")).detail == "a concurrent acknowledged write won"


def test_a_write_overlapping_the_last_but_followed_by_another_cannot_win():
    # v1 [0, 1], v2 [0.5, 2], v3 [1.5, 3]: v3 was sent after v1 was answered,
    # so v1 cannot be last; v2 and v3 overlap, so either may be.
    ops = [w("k", b"v1", at=1, start=0), w("k", b"v2", at=2, start=0.5), w("k", b"v3", at=3, start=1.5)]
    assert {o.sha256 for o in may_have_won(ops)} == {sha256_hex(b"v2"), sha256_hex(b"v3")}
    assert verdict(ops, b"v1") is KeyState.STALE
    assert verdict(ops, b"v2") is verdict(ops, b"v3") is KeyState.STABLE


def test_an_unanswered_write_still_waiting_when_the_last_ack_was_sent_may_win():
    # The timed-out write [0, 10] was in flight when v_ack [5, 6] was sent.
    ops = [w("k", b"timed-out", INDETERMINATE, at=10, start=0), w("k", b"acked", at=6, start=5)]
    assert verdict(ops, b"timed-out") is KeyState.STABLE
    assert judge(ops, found(b"timed-out")).detail == "an unanswered write won"
    # The same holds for one sent after the last ack (the old rule).
    later = [w("k", b"first", at=1), w("k", b"second", INDETERMINATE, at=2, start=1.5)]
    assert verdict(later, b"second") is KeyState.STABLE


def test_an_unanswered_write_given_up_before_the_last_ack_was_sent_is_stale():
    ops = [w("k", b"early", INDETERMINATE, at=1, start=0), w("k", b"acked", at=3, start=2)]
    assert verdict(ops, b"early") is KeyState.STALE
    assert "gave up before" in judge(ops, found(b"early")).detail


def test_content_of_a_write_answered_with_an_error_never_wins():
    # A failed single PUT after the last ack, or overlapping it: never applied.
    after = [w("k", b"acked", at=3, start=2), w("k", b"failed", FAILED, at=5, start=4)]
    overlapping = [w("k", b"acked", at=3, start=1), w("k", b"failed", FAILED, at=2.5, start=2)]
    for ops in (after, overlapping):
        judgement = judge(ops, found(b"failed"))
        assert judgement.verdict is KeyState.CORRUPTED
        assert judgement.detail == "content of a write that was refused (4xx)"


def test_a_multipart_upload_answered_with_an_error_may_have_completed_but_never_partly():
    acked = w("k", b"acked", at=3, start=2)
    upload = w("k", b"A" * 100, FAILED, at=5, start=4, size_class="large", multipart=True)
    assert verdict([acked, upload], b"A" * 100) is KeyState.STABLE
    partial = judge([acked, upload], found(b"A" * 40))
    assert partial.verdict is KeyState.CORRUPTED
    assert partial.detail == "partial multipart upload: 40 of 100 bytes"


def test_an_acknowledged_delete_must_stay_deleted():
    ops = [w("k", b"v1", at=1, start=0), d("k", at=3, start=2)]
    assert verdict(ops, None) is KeyState.STABLE
    back = judge(ops, found(b"v1"))
    assert back.verdict is KeyState.RESURRECTED
    assert back.detail == "deleted (acknowledged), yet exists with the content of an earlier write"
    assert "match no write" in judge(ops, found(b"never written")).detail
    assert judge(ops, found(b"never written")).verdict is KeyState.RESURRECTED


def test_a_delete_concurrent_with_a_write_lets_either_win():
    ops = [w("k", b"v0", at=0.5, start=0), d("k", at=4, start=1), w("k", b"v1", at=3, start=2)]
    assert verdict(ops, None) is KeyState.STABLE
    assert verdict(ops, b"v1") is KeyState.STABLE
    assert verdict(ops, b"v0") is KeyState.STALE


def test_a_write_after_an_acknowledged_delete_must_be_there():
    ops = [w("k", b"v1", at=1), d("k", at=2), w("k", b"v2", at=4, start=3)]
    assert verdict(ops, b"v2") is KeyState.STABLE
    assert verdict(ops, None) is KeyState.LOST
    assert verdict(ops, b"v1") is KeyState.STALE


def test_an_unanswered_delete_after_the_last_ack_may_have_deleted():
    ops = [w("k", b"v1", at=1), d("k", INDETERMINATE, at=12, start=2)]
    assert verdict(ops, None) is KeyState.STABLE
    assert judge(ops, found(None)).detail == "an unanswered delete won"
    assert verdict(ops, b"v1") is KeyState.STABLE
    # A delete answered with an error did not delete.
    assert verdict([w("k", b"v1", at=1), d("k", FAILED, at=3, start=2)], None) is KeyState.LOST


def test_unacknowledged_multipart_keys_are_absent_or_whole_never_partial():
    upload = [w("m", b"B" * 100, INDETERMINATE, at=5, start=1, size_class="large", multipart=True)]
    assert judge(upload, None).verdict is None
    assert judge(upload, found(b"B" * 100)).verdict is None
    partial = judge(upload, found(b"B" * 60))
    assert (partial.verdict, partial.detail) == (KeyState.CORRUPTED, "partial multipart upload: 60 of 100 bytes")
    report = check(upload, store({"m": b"B" * 60}))
    assert report.counts["corrupted"] == 1 and report.classes["large"]["corrupted"] == 1
    assert report.problems[0].detail.startswith("partial multipart upload")
    whole = check(upload, store({"m": b"B" * 100}))
    assert whole.damaged == 0 and whole.multipart["unacknowledged_complete"] == 1


# -- listing


def test_the_listing_must_show_every_stable_key_and_no_deleted_one():
    writes = [w("run/a", b"a"), w("run/b", b"b"), w("run/c", b"c", at=1), d("run/c", at=2)]
    objects = {"run/a": b"a", "run/b": b"b"}
    asked = []

    def lister(prefix):
        asked.append(prefix)
        return ["run/a", "run/c", "run/zzz"]

    report = check(writes, store(objects), lister=lister)
    assert asked == ["run/"], "the keys' common prefix is listed"
    by_key = {p.key: (p.verdict, p.detail) for p in report.problems}
    assert by_key == {
        "run/b": (KeyState.MISSING_FROM_LISTING, "a GET returns it, a listing of 'run/' does not"),
        "run/c": (KeyState.RESURRECTED, "listed after its acknowledged delete (a GET says it does not exist)"),
    }
    assert report.listing == {"prefix": "run/", "listed": 3, "expected": 2, "not_in_ledger": 1, "error": ""}


def test_a_listing_that_cannot_be_made_leaves_the_verdicts_and_says_why():
    def broken(prefix):
        raise ConnectionRefusedError("no route")

    report = check([w("run/a", b"a")], store({"run/a": b"a"}), lister=broken)
    assert report.counts["stable"] == 1
    assert report.listing["error"].startswith("could not list 'run/a': ConnectionRefusedError")
    assert check([], store({}), lister=broken).listing is None, "no keys: nothing to list"


# -- scale, records


def test_many_keys_are_read_in_parallel_and_counted_per_class():
    writes = [w(f"k{i}", b"x%d" % i, size_class=("small", "medium", "large")[i % 3]) for i in range(1000)]
    objects = {f"k{i}": b"x%d" % i for i in range(1000) if i != 7}
    report = check(writes, store(objects), readers=16)
    assert report.counts["stable"] == 999 and report.lost == 1
    assert report.classes["medium"]["lost"] == 1 and report.classes["medium"]["attempted"] == 333
    assert report.readback["keys"] == 1000 and report.readback["readers"] == 16


def test_a_key_counts_in_the_class_of_its_last_acknowledged_operation():
    writes = [w("k", b"s", at=1), w("k", b"L" * 50, at=2, size_class="large", multipart=True), w("x", b"?", FAILED)]
    report = check(writes, store({}))
    assert report.classes["large"]["lost"] == 1 and report.classes["small"]["lost"] == 0
    assert report.overwrites == {"attempted": 1, "acknowledged": 1, "concurrent_keys": 0}
    both = [w("c", b"1", at=3, start=0), w("c", b"2", at=2, start=1)]
    assert check(both, store({"c": b"1"})).overwrites["concurrent_keys"] == 1
    assert report.multipart == {
        "attempted": 1,
        "acknowledged": 1,
        "unacknowledged_absent": 0,
        "unacknowledged_complete": 0,
    }


def test_writer_and_load_round_trip_and_skip_a_torn_line(tmp_path):
    with LedgerWriter(tmp_path / "a.jsonl") as writer:
        writer.record(w("k1", b"1", at=2.0, size_class="large", multipart=True))
    with LedgerWriter(tmp_path / "b.jsonl") as writer:
        writer.record(d("k2", at=1.0))
    with (tmp_path / "b.jsonl").open("a") as f:
        f.write(json.dumps({"key": "torn"})[:7])
    loaded = load(tmp_path)
    assert [(x.key, x.op, x.size_class, x.multipart) for x in loaded] == [
        ("k2", "delete", "small", False),
        ("k1", "put", "large", True),
    ]


def test_lines_written_before_operations_had_kinds_still_load(tmp_path):
    old = {"key": "k", "size": 4, "sha256": "00", "outcome": "acked", "at": 1.0, "path": "s3", "latency_ms": 3.0}
    newer = {**old, "key": "n", "op": "put", "size_class": "medium", "retries": 0}  # a field from a future writer
    (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n" + json.dumps(newer) + "\n")
    first, second = load(tmp_path)
    assert (first.op, first.size_class, first.multipart) == ("put", "small", False)
    assert second.size_class == "medium"
    assert first.start == pytest.approx(0.997)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("outcome", "maybe", "outcome"), ("op", "post", "op must be"), ("size_class", "huge", "size_class")],
)
def test_bad_records_are_rejected(field, value, message):
    fields = {"key": "k", "size": 1, "sha256": "0", "outcome": "acked", "at": 0.0, "path": "s3", field: value}
    with pytest.raises(ValueError, match=message):
        Write(**fields)


def test_a_4xx_answer_is_a_failure_and_a_5xx_leaves_the_outcome_unknown() -> None:
    assert [outcome_of_status(s) for s in (400, 403, 404, 413, 499)] == [FAILED] * 5
    assert [outcome_of_status(s) for s in (500, 502, 503, 504)] == [INDETERMINATE] * 4
