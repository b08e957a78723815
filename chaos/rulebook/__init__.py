"""The rule book: every rule a verdict rests on, each stated once.

* :mod:`~chaos.rulebook.states`: the states a key can be read back in, and
  which of them are damage (acknowledged data the stack did not keep);
* :mod:`~chaos.rulebook.verdicts`: the verdict enum, how check records add
  up to a scenario's verdict, scenarios' verdicts to the run's, and the
  run's verdict to its exit code;
* :mod:`~chaos.rulebook.checks`: the structured check record every checker
  returns and every report renders.

Plain data and the standard library only, so the plugin, the reports and
``compare`` import the same rules without pulling in a client library.
"""

from chaos.rulebook.checks import Check, Evidence, margin_of
from chaos.rulebook.states import DAMAGE, UNDECIDED, KeyState, is_damage
from chaos.rulebook.verdicts import (
    APPLIES,
    BAD_INPUT_EXIT,
    Verdict,
    exit_code,
    overall_of,
    run_exit_code,
    scenario_verdict,
)

__all__ = [
    "APPLIES",
    "BAD_INPUT_EXIT",
    "DAMAGE",
    "UNDECIDED",
    "Check",
    "Evidence",
    "KeyState",
    "Verdict",
    "exit_code",
    "is_damage",
    "margin_of",
    "overall_of",
    "run_exit_code",
    "scenario_verdict",
]
