"""What every scenario does, so each scenario file reads like its runbook.

A ``ScenarioRun`` ties one scenario to the run: its slice of the timeline, the
sampler (MinIO, pods, HPA, Locust once a second), Locust writing into the
scenario's ledger folder, fault windows, recovery measurements, and the
read-back of every acknowledged write at the end.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chaos import alerts, faults, ledger, podlogs
from chaos.clients import (
    Credentials,
    abort_incomplete_uploads,
    http_pool,
    lister,
    object_reader,
    remove_prefix,
    s3_client,
)
from chaos.kube import Kube
from chaos.minio_health import ProbeError, Topology, admin_info, observe_rejoined
from chaos.observe import Sampler
from chaos.rollback import Rollbacks
from chaos.slo import Profile, Slo
from chaos.sources import hpa_source, minio_source, pods_source
from chaos.timeline import Timeline, read
from chaos.verdict import ScenarioResult
from deployer.forward import PodForwards
from deployer.target import Target
from deployer.up import Environment
from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Deadline, Seen, wait_until
from loadtests.runner import LoadPlan, LocustRun, WorkerPool, failures_of, read_history, wait_for_first_row
from loadtests.traffic import NOT_FOUND_FAILURE

QUIET_ALERTS = ("writeQuorumLost", "serverOffline", "driveOffline")
"""Alert roles a healthy stack under load never raises (the target file names
the rule of each: prometheus.alerts)."""


class NotApplicable(Exception):
    """The scenario does not fit the target (a part it lacks, a topology too
    small for the fault): reported as not applicable, never a pass."""


@dataclass
class Stack:
    """The deployed stack as the scenarios see it: names from the target
    file, shape from MinIO itself."""

    env: Environment
    kube: Kube
    credentials: Credentials = field(repr=False)
    variant: str
    topology: Topology
    target: Target

    @property
    def servers(self) -> int:
        return self.topology.servers

    @property
    def drives(self) -> int:
        return self.topology.drives

    @property
    def minio_url(self) -> str:
        return self.env.urls["minio"]

    @property
    def app_url(self) -> str:
        if self.target.app is None:
            raise NotApplicable(f"target {self.target.name} has no app")
        return self.env.urls["app"]

    @property
    def prometheus_url(self) -> str | None:
        """The target's Prometheus, or None when it names none (alerts unchecked)."""
        return self.env.urls.get("prometheus") if self.target.prometheus is not None else None

    def alert_names(self, roles: tuple[str, ...]) -> tuple[str, ...]:
        """The target's rule names for those alert roles it names."""
        return tuple(self.target.alerts[role] for role in roles if role in self.target.alerts)

    @property
    def minio_selector(self) -> str:
        return self.target.minio.selector

    @property
    def statefulsets(self) -> tuple[str, ...]:
        return self.target.minio.statefulsets

    @property
    def bucket(self) -> str:
        return self.target.minio.bucket

    def need_hpa(self) -> str:
        if not self.target.hpa:
            raise NotApplicable(f"target {self.target.name} names no HPA (hpa:)")
        return self.target.hpa

    @property
    def namespace(self) -> str:
        return self.env.namespace


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
        # Timed-out waits with what they last saw, to tell a stack that did
        # not act from a harness that could not see.
        self.blind: list[tuple[str, str]] = []

    # -- load ------------------------------------------------------------

    def start_load(self, users: int, seconds: int) -> LocustRun:
        """Locust through the target's app, or straight to MinIO over S3 when it has none."""
        app = self.stack.target.app
        locustfile = "app" if app is not None else "s3"
        pool = self.workers() if self.workers is not None else None
        # Worker pods reach the stack by cluster DNS, a local Locust the way the harness does.
        urls = self.stack.target.cluster_urls() if pool is not None else self.stack.env.urls
        host = urls["app"] if app is not None else urls["minio"]
        env = {
            "CHAOSGATE_LEDGER_DIR": str(self.ledger_dir),
            "CHAOSGATE_RUN_ID": self.result.name,
            # The load's shape (size mix, overwrites, deletes, byte budget), and
            # S3 for both locustfiles: the app's large objects and deletes go there.
            **self.profile.load_env(),
            "CHAOSGATE_S3_ACCESS_KEY": self.stack.credentials.access_key,
            "CHAOSGATE_S3_SECRET_KEY": self.stack.credentials.secret_key,
            "CHAOSGATE_S3_BUCKET": self.stack.bucket,
        }
        if app is not None:
            if app.delete_path:
                env["CHAOSGATE_APP_DELETE_PATH"] = app.delete_path
            env.update(
                CHAOSGATE_APP_WRITE_METHOD=app.write_method,
                CHAOSGATE_APP_WRITE_PATH=app.write_path,
                CHAOSGATE_APP_ACK_STATUS=",".join(map(str, app.ack_status)),
                CHAOSGATE_APP_DIGEST_HEADER=app.digest_header,
                CHAOSGATE_APP_READ_PATH=app.read_path,
                CHAOSGATE_APP_STORED_AS=app.stored_as,
                CHAOSGATE_S3_ENDPOINT=urls["minio"],
            )
        plan = LoadPlan(users=users, spawn_rate=self.profile.spawn_rate, run_seconds=seconds)
        self.locust = LocustRun(locustfile, host, plan, self.dir, env, workers=pool)
        self.planned_s += seconds
        self.timeline.event(
            "load.start", users=users, seconds=seconds, locustfile=locustfile, workers=pool.count if pool else 0
        )
        self.locust.start()
        return self.locust

    def load_with_baseline(self, seconds: int) -> LocustRun:
        """The profile's fault-scenario load, ``seconds`` long, running and
        past its baseline."""
        quiet = self.stack.alert_names(QUIET_ALERTS)
        self.wait_alerts_quiet(quiet)
        load = self.start_load(self.profile.users, seconds)
        wait_for_first_row(load)
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
            self._load_rates(self.locust)

    def _load_rates(self, load: LocustRun) -> None:
        """Requests per second the load made, in total and per Locust worker
        (what --load-workers buys on this machine), as measurements."""
        summary = load.summary()
        total = sum(int(v["requests"]) for v in summary.values() if isinstance(v, dict) and "requests" in v)
        self.measure("load_rps", round(total / load.plan.run_seconds, 1), unit="/s")
        rates = [float(r) for b in load.worker_books().values() if isinstance(r := b.get("rps"), int | float)]
        self.measure("load_workers", float(len(rates)) if load.workers is not None else 0.0, unit="")
        if rates:
            self.measure("load_rps_per_worker_min", min(rates), unit="/s")
            self.measure("load_rps_per_worker_max", max(rates), unit="/s")

    def _load_reading(self) -> Mapping[str, Any]:
        # Load only while Locust runs: its history file keeps its last row after
        # the end, which would draw load that is no longer there.
        if self.locust is None or not self.locust.running():
            return {}
        rows = self.locust.history()
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
            "load": self._load_reading,
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
        started = self.timeline.wall_of(self.result.t_start)
        creds = self.stack.credentials
        try:
            files = podlogs.collect(
                self.stack.kube,
                self.stack.namespace,
                self.stack.target.selectors(),
                since_wall=started,
                out_dir=self.dir / "logs",
                secrets=(creds.access_key, creds.secret_key),
            )
        except Exception as exc:  # noqa: BLE001 (logs help a reader; their absence changes no verdict)
            self.timeline.event("logs.failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        run_dir = self.dir.parent
        self.result.logs = sorted(str(path.relative_to(run_dir)) for path in files)
        self.timeline.event("logs.collected", files=len(files))

    @contextmanager
    def fault(self, name: str, **data: Any) -> Iterator[None]:
        with self.timeline.span(f"fault.{name}", **data):
            yield

    def beyond_write_quorum(self) -> tuple[list[str], int]:
        """The StatefulSets of every pool and how many servers of each to stop
        so that no pool keeps write quorum: one more than the layout's write
        tolerance. Every pool, because MinIO places new objects in any pool
        that can take them: one pool down to no quorum leaves the cluster
        writable. Not applicable when the StatefulSets are not one per pool,
        or a pool cannot lose that many and keep a server."""
        shape = self.stack.topology
        down = shape.write_tolerance() + 1
        names = list(self.stack.statefulsets)
        if len(names) != shape.pools:
            raise NotApplicable(
                f"the target names {len(names)} StatefulSet(s) for {shape.pools} pool(s) ({shape}); "
                "this scenario stops servers pool by pool and needs one StatefulSet per pool"
            )
        for name in names:
            sts = self.stack.kube.apps.read_namespaced_stateful_set(name, self.stack.namespace)
            replicas = int(sts.spec.replicas or 0)
            if down >= replicas:
                raise NotApplicable(
                    f"write quorum is lost only with {down} servers down ({shape}); "
                    f"StatefulSet {name} has {replicas}, and this scenario keeps at least one"
                )
        return names, down

    def record_proof(self, proof: faults.Proof) -> faults.Proof:
        self.result.proofs.append(proof.to_dict())
        self.result.checks.append(f"fault {proof.fault} proven on {', '.join(proof.targets)}")
        return proof

    # -- measurements ----------------------------------------------------

    def wait_rejoined(self, since_wall: float, timeout: float, *, required: bool = True) -> float | None:
        """Seconds from ``since_wall`` until every MinIO pod is Ready and every
        server, asked directly (a port-forward to each pod, not whichever one
        the Service picks), sees every server and drive online and nothing
        healing, on three polls in a row; None on timeout."""
        streak = 0
        pod_port = self.stack.target.minio.pod_port
        with PodForwards(self.stack.env.kubectl(), self.stack.namespace, pod_port) as forwards:

            def stable() -> Seen:
                nonlocal streak
                seen = self._rejoined_now(forwards)
                streak = streak + 1 if seen.ok else 0
                return Seen(streak >= 3, str(seen))

            try:
                wait_until(stable, what="MinIO rejoined and healed", timeout=Deadline(timeout), interval=1.0)
            except WaitTimeout as exc:
                if required:
                    self.result.fail(f"MinIO did not rejoin and heal within {timeout:.0f}s: {exc.last_seen}")
                return None
        return round(time.time() - since_wall, 1)

    def _rejoined_now(self, forwards: PodForwards) -> Seen:
        try:
            states = faults.pods(self.stack.kube, self.stack.namespace, self.stack.minio_selector)
        except Exception as exc:  # noqa: BLE001 (an API hiccup is "not seen yet", never "rejoined")
            return Seen(False, f"MinIO pods not listed: {type(exc).__name__}: {exc}")
        ready = sorted(p.name for p in states if p.ready)
        if len(ready) != self.stack.servers:
            return Seen(False, f"{len(ready)}/{self.stack.servers} MinIO pods Ready")
        urls = forwards.urls(ready)
        unreachable = [pod for pod, url in urls.items() if url is None]
        if unreachable:
            return Seen(False, f"no port-forward to {unreachable} yet")
        return observe_rejoined(
            [url for url in urls.values() if url],
            self.stack.credentials,
            expected_servers=self.stack.servers,
            expected_drives=self.stack.drives,
        )

    @contextmanager
    def peers_view(self, victim: str) -> Iterator[Callable[[], Seen]]:
        """A predicate: every other MinIO server, asked directly and at the
        same time, reports ``victim`` offline (what a partition must make
        true). A server asked about a peer it cannot reach answers only when
        its call to that peer times out (30 s measured), hence the long read
        timeout and the parallel asks."""
        peers = [
            p.name
            for p in faults.pods(self.stack.kube, self.stack.namespace, self.stack.minio_selector)
            if p.name != victim
        ]
        pod_port = self.stack.target.minio.pod_port
        http = http_pool(read=PEER_VIEW_TIMEOUT_S, maxsize=len(peers) + 1)
        with (
            PodForwards(self.stack.env.kubectl(), self.stack.namespace, pod_port) as forwards,
            ThreadPoolExecutor(max_workers=max(1, len(peers))) as pool,
        ):

            def view(pod: str, url: str | None) -> str | None:
                """Why ``pod`` does not (yet) report the victim offline; None when it does."""
                if url is None:
                    return f"no port-forward to {pod}"
                try:
                    info = admin_info(url, self.stack.credentials, http=http)
                except ProbeError as exc:
                    return f"{pod} did not answer: {exc}"
                states = [s for s in info.servers if s.endpoint.startswith(f"{victim}.")]
                if not states:
                    return f"{pod} lists no server {victim}"
                return f"{pod} still sees {victim} online" if any(s.online for s in states) else None

            def offline_to_all() -> Seen:
                urls = forwards.urls(peers)
                answers = list(pool.map(lambda pod: view(pod, urls[pod]), peers))
                pending = [a for a in answers if a is not None]
                return Seen(not pending, "; ".join(pending) or f"{len(peers)} peers report {victim} offline")

            yield offline_to_all

    def heal_written(self, since_wall: float, onto: str | None = None, timeout: float = 30.0) -> int:
        """Read the metadata (HEAD) of every object acknowledged since
        ``since_wall``, straight from MinIO, once every drive is back: a read
        that finds a drive without the object queues its heal (MinIO's MRF
        queue, cmd/erasure-object.go getObjectFileInfo), which MinIO does not
        do by itself for writes made while a server was away. With ``onto``
        (a server pod, in a layout of one erasure set), wait until
        that server's drives hold every such object, reading the missing ones
        again; what is still missing after ``timeout`` is counted in the
        measurement ``objects_missing_after_heal``. Returns how many objects
        were read."""
        app = self.stack.target.app
        last: dict[str, ledger.Write] = {}
        for w in ledger.load(self.ledger_dir):
            if w.outcome == ledger.ACKED:
                last[w.key] = w
        names = sorted(
            app.object_name(w.key) if app is not None else w.key
            for w in last.values()
            if w.op == ledger.PUT and w.at >= since_wall
        )
        client = s3_client(self.stack.minio_url, self.stack.credentials, http=http_pool(read=10))

        def read(batch: list[str]) -> list[str]:
            """The names MinIO still has (deleted since: no heal owed)."""
            found = []
            for name in batch:
                try:
                    client.stat_object(self.stack.bucket, name)
                except Exception:  # noqa: BLE001 (deleted since, or unreadable: the ledger check decides)
                    continue
                found.append(name)
            return found

        with self.timeline.span("heal.read", objects=len(names), onto=onto or ""):
            present = read(names)
            missing = self._missing_on(onto, present) if onto else []
            deadline = time.time() + timeout
            while missing and time.time() < deadline:
                time.sleep(1.0)
                missing = self._missing_on(onto, read(missing)) if onto else []
        if onto:
            count = self.result.measurements.get("objects_missing_after_heal") or 0
            self.result.measurements["objects_missing_after_heal"] = int(count) + len(missing)
            if missing:
                self.timeline.event("heal.incomplete", onto=onto, missing=len(missing), first=missing[:5])
        return len(names)

    def _missing_on(self, pod: str, names: list[str]) -> list[str]:
        """Of ``names``, those without xl.meta on some drive of ``pod``, asked
        on the pod itself (one shell loop for all). Empty when the layout or
        the image does not allow the question (more than one erasure set or
        pool: an object is on one set's drives only; no shell in the image)."""
        try:
            info = admin_info(self.stack.minio_url, self.stack.credentials)
        except ProbeError:
            return []
        if info.sets_per_pool != (1,):
            return []
        roots = sorted(
            {
                urlsplit(d.endpoint).path
                for d in info.drives
                if (urlsplit(d.endpoint).hostname or "").startswith(f"{pod}.")
            }
        )
        if not roots:
            return []
        script = (
            'while read -r n; do for r in "$@"; do [ -f "$r/$BUCKET/$n/xl.meta" ] || { echo "$n"; break; }; done; done'
        )
        try:
            out = self.stack.env.kubectl().run(
                ["exec", "-i", "-n", self.stack.namespace, pod, "--", "env", f"BUCKET={self.stack.bucket}",
                 "sh", "-c", script, "sh", *roots],
                timeout=60,
                input_text="\n".join(names) + "\n",
            )  # fmt: skip
        except InfraError as exc:
            self.timeline.event("heal.check.failed", pod=pod, error=str(exc)[:300])
            return []
        return [line for line in out.splitlines() if line]

    def pods_not_ready(self, names: list[str]) -> Seen:
        """Kubernetes calls each of these MinIO pods not Ready (or it is gone):
        the moment it takes them out of the Services."""
        try:
            states = {p.name: p for p in faults.pods(self.stack.kube, self.stack.namespace, self.stack.minio_selector)}
        except Exception as exc:  # noqa: BLE001 (an API hiccup is "not seen yet")
            return Seen(False, f"MinIO pods not listed: {type(exc).__name__}: {exc}")
        ready = [name for name in names if name in states and states[name].ready]
        return Seen(not ready, f"still Ready: {ready}")

    def hpa_scale_target(self) -> tuple[str, str]:
        """The kind and name of what the target's HPA scales."""
        name = self.stack.need_hpa()
        hpa = self.stack.kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, self.stack.namespace)
        ref = hpa.spec.scale_target_ref
        return str(ref.kind), str(ref.name)

    def check_scaled_servers_joined(self, timeout: float) -> None:
        """After an autoscaler changed a MinIO StatefulSet: every server pod the
        StatefulSets now ask for must be a server MinIO knows and sees online.
        MinIO's server list is fixed at start, so pods added by scaling never
        join; this is where a stack that scales MinIO that way is caught."""
        apps, ns = self.stack.kube.apps, self.stack.namespace
        asked = 0

        def joined() -> Seen:
            nonlocal asked
            asked = sum(
                int(apps.read_namespaced_stateful_set(n, ns).spec.replicas or 0) for n in self.stack.statefulsets
            )
            try:
                info = admin_info(self.stack.minio_url, self.stack.credentials)
            except ProbeError as exc:
                return Seen(False, f"MinIO admin info failed: {exc}")
            known, online = len(info.servers), len(info.servers_online)
            ok = known == asked and online == asked
            return Seen(ok, f"StatefulSets ask for {asked} servers; MinIO knows {known}, {online} online")

        try:
            seen = wait_until(joined, what="every scaled MinIO pod a server", timeout=Deadline(timeout), interval=2.0)
        except WaitTimeout as exc:
            self.measure("minio_server_pods_asked", asked, unit="")
            self.result.fail(
                f"the autoscaler scaled MinIO's StatefulSets to {asked} pods, but they never joined within "
                f"{timeout:.0f}s ({exc.last_seen}): MinIO's server list is fixed at start, so pods added by "
                "scaling a StatefulSet are not part of any erasure set; grow MinIO by adding a server pool"
            )
            return
        self.measure("minio_server_pods_asked", asked, unit="")
        self.result.checks.append(f"every MinIO pod the autoscaler asked for is a server online ({seen})")

    def time_until(self, predicate: Callable[[], Seen], measurement: str, limit: float) -> float | None:
        """Seconds until ``predicate`` holds, recorded as ``measurement``; a
        failure naming what was last seen when it does not within ``limit``."""
        started = time.time()
        try:
            wait_until(predicate, what=measurement, timeout=Deadline(limit), interval=1.0)
        except WaitTimeout as exc:
            self.measure(measurement, None)
            self.blind.append((measurement, exc.last_seen))
            self.result.fail(f"{measurement}: not within {limit:.0f}s; last seen: {exc.last_seen}")
            return None
        seconds = round(time.time() - started, 1)
        self.measure(measurement, seconds, limit)
        return seconds

    def undecided_when_blind(self, no_evidence: str) -> None:
        """A wait that timed out while its probe gave no evidence is the
        harness's blindness, not the stack's failure: inconclusive."""
        for measurement, last_seen in self.blind:
            if no_evidence in last_seen:
                self.result.inconclusive(f"{measurement}: no evidence either way ({last_seen})")

    def first_sample_after(
        self, since_wall: float, section: str, predicate: Callable[[Mapping[str, Any]], bool]
    ) -> float | None:
        """Seconds from ``since_wall`` to the first sample whose ``section``
        satisfies ``predicate``. Only evidence counts: a reading that errored
        or is older than FRESH_S (a hanging probe's last answer) is skipped."""
        for record in read(self.timeline.path):
            if record.get("kind") != "sample" or record.get("scenario") != self.result.name:
                continue
            part = record.get(section) or {}
            if record["wall"] >= since_wall and _fresh(part) and predicate(part):
                return round(float(record["wall"]) - since_wall, 1)
        return None

    def max_sampled(self, section: str, key: str) -> float | None:
        values = [
            r[section][key]
            for r in read(self.timeline.path)
            if r.get("kind") == "sample"
            and r.get("scenario") == self.result.name
            and isinstance((r.get(section) or {}).get(key), int | float)
        ]
        return float(max(values)) if values else None

    def first_ack_after(self, since_wall: float) -> float | None:
        """Seconds from ``since_wall`` until writes were acknowledged again
        (see ``writes_back_after``)."""
        return writes_back_after(ledger.load(self.ledger_dir), since_wall)

    def missing_reads(self) -> int | None:
        """GETs the stack answered 404 for a key acknowledged and never deleted
        (read while the stack was up: a wrong answer, not an outage). None
        without a Locust run."""
        if self.locust is None:
            return None
        return failures_of(Path(f"{self.locust.prefix}_failures.csv"), NOT_FOUND_FAILURE)

    def read_availability_limit(self, servers_down: int) -> float:
        """The read-availability SLO that fits a fault: the strict one when the
        servers down are within the stack's own read tolerance (its parity),
        the degraded one beyond it."""
        if servers_down <= self.stack.topology.read_tolerance():
            return self.slo.read_availability_within_parity_min
        return self.slo.read_availability_min

    def read_availability(self, start_wall: float, end_wall: float) -> float | None:
        """Share of GETs that succeeded between two wall-clock times, from Locust's history."""
        if self.locust is None:
            return None
        rows = read_history(Path(f"{self.locust.prefix}_stats_history.csv"), name="GET /objects")
        inside = [r for r in rows if start_wall <= r.at <= end_wall]
        before = [r for r in rows if r.at < start_wall]
        if not inside:
            return None
        base_req = before[-1].total_requests if before else 0
        base_fail = before[-1].total_failures if before else 0
        requests = inside[-1].total_requests - base_req
        failures = inside[-1].total_failures - base_fail
        return None if requests <= 0 else round(1 - failures / requests, 4)

    def write_availability(self, start_wall: float, end_wall: float) -> float | None:
        """Share of the writes made between two wall-clock times that were
        acknowledged, from the ledger; None when none was made."""
        writes = [w for w in ledger.load(self.ledger_dir) if start_wall <= w.at <= end_wall]
        acked = sum(1 for w in writes if w.outcome == ledger.ACKED)
        return round(acked / len(writes), 4) if writes else None

    def longest_write_gap(self, start_wall: float, end_wall: float) -> float | None:
        """Longest stretch between ``start_wall`` and ``end_wall`` with no
        write acknowledged (its edges count as acks); None without any write
        in the ledger then."""
        writes = [w for w in ledger.load(self.ledger_dir) if start_wall <= w.at <= end_wall]
        if not writes:
            return None
        acks = sorted([start_wall, end_wall] + [w.at for w in writes if w.outcome == ledger.ACKED])
        return round(max(b - a for a, b in itertools.pairwise(acks)), 1)

    def measure(
        self, name: str, value: float | None, limit: float | None = None, *, unit: str = "s", floor: bool = False
    ) -> None:
        """Record a measurement. With ``limit`` it is also a check: at most
        ``limit`` (times), or at least ``limit`` when ``floor`` (availability).
        A value never observed fails the check."""
        self.result.measurements[name] = value
        if limit is None:
            return
        # The limit next to the value, so reports need not parse it from the checks.
        self.result.limits[name] = {"limit": float(limit), "kind": "min" if floor else "max", "unit": unit}
        if value is None:
            self.result.fail(f"{name}: never observed (limit {limit:g}{unit})")
            return
        ok = value >= limit if floor else value <= limit
        good, bad = (">=", "<") if floor else ("<=", ">")
        self.result.require(
            ok, f"{name} = {value:g}{unit} {good} {limit:g}{unit}", f"{name} = {value:g}{unit} {bad} {limit:g}{unit}"
        )

    # -- alerts ----------------------------------------------------------

    def _alert_samples(self) -> list[alerts.Sample]:
        """The recorded alert readings of this scenario; a failed or stale
        reading is kept as "no evidence"."""
        samples = []
        for record in read(self.timeline.path):
            if record.get("kind") != "sample" or record.get("scenario") != self.result.name:
                continue
            part = record.get("alerts")
            if isinstance(part, dict):
                samples.append(alerts.Sample(float(record["wall"]), part if _fresh(part) else None))
        return samples

    def check_alert(self, role: str, fault_wall: float, recovered_wall: float | None, *, gate: bool = True) -> None:
        """The target's alert for ``role`` went pending or firing within the SLO's
        time of the fault, and was resolved within the SLO's time once the
        stack had recovered (``recovered_wall``). Never active: the alert
        never fired, a failure of the monitoring under test. With ``gate``
        False the times are only recorded (an alert whose source is known to
        lag, shown in the report without judging the run)."""
        target = self.stack.target
        name = target.alerts.get(role)
        if self.stack.prometheus_url is None or name is None:
            why = "no prometheus" if self.stack.prometheus_url is None else f"no prometheus.alerts.{role}"
            self.result.checks.append(f"alert for {role}: not checked (target {target.name} names {why})")
            return
        seen = alerts.window(self._alert_samples(), name, fault_wall, recovered_wall)
        key = f"alert_{name}"
        active_limit = self.slo.alert_active_max_s if gate else None
        resolve_limit = self.slo.alert_resolve_max_s if gate else None
        if seen.active_after_s is not None:
            at = fault_wall + seen.active_after_s
            self.timeline.event("alert.active", alert=name, at_t=self.timeline.wall_to_t(at))
            self.measure(f"{key}_active_s", seen.active_after_s, active_limit)
        if seen.firing_after_s is not None:
            self.result.measurements[f"{key}_firing_s"] = seen.firing_after_s
        if seen.resolved_after_recovery_s is not None:
            self.measure(f"{key}_resolved_s", seen.resolved_after_recovery_s, resolve_limit)
        found = alerts.problem(seen, recovered=recovered_wall is not None)
        if found is None or not gate:
            return
        outcome, why = found
        if outcome == "fail":
            self.result.fail(why)
        else:
            self.result.inconclusive(why)

    def wait_alerts_quiet(self, names: tuple[str, ...]) -> None:
        """Before a baseline: alerts left active by a deploy or an earlier
        fault resolve first, within the time the SLO gives an alert to resolve.
        One still active then, on a stack MinIO itself calls healthy, fails."""
        url = self.stack.prometheus_url
        if url is None or not names:
            return

        def quiet() -> Seen:
            now = alerts.Sample(time.time(), alerts.parse(alerts.fetch(url)))
            loud = [name for name in names if now.active(name)]
            return Seen(not loud, f"active: {', '.join(loud)}")

        started = time.time()
        try:
            wait_until(
                quiet,
                what=f"no {', '.join(names)} alert",
                timeout=self.slo.alert_resolve_max_s,
                interval=1.0,
                tolerate=(OSError, ValueError),
            )
        except WaitTimeout as exc:
            if exc.last_seen.startswith("active:"):
                self.result.fail(f"alerts before the baseline: {exc.last_seen} on a stack MinIO reports healthy")
            else:
                self.result.inconclusive(f"alerts before the baseline: Prometheus not read ({exc.last_seen})")
        else:
            self.timeline.event("alerts.quiet", waited_s=round(time.time() - started, 1))

    def check_quiet(self, names: tuple[str, ...], start_wall: float, end_wall: float, why: str) -> None:
        """None of ``names`` was pending or firing between two times (a healthy
        baseline raises no data-loss or quorum alert)."""
        if self.stack.prometheus_url is None or not names:
            return
        samples = [s for s in self._alert_samples() if start_wall <= s.wall <= end_wall]
        if not any(s.states is not None for s in samples):
            self.result.inconclusive(f"alerts during {why}: Prometheus' alerts were never read (no evidence)")
            return
        loud = alerts.active_during(samples, names, start_wall, end_wall)
        self.result.require(
            not loud,
            f"no {', '.join(names)} alert during {why}",
            f"alert(s) {', '.join(loud)} active during {why}, when the stack was healthy",
        )

    # -- the write ledger ------------------------------------------------

    def _stored_as(self) -> str:
        """How a key is named in the bucket (the app's contract, or the key itself)."""
        app = self.stack.target.app
        return app.stored_as if app is not None else "{key}"

    def stored_prefix(self) -> str:
        """The bucket prefix under which this scenario's objects are stored."""
        return self._stored_as().partition("{key}")[0] + f"{self.result.name}/"

    def check_ledger(self, *, expect_loss: bool = False) -> ledger.LedgerReport:
        """Read back every key an operation changed straight from MinIO, hold a
        listing of the run's prefix against it, classify each key (chaos.ledger),
        then abort the multipart uploads left incomplete under that prefix.

        ``expect_loss`` is for negative controls: there the scenario passes only
        when the checker finds the loss the known-bad stack must cause."""
        client = s3_client(self.stack.minio_url, self.stack.credentials, http=http_pool(read=30))
        reader = object_reader(client, self.stack.bucket)
        names = lister(client, self.stack.bucket)
        app = self.stack.target.app
        # Keys written through the app are stored under the name its contract
        # says; a listing shows those names, so they are mapped back to keys.
        head, _, tail = self._stored_as().partition("{key}")
        fetch = reader if app is None else (lambda key: reader(app.object_name(key)))

        def keys(prefix: str) -> Iterator[str]:
            for name in names(head + prefix):
                if name.endswith(tail) and len(name) >= len(head) + len(tail):
                    yield name[len(head) : len(name) - len(tail)]

        writes = ledger.load(self.ledger_dir)
        with self.timeline.span("ledger.check", writes=len(writes)):
            report = ledger.check(writes, fetch, lister=keys)
        prefix = head + ((report.listing or {}).get("prefix") or f"{self.result.name}/")
        try:
            report.aborted_uploads = abort_incomplete_uploads(client, self.stack.bucket, prefix)
        except Exception as exc:  # noqa: BLE001 (cleanup: a failure is reported, the verdict stands on the reads)
            self.timeline.event("ledger.abort_uploads.failed", error=f"{type(exc).__name__}: {exc}"[:300])
        if self.stack.target.deploy is None:
            # A stack chaosgate did not deploy keeps nothing of the run but what was there.
            try:
                removed = remove_prefix(client, self.stack.bucket, prefix)
                self.result.checks.append(f"{removed} object(s) the run wrote under {prefix!r} removed again")
            except Exception as exc:  # noqa: BLE001 (cleanup: reported, the verdict stands on the reads)
                self.timeline.event("ledger.cleanup.failed", error=f"{type(exc).__name__}: {exc}"[:300])
                self.result.inconclusive(f"could not remove the run's objects under {prefix!r}: {exc}")
        load = {k.removeprefix("CHAOSGATE_").lower(): v for k, v in self.profile.load_env().items()}
        self.result.ledger = {**report.to_dict(), "load": load}
        if report.aborted_uploads is not None:
            self.result.checks.append(
                f"{report.aborted_uploads} incomplete multipart upload(s) under {prefix!r} aborted at the end"
            )
        checked = report.checked
        gaps = self.locust.ledger_gaps() if self.locust is not None else []
        for gap in gaps:
            self.result.inconclusive(f"the ledger is incomplete: {gap}")
        if report.acknowledged == 0:
            self.result.inconclusive("no write was acknowledged: the load never reached the stack")
        elif expect_loss:
            self.result.require(
                report.damaged > 0,
                f"the checker caught the known-bad stack: {report.damage_text()} (of {checked} acknowledged keys)",
                "the checker found no loss on a stack that must lose data: the suite cannot be trusted",
            )
        else:
            # The pass text claims only what was read: unreadable keys are
            # neither intact nor damaged, and make the verdict inconclusive below.
            self.result.require(
                report.damaged == 0,
                f"{report.intact} of {checked} keys read back as their acknowledged operations left them, none "
                "lost, corrupted, stale, resurrected, missing from the listing or refused",
                f"{report.damage_text()} (of {checked} acknowledged keys; {report.intact} intact)",
            )
        if report.unreadable:
            self.result.inconclusive(
                f"{report.unreadable} of {checked} acknowledged keys could not be read back by the harness"
            )
        if report.listing and report.listing["error"]:
            self.result.inconclusive(f"the listing check could not be made: {report.listing['error']}")
        return report


IN_FLIGHT_S = 2.0
"""Seconds after a fault in which answers may still be to requests sent before it."""


def writes_back_after(writes: list[ledger.Write], since_wall: float) -> float | None:
    """Seconds from ``since_wall`` until writes were acknowledged again.

    Requests in flight when the fault hit may still be answered right after
    it, so the clock stops at the first ack that follows the first failed
    write after the fault. Only failures before writes were steadily
    acknowledged again count (the first ack IN_FLIGHT_S or more after the
    fault): a write cut off when the load stopped, a minute later, is not the
    fault's doing. With no such failure writes never stopped, and it is the
    first ack after the fault."""
    after = sorted((w for w in writes if w.at > since_wall), key=lambda w: w.at)
    acks = [w.at for w in after if w.outcome == ledger.ACKED]
    settled = next((at for at in acks if at >= since_wall + IN_FLIGHT_S), None)
    failures = [w.at for w in after if w.outcome != ledger.ACKED and (settled is None or w.at < settled)]
    first_failure = failures[0] if failures else since_wall
    later = [at for at in acks if at >= first_failure]
    return round(min(later) - since_wall, 1) if later else None


PEER_VIEW_TIMEOUT_S = 60.0
"""How long a server may take to say who it sees (see ScenarioRun.peers_view)."""

# A sampled reading is evidence only when at most this old: the sampling period
# (1 s) plus a second for the probe's own round trip.
FRESH_S = 2.0


def _fresh(part: Mapping[str, Any]) -> bool:
    age = part.get("age_s")
    return not part.get("error") and isinstance(age, int | float) and age <= FRESH_S


def require_healthy(stack: Stack, timeout: float = 300.0) -> None:
    """Pre-check: a scenario starts only on a fully healthy stack."""
    try:
        wait_until(
            lambda: observe_rejoined(
                [stack.minio_url], stack.credentials, expected_servers=stack.servers, expected_drives=stack.drives
            ),
            what="a healthy MinIO cluster before the scenario",
            timeout=Deadline(timeout),
            interval=2.0,
        )
    except WaitTimeout as exc:
        raise InfraError(f"pre-check failed, the stack is not healthy: {exc}") from exc
