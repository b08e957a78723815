"""The read-back against a real 4-server MinIO: a store that answers with an
error is failing its acknowledged writes (refused, a product failure); a store
the harness cannot reach at all is the harness's problem (unreadable)."""

import io

from chaos import ledger
from chaos.clients import http_pool, object_reader, s3_client
from tests.fixtures.minio_local import ClusterFactory

BUCKET = "chaosgate"


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
