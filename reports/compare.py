"""A run against a baseline run (``python -m reports compare BASELINE RUN``).

For every scenario and measurement: the baseline's value, this run's, the
change, and whether it is a regression. The comparison's outcome is a verdict
like a run's, with the suite's exit codes (chaos.rulebook.exit_code): 0 nothing
regressed, 1 a regression or data loss, 2 bad input (a run folder without a
readable summary.json) -- the comparison could not decide.

Tolerances (defaults, each overridable by a flag):

* durations and latencies (unit s or ms, and any measurement whose SLO says
  "at most"/"at least") regress when worse than ``factor`` (1.5) times the
  baseline AND by more than ``min_seconds`` (5 s) or ``min_ms`` (50 ms):
  a 2 s detection turning into 4 s is jitter on a kind cluster, not news;
* ratios (read availability, error ratio) regress when worse by more than
  ``ratio_points`` (0.02, i.e. 2 percentage points);
* a measurement the baseline observed and this run never did, and a scenario
  verdict that got worse (pass -> fail or inconclusive), are regressions;
* counts without a direction (requests made, replicas seen) are shown, never judged.

``on_regression`` says what a regression does: "fail" (default: exit 1) or
"warn" (reported, exit 0). Data loss -- acknowledged keys in any state the
rule book calls damage (chaos.rulebook.DAMAGE: lost, corrupted, stale,
resurrected, missing from the listing, refused) in a scenario that did not
pass -- fails the comparison whatever
``on_regression`` says. A negative control passes *because* its checker found
the loss, so its loss is expected and not counted.

Tolerances come from flags only: the SLO file (chaos.slo) refuses keys it does
not know, so a ``regression:`` section there would break the suite's --slo-file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chaos.rulebook import Verdict, exit_code
from reports.summary import (
    BADGES,
    DAMAGE,
    RATIO,
    Measurement,
    Run,
    columns,
    damaged,
    difference,
    ledger_counts,
    md_table,
    measurements,
)

# Verdicts from best to worst, to tell when a scenario's verdict got worse.
RANK = {Verdict.PASS.value: 0, Verdict.NOT_APPLICABLE.value: 0, Verdict.INCONCLUSIVE.value: 1, Verdict.FAIL.value: 2}

OK, INFO, REGRESSION, DATA_LOSS = "ok", "info", "regression", "data loss"


@dataclass(frozen=True)
class Tolerance:
    factor: float = 1.5
    """Durations, latencies and counts with a direction: worse than this many times the baseline."""
    min_seconds: float = 5.0
    """...and worse by more than this many seconds (unit s)."""
    min_ms: float = 50.0
    """...or by more than this many milliseconds (unit ms)."""
    ratio_points: float = 0.02
    """Ratios (0-1): worse by more than this share (0.02 = 2 percentage points)."""
    on_regression: str = "fail"
    """"fail": a regression fails the comparison (exit 1); "warn": only reported."""

    def describe(self) -> str:
        return (
            f"durations and latencies regress when worse than {self.factor:g}x the baseline and by more than "
            f"{self.min_seconds:g} s ({self.min_ms:g} ms for latencies); ratios when worse by more than "
            f"{self.ratio_points * 100:g} percentage points; a verdict that got worse and a value no longer "
            f"observed are regressions; regressions {'fail' if self.on_regression == 'fail' else 'only warn'} "
            f"(--on-regression {self.on_regression}); data loss always fails"
        )


@dataclass(frozen=True)
class Finding:
    scenario: str
    what: str
    baseline: str
    current: str
    change: str
    status: str  # OK, INFO, REGRESSION or DATA_LOSS
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    baseline: Run
    run: Run
    tolerance: Tolerance
    findings: list[Finding]

    @property
    def regressions(self) -> list[Finding]:
        return [f for f in self.findings if f.status == REGRESSION]

    @property
    def losses(self) -> list[Finding]:
        return [f for f in self.findings if f.status == DATA_LOSS]

    @property
    def verdict(self) -> Verdict:
        failing = self.losses or (self.regressions if self.tolerance.on_regression == "fail" else [])
        return Verdict.FAIL if failing else Verdict.PASS

    @property
    def exit_code(self) -> int:
        return exit_code(self.verdict)

    def headline(self) -> str:
        regressions, losses = len(self.regressions), len(self.losses)
        parts = []
        if losses:
            parts.append(f"data lost in {losses} scenario{'s' * (losses != 1)}")
        if regressions:
            effect = "fails the comparison" if self.tolerance.on_regression == "fail" else "a warning only"
            parts.append(f"{regressions} regression{'s' * (regressions != 1)} ({effect})")
        return "; ".join(parts) or "no regression, no data lost"


def _change(base: float, now: float, unit: str) -> str:
    delta = now - base
    sign = "+" if delta >= 0 else "-"
    shown = f"{sign}{difference(delta, unit)}"
    if unit != RATIO and base > 0:
        shown += f" ({now / base:.2f}x)"
    return shown


def _worse_beyond(base: float, now: float, unit: str, direction: str, tol: Tolerance) -> bool:
    worse_by = now - base if direction == "max" else base - now
    if worse_by <= 0:
        return False
    if unit == RATIO:
        return worse_by > tol.ratio_points
    floor = {"s": tol.min_seconds, "ms": tol.min_ms}.get(unit, 0.0)
    if worse_by <= floor:
        return False
    if direction == "max":
        return base <= 0 or now / base > tol.factor
    return now <= 0 or base / now > tol.factor


def judge(scenario: str, base: Measurement | None, now: Measurement | None, tol: Tolerance) -> Finding:
    """One measurement of a scenario in both runs."""
    known = now or base
    if known is None:
        raise ValueError("judge() needs the measurement from at least one run")
    direction = known.direction
    base_shown = base.shown if base else "not measured"
    now_shown = now.shown if now else "not measured"
    slo_note = "outside its SLO limit" if now is not None and now.ok is False else ""
    if base is None or now is None:
        return Finding(scenario, known.words, base_shown, now_shown, "", INFO, "measured in one run only")
    if base.value is None or now.value is None:
        if base.value is not None and direction is not None:
            return Finding(scenario, now.words, base_shown, now_shown, "", REGRESSION, "no longer observed")
        return Finding(scenario, now.words, base_shown, now_shown, "", INFO, slo_note)
    change = _change(base.value, now.value, now.unit)
    if direction is None:
        return Finding(scenario, now.words, base_shown, now_shown, change, INFO, "")
    if _worse_beyond(base.value, now.value, now.unit, direction, tol):
        note = "worse beyond the tolerance" + (f"; {slo_note}" if slo_note else "")
        return Finding(scenario, now.words, base_shown, now_shown, change, REGRESSION, note)
    return Finding(scenario, now.words, base_shown, now_shown, change, OK, slo_note)


def _loss_words(scenario: dict[str, Any]) -> str:
    ledger = scenario.get("ledger")
    if not isinstance(ledger, dict):
        return "no ledger"
    c = ledger_counts(ledger)
    # The first three always, so a reader sees them checked; any other damage when counted.
    shown = [s for s in DAMAGE if s in ("lost", "corrupted", "stale") or c[s]]
    return ", ".join(f"{c[s]:,} {s.replace('_', ' ')}" for s in shown) + f" of {c['acknowledged']:,}"


def compare(baseline: Run, run: Run, tol: Tolerance | None = None) -> Comparison:
    tol = tol or Tolerance()
    findings: list[Finding] = []
    before = {s["name"]: s for s in baseline.scenarios}
    names = [s["name"] for s in run.scenarios] + [n for n in before if n not in {s["name"] for s in run.scenarios}]
    now_by_name = {s["name"]: s for s in run.scenarios}
    for name in names:
        old, new = before.get(name), now_by_name.get(name)
        if new is None:
            findings.append(Finding(name, "scenario", old["verdict"] if old else "", "not run", "", INFO))
            continue
        if old is None:
            findings.append(Finding(name, "scenario", "not run", new["verdict"], "", INFO, "no baseline"))
        elif RANK[new["verdict"]] > RANK[old["verdict"]]:
            findings.append(Finding(name, "verdict", old["verdict"], new["verdict"], "", REGRESSION, "verdict worse"))
        if damaged(new) and new["verdict"] != Verdict.PASS.value:
            was = _loss_words(old) if old else "not run"
            findings.append(Finding(name, "write ledger", was, _loss_words(new), "", DATA_LOSS, "acknowledged writes"))
        elif damaged(new):
            findings.append(
                Finding(name, "write ledger", "", _loss_words(new), "", INFO, "expected loss caught (negative control)")
            )
        old_m = {m.name: m for m in measurements(old)} if old else {}
        new_m = {m.name: m for m in measurements(new)}
        for key in [*new_m, *(k for k in old_m if k not in new_m)]:
            findings.append(judge(name, old_m.get(key), new_m.get(key), tol))
    return Comparison(baseline, run, tol, findings)


MARKS = {OK: "", INFO: "", REGRESSION: "❌ regression", DATA_LOSS: "❌ data loss"}


def _status(finding: Finding, tol: Tolerance, *, plain: bool) -> str:
    if finding.status == REGRESSION and tol.on_regression == "warn":
        mark = "warning: regression" if plain else "⚠️ regression (warning)"
    elif plain:
        mark = finding.status.upper() if finding.status in (REGRESSION, DATA_LOSS) else ""
    else:
        mark = MARKS[finding.status]
    return ": ".join(x for x in (mark, finding.note) if x)


def _rows(c: Comparison, *, plain: bool) -> list[list[str]]:
    return [
        [f.scenario, f.what, f.baseline, f.current, f.change, _status(f, c.tolerance, plain=plain)] for f in c.findings
    ]


HEAD = ("scenario", "measurement", "baseline", "this run", "change", "")


def markdown(c: Comparison) -> str:
    out = [
        f"## Compared with baseline `{c.baseline.name}` ({BADGES[c.baseline.verdict.value]})",
        "",
        f"This run `{c.run.name}`: {BADGES[c.run.verdict.value]}. **{c.headline()}.**",
        "",
        *md_table(HEAD, _rows(c, plain=False)),
        f"Tolerances: {c.tolerance.describe()}.",
    ]
    return "\n".join(out) + "\n"


def text(c: Comparison) -> str:
    out = [
        f"baseline {c.baseline.name} ({c.baseline.verdict.value}) -> this run {c.run.name} ({c.run.verdict.value})",
        f"{c.headline()}",
        "",
        *columns([list(HEAD), *_rows(c, plain=True)], indent=""),
        "",
        f"tolerances: {c.tolerance.describe()}",
    ]
    return "\n".join(out) + "\n"
