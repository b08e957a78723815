"""The check record: what every checker returns, summary.json carries and the reports render.

Decisions read its fields (``verdict``, ``evidence.observed``), never its
text: ``reason`` is for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.rulebook.verdicts import Verdict

MAX, MIN = "max", "min"  # a limit's kind: at most, at least


@dataclass(frozen=True)
class Evidence:
    """What a check rests on."""

    observed: bool = True
    """False when the harness saw nothing either way (a probe that failed or
    hung, a section never sampled): such a check can only be inconclusive."""
    spans: tuple[tuple[float, float], ...] = ()
    """The timeline windows read, in timeline seconds (``t``)."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """How many records of each kind the value was computed from."""
    last_seen: str = ""
    """For a wait: what its predicate said last."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "observed": self.observed,
            "spans": [list(s) for s in self.spans],
            "counts": dict(self.counts),
            "last_seen": self.last_seen,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        spans = tuple((float(a), float(b)) for a, b in data.get("spans") or ())
        counts = {str(k): int(v) for k, v in (data.get("counts") or {}).items()}
        return cls(bool(data.get("observed", True)), spans, counts, str(data.get("last_seen", "")))


def margin_of(value: float | None, limit: float | None, kind: str | None) -> float | None:
    """How far inside the limit the value stayed (negative: past it); None
    without a limit or a value."""
    if value is None or limit is None or not math.isfinite(value):
        return None
    return value - limit if kind == MIN else limit - value


@dataclass(frozen=True)
class Check:
    """One check of a scenario: its verdict and what it rests on."""

    name: str
    verdict: Verdict
    reason: str
    value: float | None = None
    limit: float | None = None
    kind: str | None = None  # MAX or MIN when there is a limit
    unit: str = ""
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def margin(self) -> float | None:
        return margin_of(self.value, self.limit, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "value": self.value,
            "limit": self.limit,
            "kind": self.kind,
            "unit": self.unit,
            "margin": None if self.margin is None else round(self.margin, 6),
            "evidence": self.evidence.to_dict(),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        def number(key: str) -> float | None:
            value = data.get(key)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        kind = data.get("kind")
        return cls(
            name=str(data["name"]),
            verdict=Verdict(str(data["verdict"])),
            reason=str(data.get("reason", "")),
            value=number("value"),
            limit=number("limit"),
            kind=str(kind) if kind in (MAX, MIN) else None,
            unit=str(data.get("unit", "")),
            evidence=Evidence.from_dict(data.get("evidence") or {}),
        )
