"""The chaos tier's pytest plugin: options, session fixtures, report hooks.

Loaded by scenarios/conftest.py (and with ``-p scenarios.plugin`` by tests that
drive it), so the fast tier never loads it.

The logic lives in the libraries (deployer/, chaos/, loadtests/, reports/);
this file decides when each piece runs and makes sure cleanup happens:
Locust stopped, stopped nodes started again, the cluster deleted unless kept,
also on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from types import FrameType

import pytest

from chaos import settings as settings_mod
from chaos.preflight import CHECKS, waivers
from chaos.rollback import Rollbacks
from chaos.rulebook import BAD_INPUT_EXIT
from chaos.settings import Settings
from chaos.slo import PROFILES, Profile, Slo, load_slo
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult, Verdict, overall
from deployer import providers, runlock
from deployer.target import DEFAULT_VARIANT, Target
from deployer.up import Environment, prepare_host
from kernel import procs
from kernel.errors import BadInputError, ChaosgateError, InfraError
from kernel.progress import TIMINGS
from loadtests import runner
from loadtests.incluster import InClusterLoad
from scenarios import closing, clusters
from scenarios.harness import NotApplicable, ScenarioRun, Stack
from scenarios.runstate import RunState

STATE = pytest.StashKey[RunState]()


def _state(config: pytest.Config) -> RunState:
    return config.stash.setdefault(STATE, RunState())


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
        group.addoption(flag, **kwargs)


def _settings(config: pytest.Config) -> Settings:
    state = _state(config)
    if state.settings is None:
        flags = {f.name: config.getoption(f"cg_{f.name}") for f in settings_mod.fields()}
        try:
            state.settings = settings_mod.from_sources(flags)
        except BadInputError as exc:
            pytest.exit(f"chaosgate: bad input: {exc}", returncode=BAD_INPUT_EXIT)
    assert state.settings is not None
    return state.settings


def pytest_configure(config: pytest.Config) -> None:
    state = _state(config)
    if config.option.collectonly:
        return
    # Every option, env var and the SLO file is checked before anything on the
    # host or a cluster changes: bad input costs seconds and leaves nothing.
    settings = _settings(config)
    try:
        target = state.target = settings.load_target()
        waivers.check_known(target.waivers, tuple(CHECKS))  # a typo in a check id costs seconds, not a run
        state.slo = load_slo(settings.slo_path(target))
        if settings.cluster == "kind":
            state.lock = runlock.acquire(settings.cluster_name)
        else:
            # A cluster chaosgate did not create is only read here: reachable,
            # permitted, namespaces as the rules say, before a run folder exists.
            existing = providers.ExistingProvider(settings.cluster_options(), target, time.strftime("%Y%m%d-%H%M%S"))
            existing.check()
            state.existing = existing
    except BadInputError as exc:
        pytest.exit(f"chaosgate: bad input: {exc}", returncode=BAD_INPUT_EXIT)
    previous = state.lock.previous if state.lock is not None else None
    if previous:
        print(f"chaosgate: an earlier run (pid {previous.get('pid')}) ended without cleaning up; cleaning now")
    killed = procs.kill(procs.orphans())
    if killed:
        print(f"chaosgate: stopped {len(killed)} process(es) left by runs that no longer exist: {killed}")
    # SIGINT (Ctrl-C) and SIGTERM (CI cancelling a job) unwind the run once,
    # so every fixture's cleanup runs: Locust stopped, StatefulSets scaled
    # back, nodes started, the cluster deleted. Later signals are noted and
    # ignored, so a second Ctrl-C or tox's own follow-up cannot abandon cleanup.
    signal.signal(signal.SIGTERM, functools.partial(_interrupt_once, state))
    signal.signal(signal.SIGINT, functools.partial(_interrupt_once, state))


def pytest_unconfigure(config: pytest.Config) -> None:
    lock = _state(config).lock
    if lock is not None:
        lock.release()


def _interrupt_once(state: RunState, signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if state.interrupted or state.cleaning:
        state.interrupted.append(name)
        print(f"\nchaosgate: {name}: cleaning up (Locust, faults, cluster, report); not stopping that", flush=True)
        return
    state.interrupted.append(name)
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
    target = _state(config).target
    variants = list(target.variants() if target is not None else (DEFAULT_VARIANT,))
    for item in items:
        marker = item.get_closest_marker("variant")
        if marker and str(marker.args[0]) not in variants:
            variants.append(str(marker.args[0]))
    items[:] = [item for _, item in sorted(enumerate(items), key=lambda pair: _order(pair[0], pair[1], variants))]
    results = _state(config).results
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
        _state(config).left_out = names


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    names = _state(config).left_out
    if not names:
        return None
    profile = _settings(config).profile
    return f"chaosgate: not in profile {profile}: {', '.join(names)} (run them with --profile full or standard)"


@pytest.hookimpl(tryfirst=True)  # before any fixture deploys a stack for it
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A scenario the target does not list, or whose variant it lacks, is not
    applicable: said in the report, and nothing is deployed for it."""
    result = _result_of(item)
    target = _state(item.config).target
    if result is None or _is_smoke(item) or target is None:
        return
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
    state = _state(config)
    if state.run_dir is not None:
        return state.run_dir
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 100):
        folder = settings.report_dir / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        state.run_dir = folder
        return folder
    raise InfraError(f"no free run folder name for {stamp} in {settings.report_dir}")


@pytest.fixture(scope="session")
def timeline(pytestconfig: pytest.Config, run_dir: Path) -> Iterator[Timeline]:
    tl = Timeline(run_dir / "timeline.jsonl")
    _state(pytestconfig).timeline = tl
    yield tl
    tl.close()


@pytest.fixture(scope="session")
def rollbacks(pytestconfig: pytest.Config) -> Rollbacks:
    """This run's undo steps: every fault registers its own; cleanup unwinds them."""
    state = _state(pytestconfig)
    if state.rollbacks is None:
        state.rollbacks = Rollbacks()
    return state.rollbacks


@pytest.fixture(scope="session")
def slo(pytestconfig: pytest.Config) -> Slo:
    slo = _state(pytestconfig).slo
    assert slo is not None, "set at configure"
    return slo


@pytest.fixture(scope="session")
def profile(settings: Settings) -> Profile:
    return PROFILES[settings.profile]


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The stack under test, from the target file (checked at configure)."""
    target = _state(pytestconfig).target
    assert target is not None, "set at configure"
    return target


@pytest.fixture(scope="session")
def preflight(
    pytestconfig: pytest.Config, settings: Settings, target: Target, run_dir: Path, timeline: Timeline
) -> None:
    """The static check of the target's manifests, before any cluster: its
    findings are the preflight row's verdict; the run goes on either way, so
    the scenarios show what the findings cost, unless --stop-on-preflight."""
    state = _state(pytestconfig)
    result = state.results.get(PREFLIGHT)
    if result is None:
        return
    result.start()
    with timeline.span("phase.preflight", target=target.name):
        try:
            clusters.preflight(target, result, run_dir)
        except BadInputError as exc:  # a waiver that matches nothing, a chart that cannot be pulled
            result.abort(f"bad input: {exc}")
            pytest.exit(f"chaosgate: bad input: {exc}", returncode=BAD_INPUT_EXIT)
        except ChaosgateError as exc:
            result.abort(f"the preflight could not run: {exc}")
            return
    result.finish()
    if settings.stop_on_preflight and result.verdict is Verdict.FAIL:
        state.stopped = "the run stopped after the failed preflight (--stop-on-preflight)"
        pytest.exit(f"chaosgate: {state.stopped}", returncode=pytest.ExitCode.TESTS_FAILED)


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
    _state(pytestconfig).kind_touched = True
    with timeline.span("phase.host-setup"):
        _prepare_host(settings)
    with timeline.span("phase.cluster"):
        try:
            provider = providers.KindProvider(settings.up_options(), keep=settings.keep_cluster)
            env = provider.open()
        except BadInputError as exc:
            pytest.exit(f"chaosgate: bad input: {exc}", returncode=BAD_INPUT_EXIT)
    # Ports on loopback are chosen per cluster, so runs of different clusters never collide.
    timeline.event("cluster.urls", cluster=env.cluster_name, urls=env.urls)
    try:
        yield env
    finally:
        TIMINGS.write(run_dir / "timings.json")
        provider.close()


def _prepare_host(settings: Settings) -> None:
    """Docker ready for kind, or one message naming what this host lacks and
    the command that fixes it (exit 2), not a traceback under every test."""
    try:
        prepare_host(settings.images, settings.pull_source())
    except BadInputError as exc:
        pytest.exit(f"chaosgate: bad input: {exc}", returncode=BAD_INPUT_EXIT)


def _existing_cluster(config: pytest.Config, settings: Settings, timeline: Timeline) -> Iterator[Environment]:
    """A cluster the user runs, checked at configure (before this machine or
    the cluster changed); now chaosgate's helpers there."""
    state = _state(config)
    existing = state.existing
    assert existing is not None, "checked at configure"
    state.existing_used = True  # from here on the run may leave something there
    if existing.needs_images():
        with timeline.span("phase.host-setup"):
            _prepare_host(settings)
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
) -> Iterator[InClusterLoad | None]:
    """Locust workers as pods when --load-workers asks for them: the image in
    the cluster and chaosgate's helper namespace, removed at the end."""
    if settings.load_workers == 0:
        yield None
        return
    pool = InClusterLoad(cluster, settings.cluster_options(), run_dir.name)
    try:
        with timeline.span("phase.load-workers", workers=settings.load_workers):
            pool.setup()
    except BadInputError as exc:
        pytest.exit(f"chaosgate: bad input: {exc}", returncode=BAD_INPUT_EXIT)
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
    load_pool: InClusterLoad | None,
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
    results = _state(request.config).results
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
    return _state(item.config).results.get(item.nodeid)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted ({exc or 'SIGINT'})"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _phase(config: pytest.Config) -> str:
    timeline = _state(config).timeline
    return timeline.phase() if timeline is not None else "setup"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is None or report.when == "call":
        return report
    result = _result_of(item)
    if result is not None and result.verdict is Verdict.NOT_APPLICABLE:
        return report
    # A fixture that could not build the cluster or the stack, or a cleanup
    # that failed: harness trouble, so the run ends inconclusive (exit 2),
    # never as a product failure.
    _state(item.config).infra_failed = True
    what = f"{_describe(call.excinfo.value)} during {_phase(item.config)}"
    if report.when == "setup" and result is not None:
        result.abort(f"setup failed: {what}")
    elif report.when == "teardown":
        _state(item.config).problems.append(f"cleanup after {item.name} failed: {what}")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    """Around pytest's own session end, which tears down the session fixtures
    (Locust, faults, stacks, the cluster and its leak audit): a cleanup that
    raises there is recorded as harness trouble, and the verdict, the report
    and the exit code are still written. Signals from here on are noted, and
    never cut the cleanup or the report short."""
    _state(session.config).cleaning = True
    try:
        yield
    except BaseException as exc:  # noqa: BLE001 (a failed cleanup must not hide the verdict)
        _state(session.config).problems.append(f"cleanup failed: {_describe(exc)}")
    _finish(session, exitstatus)


def _finish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = _state(config)
    results = list(state.results.values())
    # Whatever happened, nothing of ours keeps running.
    stopped = runner.stop_all()
    started: list[str] = []
    if state.rollbacks is not None:
        try:
            started = state.rollbacks.unwind()
        except ChaosgateError as exc:
            state.problems.append(str(exc))
    why = state.stopped or "the run stopped before it"
    if state.interrupted:
        why = f"the run was interrupted ({state.interrupted[0]}) during {_phase(config)}"
    for result in results:
        result.never_ran(why)
    problems = state.problems
    if results and state.run_dir is None:
        # Nothing made the folder (every row skipped as not applicable, say):
        # the verdict still gets its report.
        _run_dir(config, _settings(config))
    if state.run_dir is not None:
        # After every cleanup, whichever way the run ended (a cluster whose
        # creation was interrupted never reached its fixture's teardown).
        _leak_audit(config, state.run_dir)
    if results and state.run_dir is not None:
        if all(r.verdict is Verdict.NOT_APPLICABLE for r in results):
            problems = [*problems, "nothing in this run applied to the target: there is no verdict to give"]
        results.append(closing.cleanup_result(state.run_dir, problems, stopped, started))
        try:
            _report(config, results, stopped, started)
        except Exception as exc:  # noqa: BLE001 (a report that cannot be written must not hide the verdict)
            print(f"chaosgate: could not write the report: {type(exc).__name__}: {exc}")
            print(f"chaosgate verdict: {overall(results).value.upper()} (report missing: not a pass)")
            session.exitstatus = closing.run_exit_code(results, exitstatus, True, report_written=False)
            return
    elif problems:
        state.infra_failed = True
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED):
        session.exitstatus = closing.run_exit_code(results, exitstatus, state.infra_failed)


def _leak_audit(config: pytest.Config, run_dir: Path) -> None:
    settings = _settings(config)
    state = _state(config)
    pending = state.rollbacks.pending() if state.rollbacks is not None else []
    try:
        audit = clusters.leak_audit(
            settings,
            pending,
            kind_cluster=state.kind_touched,
            existing_cluster=state.existing_used,
        )
    except ChaosgateError as exc:
        state.problems.append(f"leak audit could not run: {exc}")
        return
    (run_dir / "leak-audit.json").write_text(json.dumps(audit, indent=2) + "\n")


def _report(config: pytest.Config, results: list[ScenarioResult], stopped: int, started: list[str]) -> None:
    from reports.build import build  # noqa: PLC0415 (only runs that produced scenario results need it)
    from reports.screenshot import chromium, render  # noqa: PLC0415

    run_dir = _state(config).run_dir
    assert run_dir is not None
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
