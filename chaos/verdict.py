"""One scenario's result: its verdict as the checks so far make it, and what a
report shows of it. The rules a verdict follows (the verdict enum, how
verdicts add up, the exit code) are the rule book's (chaos.rulebook); this
module only keeps the record of one scenario.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chaos.rulebook import APPLIES, Check, Verdict, exit_code, overall_of, scenario_verdict

__all__ = ["ScenarioResult", "Verdict", "exit_code", "overall", "overall_of"]

NOT_RUN = "not-run"
RUNNING = "running"
FINISHED = "finished"
ABORTED = "aborted"


@dataclass
class ScenarioResult:
    """One scenario's verdict: always the rule book's verdict of its check
    records (chaos.rulebook.scenario_verdict). It starts undecided ("not-run",
    inconclusive) and becomes "pass" only through :meth:`finish`, once the
    scenario's body ran to its end with no failed or undecided check."""

    name: str
    title: str = ""
    verdict: Verdict = Verdict.INCONCLUSIVE
    status: str = NOT_RUN
    reasons: list[str] = field(default_factory=list)
    # Named numbers measured in the run (seconds, ratios, counts), for the report.
    measurements: dict[str, float | int | None] = field(default_factory=dict)
    # The SLO limit each checked measurement was held to, e.g.
    # {"time_to_healed_s": {"limit": 300.0, "kind": "max", "unit": "s"}}: kind "max"
    # is "at most", "min" is "at least"; unit "" is a ratio or a count. asdict()
    # in to_dict() carries it into summary.json; older summaries have no limits.
    limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    ledger: dict[str, Any] | None = None
    proofs: list[dict[str, Any]] = field(default_factory=list)
    # Timeline seconds of the scenario's start and end.
    t_start: float = 0.0
    t_end: float = 0.0
    # Static findings (the preflight row): check, severity, object, field, why, fix.
    findings: list[dict[str, str]] = field(default_factory=list)
    # Passing checks, so a reader sees what was verified, not only what failed.
    checks: list[str] = field(default_factory=list)
    # The stack's pod logs of the scenario's window, relative to the run folder.
    logs: list[str] = field(default_factory=list)
    # Evidence files a check saved (e.g. each drive's view of a key that came
    # back), relative to the run folder.
    evidence: list[str] = field(default_factory=list)
    # True once any check could not decide; finish() then cannot turn it into a pass.
    undecided: bool = False
    # Every check as a structured record (chaos.rulebook.Check); ``reasons`` and
    # ``checks`` above are their words, kept for readers of older summaries.
    records: list[Check] = field(default_factory=list)
    # finish() was called: the body ran to its end (not_applicable() finishes a row without that).
    _finished: bool = field(default=False, repr=False)

    def record(self, check: Check) -> Check:
        """Add a check record; its verdict counts as fail() / inconclusive() /
        a passing check would. A check that does not apply changes nothing."""
        self.records.append(check)
        if check.verdict in (Verdict.FAIL, Verdict.INCONCLUSIVE):
            self.reasons.append(check.reason)
            self.undecided = self.undecided or check.verdict is Verdict.INCONCLUSIVE
        else:
            self.checks.append(check.reason)
        self._judge()
        return check

    def _judge(self) -> None:
        self.verdict = scenario_verdict(self.records, finished=self._finished)

    def fail(self, reason: str, name: str = "") -> None:
        self.record(Check(name, Verdict.FAIL, reason))

    def inconclusive(self, reason: str, name: str = "") -> None:
        self.record(Check(name, Verdict.INCONCLUSIVE, reason))

    def not_applicable(self, why: str) -> None:
        """The scenario does not fit the target: stated, never a pass."""
        self.records.append(Check(APPLIES, Verdict.NOT_APPLICABLE, why))
        self.reasons.append(f"not applicable: {why}")
        self.status = FINISHED
        self._judge()

    def start(self) -> None:
        self.status = RUNNING

    def finish(self) -> None:
        """The scenario ran to its end: pass unless a check failed or could not decide."""
        if self.status == ABORTED:
            return
        self.status = FINISHED
        self._finished = True
        self._judge()

    def abort(self, why: str) -> None:
        """The scenario did not run to its end (interrupt, timeout, skip, crash)."""
        self.status = ABORTED
        self.inconclusive(f"aborted: {why}")

    def never_ran(self, why: str) -> None:
        if self.status == NOT_RUN:
            self.inconclusive(f"not run: {why}")

    def require(self, ok: bool, passed: str, failed: str, name: str = "") -> bool:
        """Record a product check: ``passed`` when it holds, a failure otherwise."""
        self.record(Check(name, Verdict.PASS if ok else Verdict.FAIL, passed if ok else failed))
        return ok

    def to_dict(self) -> dict[str, Any]:
        records = [c.to_dict() for c in self.records]
        data = asdict(self, dict_factory=lambda items: {k: v for k, v in items if k not in ("records", "_finished")})
        data["verdict"] = self.verdict.value
        data["records"] = records
        return data


def overall(results: list[ScenarioResult]) -> Verdict:
    return overall_of(r.verdict for r in results)
