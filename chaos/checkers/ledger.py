"""The write ledger's verdict: every acknowledged key read back as its operations left it."""

from __future__ import annotations

from collections.abc import Iterable

from chaos.ledger import LedgerReport
from chaos.rulebook import Check, Evidence, Verdict

NAME = "ledger"


def ledger_checks(report: LedgerReport, *, expect_loss: bool = False, gaps: Iterable[str] = ()) -> list[Check]:
    """The read-back's checks. ``expect_loss`` is for negative controls: there
    the scenario passes only when the checker finds the loss the known-bad
    stack must cause. ``gaps`` are the load's own notes of ledger entries it
    could not write: the ledger is then incomplete, the verdict undecided."""
    counts = {str(k): int(v) for k, v in report.counts.items()}
    counts["acknowledged"] = report.acknowledged
    evidence = Evidence(report.acknowledged > 0, (), counts)
    checked = report.checked
    out = [
        Check(f"{NAME}.complete", Verdict.INCONCLUSIVE, f"the ledger is incomplete: {gap}", evidence=evidence)
        for gap in gaps
    ]
    if report.acknowledged == 0:
        why = "no write was acknowledged: the load never reached the stack"
        out.append(Check(NAME, Verdict.INCONCLUSIVE, why, evidence=evidence))
    elif expect_loss:
        caught = report.damaged > 0
        why = (
            f"the checker caught the known-bad stack: {report.damage_text()} (of {checked} acknowledged keys)"
            if caught
            else "the checker found no loss on a stack that must lose data: the suite cannot be trusted"
        )
        out.append(Check(NAME, Verdict.PASS if caught else Verdict.FAIL, why, float(report.damaged), evidence=evidence))
    else:
        # The pass text claims only what was read: unreadable keys are
        # neither intact nor damaged, and make the verdict inconclusive below.
        kept = report.damaged == 0
        why = (
            f"{report.intact} of {checked} keys read back as their acknowledged operations left them, none "
            "lost, corrupted, stale, resurrected, missing from the listing or refused"
            if kept
            else f"{report.damage_text()} (of {checked} acknowledged keys; {report.intact} intact)"
        )
        out.append(
            Check(NAME, Verdict.PASS if kept else Verdict.FAIL, why, float(report.damaged), 0.0, "max", "", evidence)
        )
    if report.unreadable:
        why = f"{report.unreadable} of {checked} acknowledged keys could not be read back by the harness"
        out.append(Check(f"{NAME}.readable", Verdict.INCONCLUSIVE, why, float(report.unreadable), evidence=evidence))
    if report.listing and report.listing["error"]:
        why = f"the listing check could not be made: {report.listing['error']}"
        out.append(Check(f"{NAME}.listing", Verdict.INCONCLUSIVE, why, evidence=evidence))
    return out
