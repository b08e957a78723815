"""Values read from the sampler's records (MinIO, pods, HPA, load, alerts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chaos.checkers.limits import Measured
from chaos.history import History
from chaos.rulebook import Evidence


def first_sample_after(
    history: History, since_wall: float, section: str, predicate: Callable[[Mapping[str, Any]], bool]
) -> Measured:
    """Seconds from ``since_wall`` to the first sample whose ``section``
    satisfies ``predicate``. Only evidence counts: a reading that errored or
    is older than FRESH_S (a hanging probe's last answer) is skipped."""
    after = [s for s in history.samples if s.wall >= since_wall]
    fresh = [s for s in after if s.fresh(section) is not None]
    counts = {"samples": len(after), "fresh": len(fresh)}
    for sample in fresh:
        part = sample.fresh(section)
        if part is not None and predicate(part):
            span = (history.to_t(since_wall), sample.t)
            return Measured(round(sample.wall - since_wall, 1), Evidence(True, (span,), counts))
    last = history.samples[-1].t if history.samples else history.to_t(since_wall)
    return Measured(None, Evidence(bool(fresh), ((history.to_t(since_wall), last),), counts))


def max_sampled(history: History, section: str, key: str) -> Measured:
    """The largest number the samples recorded for ``section``'s ``key``."""
    values = [s.part(section)[key] for s in history.samples if isinstance(s.part(section).get(key), int | float)]
    counts = {"samples": len(values)}
    return Measured(float(max(values)) if values else None, Evidence(bool(values), (), counts))
