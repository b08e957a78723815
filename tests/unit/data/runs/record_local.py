"""Runs two scenarios for real against MinIO server processes on loopback and
keeps the run folder, so the checker tests read a History that real probes,
a real Locust and a real ledger recorded (``record.py`` then keeps the parts
the tests read)::

    python tests/unit/data/runs/record_local.py OUT_FOLDER

Not kind: the MinIO servers are processes (tests/fixtures/localminio.py), a
"pod kill" is a SIGKILL of one server process, a "full outage" of all four.
The sampler, the timeline, Locust, the ledger and its read-back are the
suite's own. The measurements in summary.json are computed here straight from
the files (Locust's CSV, the ledger, the timeline), not through chaos.history,
so the tests hold the History and the checkers against an independent reading.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

# After the path setup: the suite's own modules.
from chaos import ledger  # noqa: E402
from chaos.checkers.availability import writes_back_after  # noqa: E402
from chaos.clients import Credentials, lister, object_reader, s3_client  # noqa: E402
from chaos.minio_health import observe_rejoined  # noqa: E402
from chaos.observe import Sampler  # noqa: E402
from chaos.sources import minio_source  # noqa: E402
from chaos.timeline import Timeline, read  # noqa: E402
from chaos.verdict import ScenarioResult  # noqa: E402
from kernel.wait import Seen, wait_until  # noqa: E402
from loadtests.config import LoadConfig  # noqa: E402
from loadtests.runner import LoadPlan, LocustRun, read_history, wait_for_first_row  # noqa: E402
from reports.build import write_summary  # noqa: E402
from scenarios.load import reading  # noqa: E402
from tests.fixtures.localminio import LocalMinioCluster  # noqa: E402

BUCKET = "chaosgate"
SERVERS = 4
SHAPE = {"size_mix": "small=4KiB:90,medium=256KiB:10", "overwrite_ratio": 0.1, "delete_ratio": 0.05}


def rejoined(cluster: LocalMinioCluster, creds: Credentials, timeout: float = 120.0) -> None:
    streak = 0

    def stable() -> Seen:
        nonlocal streak
        seen = observe_rejoined(cluster.urls, creds, expected_servers=SERVERS, expected_drives=SERVERS)
        streak = streak + 1 if seen.ok else 0
        return Seen(streak >= 3, str(seen))

    wait_until(stable, what="MinIO rejoined and healed", timeout=timeout, interval=1.0)


def scenario(run: Path, tl: Timeline, cluster: LocalMinioCluster, creds: Credentials, name: str) -> ScenarioResult:
    result = ScenarioResult(name, title=f"{name} (MinIO processes on loopback)")
    result.start()
    tl.scenario = name
    result.t_start = tl.now()
    config = LoadConfig(
        run_id=name,
        ledger_dir=str(run / name / "ledger"),
        **SHAPE,
        s3_access_key=creds.access_key,
        s3_secret_key=creds.secret_key,
        s3_bucket=BUCKET,
    )
    load = LocustRun("s3", cluster.url(0), LoadPlan(users=4, spawn_rate=4, run_seconds=50), run / name, config.to_env())
    sampler = Sampler(tl, {"minio": minio_source(cluster.url(0), creds), "load": lambda: reading(load)}).start()
    try:
        load.start()
        wait_for_first_row(load)
        tl.event("hold", seconds=10, why="baseline before the fault")
        time.sleep(10)
        victims = [1] if name == "pod-kill" else list(range(SERVERS))
        with tl.span(f"fault.{'sigkill' if name == 'pod-kill' else 'all-servers-down'}", targets=victims):
            t0 = time.time()
            for i in victims:
                cluster.kill(i)
            finished = time.time()
            result.proofs.append({"fault": "sigkill", "targets": [str(i) for i in victims], "started_at": t0,
                                  "finished_at": finished, "evidence": {}})  # fmt: skip
            tl.event("hold", seconds=8, why="servers down")
            time.sleep(8)
            for i in victims:
                cluster.start_node(i)
            rejoined(cluster, creds)
            healed = round(time.time() - t0, 1)
        load.wait()
        tl.event("load.end", summary=load.summary())
    finally:
        load.stop()
        sampler.stop()
    result.t_end = tl.now()
    measure(result, run, name, t0, healed)
    read_back(result, run / name / "ledger", cluster, creds)
    result.finish()
    return result


def measure(result: ScenarioResult, run: Path, name: str, t0: float, healed: float) -> None:
    """Straight from the files, as the harness measured before it read a History."""
    samples = [r for r in read(run / "timeline.jsonl") if r.get("kind") == "sample" and r.get("scenario") == name]
    fresh = [
        r
        for r in samples
        if r["wall"] >= t0 and not (m := r.get("minio") or {}).get("error") and m.get("age_s", 99) <= 2
    ]
    detect = next((round(r["wall"] - t0, 1) for r in fresh if r["minio"]["servers_online"] < SERVERS), None)
    rows = read_history(run / name / "locust-s3_stats_history.csv", name="GET /objects")
    end = t0 + max(healed, 10.0)
    inside = [r for r in rows if t0 <= r.at <= end]
    before = [r for r in rows if r.at < t0]
    base_req = before[-1].total_requests if before else 0
    base_fail = before[-1].total_failures if before else 0
    requests = inside[-1].total_requests - base_req
    failures = inside[-1].total_failures - base_fail
    result.measurements = {
        "time_to_detect_s": detect,
        "time_to_healed_s": healed,
        "time_to_first_ack_after_fault_s": writes_back_after(ledger.load(run / name / "ledger"), t0),
        "read_availability": round(1 - failures / requests, 4) if requests > 0 else None,
    }


def read_back(result: ScenarioResult, folder: Path, cluster: LocalMinioCluster, creds: Credentials) -> None:
    client = s3_client(cluster.url(0), creds)
    report = ledger.check(ledger.load(folder), object_reader(client, BUCKET), lister=lister(client, BUCKET))
    result.ledger = report.to_dict()
    result.require(
        report.damaged == 0 and report.acknowledged > 0,
        f"{report.intact} of {report.checked} keys read back as their acknowledged operations left them, none "
        "lost, corrupted, stale, resurrected, missing from the listing or refused",
        f"{report.damage_text()} (of {report.checked} acknowledged keys; {report.intact} intact)",
        "ledger",
    )


def main(out: Path) -> Path:
    run = out / time.strftime("local-%Y%m%d-%H%M%S")
    run.mkdir(parents=True)
    with LocalMinioCluster(nodes=SERVERS) as cluster:
        cluster.wait_ready()
        creds = Credentials(cluster.access_key, cluster.secret_key)
        s3_client(cluster.url(0), creds).make_bucket(BUCKET)
        tl = Timeline(run / "timeline.jsonl")
        results = [scenario(run, tl, cluster, creds, name) for name in ("pod-kill", "full-outage")]
        tl.close()
    settings = {"cluster": "local MinIO processes", "profile": "record_local", "servers": str(SERVERS)}
    write_summary(run, settings, [r.to_dict() for r in results])
    return run


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
