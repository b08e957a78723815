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

from chaos import faults
from chaos import settings as settings_mod
from chaos.settings import Settings
from chaos.slo import PROFILES, Profile, Slo, load_slo
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult, Verdict, exit_code, overall
from deployer.stack import VARIANTS
from deployer.up import Environment, create_cluster
from kernel.errors import BadInputError, ChaosgateError
from kernel.progress import TIMINGS
from loadtests import runner
from scenarios import clusters
from scenarios.harness import ScenarioRun, Stack

RESULTS_KEY = pytest.StashKey[list[ScenarioResult]]()
RUN_DIR_KEY = pytest.StashKey[Path]()
SETTINGS_KEY = pytest.StashKey[Settings]()
INFRA_KEY = pytest.StashKey[bool]()


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
    config.stash[RESULTS_KEY] = []
    # SIGTERM (CI cancelling a job) unwinds like Ctrl-C, so every fixture's
    # cleanup runs: Locust stopped, nodes started, the cluster deleted.
    signal.signal(signal.SIGTERM, _raise_interrupt)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Smoke checks first, then the scenarios grouped by the stack variant they
    need (the default stack first), so each variant is deployed once; within a
    group, collection order."""
    items[:] = [item for _, item in sorted(enumerate(items), key=lambda pair: _order(*pair))]


def _order(index: int, item: pytest.Item) -> tuple[bool, int, int]:
    marker = item.get_closest_marker("variant")
    variant = str(marker.args[0]) if marker else "default"
    rank = VARIANTS.index(variant) if variant in VARIANTS else len(VARIANTS)
    return (item.get_closest_marker("smoke") is None, rank, index)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    return _settings(pytestconfig)


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config, settings: Settings) -> Path:
    """This run's output folder: report, timeline, Locust CSVs, logs."""
    folder = settings.report_dir / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[RUN_DIR_KEY] = folder
    return folder


@pytest.fixture(scope="session")
def timeline(run_dir: Path) -> Iterator[Timeline]:
    tl = Timeline(run_dir / "timeline.jsonl")
    yield tl
    tl.close()


@pytest.fixture(scope="session")
def slo(settings: Settings) -> Slo:
    try:
        return load_slo(settings.slo_file)
    except BadInputError as exc:
        pytest.exit(f"chaosgate: bad input: {exc}", returncode=2)


@pytest.fixture(scope="session")
def profile(settings: Settings) -> Profile:
    return PROFILES[settings.profile]


@pytest.fixture(scope="session")
def cluster(settings: Settings, run_dir: Path, timeline: Timeline) -> Iterator[Environment]:
    """The cluster the scenarios run on, with metrics-server; no stack yet."""
    if settings.cluster == "existing":
        yield clusters.existing(settings)
        return
    with timeline.span("phase.cluster"):
        try:
            kind_cluster, env = create_cluster(settings.up_options())
        except BadInputError as exc:
            pytest.exit(f"chaosgate: bad input: {exc}", returncode=2)
    try:
        yield env
    finally:
        TIMINGS.write(run_dir / "timings.json")
        if settings.keep_cluster:
            print(f"\nkeeping kind cluster {kind_cluster.name}; kubeconfig {kind_cluster.kubeconfig}")
        else:
            kind_cluster.delete()
        (run_dir / "leak-audit.json").write_text(json.dumps(clusters.leak_audit(settings), indent=2) + "\n")


@pytest.fixture(scope="session")
def stacks(cluster: Environment, timeline: Timeline, run_dir: Path) -> Iterator[clusters.StackManager]:
    manager = clusters.StackManager(cluster, timeline, run_dir)
    yield manager
    manager.remove()


@pytest.fixture
def stack(request: pytest.FixtureRequest, stacks: clusters.StackManager) -> Stack:
    """The stack in the variant the test asks for (marker ``variant``), healthy."""
    marker = request.node.get_closest_marker("variant")
    return stacks.ensure(marker.args[0] if marker else "default")


@pytest.fixture
def scenario(
    stack: Stack, timeline: Timeline, scenario_result: ScenarioResult, run_dir: Path, profile: Profile, slo: Slo
) -> Iterator[ScenarioRun]:
    run = ScenarioRun(stack, timeline, scenario_result, run_dir, profile, slo)
    with run.observed():
        yield run


@pytest.fixture
def scenario_result(request: pytest.FixtureRequest) -> Iterator[ScenarioResult]:
    """A scenario's verdict. The test fills it; this turns it into the test's
    outcome (fail and inconclusive both fail the test, with the reasons) and
    keeps it for the report."""
    marker = request.node.get_closest_marker("scenario")
    name = marker.args[0] if marker else request.node.name
    title = marker.kwargs.get("title", "") if marker else ""
    result = ScenarioResult(name=name, title=title)
    request.config.stash[RESULTS_KEY].append(result)
    yield result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        # The harness could not do its job (or has a bug): inconclusive, never
        # a product failure, and never a pass.
        result = _result_of(item)
        if result is not None:
            result.inconclusive(f"{type(exc).__name__}: {exc}")
        raise
    result = _result_of(item)
    if result is not None and result.verdict is not Verdict.PASS:
        pytest.fail(f"{result.verdict.value.upper()}: " + "; ".join(result.reasons), pytrace=False)


def _result_of(item: pytest.Item) -> ScenarioResult | None:
    funcargs = getattr(item, "funcargs", {})
    value = funcargs.get("scenario_result")
    return value if isinstance(value, ScenarioResult) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    # A fixture that could not build the cluster or the stack: remembered so
    # the run ends inconclusive (exit 2), not as a product failure.
    if report.when == "setup" and call.excinfo is not None and call.excinfo.errisinstance(ChaosgateError):
        item.config.stash[INFRA_KEY] = True
    return report


@pytest.hookimpl(trylast=True)  # after fixture teardown, so the leak audit is in
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    results = config.stash.get(RESULTS_KEY, [])
    # Whatever happened, nothing of ours keeps running.
    stopped = runner.stop_all()
    started = faults.revert_all()
    if results and RUN_DIR_KEY in config.stash:
        _report(config, results, stopped, started)
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = run_exit_code(results, exitstatus, config.stash.get(INFRA_KEY, False))


def run_exit_code(results: list[ScenarioResult], exitstatus: int, infra_failed: bool) -> int:
    """0 all pass, 1 the stack failed, 2 inconclusive: from the verdicts, and
    from pytest's outcome for checks outside the scenarios (smoke)."""
    code = exit_code(overall(results)) if results else 0
    if code == 0 and exitstatus == pytest.ExitCode.TESTS_FAILED:
        code = 2 if infra_failed else 1
    return code


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
