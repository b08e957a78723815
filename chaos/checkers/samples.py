"""Values read from the sampler's records (MinIO, pods, HPA, load, alerts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chaos.checkers.limits import Measured
from chaos.history import History
from chaos.rulebook import Check, Evidence, Verdict
from chaos.rulebook.checks import MAX


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


def time_to_sample(
    history: History,
    name: str,
    since_wall: float,
    section: str,
    predicate: Callable[[Mapping[str, Any]], bool],
    *,
    limit: float,
) -> Check:
    """A wait judged on the record: a fresh ``section`` reading satisfying
    ``predicate`` within ``limit`` seconds of ``since_wall``. Not within the
    limit: a failure when fresh readings show the condition false, and
    inconclusive when there was no fresh reading at all in that time (the
    probe failed or hung: the harness was blind)."""
    end = since_wall + limit
    inside = [s for s in history.samples if since_wall <= s.wall <= end]
    fresh = [s for s in inside if s.fresh(section) is not None]
    counts = {"samples": len(inside), "fresh": len(fresh)}
    span = (history.span(since_wall, end),)
    for sample in fresh:
        part = sample.fresh(section)
        if part is not None and predicate(part):
            value = round(sample.wall - since_wall, 1)
            evidence = Evidence(True, (history.span(since_wall, sample.wall),), counts)
            return Check(
                name, Verdict.PASS, f"{name} = {value:g}s <= {limit:g}s", value, float(limit), MAX, "s", evidence
            )
    if not fresh:
        errors = sorted({str(s.part(section).get("error")) for s in inside if s.part(section).get("error")})
        last = errors[-1] if errors else f"no {section} reading"
        evidence = Evidence(False, span, counts, last)
        why = (
            f"{name}: no evidence either way within {limit:.0f}s "
            f"({len(inside)} samples, none with a fresh {section} reading)"
        )
        return Check(name, Verdict.INCONCLUSIVE, why, None, float(limit), MAX, "s", evidence)
    last_part = fresh[-1].fresh(section) or {}
    last = ", ".join(f"{k}={v}" for k, v in last_part.items() if k not in ("age_s", "error"))
    why = f"{name}: not within {limit:.0f}s; last seen: {last}"
    return Check(name, Verdict.FAIL, why, None, float(limit), MAX, "s", Evidence(True, span, counts, last))
