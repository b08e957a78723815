"""The rule book: one verdict enum, one damage rule, one exit code, used by the plugin, the reports and compare."""

import pytest

from chaos import ledger
from chaos.rulebook import (
    APPLIES,
    DAMAGE,
    Check,
    Evidence,
    KeyState,
    Verdict,
    exit_code,
    is_damage,
    overall_of,
    run_exit_code,
    scenario_verdict,
)
from chaos.verdict import ScenarioResult
from reports import summary

P, F, UNDECIDED, NA = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE


def test_one_damage_rule_for_the_ledger_and_the_reports():
    assert KeyState.REFUSED in DAMAGE and is_damage("refused")
    assert KeyState.UNREADABLE not in DAMAGE and not is_damage("stable")
    assert ledger.DAMAGE is DAMAGE
    assert tuple(s.value for s in DAMAGE) == summary.DAMAGE
    assert tuple(s.value for s in KeyState) == summary.LEDGER_STATES
    refused = {"name": "x", "verdict": "fail", "ledger": {"counts": {"stable": 5, "refused": 2}}}
    assert summary.damaged(refused) == 2


@pytest.mark.parametrize(
    ("checks", "finished", "verdict"),
    [
        ([], False, UNDECIDED),  # not run, or still running
        ([], True, P),  # ran to its end, nothing failed (a smoke check)
        ([P, P], True, P),
        ([P, P], False, UNDECIDED),  # aborted: never a pass
        ([P, F, UNDECIDED], True, F),
        ([P, UNDECIDED], True, UNDECIDED),
        ([(APPLIES, NA)], False, NA),
        ([("alert_serverOffline", NA), P], True, P),  # one check that does not apply is not the scenario
        ([F, (APPLIES, NA)], False, NA),  # found not to fit the target: stated, not judged
        ([(APPLIES, NA), F], False, F),
        ([(APPLIES, NA), UNDECIDED], False, UNDECIDED),
    ],
)
def test_a_scenarios_verdict_from_its_check_records(checks, finished, verdict):
    records = [Check(*c, "") if isinstance(c, tuple) else Check("c", c, "") for c in checks]
    assert scenario_verdict(records, finished=finished) is verdict


@pytest.mark.parametrize(
    ("verdicts", "others_passed", "only_failed", "trouble", "code"),
    [
        ([P, NA], True, True, False, 0),
        ([P, F], True, True, False, 1),
        ([P, UNDECIDED], True, True, False, 2),
        ([NA], True, True, False, 2),
        ([], True, True, False, 0),
        ([P], False, True, False, 1),  # a smoke check failed: the stack failed
        ([P], False, True, True, 2),  # ...but the harness had trouble too
        ([P], False, False, False, 2),  # pytest ended some other way (interrupted, usage error)
        ([F], False, False, True, 1),  # a row's failure is never hidden
    ],
)
def test_the_runs_exit_code(verdicts, others_passed, only_failed, trouble, code):
    got = run_exit_code(verdicts, others_passed=others_passed, others_only_failed=only_failed, harness_trouble=trouble)
    assert got == code
    assert run_exit_code(verdicts, report_written=False) == 2


def test_exit_codes_follow_the_overall_verdict():
    assert [exit_code(overall_of(v)) for v in (["pass"], ["pass", "fail"], ["inconclusive"], [])] == [0, 1, 2, 2]


def test_check_records_survive_summary_json():
    check = Check(
        "time_to_healed_s",
        F,
        "time_to_healed_s = 310s > 300s",
        310.0,
        300.0,
        "max",
        "s",
        Evidence(True, ((12.0, 322.0),), {"samples": 300}, ""),
    )
    data = check.to_dict()
    assert data["margin"] == -10.0
    assert Check.from_dict(data) == check


def test_a_results_verdict_agrees_with_its_records():
    result = ScenarioResult("pod-kill")
    result.start()
    result.require(True, "fault proven", "")
    result.inconclusive("the listing check could not be made", "ledger.listing")
    result.finish()
    assert result.verdict is scenario_verdict(result.records, finished=True) is UNDECIDED
    result.fail("time_to_healed_s: never observed", "time_to_healed_s")
    assert result.verdict is scenario_verdict(result.records, finished=True) is F
    assert [r["verdict"] for r in result.to_dict()["records"]] == ["pass", "inconclusive", "fail"]
