"""The read-back against a real 4-server MinIO (EC:2): each test breaks the
store on purpose, behind the ledger's back, and checks the ledger names
exactly that damage. A store that answers with an error is failing its
acknowledged writes (refused, a product failure); a store the harness cannot
reach at all is the harness's problem (unreadable)."""

import io
import os
import secrets
import shutil
import time

import pytest
from minio.error import S3Error

from chaos import ledger
from chaos.clients import abort_incomplete_uploads, http_pool, lister, object_reader, s3_client
from chaos.sizemix import MIB, PART_SIZE
from loadtests.traffic import PatternStream
from tests.fixtures.minio_local import ClusterFactory

BUCKET = "chaosgate"
LARGE = 11 * MIB  # three parts of at most 5 MiB: part.1, part.2, part.3 on every drive


def _acked_writes(client, count=3):
    writes = []
    for i in range(count):
        data = f"object {i}".encode()
        client.put_object(BUCKET, f"k{i}", io.BytesIO(data), len(data))
        writes.append(ledger.Write(f"k{i}", len(data), ledger.sha256_hex(data), ledger.ACKED, float(i), "s3"))
    return writes


def test_a_store_that_answers_with_errors_refuses_and_a_dead_one_is_unreadable(minio_cluster_factory: ClusterFactory):
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials, http=http_pool(read=30))
    client.make_bucket(BUCKET)
    writes = _acked_writes(client)
    assert ledger.check(writes, object_reader(client, BUCKET)).counts["stable"] == 3

    # Every server up, but three of four copies of each object's metadata are
    # garbage: below read quorum, so the store answers each read with an error.
    for drive in [d for i in (1, 2, 3) for d in cluster._node(i).drives]:
        for meta in (drive / BUCKET).glob("k*/xl.meta"):
            meta.write_bytes(b"not an xl.meta")
    refused = ledger.check(writes, object_reader(client, BUCKET), refuse_retry_s=3)
    assert refused.counts["refused"] == 3, refused.problems
    assert refused.damaged == 3 and refused.unreadable == 0

    # No server at all: nobody answers, so the harness cannot tell.
    for i in range(4):
        cluster.kill(i)
    unreadable = ledger.check(writes, object_reader(client, BUCKET), refuse_retry_s=3)
    assert unreadable.counts["unreadable"] == 3, unreadable.problems
    assert unreadable.damaged == 0


# -- damage of the new kinds, on the shared cluster (no server is stopped) -------


@pytest.fixture
def store(minio_cluster):
    """A fresh bucket on the shared cluster: (cluster, client, bucket)."""
    client = s3_client(minio_cluster.url(0), minio_cluster.credentials, http=http_pool(read=30))
    bucket = f"ledger-{secrets.token_hex(4)}"
    client.make_bucket(bucket)
    return minio_cluster, client, bucket


def _put(client, bucket, key, data, *, size_class="small"):
    sent = time.time()
    client.put_object(bucket, key, io.BytesIO(data), len(data))
    latency_ms = (time.time() - sent) * 1000
    return ledger.Write(
        key, len(data), ledger.sha256_hex(data), ledger.ACKED, time.time(), "s3", latency_ms, "", "put", size_class
    )


def _put_large(client, bucket, key, attempts=3):
    """One acknowledged multipart PUT. On a loaded host MinIO can refuse one
    with SlowDownWrite while a drive call times out, though every server is
    up; what these tests look at is the stored object, so try again."""
    for attempt in range(1, attempts + 1):
        stream = PatternStream(LARGE, seed=int.from_bytes(os.urandom(8)))
        sent = time.time()
        try:
            client.put_object(bucket, key, stream, LARGE, part_size=PART_SIZE, num_parallel_uploads=1)
            break
        except S3Error as exc:
            if exc.code != "SlowDownWrite" or attempt == attempts:
                raise
            time.sleep(2)
    latency_ms = (time.time() - sent) * 1000
    return ledger.Write(
        key, LARGE, stream.finish(), ledger.ACKED, time.time(), "s3", latency_ms, "", "put", "large", multipart=True
    )


def _delete(client, bucket, key):
    sent = time.time()
    client.remove_object(bucket, key)
    latency_ms = (time.time() - sent) * 1000
    return ledger.Write(key, 0, "", ledger.ACKED, time.time(), "s3", latency_ms, "", "delete", "small")


def _part_files(cluster, bucket, key, node):
    return sorted((cluster._node(node).drives[0] / bucket / key).glob("*/part.*"))


def _check(client, bucket, writes, **kwargs):
    return ledger.check(writes, object_reader(client, bucket), lister=lister(client, bucket), **kwargs)


def test_a_large_object_survives_its_part_files_lost_on_one_server_but_not_on_three(store):
    cluster, client, bucket = store
    one, three = _put_large(client, bucket, "run/one"), _put_large(client, bucket, "run/three")
    assert len(_part_files(cluster, bucket, "run/one", 1)) == 3, "a multipart object is stored as part files"

    for part in _part_files(cluster, bucket, "run/one", 1):
        part.unlink()
    report = _check(client, bucket, [one])
    # EC:2 on four drives: two data shards are enough, the erasure code rebuilds the object.
    assert report.counts["stable"] == 1 and report.damaged == 0, report.problems

    for node in (1, 2, 3):
        for part in _part_files(cluster, bucket, "run/three", node):
            part.unlink()
    report = _check(client, bucket, [three], refuse_retry_s=3)
    # One data shard left, two needed: the data is gone. MinIO still holds the
    # object's xl.meta on all four drives, so it knows the object exists and
    # answers GETs with 503 SlowDownRead instead of the bytes: the ledger calls
    # that "refused" (damage, a product failure). The GET also starts a heal,
    # and a heal that finds too few parts may purge the object as dangling;
    # the retries would then read 404, "lost". Either is damage;
    # never "corrupted" (wrong bytes) and never unreadable (no answer).
    seen = (report.counts, [(x.verdict, x.detail) for x in report.problems])
    assert report.counts.get("stable", 0) == 0, seen
    assert report.counts.get("refused", 0) + report.counts.get("lost", 0) == 1, seen
    assert report.damaged == 1 and report.unreadable == 0 and report.counts.get("corrupted", 0) == 0, seen
    if report.counts.get("refused", 0):
        assert report.classes["large"]["refused"] == 1, seen
        assert "SlowDownRead" in report.problems[0].detail, seen


def test_an_object_overwritten_behind_the_ledgers_back_is_corrupted_and_an_older_version_stale(store):
    _, client, bucket = store
    v1, v2 = os.urandom(MIB), os.urandom(MIB)
    writes = [
        _put(client, bucket, "run/k", v1, size_class="medium"),
        _put(client, bucket, "run/k", v2, size_class="medium"),
    ]
    assert _check(client, bucket, writes).counts["stable"] == 1

    client.put_object(bucket, "run/k", io.BytesIO(b"not what was acknowledged"), 25)
    report = _check(client, bucket, writes)
    assert report.counts["corrupted"] == 1 and report.damaged == 1
    assert (report.problems[0].verdict, report.problems[0].detail) == (
        ledger.KeyState.CORRUPTED,
        "25 bytes match no write",
    )

    client.put_object(bucket, "run/k", io.BytesIO(v1), len(v1))
    report = _check(client, bucket, writes)
    assert report.counts["stale"] == 1 and report.classes["medium"]["stale"] == 1 and report.damaged == 1
    assert report.problems[0].detail == "content of an earlier acknowledged write"


def test_a_deleted_key_that_comes_back_is_resurrected(store):
    _, client, bucket = store
    data = b"gone for good"
    writes = [
        _put(client, bucket, "run/gone", data),
        _delete(client, bucket, "run/gone"),
        _put(client, bucket, "run/kept", b"k"),
    ]
    fine = _check(client, bucket, writes)
    assert fine.counts["stable"] == 2 and fine.damaged == 0 and fine.deletes == {"attempted": 1, "acknowledged": 1}

    client.put_object(bucket, "run/gone", io.BytesIO(data), len(data))
    report = _check(client, bucket, writes)
    assert report.counts["resurrected"] == 1 and report.damaged == 1
    assert [(p.key, p.detail) for p in report.problems] == [
        ("run/gone", "deleted (acknowledged), yet exists with the content of an earlier write")
    ]


def test_a_key_the_listing_does_not_show_is_missing_from_listing(store):
    cluster, client, bucket = store
    writes = [
        _put(client, bucket, "run/k0", b"zero"),
        _put(client, bucket, "run/k1", b"one"),
        _put(client, bucket, "run/m0", os.urandom(MIB), size_class="medium"),
    ]
    reader, names = object_reader(client, bucket), lister(client, bucket)
    assert _check(client, bucket, writes).listing == {
        "prefix": "run/",
        "listed": 3,
        "expected": 3,
        "not_in_ledger": 0,
        "error": "",
    }

    # A listing that leaves a key out (simulated).
    report = ledger.check(writes, reader, lister=lambda prefix: (n for n in names(prefix) if n != "run/k1"))
    assert [(p.key, p.verdict) for p in report.problems] == [("run/k1", ledger.KeyState.MISSING_FROM_LISTING)]

    # The real store: the objects' folders replaced by symlinks on every drive.
    # A GET follows the link and returns the object; MinIO's listing walk skips
    # symlinks, so no listing shows them.
    for node in range(cluster.size):
        for key in ("k0", "m0"):
            folder = cluster._node(node).drives[0] / bucket / "run" / key
            moved = cluster.root / f"hidden-{bucket}" / str(node) / key
            moved.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(folder, moved)
            folder.symlink_to(moved)
    report = _check(client, bucket, writes)
    assert sorted((p.key, p.verdict, p.size_class) for p in report.problems) == [
        ("run/k0", ledger.KeyState.MISSING_FROM_LISTING, "small"),
        ("run/m0", ledger.KeyState.MISSING_FROM_LISTING, "medium"),
    ]
    assert report.counts["stable"] == 1 and report.listing["listed"] == 1
    assert report.problems[0].detail == "a GET returns it, a listing of 'run/' does not"


def test_an_incomplete_multipart_upload_is_aborted_at_the_end_and_counted(store):
    _, client, bucket = store
    content = PatternStream(LARGE, seed=5)
    first_part = content.read(PART_SIZE)
    # A client interrupted after its first part: the upload was never completed.
    upload = client._create_multipart_upload(bucket, "run/big", {})
    client._upload_part(bucket, "run/big", first_part, None, upload, 1)
    other = client._create_multipart_upload(bucket, "elsewhere/big", {})
    interrupted = ledger.Write(
        "run/big", LARGE, content.finish(), ledger.INDETERMINATE, time.time(), "s3", 500.0, "ReadTimeoutError",
        "put", "large", multipart=True,
    )  # fmt: skip

    report = _check(client, bucket, [interrupted])
    assert report.damaged == 0, "an interrupted upload that left nothing visible is fine"
    assert report.multipart == {
        "attempted": 1,
        "acknowledged": 0,
        "unacknowledged_absent": 1,
        "unacknowledged_complete": 0,
    }

    assert abort_incomplete_uploads(client, bucket, "run/") == 1
    assert abort_incomplete_uploads(client, bucket, "run/") == 0, "aborted uploads are gone"
    left = client._list_multipart_uploads(bucket).uploads
    assert [(u.object_name, u.upload_id) for u in left] == [("elsewhere/big", other)], "other prefixes are untouched"


def test_a_partial_object_under_an_unacknowledged_multipart_key_is_corrupted(store):
    _, client, bucket = store
    content = PatternStream(LARGE, seed=9)
    first_part = content.read(PART_SIZE)
    interrupted = ledger.Write(
        "run/big", LARGE, content.finish(), ledger.INDETERMINATE, time.time(), "s3", 800.0, "ConnectionResetError",
        "put", "large", multipart=True,
    )  # fmt: skip
    # What a store that commits only part of an upload would leave.
    client.put_object(bucket, "run/big", io.BytesIO(first_part), len(first_part))
    report = _check(client, bucket, [interrupted])
    assert report.counts["corrupted"] == 1 and report.classes["large"]["corrupted"] == 1
    assert report.problems[0].detail == f"partial multipart upload: {PART_SIZE} of {LARGE} bytes"

    # The whole upload having landed after all is fine: its client never heard.
    whole = PatternStream(LARGE, seed=9)
    client.put_object(bucket, "run/big", whole, LARGE, part_size=PART_SIZE, num_parallel_uploads=1)
    report = _check(client, bucket, [interrupted])
    assert report.damaged == 0 and report.indeterminate_stored == 1
    assert report.multipart["unacknowledged_complete"] == 1


def test_a_store_that_lost_its_bucket_lost_every_key_and_the_listing_check_still_decides(store):
    _, client, bucket = store
    writes = [_put(client, bucket, "run/a", b"a"), _put(client, bucket, "run/b", b"b")]
    assert list(lister(client, bucket)("run/")) == ["run/a", "run/b"]
    client.remove_object(bucket, "run/a")
    client.remove_object(bucket, "run/b")
    client.remove_bucket(bucket)
    assert list(lister(client, bucket)("run/")) == []
    report = _check(client, bucket, writes)
    assert report.counts["lost"] == 2 and report.damaged == 2
    assert report.listing is not None and report.listing["error"] == ""
