"""What the load does next (loadtests.traffic), without Locust."""

import hashlib
import random

from chaos.ledger import ACKED, FAILED
from chaos.sizemix import MIB, SizeMix
from loadtests.traffic import HOT_KEYS, KeyPool, PatternStream, Shape, Traffic


def test_a_pattern_stream_hashes_what_it_gives_and_finishes_a_broken_off_upload():
    whole = PatternStream(3 * MIB + 5, seed=42)
    data = b"".join(iter(lambda: whole.read(100_003), b""))
    assert len(data) == 3 * MIB + 5
    assert whole.finish() == hashlib.sha256(data).hexdigest()
    assert PatternStream(3 * MIB + 5, seed=43).read(-1) != data, "another seed, other content"

    # An upload broken off after its first part: finish() hashes the rest, so
    # the digest is that of the whole content the upload would have stored.
    broken = PatternStream(3 * MIB + 5, seed=42)
    broken.read(MIB + 1)
    same = PatternStream(3 * MIB + 5, seed=42)
    content = same.read(MIB + 1) + b"".join(iter(lambda: same.read(64 * 1024), b""))
    assert broken.finish() == hashlib.sha256(content).hexdigest()


def test_reads_accept_any_content_sent_to_the_key_and_not_found_only_after_a_delete():
    pool = KeyPool()
    pool.add("k", "small", "v1")
    pool.note("k", "v2", "small")
    assert pool.read_ok("k", "v1") and pool.read_ok("k", "v2")
    assert not pool.read_ok("k", "other") and not pool.read_ok("k", None)
    pool.start_delete("k")
    assert pool.read_ok("k", None) and pool.read_ok("k", "v1")
    pool.forget("k")
    assert pool.read_ok("k", None) and not pool.read_ok("k", "v1")


def test_the_traffic_mixes_reads_new_keys_overwrites_and_deletes():
    shape = Shape(SizeMix.parse("small=4KiB:1"), read_ratio=0.5, overwrite_ratio=0.2, delete_ratio=0.1)
    traffic = Traffic(shape, "run", random.Random(1))
    kinds = {"read": 0, "new": 0, "overwrite": 0, "delete": 0}
    for _ in range(4000):
        action = traffic.next()
        kind = action.kind if action.kind != "put" else ("overwrite" if action.overwrite else "new")
        kinds[kind] += 1
        if action.kind == "put":
            assert action.key.startswith("run/")
        if action.overwrite:
            assert action.key in traffic.pool.hot()
        traffic.pool.settle(action, ACKED, f"sha-{action.key}")
    writes = 4000 - kinds["read"]
    assert 1700 < kinds["read"] < 2300
    assert 0.07 < kinds["delete"] / writes < 0.13 and 0.16 < kinds["overwrite"] / writes < 0.24
    assert len(traffic.pool.hot()) == HOT_KEYS


def test_failed_writes_are_not_read_and_large_keys_are_never_read():
    shape = Shape(SizeMix.parse("large=6MiB:1"), read_ratio=1.0)
    traffic = Traffic(shape, "run", random.Random(2))
    first = traffic.next()
    assert (first.kind, first.size_class) == ("put", "large")
    traffic.pool.settle(first, FAILED, "x")
    assert traffic.pool.live() == []
    traffic.pool.settle(first, ACKED, "x")
    assert traffic.next().kind == "put", "a large key is not read"


def test_over_the_byte_budget_a_draw_becomes_a_small_object():
    shape = Shape(SizeMix.parse("small=4KiB:1,large=16MiB:1000"), read_ratio=0, bytes_per_s=1)
    traffic = Traffic(shape, "run", random.Random(3))
    sizes = [traffic.size() for _ in range(20)]
    assert sizes[0] == ("large", 16 * MIB), "the budget starts full: one large object"
    assert set(sizes[1:]) == {("small", 4096)}
