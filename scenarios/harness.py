"""What every scenario does, so each scenario file reads like its runbook.

A ``ScenarioRun`` ties one scenario to the run and only orchestrates: the
sampler records the timeline, Locust records the load and the ledger, faults
open windows, and every measurement is a pure checker (chaos.checkers) of
the scenario's History (chaos.history) whose check record goes into the
result. Probes of the live stack are in scenarios.probes, the load's
settings in loadtests.config, the read-back in scenarios.readback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from chaos import alerts, checkers, faults, history, podlogs
from chaos.checkers.alerts import quiet_check
from chaos.checkers.availability import writes_back_after
from chaos.checkers.limits import Measured
from chaos.history import History
from chaos.ledger import LedgerReport
from chaos.observe import Sampler
from chaos.rollback import Rollbacks
from chaos.slo import Profile, Slo
from chaos.sources import hpa_source, minio_source, pods_source
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult
from deployer import objectnames
from kernel.errors import WaitTimeout
from kernel.wait import Deadline, Seen, wait_until
from loadtests.runner import LocustRun, WorkerPool
from scenarios import alerting, probes, readback
from scenarios import load as scenario_load
from scenarios.probes import PEER_VIEW_TIMEOUT_S, require_healthy
from scenarios.stack import NotApplicable, Stack

__all__ = [
    "PEER_VIEW_TIMEOUT_S",
    "QUIET_ALERTS",
    "NotApplicable",
    "ScenarioRun",
    "Stack",
    "require_healthy",
    "writes_back_after",
]

QUIET_ALERTS = ("writeQuorumLost", "serverOffline", "driveOffline")
"""Alert roles a healthy stack under load never raises (the target file names
the rule of each: prometheus.alerts)."""


class ScenarioRun:
    def __init__(
        self,
        stack: Stack,
        timeline: Timeline,
        result: ScenarioResult,
        run_dir: Path,
        profile: Profile,
        slo: Slo,
        rollbacks: Rollbacks | None = None,
        workers: Callable[[], WorkerPool] | None = None,
    ) -> None:
        self.stack = stack
        # Locust workers in the cluster (--load-workers), or None: one local Locust.
        self.workers = workers
        # The run's undo steps: faults register theirs here, cleanup unwinds them.
        self.rollbacks = rollbacks if rollbacks is not None else Rollbacks()
        self.timeline = timeline
        self.result = result
        self.profile = profile
        self.slo = slo
        self.dir = run_dir / result.name
        self.ledger_dir = self.dir / "ledger"
        self.ledger_dir.mkdir(parents=True, exist_ok=True)
        self.locust: LocustRun | None = None
        self.planned_s = 0.0  # seconds of load this scenario planned
        self.sampler: Sampler | None = None
        # Timed-out waits: (measurement, what it last saw, whether that was evidence).
        self.blind: list[tuple[str, str, bool]] = []
        self._history: tuple[tuple[Any, ...], History] | None = None
        self._measured: Measured | None = None

    # -- load ------------------------------------------------------------

    def start_load(self, users: int, seconds: int) -> LocustRun:
        """Locust through the target's app, or straight to MinIO over S3 when it has none."""
        pool = self.workers() if self.workers is not None else None
        self.locust = scenario_load.start(self, users, seconds, pool)
        self.planned_s += seconds
        return self.locust

    def load_with_baseline(self, seconds: int) -> LocustRun:
        """The profile's fault-scenario load, ``seconds`` long, running and
        past its baseline."""
        quiet = self.stack.alert_names(QUIET_ALERTS)
        self.wait_alerts_quiet(quiet)
        load = self.start_load(self.profile.users, seconds)
        scenario_load.wait_for_first_row(load)
        start = time.time()
        self.hold(self.profile.steady_s, "baseline before the fault")
        self.check_quiet(quiet, start, time.time(), "the baseline before the fault")
        return load

    def hold(self, seconds: float, why: str) -> None:
        """Let the system run for a planned time (a baseline before a fault, an
        outage of planned length). Not a wait for a condition: those use wait_until."""
        self.timeline.event("hold", seconds=seconds, why=why)
        time.sleep(seconds)

    def wait_load(self) -> None:
        if self.locust is not None:
            self.locust.wait()
            self.timeline.event("load.end", summary=self.locust.summary())
            for name, value in scenario_load.rates(self.locust).items():
                self.measure(name, value, unit="" if name == "load_workers" else "/s")

    # -- observation -----------------------------------------------------

    @contextmanager
    def observed(self) -> Iterator[ScenarioRun]:
        """The scenario's window on the timeline, sampled once a second."""
        self.timeline.scenario = self.result.name
        self.result.t_start = self.timeline.now()
        target = self.stack.target
        sources = {
            "minio": minio_source(self.stack.minio_url, self.stack.credentials),
            "pods": pods_source(self.stack.kube, self.stack.namespace, target.selectors()),
            "load": lambda: scenario_load.reading(self.locust),
        }
        if target.hpa:
            sources["hpa"] = hpa_source(self.stack.kube, self.stack.namespace, target.hpa)
        if self.stack.prometheus_url is not None:
            sources["alerts"] = alerts.alerts_source(self.stack.prometheus_url)
        self.sampler = Sampler(self.timeline, sources).start()
        try:
            yield self
        finally:
            if self.locust is not None:
                self.locust.stop()
            reverted = self.rollbacks.unwind()
            if reverted:
                self.timeline.event("cleanup.reverted", targets=reverted)
            self.sampler.stop()
            self._collect_logs()
            self.result.t_end = self.timeline.now()
            # What the harness costs beyond the scenario's planned time (load
            # runs, holds): deploys, waits for health, read-back, cleanup.
            if self.planned_s > 0:
                wall = self.result.t_end - self.result.t_start
                self.result.measurements["wall_s"] = round(wall, 1)
                self.result.measurements["planned_s"] = self.planned_s
                self.result.measurements["overhead_ratio"] = round(wall / self.planned_s, 2)

    def _collect_logs(self) -> None:
        """The stack's logs of this scenario's window, always (see chaos.podlogs)."""
        creds = self.stack.credentials
        try:
            files = podlogs.collect(
                self.stack.kube,
                self.stack.namespace,
                self.stack.target.selectors(),
                since_wall=self.timeline.wall_of(self.result.t_start),
                out_dir=self.dir / "logs",
                secrets=(creds.access_key, creds.secret_key),
            )
        except Exception as exc:  # noqa: BLE001 (logs help a reader; their absence changes no verdict)
            self.timeline.event("logs.failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        self.result.logs = sorted(str(path.relative_to(self.dir.parent)) for path in files)
        self.timeline.event("logs.collected", files=len(files))

    @contextmanager
    def fault(self, name: str, **data: Any) -> Iterator[None]:
        with self.timeline.span(f"fault.{name}", **data):
            yield

    def beyond_write_quorum(self) -> tuple[list[str], int]:
        """The StatefulSets of every pool and how many servers of each to stop
        so that no pool keeps write quorum (see scenarios.probes.beyond_write_quorum)."""
        return probes.beyond_write_quorum(self.stack)

    def record_proof(self, proof: faults.Proof) -> faults.Proof:
        self.result.proofs.append(proof.to_dict())
        self.result.require(True, f"fault {proof.fault} proven on {', '.join(proof.targets)}", "", name="fault")
        return proof

    # -- probes of the live stack (scenarios.probes) ---------------------

    def wait_rejoined(self, since_wall: float, timeout: float, *, required: bool = True) -> float | None:
        """Seconds from ``since_wall`` until every MinIO pod is Ready and every
        server, asked directly (a port-forward to each pod, not whichever one
        the Service picks), sees every server and drive online and nothing
        healing, on three polls in a row; None on timeout."""
        try:
            probes.wait_rejoined(self.stack, timeout)
        except WaitTimeout as exc:
            if required:
                self.result.fail(f"MinIO did not rejoin and heal within {timeout:.0f}s: {exc.last_seen}", "rejoined")
            return None
        return round(time.time() - since_wall, 1)

    def peers_view(self, victim: str) -> AbstractContextManager[Callable[[], Seen]]:
        """A predicate: every other MinIO server reports ``victim`` offline (see scenarios.probes.peers_view)."""
        return probes.peers_view(self.stack, victim)

    def pods_not_ready(self, names: list[str]) -> Seen:
        """Kubernetes calls each of these MinIO pods not Ready (or it is gone)."""
        return probes.pods_not_ready(self.stack, names)

    def hpa_scale_target(self) -> tuple[str, str]:
        """The kind and name of what the target's HPA scales."""
        return probes.hpa_scale_target(self.stack)

    def heal_written(self, since_wall: float, onto: str | None = None, timeout: float = 30.0) -> int:
        """Read (HEAD) every object acknowledged since ``since_wall`` so MinIO
        queues its heal; with ``onto``, wait until that server holds them all
        (see scenarios.readback.heal_written). Returns how many objects were read."""
        read, missing = readback.heal_written(self, since_wall, onto, timeout)
        if onto:
            count = self.result.measurements.get("objects_missing_after_heal") or 0
            self.result.measurements["objects_missing_after_heal"] = int(count) + missing
        return read

    def check_scaled_servers_joined(self, timeout: float) -> None:
        """After an autoscaler changed a MinIO StatefulSet: every server pod the
        StatefulSets now ask for must be a server MinIO knows and sees online.
        MinIO's server list is fixed at start, so pods added by scaling never
        join; this is where a stack that scales MinIO that way is caught."""
        asked = 0

        def joined() -> Seen:
            nonlocal asked
            asked, seen = probes.scaled_servers(self.stack)
            return seen

        try:
            seen = wait_until(joined, what="every scaled MinIO pod a server", timeout=Deadline(timeout), interval=2.0)
        except WaitTimeout as exc:
            self.measure("minio_server_pods_asked", asked, unit="")
            self.result.fail(
                f"the autoscaler scaled MinIO's StatefulSets to {asked} pods, but they never joined within "
                f"{timeout:.0f}s ({exc.last_seen}): MinIO's server list is fixed at start, so pods added by "
                "scaling a StatefulSet are not part of any erasure set; grow MinIO by adding a server pool",
                "scaled_servers_joined",
            )
            return
        self.measure("minio_server_pods_asked", asked, unit="")
        self.result.require(True, f"every MinIO pod the autoscaler asked for is a server online ({seen})", "")

    def time_until(self, predicate: Callable[[], Seen], measurement: str, limit: float) -> float | None:
        """Seconds until ``predicate`` holds, recorded as ``measurement``. Not
        within ``limit``: a failure naming what was last seen, or, when the
        predicate's last answer carried no evidence (``Seen.evidence``), an
        inconclusive check: the harness was blind, the stack is not judged."""
        started = time.time()
        try:
            wait_until(predicate, what=measurement, timeout=Deadline(limit), interval=1.0)
        except WaitTimeout as exc:
            self.measure(measurement, None)
            self.blind.append((measurement, exc.last_seen, exc.evidence))
            self.result.record(checkers.wait_timed_out(measurement, limit, exc.last_seen, evidence=exc.evidence))
            return None
        seconds = round(time.time() - started, 1)
        self.measure(measurement, seconds, limit)
        return seconds

    def undecided_when_blind(self, no_evidence: str) -> None:
        """A wait that timed out while its probe gave no evidence is the
        harness's blindness, not the stack's failure: inconclusive. time_until
        decides that when the wait ends, from the predicate's
        ``Seen(..., evidence=False)``, never from its text, so this step of a
        runbook records nothing more. ``no_evidence`` is the text such a
        predicate shows a reader."""

    # -- measurements: pure checkers of the History ----------------------

    def history(self) -> History:
        """The scenario's History as recorded so far; read again only when
        one of its files changed since the last read."""
        files = [self.timeline.path, *sorted(self.ledger_dir.glob("*.jsonl")), *scenario_load.files(self.locust)]
        key = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.exists())
        if self._history is None or self._history[0] != key:
            reads, missing = scenario_load.read_rows(self.locust)
            loaded = history.load(self.timeline.path, self.result.name, self.ledger_dir, reads, missing)
            self._history = (key, loaded)
        return self._history[1]

    def _value(self, measured: Measured) -> float | None:
        # Kept until the value is recorded with measure(), so its check carries the evidence.
        self._measured = measured
        return measured.value

    def first_sample_after(
        self, since_wall: float, section: str, predicate: Callable[[Mapping[str, Any]], bool]
    ) -> float | None:
        """Seconds from ``since_wall`` to the first fresh sample whose ``section``
        satisfies ``predicate`` (see chaos.checkers.first_sample_after)."""
        return self._value(checkers.first_sample_after(self.history(), since_wall, section, predicate))

    def max_sampled(self, section: str, key: str) -> float | None:
        return self._value(checkers.max_sampled(self.history(), section, key))

    def first_ack_after(self, since_wall: float) -> float | None:
        """Seconds from ``since_wall`` until writes were acknowledged again
        (see chaos.checkers.writes_back_after)."""
        return self._value(checkers.first_ack_after(self.history(), since_wall))

    def missing_reads(self) -> int | None:
        """GETs the stack answered 404 for a key acknowledged and never deleted
        (read while the stack was up: a wrong answer, not an outage). None
        without a Locust run."""
        return self.history().missing_reads

    def read_availability_limit(self, servers_down: int) -> float:
        """The read-availability SLO that fits a fault: the strict one when the
        servers down are within the stack's own read tolerance (its parity),
        the degraded one beyond it."""
        if servers_down <= self.stack.topology.read_tolerance():
            return self.slo.read_availability_within_parity_min
        return self.slo.read_availability_min

    def read_availability(self, start_wall: float, end_wall: float) -> float | None:
        """Share of GETs that succeeded between two wall-clock times."""
        return self._value(checkers.read_availability(self.history(), start_wall, end_wall))

    def write_availability(self, start_wall: float, end_wall: float) -> float | None:
        """Share of the writes made between two times that were acknowledged; None when none was made."""
        return self._value(checkers.write_availability(self.history(), start_wall, end_wall))

    def longest_write_gap(self, start_wall: float, end_wall: float) -> float | None:
        """Longest stretch between two times with no write acknowledged; None without a write."""
        return self._value(checkers.longest_write_gap(self.history(), start_wall, end_wall))

    def measure(
        self, name: str, value: float | None, limit: float | None = None, *, unit: str = "s", floor: bool = False
    ) -> None:
        """Record a measurement. With ``limit`` it is also a check: at most
        ``limit`` (times), or at least ``limit`` when ``floor`` (availability).
        A value never observed fails the check."""
        measured, self._measured = self._measured, None
        self.result.measurements[name] = value
        if limit is None:
            return
        # The limit next to the value, so reports need not parse it from the checks.
        self.result.limits[name] = {"limit": float(limit), "kind": "min" if floor else "max", "unit": unit}
        evidence = measured.evidence if measured is not None and measured.value == value else None
        self.result.record(checkers.against_limit(name, value, limit, unit=unit, floor=floor, evidence=evidence))

    # -- alerts (scenarios.alerting) -------------------------------------

    def check_alert(self, role: str, fault_wall: float, recovered_wall: float | None, *, gate: bool = True) -> None:
        """The target's alert for ``role`` went pending or firing within the SLO's
        time of the fault and resolved within the SLO's time of the recovery
        (``recovered_wall``); with ``gate`` False the times are only recorded."""
        alerting.check_alert(self, role, fault_wall, recovered_wall, gate=gate)

    def wait_alerts_quiet(self, names: tuple[str, ...]) -> None:
        """Before a baseline: alerts left active by a deploy or an earlier fault resolve first."""
        alerting.wait_quiet(self, names)

    def check_quiet(self, names: tuple[str, ...], start_wall: float, end_wall: float, why: str) -> None:
        """None of ``names`` was pending or firing between two times."""
        if self.stack.prometheus_url is not None and names:
            self.result.record(quiet_check(self.history(), names, start_wall, end_wall, why))

    # -- the write ledger ------------------------------------------------

    def stored_prefix(self) -> str:
        """The bucket prefix under which this scenario's objects are stored."""
        return objectnames.stored_prefix(readback.stored_as(self.stack), self.result.name)

    def check_ledger(self, *, expect_loss: bool = False) -> LedgerReport:
        """Read back every key an operation changed straight from MinIO, hold a
        listing of the run's prefix against it, classify each key (chaos.ledger),
        then abort the multipart uploads left incomplete under that prefix.

        ``expect_loss`` is for negative controls: there the scenario passes only
        when the checker finds the loss the known-bad stack must cause."""
        report = readback.read_back(self)
        gaps = self.locust.ledger_gaps() if self.locust is not None else []
        for check in checkers.ledger_checks(report, expect_loss=expect_loss, gaps=gaps):
            self.result.record(check)
        return report
