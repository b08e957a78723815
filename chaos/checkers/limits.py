"""A measured value held to an SLO limit: the rule every limit check follows."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaos.rulebook import Check, Evidence, Verdict
from chaos.rulebook.checks import MAX, MIN


@dataclass(frozen=True)
class Measured:
    """A value read from a History, with what it rests on; ``value`` None when
    the History holds nothing to compute it from."""

    value: float | None
    evidence: Evidence = field(default_factory=Evidence)


def against_limit(
    name: str,
    value: float | None,
    limit: float,
    *,
    unit: str = "s",
    floor: bool = False,
    evidence: Evidence | None = None,
) -> Check:
    """At most ``limit`` (times, ratios of errors), or at least ``limit`` when
    ``floor`` (availability). A value never observed fails: the stack did not
    do within the run what the limit asks."""
    kind = MIN if floor else MAX
    seen = evidence if evidence is not None else Evidence(observed=value is not None)
    if value is None:
        return Check(
            name, Verdict.FAIL, f"{name}: never observed (limit {limit:g}{unit})", None, limit, kind, unit, seen
        )
    ok = value >= limit if floor else value <= limit
    good, bad = (">=", "<") if floor else ("<=", ">")
    words = f"{name} = {value:g}{unit} {good if ok else bad} {limit:g}{unit}"
    return Check(name, Verdict.PASS if ok else Verdict.FAIL, words, value, float(limit), kind, unit, seen)
