"""Drive Locust as a subprocess.

Locust monkey-patches the standard library with gevent, which breaks the
Kubernetes client and threads in the harness, so it always runs in its own
process: headless, bounded by a run time, writing CSV history (one row per
second), an HTML report and JSON stats into the run folder. ``stop`` ends it
for sure (its whole process group), also when the harness is interrupted.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from deployer.kind import free_port
from deployer.paths import SOURCE_ROOT
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.procs import owner_env
from kernel.progress import say
from kernel.wait import Deadline, Seen, wait_until
from loadtests import merge
from loadtests.config import LoadConfig, env_name

LOCUSTFILES = Path(__file__).parent / "locustfiles"
REPO_ROOT = SOURCE_ROOT

ENV_LEDGER_DIR = env_name("ledger_dir")
EXPECT_WORKERS_MAX_WAIT_S = 180
"""How long the master waits for its workers to connect before giving up: a
worker pod may first need its image loaded and to be scheduled."""


class WorkerPool(Protocol):
    """Locust workers somewhere (local processes, pods) that connect to a
    master this process starts."""

    count: int

    def bind_host(self) -> str:
        """The address the master listens on."""
        ...

    def dial_host(self) -> str:
        """The address the workers reach the master at."""
        ...

    def start(self, locustfile: str, master_port: int, env: Mapping[str, str], out_dir: Path) -> None: ...

    def stop(self) -> None: ...


def worker_env(env: Mapping[str, str], count: int) -> dict[str, str]:
    """The workers' environment (LoadConfig.for_workers): no ledger folder
    (their entries travel to the master), and each worker a share of the
    run's byte budget."""
    return LoadConfig.from_env(env).for_workers(count).to_env()


# Everything Locust started and has not yet been reaped: a session-end leak
# check and signal handlers use it.
RUNNING: set[LocustRun] = set()


@dataclass(frozen=True)
class LoadPlan:
    """How much load, for how long."""

    users: int
    spawn_rate: float
    run_seconds: int
    # Extra seconds Locust may take to let in-flight requests finish at the end.
    stop_timeout: int = 10

    def __post_init__(self) -> None:
        if self.users < 1:
            raise BadInputError(f"load users must be >= 1, got {self.users}")
        if self.spawn_rate <= 0:
            raise BadInputError(f"load spawn rate must be > 0 users/s, got {self.spawn_rate}")
        if not 1 <= self.run_seconds <= 3600:
            raise BadInputError(f"load run time must be 1..3600 s (runs are bounded), got {self.run_seconds}")


@dataclass
class HistoryRow:
    """One second of Locust's aggregated stats."""

    at: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    total_requests: int
    total_failures: int


@dataclass(frozen=True)
class Totals:
    """Whole-run numbers of one request name from Locust's final stats CSV."""

    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None


@dataclass(eq=False)
class LocustRun:
    locustfile: str  # "app" or "s3", a file in loadtests/locustfiles/
    host: str
    plan: LoadPlan
    out_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    # Distributed: this process runs the master, the pool the workers.
    workers: WorkerPool | None = None
    _proc: subprocess.Popen[bytes] | None = None
    _log: Path | None = None

    @property
    def prefix(self) -> Path:
        return self.out_dir / f"locust-{self.locustfile}"

    def start(self) -> None:
        script = LOCUSTFILES / f"{self.locustfile}.py"
        if not script.is_file():
            raise BadInputError(f"no locustfile {script.name} in {LOCUSTFILES}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "locust",
            "-f", str(script),
            "--headless",
            "--host", self.host,
            "--users", str(self.plan.users),
            "--spawn-rate", str(self.plan.spawn_rate),
            "--run-time", f"{self.plan.run_seconds}s",
            "--stop-timeout", str(self.plan.stop_timeout),
            "--csv", str(self.prefix),
            "--csv-full-history",
            "--html", f"{self.prefix}.html",
            "--json-file", str(self.prefix),
            "--only-summary",
            "--loglevel", "WARNING",
            "--exit-code-on-error", "0",
        ]  # fmt: skip
        master_port = 0
        if self.workers is not None:
            master_port = free_port()
            cmd += [
                "--master",
                "--master-bind-host", self.workers.bind_host(),
                "--master-bind-port", str(master_port),
                "--expect-workers", str(self.workers.count),
                "--expect-workers-max-wait", str(EXPECT_WORKERS_MAX_WAIT_S),
            ]  # fmt: skip
        # The locustfiles import chaos/ and loadtests/ from the repository.
        pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, **self.env, **owner_env(), "PYTHONPATH": pythonpath}
        self._log = Path(f"{self.prefix}.log")
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        RUNNING.add(self)
        where = ""
        if self.workers is not None:
            where = f" on {self.workers.count} workers"
            try:
                self.workers.start(self.locustfile, master_port, worker_env(self.env, self.workers.count), self.out_dir)
            except BaseException:
                self.stop()
                raise
        say(
            f"locust {self.locustfile}: {self.plan.users} users at {self.plan.spawn_rate}/s "
            f"for {self.plan.run_seconds}s against {self.host}{where}"
        )

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait(self) -> int:
        """Wait for the planned end (plus grace), then make sure it is gone."""
        if self._proc is None:
            raise InfraError("locust was never started")
        deadline = self.plan.run_seconds + self.plan.stop_timeout + 60
        if self.workers is not None:
            deadline += EXPECT_WORKERS_MAX_WAIT_S
        try:
            code = self._proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            self.stop()
            raise InfraError(f"locust ran past its {deadline}s bound and was killed; log: {self._log}") from None
        finally:
            if self.workers is not None and self._proc.poll() is not None:
                self.workers.stop()
        RUNNING.discard(self)
        if code != 0:
            raise InfraError(f"locust exited with code {code}; log: {self._log}\n{self.log_tail()}")
        return code

    def stop(self, grace: float = 10.0) -> None:
        """End Locust and everything it started; safe to call at any time, twice."""
        try:
            self._stop_master(grace)
        finally:
            if self.workers is not None:
                self.workers.stop()

    def _stop_master(self, grace: float) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            RUNNING.discard(self)
            return
        for sig, wait_s in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        RUNNING.discard(self)

    def worker_books(self) -> dict[str, dict[str, object]]:
        """Per worker what the master's summary says (entries, requests, rps);
        empty for a run without workers."""
        folder = self.env.get(ENV_LEDGER_DIR)
        path = Path(folder) / merge.SUMMARY if folder else None
        if self.workers is None or path is None or not path.is_file():
            return {}
        books: dict[str, dict[str, object]] = json.loads(path.read_text()).get("workers", {})
        return books

    def ledger_gaps(self) -> list[str]:
        """Why this run's ledger may be incomplete (workers that did not confirm
        every entry); empty for a run without workers or with all confirmed."""
        folder = self.env.get(ENV_LEDGER_DIR)
        if self.workers is None or not folder:
            return []
        return merge.gaps(Path(folder), self.workers.count)

    def log_tail(self, lines: int = 20) -> str:
        if self._log is None or not self._log.exists():
            return ""
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])

    def history(self) -> list[HistoryRow]:
        """Aggregated per-second rows written so far (readable while it runs)."""
        return read_history(Path(f"{self.prefix}_stats_history.csv"))

    def totals(self, name: str = "Aggregated") -> Totals:
        path = Path(f"{self.prefix}_stats.csv")
        if not path.exists():
            raise InfraError(f"locust wrote no final stats at {path}; log tail:\n{self.log_tail()}")
        with path.open(newline="") as handle:
            for raw in csv.DictReader(handle):
                if raw.get("Name") == name:
                    return Totals(
                        requests=int(raw["Request Count"]),
                        failures=int(raw["Failure Count"]),
                        p50_ms=_number(raw["50%"]),
                        p95_ms=_number(raw["95%"]),
                    )
        raise InfraError(f"no row {name!r} in {path}")

    def summary(self) -> dict[str, object]:
        """Final totals per request name from Locust's JSON stats."""
        path = Path(f"{self.prefix}.json")
        if not path.exists():
            raise InfraError(f"locust wrote no JSON stats at {path}; log tail:\n{self.log_tail()}")
        entries = json.loads(path.read_text())
        return {
            e["name"]: {
                "requests": e["num_requests"],
                "failures": e["num_failures"],
                "avg_ms": round(e["total_response_time"] / e["num_requests"], 2) if e["num_requests"] else None,
                "max_ms": e["max_response_time"],
            }
            for e in entries
        }


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None  # Locust writes "N/A" before the first response


def read_history(path: Path, name: str = "Aggregated") -> list[HistoryRow]:
    """Rows of one request name ("Aggregated": all of them), oldest first."""
    if not path.exists():
        return []
    rows: list[HistoryRow] = []
    with path.open(newline="") as handle:
        for raw in csv.DictReader(handle):
            if raw.get("Name") != name:
                continue
            rows.append(
                HistoryRow(
                    at=float(raw["Timestamp"]),
                    users=int(raw["User Count"]),
                    rps=_number(raw["Requests/s"]) or 0.0,
                    failures_per_s=_number(raw["Failures/s"]) or 0.0,
                    p50_ms=_number(raw["50%"]),
                    p95_ms=_number(raw["95%"]),
                    total_requests=int(raw["Total Request Count"]),
                    total_failures=int(raw["Total Failure Count"]),
                )
            )
    return rows


def failures_of(path: Path, error: str) -> int:
    """How often Locust recorded a failure whose text contains ``error``
    (its ``_failures.csv``); 0 when the file is absent."""
    if not path.exists():
        return 0
    with path.open(newline="") as handle:
        return sum(int(row["Occurrences"]) for row in csv.DictReader(handle) if error in row.get("Error", ""))


def stop_all() -> int:
    """Stop every Locust this process started; returns how many were running."""
    live = [run for run in list(RUNNING) if run.running()]
    for run in live:
        run.stop()
    RUNNING.clear()
    return len(live)


def wait_for_first_row(run: LocustRun, timeout: float = 30.0) -> None:
    """Block until Locust has written its first history row (it is really running)."""

    def first_row() -> Seen:
        if run.history():
            return Seen(True, "a history row")
        if not run.running():
            raise InfraError(f"locust stopped before reporting anything:\n{run.log_tail()}")
        return Seen(False, "no history row yet")

    try:
        # Locust writes its history file once a second.
        wait_until(first_row, what="locust's first stats row", timeout=Deadline(timeout), interval=0.5)
    except WaitTimeout:
        raise InfraError(f"locust wrote no stats within {timeout:.0f}s:\n{run.log_tail()}") from None
