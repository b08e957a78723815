"""A short real Locust run against a real 4-server MinIO cluster: the runner,
the S3 locustfile and the ledger's read-back working together."""

import io

from chaos import ledger
from chaos.clients import object_reader, s3_client
from loadtests.runner import RUNNING, LoadPlan, LocustRun, wait_for_first_row
from tests.fixtures.minio_local import ClusterFactory

BUCKET = "chaosgate"


def _s3_run(cluster, out, seconds):
    env = {
        "CHAOSGATE_LEDGER_DIR": str(out / "ledger"),
        "CHAOSGATE_S3_ACCESS_KEY": cluster.access_key,
        "CHAOSGATE_S3_SECRET_KEY": cluster.secret_key,
        "CHAOSGATE_S3_BUCKET": BUCKET,
        "CHAOSGATE_OBJECT_SIZE": "1024",
    }
    return LocustRun("s3", cluster.url(0), LoadPlan(users=4, spawn_rate=4, run_seconds=seconds), out, env)


def test_every_write_locust_acknowledged_reads_back(minio_cluster_factory: ClusterFactory, tmp_path):
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    run = _s3_run(cluster, tmp_path, seconds=8)
    run.start()
    assert run.wait() == 0

    totals = run.totals("PUT /objects")
    assert totals.requests > 20
    assert run.history(), "no per-second history rows"

    writes = ledger.load(tmp_path / "ledger")
    report = ledger.check(writes, object_reader(client, BUCKET))
    # Requests still in flight when Locust stops are in the ledger but may miss
    # Locust's final stats: at most one per user.
    assert totals.requests <= report.attempted <= totals.requests + 4
    assert report.acknowledged >= totals.requests - totals.failures > 0
    assert report.counts["stable"] == report.acknowledged
    assert report.damaged == 0

    # The same check catches real loss and corruption in the real store.
    acked = [w.key for w in writes if w.outcome == ledger.ACKED]
    client.remove_object(BUCKET, acked[0])
    client.put_object(BUCKET, acked[1], io.BytesIO(b"not what was acknowledged"), 25)
    damaged = ledger.check(writes, object_reader(client, BUCKET))
    assert (damaged.lost, damaged.counts["corrupted"]) == (1, 1)
    assert {p.key for p in damaged.problems} == {acked[0], acked[1]}


def test_stop_ends_a_run_before_its_time(minio_cluster_factory: ClusterFactory, tmp_path):
    cluster = minio_cluster_factory()
    s3_client(cluster.url(0), cluster.credentials).make_bucket(BUCKET)
    run = _s3_run(cluster, tmp_path, seconds=600)
    run.start()
    wait_for_first_row(run)
    run.stop()
    assert not run.running()
    assert run not in RUNNING
