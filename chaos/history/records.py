"""The History and the records it is made of: plain, immutable data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos.ledger.records import Write

FRESH_S = 2.0
"""A sampled reading is evidence only when at most this old: the sampling
period (1 s) plus a second for the probe's own round trip."""


@dataclass(frozen=True)
class Sample:
    """One observation of the sampler: per section (minio, pods, hpa, load,
    alerts) what its probe returned."""

    t: float
    wall: float
    parts: Mapping[str, Mapping[str, Any]]

    def part(self, section: str) -> Mapping[str, Any]:
        return self.parts.get(section) or {}

    def fresh(self, section: str) -> Mapping[str, Any] | None:
        """The section's reading when it is evidence: no error and at most
        FRESH_S old (a hanging probe's last answer is not); None otherwise."""
        part = self.part(section)
        age = part.get("age_s")
        ok = not part.get("error") and isinstance(age, int | float) and age <= FRESH_S
        return part if ok else None


@dataclass(frozen=True)
class Event:
    t: float
    wall: float
    name: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class LoadRow:
    """One row of the load's read history (Locust's cumulative GET counts)."""

    at: float
    total_requests: int
    total_failures: int


@dataclass(frozen=True)
class History:
    """Everything one scenario recorded. Checkers read it; nobody writes it."""

    scenario: str
    samples: tuple[Sample, ...] = ()
    events: tuple[Event, ...] = ()
    writes: tuple[Write, ...] = ()
    reads: tuple[LoadRow, ...] = ()
    """The load's GETs, cumulative, oldest first."""
    missing_reads: int | None = None
    """GETs answered 404 for a key acknowledged and never deleted; None without a load."""
    wall_offset: float = 0.0
    """``wall - t`` of the timeline, to show wall-clock windows in timeline seconds."""

    def to_t(self, wall: float) -> float:
        return round(wall - self.wall_offset, 3)

    def span(self, start_wall: float, end_wall: float) -> tuple[float, float]:
        return (self.to_t(start_wall), self.to_t(end_wall))

    def writes_between(self, start_wall: float, end_wall: float) -> list[Write]:
        return [w for w in self.writes if start_wall <= w.at <= end_wall]
