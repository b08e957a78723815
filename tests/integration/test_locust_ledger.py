"""A short real Locust run against a real 4-server MinIO cluster: the runner,
the S3 locustfile and the ledger's read-back working together."""

import io
from dataclasses import replace

from chaos import ledger
from chaos.clients import abort_incomplete_uploads, lister, object_reader, s3_client
from loadtests.config import LoadConfig
from loadtests.runner import RUNNING, LoadPlan, LocustRun, wait_for_first_row
from tests.fixtures.minio_local import ClusterFactory

BUCKET = "chaosgate"


def _s3_run(cluster, out, seconds, **shape):
    config = LoadConfig(
        ledger_dir=str(out / "ledger"),
        s3_access_key=cluster.access_key,
        s3_secret_key=cluster.secret_key,
        s3_bucket=BUCKET,
        object_size=1024,
        **shape,
    )
    plan = LoadPlan(users=4, spawn_rate=4, run_seconds=seconds)
    return LocustRun("s3", cluster.url(0), plan, out, config.to_env())


# Every class (large: 6 MiB, a multipart upload of two parts),
# overwrites among a few hot keys, deletes; the budget keeps it a few MiB a second.
MIXED = {
    "run_id": "mixed",
    "size_mix": "small=1KiB:70,medium=256KiB-1MiB:20,large=6MiB:10",
    "overwrite_ratio": 0.3,
    "delete_ratio": 0.1,
    "bytes_per_s": float(4 * 2**20),
}
NAMES = ("PUT /objects", "PUT /objects (multipart)", "DELETE /objects")


def test_every_operation_locust_acknowledged_reads_back(minio_cluster_factory: ClusterFactory, tmp_path):
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    run = _s3_run(cluster, tmp_path, seconds=8, **MIXED)
    run.start()
    assert run.wait() == 0

    # Locust's JSON is its final word; its stats CSV is written once a second
    # and can miss the last second on a busy machine.
    summary = run.summary()
    requests = sum(summary[name]["requests"] for name in NAMES)
    failures = sum(summary[name]["failures"] for name in NAMES)
    assert requests > 20 and summary["GET /objects"]["requests"] > 0
    assert run.totals("PUT /objects").requests > 0 and run.history(), "no stats CSV or per-second history"

    writes = ledger.load(tmp_path / "ledger")
    report = ledger.check(writes, object_reader(client, BUCKET), lister=lister(client, BUCKET))
    # Requests still in flight when Locust stops are in the ledger but may miss
    # Locust's final stats: at most one per user.
    assert requests <= report.attempted <= requests + 4
    assert report.acknowledged >= requests - failures > 0
    assert report.damaged == 0 and report.unreadable == 0, report.problems
    assert report.counts["stable"] == report.checked
    assert all(report.classes[c]["acknowledged"] > 0 for c in ("small", "medium", "large")), report.classes
    assert report.multipart["acknowledged"] > 0 and report.deletes["acknowledged"] > 0
    assert report.overwrites["acknowledged"] > 0
    assert report.listing["prefix"].startswith("mixed/") and report.listing["error"] == ""
    assert report.listing["listed"] == report.listing["expected"] > 0
    assert abort_incomplete_uploads(client, BUCKET, "mixed/") == 0, "every upload was completed or aborted"

    # The same check catches real loss and corruption in the real store.
    last = {}
    for write in writes:
        if write.outcome == ledger.ACKED:
            last[write.key] = write
    stored = [k for k, w in last.items() if w.op == "put"]
    client.remove_object(BUCKET, stored[0])
    client.put_object(BUCKET, stored[1], io.BytesIO(b"not what was acknowledged"), 25)
    damaged = ledger.check(writes, object_reader(client, BUCKET), lister=lister(client, BUCKET))
    assert (damaged.lost, damaged.counts["corrupted"]) == (1, 1)
    assert {p.key for p in damaged.problems} == {stored[0], stored[1]}


def test_stop_ends_a_run_before_its_time(minio_cluster_factory: ClusterFactory, tmp_path):
    cluster = minio_cluster_factory()
    s3_client(cluster.url(0), cluster.credentials).make_bucket(BUCKET)
    run = _s3_run(cluster, tmp_path, seconds=600)
    run.start()
    wait_for_first_row(run)
    run.stop()
    assert not run.running()
    assert run not in RUNNING


def test_a_5xx_answer_leaves_the_outcome_unknown_and_a_4xx_is_a_failure(
    minio_cluster_factory: ClusterFactory, tmp_path
):
    """After a 500/503 the request may have been applied (and MinIO may finish a
    half-applied change when it heals): indeterminate, never "failed"; a 4xx
    (here NoSuchBucket) is a refusal that changed nothing: failed."""
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    cluster.kill(2)
    cluster.kill(3)  # 2 of 4 drives: no write quorum, the store answers 503
    run = _s3_run(cluster, tmp_path / "quorum", seconds=6, run_id="noquorum")
    run.start()
    assert run.wait() == 0
    writes = [w for w in ledger.load(tmp_path / "quorum" / "ledger") if w.op == "put"]
    # Without write quorum nothing may read as a refusal that changed nothing.
    assert writes and all(w.outcome == ledger.INDETERMINATE for w in writes), [w.detail for w in writes][:10]

    missing = _s3_run(cluster, tmp_path / "nobucket", seconds=4, run_id="nobucket")
    missing_env = replace(LoadConfig.from_env(missing.env), s3_bucket="no-such-bucket").to_env()
    run = LocustRun(
        "s3", cluster.url(0), LoadPlan(users=2, spawn_rate=2, run_seconds=4), tmp_path / "nobucket", missing_env
    )
    run.start()
    assert run.wait() == 0
    refused = [w for w in ledger.load(tmp_path / "nobucket" / "ledger") if w.op == "put"]
    answered_404 = [w for w in refused if "(HTTP 404)" in w.detail]
    assert answered_404, [w.detail for w in refused][:10]
    assert all(w.outcome == ledger.FAILED for w in answered_404)
    assert not any(w.outcome == ledger.ACKED for w in refused)
