"""Three-valued verdicts, like Jepsen's valid / invalid / unknown.

* pass: every check held;
* fail: the stack misbehaved (data lost, SLO missed, no recovery). Never retried;
* inconclusive: the harness could not tell (a fault not proven, a read-back
  that could not run). Infrastructure trouble never reads as a product failure,
  and a product failure is never hidden behind infrastructure trouble;
* not-applicable: the scenario does not fit the target (a part it lacks, a
  topology too small for the fault), said with the reason; it neither passes
  nor fails the run, and a run with nothing but such rows is inconclusive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not-applicable"


NOT_RUN = "not-run"
RUNNING = "running"
FINISHED = "finished"
ABORTED = "aborted"


@dataclass
class ScenarioResult:
    """One scenario's verdict. It starts undecided ("not-run", inconclusive)
    and becomes "pass" only through :meth:`finish`, once the scenario's body
    ran to its end with no failed or undecided check: an interrupt, a timeout,
    a skip or a crash can never leave a pass behind."""

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

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)
        self.verdict = Verdict.FAIL

    def inconclusive(self, reason: str) -> None:
        self.reasons.append(reason)
        self.undecided = True
        if self.verdict is not Verdict.FAIL:
            self.verdict = Verdict.INCONCLUSIVE

    def not_applicable(self, why: str) -> None:
        """The scenario does not fit the target: stated, never a pass."""
        self.reasons.append(f"not applicable: {why}")
        self.verdict = Verdict.NOT_APPLICABLE
        self.status = FINISHED

    def start(self) -> None:
        self.status = RUNNING

    def finish(self) -> None:
        """The scenario ran to its end: pass unless a check failed or could not decide."""
        if self.status == ABORTED:
            return
        self.status = FINISHED
        if self.verdict is Verdict.INCONCLUSIVE and not self.undecided:
            self.verdict = Verdict.PASS

    def abort(self, why: str) -> None:
        """The scenario did not run to its end (interrupt, timeout, skip, crash)."""
        self.status = ABORTED
        self.inconclusive(f"aborted: {why}")

    def never_ran(self, why: str) -> None:
        if self.status == NOT_RUN:
            self.inconclusive(f"not run: {why}")

    def require(self, ok: bool, passed: str, failed: str) -> bool:
        """Record a product check: ``passed`` when it holds, a failure otherwise."""
        if ok:
            self.checks.append(passed)
        else:
            self.fail(failed)
        return ok

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data


def overall(results: list[ScenarioResult]) -> Verdict:
    return overall_of(r.verdict for r in results)


def overall_of(verdicts: Iterable[str]) -> Verdict:
    """The run's verdict from its scenarios' verdicts (plain strings are fine,
    so a report can be rebuilt from summary.json): any fail fails the run;
    otherwise anything undecided, or nothing at all, is inconclusive. Rows
    that do not apply to the target count for neither."""
    seen = {Verdict(v) for v in verdicts} - {Verdict.NOT_APPLICABLE}
    if Verdict.FAIL in seen:
        return Verdict.FAIL
    if Verdict.INCONCLUSIVE in seen or not seen:
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def exit_code(verdict: Verdict) -> int:
    """0 all pass, 1 any fail, 2 inconclusive (as for bad input: a person must look)."""
    return {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.INCONCLUSIVE: 2, Verdict.NOT_APPLICABLE: 2}[verdict]
