"""--stop-on-preflight and waivers through the real chaos-tier plugin. The
child runs need only the preflight fixture, which comes before any cluster,
so nothing here can create one."""

from pathlib import Path

from tests.fixtures.naive_target import naive_target
from tests.integration.plugin_env import run_plugin

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ROOT / "examples" / "naive-stack"
ONLY_PREFLIGHT = "def test_it(preflight):\n    pass\n"


def test_stop_on_preflight_ends_the_run_after_a_failed_preflight(tmp_path: Path) -> None:
    (tmp_path / "test_only_preflight.py").write_text(ONLY_PREFLIGHT)
    target = str(naive_target(tmp_path))
    going_on = run_plugin(tmp_path, ["--target", target])
    assert "1 passed" in going_on.stdout, going_on.stdout + going_on.stderr
    assert going_on.returncode == 1, "the failed preflight row fails the run"
    stopped = run_plugin(tmp_path, ["--target", target, "--stop-on-preflight"])
    out = stopped.stdout + stopped.stderr
    assert stopped.returncode == 1, out
    assert "the run stopped after the failed preflight (--stop-on-preflight)" in out
    assert "1 passed" not in out


def test_an_unknown_waiver_check_is_bad_input_at_the_start(tmp_path: Path) -> None:
    (tmp_path / "test_only_preflight.py").write_text(ONLY_PREFLIGHT)
    target = naive_target(tmp_path, [{"check": "CG099", "object": "StatefulSet/minio", "reason": "typo"}])
    done = run_plugin(tmp_path, ["--target", str(target)])
    assert done.returncode == 2, done.stdout + done.stderr
    assert "preflight.waive[0].check: 'CG099' is not a preflight check" in done.stdout + done.stderr
    assert not (tmp_path / "runs").exists(), "bad input makes no run folder"
