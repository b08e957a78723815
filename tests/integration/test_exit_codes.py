"""The chaos tier's exit codes, from the real conftest in a real pytest run:
0 all pass, 1 the stack failed, 2 inconclusive (harness trouble or a harness bug)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.plugin_env import own_cluster_name

ROOT = Path(__file__).resolve().parents[2]

BODY = {
    "pass": "",
    "fail": "scenario_result.fail('acknowledged writes lost')",
    "inconclusive": "scenario_result.inconclusive('fault not proven')",
    "harness-bug": "raise KeyError('a bug in the harness is not a product failure')",
}


@pytest.mark.parametrize(("kind", "code"), [("pass", 0), ("fail", 1), ("inconclusive", 2), ("harness-bug", 2)])
def test_verdict_sets_the_exit_code(tmp_path, kind, code):
    test = tmp_path / "test_verdict.py"
    test.write_text(f"def test_it(scenario_result):\n    {BODY[kind] or 'pass'}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHAOSGATE_CLUSTER_NAME": own_cluster_name()}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "scenarios.plugin", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stdout + done.stderr
