"""The chaos tier's pytest plugin: options, session fixtures, report hooks.

Loaded by scenarios/conftest.py (and with ``-p scenarios.plugin`` by tests that
drive it), so the fast tier never loads it.

The logic lives in the libraries (deployer/, chaos/, loadtests/, reports/);
this file decides when each piece runs and makes sure cleanup happens:
Locust stopped, stopped nodes started again, the cluster deleted unless kept,
also on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from chaos import settings as settings_mod
from chaos.rollback import Rollbacks
from chaos.settings import Settings
from chaos.slo import PROFILES, Profile, Slo, load_slo
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult, Verdict, overall
from deployer import runlock
from deployer.target import DEFAULT_VARIANT, Target
from deployer.up import Environment, create_cluster, prepare_host
from kernel import procs
from kernel.errors import BadInputError, ChaosgateError, InfraError
from kernel.progress import TIMINGS
from loadtests import runner
from scenarios import closing, clusters
from scenarios.harness import NotApplicable, ScenarioRun, Stack

RESULTS_KEY = pytest.StashKey[dict[str, ScenarioResult]]()  # by test node id, in run order
RUN_DIR_KEY = pytest.StashKey[Path]()
SETTINGS_KEY = pytest.StashKey[Settings]()
SLO_KEY = pytest.StashKey[Slo]()
INFRA_KEY = pytest.StashKey[bool]()
TIMELINE_KEY = pytest.StashKey[Timeline]()
PROBLEMS_KEY = pytest.StashKey[list[str]]()  # cleanup trouble outside any scenario
LOCK_KEY = pytest.StashKey[runlock.RunLock]()
ROLLBACKS_KEY = pytest.StashKey[Rollbacks]()
KIND_TOUCHED_KEY = pytest.StashKey[bool]()  # this run began making a kind cluster
TARGET_KEY = pytest.StashKey[Target]()
LEFT_OUT_KEY = pytest.StashKey[list[str]]()  # scenarios the profile leaves out
EXISTING_KEY = pytest.StashKey[bool]()  # this run began using an existing cluster
EXISTING_CHECKED_KEY = pytest.StashKey[clusters.Existing]()
PREFLIGHT = "preflight"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaosgate", "chaosgate (each option also reads the env var shown)")
    for field in settings_mod.fields():
        flag, env, text = field.metadata["flag"], field.metadata["env"], field.metadata["help"]
        default = field.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        kwargs: dict[str, object] = {"dest": f"cg_{field.name}", "help": f"{text} [env {env}; default {shown}]"}
        if field.type == "bool":
            kwargs.update(action="store_true", default=None)
        else:
            kwargs["default"] = None
        group.addoption(flag, **kwargs)  # type: ignore[arg-type]


def _settings(config: pytest.Config) -> Settings:
    if SETTINGS_KEY not in config.stash:
        flags = {f.name: config.getoption(f"cg_{f.name}") for f in settings_mod.fields()}
        try:
            config.stash[SETTINGS_KEY] = settings_mod.from_sources(flags)
        except BadInputError as exc:
            pytest.exit(f"chaosgate: bad input: {exc}", returncode=2)
    return config.stash[SETTINGS_KEY]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RESULTS_KEY] = {}
    config.stash[PROBLEMS_KEY] = []
    if config.option.collectonly:
        return
    # Every option, env var and the SLO file is checked before anything on the
    # host or a cluster changes: bad input costs seconds and leaves nothing.
    settings = _settings(config)
    try:
        target = config.stash[TARGET_KEY] = settings.load_target()
        config.stash[SLO_KEY] = load_slo(settings.slo_path(target))
        if settings.cluster == "kind":
            config.stash[LOCK_KEY] = runlock.acquire(settings.cluster_name)
        else:
            # A cluster chaosgate did not create is only read here: reachable,
            # permitted, namespaces as the rules say, before a run folder exists.
            existing = clusters.Existing(settings, target, time.strftime("%Y%m%d-%H%M%S"))
            existing.check()
            config.stash[EXISTING_CHECKED_KEY] = existing
    except BadInputError as exc:
        pytest.exit(f"chaosgate: bad input: {exc}", returncode=2)
    previous = config.stash[LOCK_KEY].previous if LOCK_KEY in config.stash else None
    if previous:
        print(f"chaosgate: an earlier run (pid {previous.get('pid')}) ended without cleaning up; cleaning now")
    killed = procs.kill(procs.orphans())
    if killed:
        print(f"chaosgate: stopped {len(killed)} process(es) left by runs that no longer exist: {killed}")
    # SIGINT (Ctrl-C) and SIGTERM (CI cancelling a job) unwind the run once,
    # so every fixture's cleanup runs: Locust stopped, StatefulSets scaled
    # back, nodes started, the cluster deleted. Later signals are noted and
    # ignored, so a second Ctrl-C or tox's own follow-up cannot abandon cleanup.
    signal.signal(signal.SIGTERM, _interrupt_once)
    signal.signal(signal.SIGINT, _interrupt_once)


def pytest_unconfigure(config: pytest.Config) -> None:
    if LOCK_KEY in config.stash:
        config.stash[LOCK_KEY].release()


_INTERRUPTED: list[str] = []
_CLEANING: list[bool] = []  # set once the session's cleanup and report have begun


def _interrupt_once(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _INTERRUPTED or _CLEANING:
        _INTERRUPTED.append(name)
        print(f"\nchaosgate: {name}: cleaning up (Locust, faults, cluster, report); not stopping that", flush=True)
        return
    _INTERRUPTED.append(name)
    raise KeyboardInterrupt(name)


@pytest.hookimpl(trylast=True)  # after -k/-m deselected what this run leaves out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Smoke checks first, then the scenarios grouped by the stack variant they
    need (the default stack first), so each variant is deployed once; within a
    group, collection order. Every scenario and smoke check gets its result
    now, "not run", so one the run never reaches is reported as such, never
    left out, and a smoke-only run (CI) has a verdict and a report too."""
    # The target's variants in its order; any other (a collect-only run has
    # no target loaded) in order of first appearance, so each is still grouped.
    _leave_out_of_profile(config, items)
    variants = list(config.stash[TARGET_KEY].variants() if TARGET_KEY in config.stash else (DEFAULT_VARIANT,))
    for item in items:
        marker = item.get_closest_marker("variant")
        if marker and str(marker.args[0]) not in variants:
            variants.append(str(marker.args[0]))
    items[:] = [item for _, item in sorted(enumerate(items), key=lambda pair: _order(*pair, variants))]
    results = config.stash[RESULTS_KEY]
    if any("preflight" in getattr(item, "fixturenames", ()) for item in items):
        # The static check of the target runs before the cluster, as its own row.
        results[PREFLIGHT] = ScenarioResult(PREFLIGHT, "Preflight: the target's manifests, statically")
    for item in items:
        if "scenario_result" in getattr(item, "fixturenames", ()) or _is_smoke(item):
            results[item.nodeid] = _new_result(item)


def _leave_out_of_profile(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longer scenarios (``scenario(..., extended=True)``) run only in a
    profile that says so (full, standard); the quick profile deselects them
    and says which, so none goes missing unnoticed."""
    profile = PROFILES[_settings(config).profile]
    if profile.extended:
        return
    left = [i for i in items if (m := i.get_closest_marker("scenario")) is not None and m.kwargs.get("extended")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [i for i in items if i not in left]
        names = [str(m.args[0]) for i in left if (m := i.get_closest_marker("scenario")) is not None]
        config.stash[LEFT_OUT_KEY] = names


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    names = config.stash.get(LEFT_OUT_KEY, [])
    if not names:
        return None
    profile = _settings(config).profile
    return f"chaosgate: not in profile {profile}: {', '.join(names)} (run them with --profile full or standard)"


@pytest.hookimpl(tryfirst=True)  # before any fixture deploys a stack for it
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A scenario the target does not list, or whose variant it lacks, is not
    applicable: said in the report, and nothing is deployed for it."""
    result = _result_of(item)
    if result is None or _is_smoke(item) or TARGET_KEY not in item.config.stash:
        return
    target = item.config.stash[TARGET_KEY]
    marker = item.get_closest_marker("variant")
    variant = str(marker.args[0]) if marker else DEFAULT_VARIANT
    why = ""
    if not target.applies(result.name):
        why = f"target {target.name} does not list it under scenarios ({', '.join(target.scenarios)})"
    elif variant not in target.variants():
        why = f"target {target.name} has no variant {variant!r} (it has {', '.join(target.variants())})"
    if why:
        result.not_applicable(why)
        pytest.skip(f"not applicable: {why}")


def _is_smoke(item: pytest.Item) -> bool:
    return item.get_closest_marker("smoke") is not None


def _new_result(item: pytest.Item) -> ScenarioResult:
    marker = item.get_closest_marker("scenario")
    if marker:
        return ScenarioResult(name=str(marker.args[0]), title=str(marker.kwargs.get("title", "")))
    doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip().splitlines()
    name = item.name.removeprefix("test_")
    title = doc[0] if doc else name.replace("_", " ").capitalize()
    return ScenarioResult(name=f"smoke/{name}" if _is_smoke(item) else name, title=title)


def _order(index: int, item: pytest.Item, variants: list[str]) -> tuple[bool, int, int]:
    marker = item.get_closest_marker("variant")
    variant = str(marker.args[0]) if marker else DEFAULT_VARIANT
    rank = variants.index(variant) if variant in variants else len(variants)
    return (item.get_closest_marker("smoke") is None, rank, index)


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    return _settings(pytestconfig)


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config, settings: Settings) -> Path:
    """This run's output folder: report, timeline, Locust CSVs, logs."""
    return _run_dir(pytestconfig, settings)


def _run_dir(config: pytest.Config, settings: Settings) -> Path:
    """Made once per run, never shared: runs of different clusters started in
    the same second get -2, -3."""
    if RUN_DIR_KEY in config.stash:
        return config.stash[RUN_DIR_KEY]
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 100):
        folder = settings.report_dir / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        config.stash[RUN_DIR_KEY] = folder
        return folder
    raise InfraError(f"no free run folder name for {stamp} in {settings.report_dir}")


@pytest.fixture(scope="session")
def timeline(pytestconfig: pytest.Config, run_dir: Path) -> Iterator[Timeline]:
    tl = Timeline(run_dir / "timeline.jsonl")
    pytestconfig.stash[TIMELINE_KEY] = tl
    yield tl
    tl.close()


@pytest.fixture(scope="session")
def rollbacks(pytestconfig: pytest.Config) -> Rollbacks:
    """This run's undo steps: every fault registers its own; cleanup unwinds them."""
    return pytestconfig.stash.setdefault(ROLLBACKS_KEY, Rollbacks())


@pytest.fixture(scope="session")
def slo(pytestconfig: pytest.Config) -> Slo:
    return pytestconfig.stash[SLO_KEY]


@pytest.fixture(scope="session")
def profile(settings: Settings) -> Profile:
    return PROFILES[settings.profile]


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The stack under test, from the target file (checked at configure)."""
    return pytestconfig.stash[TARGET_KEY]


@pytest.fixture(scope="session")
def preflight(pytestconfig: pytest.Config, target: Target, run_dir: Path, timeline: Timeline) -> None:
    """The static check of the target's manifests, before any cluster: its
    findings are the preflight row's verdict; the run goes on either way, so
    the scenarios show what the findings cost."""
    result = pytestconfig.stash[RESULTS_KEY].get(PREFLIGHT)
    if result is None:
        return
    result.start()
    with timeline.span("phase.preflight", target=target.name):
        try:
            clusters.preflight(target, result, run_dir)
        except ChaosgateError as exc:
            result.abort(f"the preflight could not run: {exc}")
            return
    result.finish()


@pytest.fixture(scope="session")
def cluster(
    pytestconfig: pytest.Config,
    settings: Settings,
    target: Target,
    run_dir: Path,
    timeline: Timeline,
    preflight: None,
) -> Iterator[Environment]:
    """The cluster the scenarios run on, with metrics-server; no stack yet."""
    if settings.cluster == "existing":
        yield from _existing_cluster(pytestconfig, settings, timeline)
        return
    pytestconfig.stash[KIND_TOUCHED_KEY] = True
    with timeline.span("phase.host-setup"):
        prepare_host(settings.images, settings.pull_source())
    with timeline.span("phase.cluster"):
        try:
            kind_cluster, env = create_cluster(settings.up_options())
        except BadInputError as exc:
            pytest.exit(f"chaosgate: bad input: {exc}", returncode=2)
    # Ports on loopback are chosen per cluster, so runs of different clusters never collide.
    timeline.event("cluster.urls", cluster=env.cluster_name, urls=env.urls)
    try:
        yield env
    finally:
        TIMINGS.write(run_dir / "timings.json")
        if settings.keep_cluster:
            print(f"\nkeeping kind cluster {kind_cluster.name}; kubeconfig {kind_cluster.kubeconfig}")
        else:
            kind_cluster.delete()


def _existing_cluster(config: pytest.Config, settings: Settings, timeline: Timeline) -> Iterator[Environment]:
    """A cluster the user runs, checked at configure (before this machine or
    the cluster changed); now chaosgate's helpers there."""
    existing = config.stash[EXISTING_CHECKED_KEY]
    config.stash[EXISTING_KEY] = True  # from here on the run may leave something there
    if existing.needs_images():
        with timeline.span("phase.host-setup"):
            prepare_host(settings.images, settings.pull_source())
    try:
        with timeline.span("phase.cluster", context=settings.kube_context):
            env = existing.open()
        timeline.event("cluster.urls", cluster=env.cluster_name, urls=env.urls)
        yield env
    finally:
        existing.close()


@pytest.fixture(scope="session")
def stacks(cluster: Environment, target: Target, timeline: Timeline, run_dir: Path) -> Iterator[clusters.StackManager]:
    manager = clusters.StackManager(cluster, target, timeline, run_dir)
    yield manager
    manager.remove()


@pytest.fixture
def stack(request: pytest.FixtureRequest, stacks: clusters.StackManager) -> Stack:
    """The stack in the variant the test asks for (marker ``variant``), healthy."""
    marker = request.node.get_closest_marker("variant")
    return stacks.ensure(marker.args[0] if marker else "default")


@pytest.fixture(scope="session")
def load_pool(
    settings: Settings, cluster: Environment, run_dir: Path, timeline: Timeline
) -> Iterator[clusters.InClusterLoad | None]:
    """Locust workers as pods when --load-workers asks for them: the image in
    the cluster and chaosgate's helper namespace, removed at the end."""
    if settings.load_workers == 0:
        yield None
        return
    pool = clusters.InClusterLoad(cluster, settings, run_dir.name)
    try:
        with timeline.span("phase.load-workers", workers=settings.load_workers):
            pool.setup()
    except BadInputError as exc:
        pytest.exit(f"chaosgate: bad input: {exc}", returncode=2)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def scenario(
    stack: Stack,
    timeline: Timeline,
    scenario_result: ScenarioResult,
    run_dir: Path,
    profile: Profile,
    slo: Slo,
    rollbacks: Rollbacks,
    load_pool: clusters.InClusterLoad | None,
) -> Iterator[ScenarioRun]:
    workers = load_pool.workers if load_pool is not None else None
    run = ScenarioRun(stack, timeline, scenario_result, run_dir, profile, slo, rollbacks, workers)
    with run.observed():
        yield run


@pytest.fixture
def scenario_result(request: pytest.FixtureRequest) -> ScenarioResult:
    """A scenario's verdict. The test fills it; the hooks below turn it into
    the test's outcome (fail and inconclusive both fail the test, with the
    reasons) and keep it for the report."""
    results = request.config.stash[RESULTS_KEY]
    return results.setdefault(request.node.nodeid, _new_result(request.node))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = _result_of(item)
    if result is not None:
        result.start()
    try:
        yield
    except NotApplicable as exc:
        # The scenario found the target lacks what it needs: stated, not judged.
        if result is not None:
            result.not_applicable(str(exc))
        raise pytest.skip.Exception(f"not applicable: {exc}") from None
    except AssertionError as exc:
        # A smoke check's assertion is its verdict on the stack; anywhere else
        # an assertion is the harness checking itself (a bug: inconclusive).
        if result is not None and _is_smoke(item):
            result.fail(_describe(exc).removeprefix("AssertionError: "))
            result.finish()
        elif result is not None:
            result.abort(f"{_describe(exc)} during {_phase(item.config)}")
        raise
    except BaseException as exc:
        # Interrupted, timed out, skipped or crashed (a harness bug): the
        # scenario did not run to its end, so it is inconclusive, never a
        # product failure and never a pass.
        if result is not None:
            result.abort(f"{_describe(exc)} during {_phase(item.config)}")
        raise
    if result is None:
        return
    result.finish()
    if result.verdict is not Verdict.PASS:
        pytest.fail(f"{result.verdict.value.upper()}: " + "; ".join(result.reasons), pytrace=False)


def _result_of(item: pytest.Item) -> ScenarioResult | None:
    return item.config.stash[RESULTS_KEY].get(item.nodeid)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted ({exc or 'SIGINT'})"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _phase(config: pytest.Config) -> str:
    timeline = config.stash.get(TIMELINE_KEY, None)
    return timeline.phase() if timeline is not None else "setup"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if call.excinfo is None or report.when == "call":
        return report
    result = _result_of(item)
    if result is not None and result.verdict is Verdict.NOT_APPLICABLE:
        return report
    # A fixture that could not build the cluster or the stack, or a cleanup
    # that failed: harness trouble, so the run ends inconclusive (exit 2),
    # never as a product failure.
    item.config.stash[INFRA_KEY] = True
    what = f"{_describe(call.excinfo.value)} during {_phase(item.config)}"
    if report.when == "setup" and result is not None:
        result.abort(f"setup failed: {what}")
    elif report.when == "teardown":
        item.config.stash[PROBLEMS_KEY].append(f"cleanup after {item.name} failed: {what}")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    """Around pytest's own session end, which tears down the session fixtures
    (Locust, faults, stacks, the cluster and its leak audit): a cleanup that
    raises there is recorded as harness trouble, and the verdict, the report
    and the exit code are still written. Signals from here on are noted, and
    never cut the cleanup or the report short."""
    _CLEANING.append(True)
    try:
        yield
    except BaseException as exc:  # noqa: BLE001 (a failed cleanup must not hide the verdict)
        session.config.stash[PROBLEMS_KEY].append(f"cleanup failed: {_describe(exc)}")
    _finish(session, exitstatus)


def _finish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    results = list(config.stash.get(RESULTS_KEY, {}).values())
    # Whatever happened, nothing of ours keeps running.
    stopped = runner.stop_all()
    started: list[str] = []
    if ROLLBACKS_KEY in config.stash:
        try:
            started = config.stash[ROLLBACKS_KEY].unwind()
        except ChaosgateError as exc:
            config.stash[PROBLEMS_KEY].append(str(exc))
    why = "the run stopped before it"
    if _INTERRUPTED:
        why = f"the run was interrupted ({_INTERRUPTED[0]}) during {_phase(config)}"
    for result in results:
        result.never_ran(why)
    problems = config.stash.get(PROBLEMS_KEY, [])
    if results and RUN_DIR_KEY not in config.stash:
        # Nothing made the folder (every row skipped as not applicable, say):
        # the verdict still gets its report.
        _run_dir(config, _settings(config))
    if RUN_DIR_KEY in config.stash:
        # After every cleanup, whichever way the run ended (a cluster whose
        # creation was interrupted never reached its fixture's teardown).
        _leak_audit(config, config.stash[RUN_DIR_KEY])
    if results and RUN_DIR_KEY in config.stash:
        if all(r.verdict is Verdict.NOT_APPLICABLE for r in results):
            problems = [*problems, "nothing in this run applied to the target: there is no verdict to give"]
        results.append(closing.cleanup_result(config.stash[RUN_DIR_KEY], problems, stopped, started))
        try:
            _report(config, results, stopped, started)
        except Exception as exc:  # noqa: BLE001 (a report that cannot be written must not hide the verdict)
            print(f"chaosgate: could not write the report: {type(exc).__name__}: {exc}")
            print(f"chaosgate verdict: {overall(results).value.upper()} (report missing: not a pass)")
            session.exitstatus = max(2, closing.run_exit_code(results, exitstatus, True))
            return
    elif problems:
        config.stash[INFRA_KEY] = True
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED):
        session.exitstatus = closing.run_exit_code(results, exitstatus, config.stash.get(INFRA_KEY, False))


def _leak_audit(config: pytest.Config, run_dir: Path) -> None:
    settings = _settings(config)
    pending = config.stash[ROLLBACKS_KEY].pending() if ROLLBACKS_KEY in config.stash else []
    try:
        audit = clusters.leak_audit(
            settings,
            pending,
            kind_cluster=config.stash.get(KIND_TOUCHED_KEY, False),
            existing_cluster=config.stash.get(EXISTING_KEY, False),
        )
    except ChaosgateError as exc:
        config.stash[PROBLEMS_KEY].append(f"leak audit could not run: {exc}")
        return
    (run_dir / "leak-audit.json").write_text(json.dumps(audit, indent=2) + "\n")


def _report(config: pytest.Config, results: list[ScenarioResult], stopped: int, started: list[str]) -> None:
    from reports.build import build  # noqa: PLC0415 (only runs that produced scenario results need it)
    from reports.screenshot import chromium, render  # noqa: PLC0415

    run_dir = config.stash[RUN_DIR_KEY]
    report = build(run_dir, _settings(config).effective(), [r.to_dict() for r in results])
    if chromium() is not None:
        try:
            render(report, run_dir / "report.png")
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"chaosgate: could not screenshot the report: {exc}")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reporter.write_sep("=", f"chaosgate verdict: {overall(results).value.upper()}")
    for r in results:
        reporter.write_line(f"  {r.verdict.value:<13} {r.name}: {'; '.join(r.reasons) or 'all checks held'}")
    if stopped or started:
        reporter.write_line(f"  cleanup at exit: stopped {stopped} Locust run(s), started nodes {started}")
    reporter.write_line(f"  report: {report}")
