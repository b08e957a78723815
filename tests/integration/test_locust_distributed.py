"""Locust's own distributed mode (a master and --worker processes) against a
real 4-server MinIO cluster: the workers' ledger entries travel to the
master, the merged ledger reads back whole, and a worker killed mid-run makes
the ledger incomplete (said in words) without any false loss."""

import json
import time

from chaos import ledger
from chaos.clients import lister, object_reader, s3_client
from loadtests import merge
from loadtests.config import LoadConfig
from loadtests.runner import LoadPlan, LocustRun, wait_for_first_row
from loadtests.workers import LocalWorkers
from tests.fixtures.minio_local import ClusterFactory

BUCKET = "chaosgate"
SHAPE = {
    "size_mix": "small=1KiB:70,medium=256KiB-1MiB:20,large=6MiB:10",
    "overwrite_ratio": 0.3,
    "delete_ratio": 0.1,
    "bytes_per_s": float(4 * 2**20),
}
NAMES = ("PUT /objects", "PUT /objects (multipart)", "DELETE /objects")


def _run(cluster, out, run_id, seconds, workers):
    env = LoadConfig(
        ledger_dir=str(out / "ledger"),
        run_id=run_id,
        s3_access_key=cluster.access_key,
        s3_secret_key=cluster.secret_key,
        s3_bucket=BUCKET,
        **SHAPE,
    ).to_env()
    plan = LoadPlan(users=4, spawn_rate=4, run_seconds=seconds)
    return LocustRun("s3", cluster.url(0), plan, out, env, workers=workers)


def test_two_workers_ledger_arrives_whole_at_the_master(minio_cluster_factory: ClusterFactory, tmp_path):
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    workers = LocalWorkers(2)
    run = _run(cluster, tmp_path, "dist", 8, workers)
    run.start()
    assert run.wait() == 0
    assert all(p.poll() is not None for p in workers.procs), "workers quit with the master"

    assert run.ledger_gaps() == []
    summary = json.loads((tmp_path / "ledger" / merge.SUMMARY).read_text())
    assert len(summary["workers"]) == 2 and summary["complete"] is True
    for book in summary["workers"].values():
        assert book["received"] == book["sent"] > 0, summary
    # Only the master writes a ledger file: entries came as messages.
    files = list((tmp_path / "ledger").glob("*.jsonl"))
    assert len(files) == 1, files

    stats = run.summary()
    requests = sum(stats[name]["requests"] for name in NAMES if name in stats)
    writes = ledger.load(tmp_path / "ledger")
    assert len(writes) == sum(b["received"] for b in summary["workers"].values())
    report = ledger.check(writes, object_reader(client, BUCKET), lister=lister(client, BUCKET))
    # In-flight requests at the stop are in the ledger but may miss the final stats.
    assert requests <= report.attempted <= requests + 4
    assert report.acknowledged > 0
    assert report.damaged == 0 and report.unreadable == 0, report.problems
    assert report.counts["stable"] == report.checked


def test_a_worker_killed_mid_run_leaves_the_ledger_incomplete_and_nothing_falsely_lost(
    minio_cluster_factory: ClusterFactory, tmp_path
):
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    workers = LocalWorkers(2)
    run = _run(cluster, tmp_path, "killed", 10, workers)
    run.start()
    wait_for_first_row(run)
    time.sleep(3)  # both workers writing
    workers.kill(0)
    assert run.wait() == 0

    gaps = run.ledger_gaps()
    assert len(gaps) == 1 and "without confirming its ledger" in gaps[0], gaps
    summary = json.loads((tmp_path / "ledger" / merge.SUMMARY).read_text())
    books = summary["workers"]
    lost = [b for b in books.values() if b["sent"] is None]
    kept = [b for b in books.values() if b["sent"] is not None]
    assert len(lost) == 1 and len(kept) == 1, books
    assert lost[0]["received"] > 0, "what the killed worker reported before it died is kept"
    assert kept[0]["received"] == kept[0]["sent"] > 0

    writes = ledger.load(tmp_path / "ledger")
    unanswered = [w for w in writes if w.detail == merge.LOST_DETAIL]
    assert len(unanswered) == lost[0]["in_flight_indeterminate"]
    assert all(w.outcome == ledger.INDETERMINATE for w in unanswered)
    # The store holds whatever the dead worker's last requests did; entries
    # for them keep the check from calling any of it loss or corruption.
    report = ledger.check(writes, object_reader(client, BUCKET), lister=lister(client, BUCKET))
    assert report.damaged == 0 and report.unreadable == 0, report.problems
    assert report.acknowledged > 0


def test_the_master_without_a_summary_is_a_gap(tmp_path):
    """Sabotage: a summary the master never wrote, or one with fewer workers
    than started, is a gap the harness reports, never a complete ledger."""
    assert merge.gaps(tmp_path, 0) == []
    assert "no worker summary" in merge.gaps(tmp_path, 2)[0]
    merge.write_summary(tmp_path, {"workers": {"w1": {"received": 3, "sent": 3}}, "problems": []})
    assert merge.gaps(tmp_path, 2) == ["2 Locust workers were expected, 1 reported to the master"]
