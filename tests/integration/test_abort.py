"""Aborted runs never read as a pass and leave no process behind.

The real chaos-tier plugin drives a real Locust run against a real 4-server
MinIO cluster on loopback; the run is then stopped the ways users and CI stop
it: Ctrl-C (SIGINT), a CI cancel (SIGTERM), Ctrl-C twice, and pytest-timeout.
The signal goes to the pytest process only: the loopback MinIO servers of
the fast tier share its process group and must outlive it here, while in a
real run MinIO lives in the cluster and Locust in a session of its own. summary.json must call the
scenario aborted (inconclusive), the exit code must not be 0, and no Locust
process of that run may be left.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kernel.procs import owned_processes
from tests.integration.plugin_env import own_cluster_name

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """
import os
import time
from pathlib import Path

import pytest

from chaos.clients import s3_client
from loadtests.runner import LoadPlan, LocustRun, wait_for_first_row


@pytest.mark.scenario("interrupt-me", title="a scenario stopped in its fault window")
def test_load_through_a_fault(scenario_result, run_dir, timeline, minio_cluster):
    s3_client(minio_cluster.url(0), minio_cluster.credentials).make_bucket("chaosgate")
    env = {
        "CHAOSGATE_LEDGER_DIR": str(run_dir / "ledger"),
        "CHAOSGATE_S3_ACCESS_KEY": minio_cluster.access_key,
        "CHAOSGATE_S3_SECRET_KEY": minio_cluster.secret_key,
        "CHAOSGATE_S3_BUCKET": "chaosgate",
        "CHAOSGATE_OBJECT_SIZE": "1024",
    }
    load = LocustRun("s3", minio_cluster.url(0), LoadPlan(users=2, spawn_rate=2, run_seconds=300), run_dir, env)
    load.start()
    wait_for_first_row(load)
    scenario_result.require(True, "a check that held before the abort", "-")
    with timeline.span("fault.pretend"):
        Path(os.environ["READY_FILE"]).write_text("in the fault window")
        time.sleep(120)
"""


def _start(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    (tmp_path / "test_scenario.py").write_text(SCENARIO)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "scenarios.plugin", "-p", "tests.fixtures.minio_local"]
    return subprocess.Popen(
        [*cmd, "-p", "no:cacheprovider", *extra],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "READY_FILE": str(tmp_path / "ready"),
            "CHAOSGATE_CLUSTER_NAME": own_cluster_name(),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_ready(tmp_path: Path, proc: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not (tmp_path / "ready").exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the scenario never reached its fault window"
        time.sleep(0.2)


def _summary(tmp_path: Path) -> dict:
    [path] = tmp_path.glob("runs/*/summary.json")
    return json.loads(path.read_text())


def _assert_aborted(tmp_path: Path, proc: subprocess.Popen[str], output: str, why: str) -> None:
    assert proc.returncode == 2, output
    summary = _summary(tmp_path)
    assert summary["verdict"] == "inconclusive" and summary["exit_code"] == 2, output
    [scenario] = [s for s in summary["scenarios"] if s["name"] == "interrupt-me"]
    assert scenario["verdict"] == "inconclusive"
    assert scenario["status"] == "aborted"
    assert any(why in r and "during fault.pretend" in r for r in scenario["reasons"]), scenario["reasons"]
    junit = (next(tmp_path.glob("runs/*/junit.xml"))).read_text()
    assert 'name="interrupt-me"' in junit and "<error" in junit, junit  # inconclusive is an error, not a pass
    left = [pid for pid, owner in owned_processes().items() if owner == proc.pid]
    assert not left, f"Locust processes of the aborted run still alive: {left}"


@pytest.mark.parametrize(
    ("signals", "why"),
    [([signal.SIGINT], "interrupted (SIGINT)"), ([signal.SIGTERM], "interrupted (SIGTERM)")],
    ids=["ctrl-c", "ci-cancel"],
)
def test_a_signal_in_the_fault_window_aborts_the_scenario(tmp_path, signals, why):
    proc = _start(tmp_path)
    _wait_ready(tmp_path, proc)
    for sig in signals:
        os.kill(proc.pid, sig)
    output, _ = proc.communicate(timeout=120)
    _assert_aborted(tmp_path, proc, output, why)


def test_a_second_ctrl_c_does_not_abandon_cleanup(tmp_path):
    proc = _start(tmp_path)
    _wait_ready(tmp_path, proc)
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.3)  # the second press lands while cleanup runs
    os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    _assert_aborted(tmp_path, proc, output, "interrupted (SIGINT)")
    assert "SIGINT: cleaning up (Locust, faults, cluster, report); not stopping that" in output


def test_a_timeout_aborts_the_scenario(tmp_path):
    proc = _start(tmp_path, "--timeout", "40")
    output, _ = proc.communicate(timeout=180)
    assert (tmp_path / "ready").exists(), output
    _assert_aborted(tmp_path, proc, output, "Timeout")
