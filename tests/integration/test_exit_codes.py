"""The chaos tier's exit codes, from the real conftest in a real pytest run:
0 all pass, 1 the stack failed, 2 inconclusive (harness trouble or a harness bug)."""

import json
import time

import pytest

from tests.integration.plugin_env import run_plugin

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
    done = run_plugin(tmp_path, [str(test)])
    assert done.returncode == code, done.stdout + done.stderr


SMOKE = {
    "pass": "assert True",
    "fail": "assert 3 == 4, 'servers online: 3 of 4'",
    "inconclusive": "raise InfraError('the metrics API did not answer')",
}


@pytest.mark.parametrize(("kind", "code"), [("pass", 0), ("fail", 1), ("inconclusive", 2)])
def test_a_smoke_only_run_has_a_verdict_a_report_and_the_exit_code(tmp_path, kind, code):
    test = tmp_path / "test_smoke.py"
    test.write_text(
        "import pytest\nfrom kernel.errors import InfraError\n\n"
        f"@pytest.mark.smoke\ndef test_servers_online(run_dir):\n    {SMOKE[kind]}\n"
    )
    done = run_plugin(tmp_path, [str(test)])
    assert done.returncode == code, done.stdout + done.stderr
    [summary] = tmp_path.glob("runs/*/summary.json")
    rows = {s["name"]: s for s in json.loads(summary.read_text())["scenarios"]}
    assert rows["smoke/servers_online"]["verdict"] == kind
    assert rows["run-cleanup"]["verdict"] == "pass"
    if kind == "fail":
        assert any("servers online: 3 of 4" in r for r in rows["smoke/servers_online"]["reasons"])


def test_scenarios_left_out_by_a_marker_are_not_reported_as_not_run(tmp_path):
    test = tmp_path / "test_mixed.py"
    test.write_text(
        "import pytest\n\n"
        "@pytest.mark.smoke\ndef test_servers_online(run_dir):\n    pass\n\n"
        "@pytest.mark.chaos\n@pytest.mark.scenario('pod-kill')\ndef test_pod_kill(scenario_result):\n    pass\n"
    )
    done = run_plugin(tmp_path, ["-m", "smoke", str(test)])
    assert done.returncode == 0, done.stdout + done.stderr
    [summary] = tmp_path.glob("runs/*/summary.json")
    names = [s["name"] for s in json.loads(summary.read_text())["scenarios"]]
    assert names == ["smoke/servers_online", "run-cleanup"]


def test_two_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    test = tmp_path / "test_it.py"
    test.write_text("import pytest\n\n@pytest.mark.smoke\ndef test_it(run_dir):\n    pass\n")
    # Earlier runs' folders for this second and the next few (the child starts a moment later).
    now = time.time()
    stamps = [time.strftime("%Y%m%d-%H%M%S", time.localtime(now + s)) for s in range(10)]
    for stamp in stamps:
        (tmp_path / "runs" / stamp).mkdir(parents=True)
        (tmp_path / "runs" / stamp / "summary.json").write_text("{}")
    done = run_plugin(tmp_path, [str(test)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert all((tmp_path / "runs" / s / "summary.json").read_text() == "{}" for s in stamps), "a folder was reused"
    assert list(tmp_path.glob("runs/*-2/summary.json")), "the run wrote no folder of its own"
