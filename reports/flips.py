"""Verdict flips: the same stack, run again, judged differently.

A gate that passes a stack on Monday and fails it on Tuesday with nothing
changed is itself a finding: either the stack fails now and then (a race
the faults only sometimes hit, such as a delete that comes back), or a
check is noisy. Runs count as the same stack when their target and profile
match; a scenario flips when, among those runs, it has more than one of
pass / fail / inconclusive (rows that did not apply or did not run are
left out).
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.summary import Run

DECIDED = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Flip:
    target: str
    profile: str
    scenario: str
    runs: dict[str, list[str]]
    """Verdict -> the runs (folder names, oldest first) that gave it."""

    def text(self) -> str:
        seen = "; ".join(f"{verdict} in {', '.join(names)}" for verdict, names in sorted(self.runs.items()))
        return f"{self.scenario} ({self.target or 'reference'}, profile {self.profile or '?'}): {seen}"


def flips(runs: list[Run]) -> list[Flip]:
    """Every scenario whose verdict differs between runs of the same target and profile."""
    groups: dict[tuple[str, str], dict[str, dict[str, list[str]]]] = {}
    for run in runs:
        key = (run.settings.get("target") or "", run.settings.get("profile") or "")
        per_scenario = groups.setdefault(key, {})
        for scenario in run.scenarios:
            verdict = str(scenario.get("verdict"))
            if verdict in DECIDED:
                per_scenario.setdefault(str(scenario["name"]), {}).setdefault(verdict, []).append(run.name)
    return [
        Flip(target, profile, name, verdicts)
        for (target, profile), per_scenario in sorted(groups.items())
        for name, verdicts in sorted(per_scenario.items())
        if len(verdicts) > 1
    ]
