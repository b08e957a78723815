"""Every bad input in docs/bad-input.md's table: exit 2 from the real chaos-tier
plugin, the message the table promises, and nothing left behind."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deployer import runlock
from tests.integration.plugin_env import own_cluster_name

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (SLO file |target file with )?`([^`]+)` \| (.+) \|$")


def _rows() -> list[tuple[str, str, str]]:
    section = (ROOT / "docs" / "bad-input.md").read_text()
    rows = [((m[1] or "").strip(), m[2], m[3].strip()) for m in map(ROW.match, section.splitlines()) if m]
    assert len(rows) >= 15, "docs/bad-input.md's table lost rows"
    return rows


def _target_with(tmp_path: Path, change: str) -> Path:
    """The reference target with one dotted key set (``minio.port: 70000``)."""
    data = yaml.safe_load((ROOT / "targets" / "reference.yaml").read_text())
    # Without deploy, the copy needs no charts next to it: only the change is wrong.
    data.pop("deploy", None)
    key, _, value = change.partition(": ")
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = yaml.safe_load(value)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(tmp_path: Path, args: list[str], env: dict[str, str], cluster: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_nothing.py").write_text("def test_it(scenario_result):\n    pass\n")
    outer = {k: v for k, v in os.environ.items() if not k.startswith("CHAOSGATE_") or k == "CHAOSGATE_CACHE"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "scenarios.plugin", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        env={**outer, "CHAOSGATE_CLUSTER_NAME": cluster or own_cluster_name(), **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("kind", "given", "message"), _rows(), ids=lambda v: str(v)[:40])
def test_bad_input_exits_2_naming_the_problem_and_creates_nothing(tmp_path, kind, given, message):
    args: list[str] = []
    env: dict[str, str] = {}
    if kind == "SLO file":
        (tmp_path / "slo.yaml").write_text(given + "\n")
        args = ["--slo-file", "slo.yaml"]
    elif kind:
        args = ["--target", str(_target_with(tmp_path, given))]
    elif given.startswith("CHAOSGATE_"):
        key, _, value = given.partition("=")
        env[key] = value
    else:
        args = shlex.split(given)
    done = _run(tmp_path, args, env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stdout + done.stderr
    assert not (tmp_path / "runs").exists(), "a run folder was created for bad input"
    assert not (tmp_path / ".chaosgate").exists(), "cluster state was created for bad input"


def test_a_second_run_on_the_same_cluster_is_refused(tmp_path):
    message = "is in use by another chaosgate run (pid"
    assert f"| {message} |" in (ROOT / "docs" / "bad-input.md").read_text(), "the table must name this case"
    # The first run is any process holding the lock; a real run holds it the same way.
    name = own_cluster_name()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from deployer import runlock; lock = runlock.acquire(sys.argv[1]);"
         " print('locked', flush=True); time.sleep(60)", name],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        done = _run(tmp_path, [], {}, cluster=name)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stdout + done.stderr
        assert f"pid {holder.pid}" in done.stdout + done.stderr
        assert not (tmp_path / "runs").exists()
        assert holder.poll() is None, "the first run was disturbed"
    finally:
        holder.kill()
        holder.wait()
        runlock.lock_path(name).unlink(missing_ok=True)  # what a killed run leaves; not ours to keep
