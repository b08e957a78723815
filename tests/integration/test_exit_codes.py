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


NOT_LISTED = """
import pytest

@pytest.mark.scenario("pod-kill", title="listed")
def test_listed(scenario_result):
    pass

@pytest.mark.scenario("full-outage", title="not listed by the target")
def test_not_listed(scenario_result):
    raise AssertionError("a scenario the target leaves out must never run")

@pytest.mark.variant("no-such-variant")
@pytest.mark.scenario("node-loss", title="needs a variant the target lacks")
def test_needs_variant(scenario_result):
    raise AssertionError("a scenario whose variant is missing must never run")
"""


@pytest.mark.parametrize(("listed", "code"), [(["pod-kill", "node-loss"], 0), (["node-loss"], 2)])
def test_scenarios_that_do_not_fit_the_target_are_not_applicable(tmp_path, listed, code):
    """Not applicable rows say why, never run, and count for neither verdict;
    a run where nothing applied is inconclusive, never a pass."""
    import yaml  # noqa: PLC0415

    from tests.integration.plugin_env import ROOT  # noqa: PLC0415

    data = yaml.safe_load((ROOT / "targets" / "reference.yaml").read_text())
    data["scenarios"] = listed
    (ROOT / "targets" / f".test-{tmp_path.name}.yaml").write_text(yaml.safe_dump(data))
    try:
        (tmp_path / "test_fit.py").write_text(NOT_LISTED)
        done = run_plugin(tmp_path, ["--target", str(ROOT / "targets" / f".test-{tmp_path.name}.yaml")])
    finally:
        (ROOT / "targets" / f".test-{tmp_path.name}.yaml").unlink()
    assert done.returncode == code, done.stdout + done.stderr
    summary = json.loads(next((tmp_path / "runs").glob("*/summary.json")).read_text())
    rows = {s["name"]: s for s in summary["scenarios"]}
    assert rows["full-outage"]["verdict"] == "not-applicable"
    assert "does not list it" in rows["full-outage"]["reasons"][0]
    assert rows["node-loss"]["verdict"] == "not-applicable"
    assert "has no variant 'no-such-variant'" in rows["node-loss"]["reasons"][0]
    if code == 0:
        assert rows["pod-kill"]["verdict"] == "pass"
    else:
        assert rows["pod-kill"]["verdict"] == "not-applicable"
