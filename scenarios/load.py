"""The scenario's load: Locust started with one LoadConfig, read back for the timeline and the History."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos.history import LoadRow
from loadtests.config import READ_NAME, AppContract, LoadConfig
from loadtests.runner import LoadPlan, LocustRun, WorkerPool, failures_of, read_history, wait_for_first_row
from loadtests.traffic import NOT_FOUND_FAILURE

if TYPE_CHECKING:
    from scenarios.harness import ScenarioRun

__all__ = ["config", "csvs", "files", "rates", "read_rows", "reading", "rows_from", "start", "wait_for_first_row"]


def config(run: ScenarioRun, *, in_cluster: bool) -> LoadConfig:
    """What Locust is told: the scenario's ledger and run id, the profile's
    load shape, S3 for both locustfiles (the app's large objects and deletes
    go there) and the target app's contract."""
    stack = run.stack
    # Worker pods reach the stack by cluster DNS, a local Locust the way the harness does.
    urls = stack.target.cluster_urls() if in_cluster else stack.env.urls
    app = stack.target.app
    contract = None
    if app is not None:
        contract = AppContract(
            write_method=app.write_method,
            write_path=app.write_path,
            ack_status=app.ack_status,
            digest_header=app.digest_header,
            read_path=app.read_path,
            delete_path=app.delete_path,
            stored_as=app.stored_as,
        )
    return LoadConfig(
        run_id=run.result.name,
        ledger_dir=str(run.ledger_dir),
        **run.profile.load_shape(),
        s3_endpoint=urls["minio"] if app is not None else "",
        s3_access_key=stack.credentials.access_key,
        s3_secret_key=stack.credentials.secret_key,
        s3_bucket=stack.bucket,
        app=contract,
    )


def start(run: ScenarioRun, users: int, seconds: int, pool: WorkerPool | None) -> LocustRun:
    """Locust through the target's app, or straight to MinIO over S3 when it has none."""
    app = run.stack.target.app
    locustfile = "app" if app is not None else "s3"
    urls = run.stack.target.cluster_urls() if pool is not None else run.stack.env.urls
    host = urls["app"] if app is not None else urls["minio"]
    plan = LoadPlan(users=users, spawn_rate=run.profile.spawn_rate, run_seconds=seconds)
    env = config(run, in_cluster=pool is not None).to_env()
    locust = LocustRun(locustfile, host, plan, run.dir, env, workers=pool)
    run.timeline.event(
        "load.start", users=users, seconds=seconds, locustfile=locustfile, workers=pool.count if pool else 0
    )
    locust.start()
    return locust


def rates(load: LocustRun) -> dict[str, float]:
    """Requests per second the load made, in total and per Locust worker
    (what --load-workers buys on this machine)."""
    summary = load.summary()
    total = sum(int(v["requests"]) for v in summary.values() if isinstance(v, dict) and "requests" in v)
    out = {"load_rps": round(total / load.plan.run_seconds, 1)}
    rps = [float(r) for b in load.worker_books().values() if isinstance(r := b.get("rps"), int | float)]
    out["load_workers"] = float(len(rps)) if load.workers is not None else 0.0
    if rps:
        out["load_rps_per_worker_min"] = min(rps)
        out["load_rps_per_worker_max"] = max(rps)
    return out


def reading(load: LocustRun | None) -> Mapping[str, Any]:
    """The load's last second, for the sampler: only while Locust runs (its
    history file keeps its last row after the end, which would draw load
    that is no longer there)."""
    if load is None or not load.running():
        return {}
    rows = load.history()
    if not rows:
        return {}
    last = rows[-1]
    return {
        "users": last.users,
        "rps": last.rps,
        "failures_per_s": last.failures_per_s,
        "p50_ms": last.p50_ms,
        "p95_ms": last.p95_ms,
    }


def files(load: LocustRun | None) -> list[Path]:
    """The load's files a History is read from."""
    return [] if load is None else [*csvs(load.prefix)]


def csvs(prefix: Path) -> tuple[Path, Path]:
    """Locust's per-second history and its failures, for a run writing to ``prefix``."""
    return Path(f"{prefix}_stats_history.csv"), Path(f"{prefix}_failures.csv")


def read_rows(load: LocustRun | None) -> tuple[list[LoadRow], int | None]:
    """The load's reads (cumulative GET counts) and its 404s for acknowledged
    keys, as the History holds them; none without a Locust run."""
    return rows_from(load.prefix) if load is not None else ([], None)


def rows_from(prefix: Path) -> tuple[list[LoadRow], int]:
    """:func:`read_rows` from the files of a Locust run (a recorded one too)."""
    history_csv, failures_csv = csvs(prefix)
    rows = read_history(history_csv, name=READ_NAME)
    reads = [LoadRow(r.at, r.total_requests, r.total_failures) for r in rows]
    return reads, failures_of(failures_csv, NOT_FOUND_FAILURE)
