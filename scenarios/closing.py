"""The run's closing rows and exit code: what cleanup left and what the verdicts add up to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.verdict import ScenarioResult, exit_code, overall


def cleanup_result(run_dir: Path, problems: list[str], stopped: int, started: list[str]) -> ScenarioResult:
    """The run's own cleanup as a row of the report: a leak or a failed cleanup
    makes the run inconclusive (exit 2), never a pass."""
    result = ScenarioResult("run-cleanup", "Cleanup and leak audit after the run")
    result.start()
    for problem in problems:
        result.inconclusive(problem)
    if stopped or started:
        result.inconclusive(f"left running at the end: {stopped} Locust run(s), stopped nodes {started} (now reverted)")
    audit_file = run_dir / "leak-audit.json"
    if audit_file.exists():
        audit = json.loads(audit_file.read_text())
        if audit.get("clean"):
            result.checks.append("leak audit clean: " + ", ".join(f"{k}={v}" for k, v in audit.items()))
        else:
            result.inconclusive(f"leak audit found leftovers: {audit}")
    result.finish()
    return result


def run_exit_code(results: list[ScenarioResult], exitstatus: int, infra_failed: bool) -> int:
    """0 all pass, 1 the stack failed, 2 inconclusive: from the verdicts, and
    from pytest's outcome for checks outside the scenarios (smoke)."""
    code = exit_code(overall(results)) if results else 0
    if code == 0 and exitstatus != pytest.ExitCode.OK:
        code = 2 if infra_failed or exitstatus != pytest.ExitCode.TESTS_FAILED else 1
    return code
