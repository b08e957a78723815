"""The run's closing rows and exit code: what cleanup left and what the verdicts add up to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.rulebook import run_exit_code as rulebook_exit_code
from chaos.verdict import ScenarioResult


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


def run_exit_code(
    results: list[ScenarioResult], exitstatus: int, infra_failed: bool, *, report_written: bool = True
) -> int:
    """The rule book's exit code (chaos.rulebook.run_exit_code) from the rows'
    verdicts and pytest's outcome for checks outside the scenarios (smoke)."""
    return rulebook_exit_code(
        (r.verdict for r in results),
        others_passed=exitstatus == pytest.ExitCode.OK,
        others_only_failed=exitstatus == pytest.ExitCode.TESTS_FAILED,
        harness_trouble=infra_failed,
        report_written=report_written,
    )
