"""Three-valued verdicts, like Jepsen's valid / invalid / unknown, and the exit code.

* pass: every check held;
* fail: the stack misbehaved (data lost, SLO missed, no recovery). Never retried;
* inconclusive: the harness could not tell (a fault not proven, a read-back
  that could not run, a wait whose probe gave no evidence). Infrastructure
  trouble never reads as a product failure, and a product failure is never
  hidden behind infrastructure trouble;
* not-applicable: the check or scenario does not fit the target, said with
  the reason; it neither passes nor fails, and a run with nothing but such
  rows is inconclusive.

Exit codes: 0 all pass, 1 any fail, 2 inconclusive or bad input (a person must look).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not-applicable"


PASS_EXIT, FAIL_EXIT, INCONCLUSIVE_EXIT = 0, 1, 2
BAD_INPUT_EXIT = INCONCLUSIVE_EXIT
"""Bad input (a flag, a target or SLO file, a run folder): nothing could be judged."""


APPLIES = "applies"
"""The name of the check record that says a whole scenario does not fit the target."""


class _Judged(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def verdict(self) -> Verdict: ...


def scenario_verdict(checks: Iterable[_Judged], *, finished: bool) -> Verdict:
    """A scenario's verdict from its check records, in the order they were
    made. A failed check fails it, and nothing after undoes that; an
    undecided one makes it inconclusive unless it failed; the record that the
    scenario does not fit the target (APPLIES) makes it not applicable, unless
    a later check fails or cannot decide. It passes only when it ``finished``
    (its body ran to its end) with no failed or undecided check: an
    interrupt, a timeout, a skip or a crash never leaves a pass behind."""
    verdict, undecided = Verdict.INCONCLUSIVE, False
    for check in checks:
        if check.verdict is Verdict.FAIL:
            verdict = Verdict.FAIL
        elif check.verdict is Verdict.INCONCLUSIVE:
            undecided = True
            if verdict is not Verdict.FAIL:
                verdict = Verdict.INCONCLUSIVE
        elif check.verdict is Verdict.NOT_APPLICABLE and check.name == APPLIES:
            verdict = Verdict.NOT_APPLICABLE
    if finished and verdict is Verdict.INCONCLUSIVE and not undecided:
        return Verdict.PASS
    return verdict


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
    return {
        Verdict.PASS: PASS_EXIT,
        Verdict.FAIL: FAIL_EXIT,
        Verdict.INCONCLUSIVE: INCONCLUSIVE_EXIT,
        Verdict.NOT_APPLICABLE: INCONCLUSIVE_EXIT,
    }[verdict]


def run_exit_code(
    verdicts: Iterable[str],
    *,
    others_passed: bool = True,
    others_only_failed: bool = True,
    harness_trouble: bool = False,
    report_written: bool = True,
) -> int:
    """The run's exit code: from its rows' verdicts, and, when those all pass
    (or there are none), from the checks outside the rows (pytest's own
    outcome): those failing is a product failure (1), unless the harness had
    trouble or they ended in anything but a plain failure (2). A run whose
    report could not be written is never a pass or a plain fail: a person must look."""
    if not report_written:
        return INCONCLUSIVE_EXIT
    shown = list(verdicts)
    code = exit_code(overall_of(shown)) if shown else PASS_EXIT
    if code == PASS_EXIT and not others_passed:
        code = INCONCLUSIVE_EXIT if harness_trouble or not others_only_failed else FAIL_EXIT
    return code
