"""Read a scenario's History from a run folder's files, once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from chaos import ledger
from chaos.history.records import Event, History, LoadRow, Sample
from chaos.timeline import read

RECORD_KEYS = ("t", "wall", "kind", "scenario", "name")


def from_records(
    records: Iterable[Mapping[str, Any]],
    scenario: str,
    writes: Iterable[ledger.Write] = (),
    reads: Iterable[LoadRow] = (),
    missing_reads: int | None = None,
) -> History:
    """A History of one scenario from timeline records (any scenario's; the
    others are left out) and what the ledger and the load recorded."""
    samples: list[Sample] = []
    events: list[Event] = []
    offset: float | None = None
    for rec in records:
        if offset is None and "wall" in rec and "t" in rec:
            offset = float(rec["wall"]) - float(rec["t"])
        if rec.get("scenario") != scenario:
            continue
        if rec.get("kind") == "sample":
            # Read-only views: a checker cannot change what another one reads.
            parts = {
                k: MappingProxyType(dict(v)) for k, v in rec.items() if k not in RECORD_KEYS and isinstance(v, Mapping)
            }
            samples.append(Sample(float(rec["t"]), float(rec["wall"]), MappingProxyType(parts)))
        elif rec.get("kind") == "event":
            data = MappingProxyType({k: v for k, v in rec.items() if k not in RECORD_KEYS})
            events.append(Event(float(rec["t"]), float(rec["wall"]), str(rec.get("name", "")), data))
    return History(
        scenario,
        tuple(samples),
        tuple(events),
        tuple(sorted(writes, key=lambda w: w.at)),
        tuple(reads),
        missing_reads,
        offset or 0.0,
    )


def load(
    timeline: Path,
    scenario: str,
    ledger_dir: Path | None = None,
    reads: Iterable[LoadRow] = (),
    missing_reads: int | None = None,
) -> History:
    """The scenario's History from the run's timeline file and its ledger
    folder; the load's rows are read by the caller (loadtests owns their format)."""
    writes = ledger.load(ledger_dir) if ledger_dir is not None and ledger_dir.exists() else []
    return from_records(read(timeline), scenario, writes, reads, missing_reads)
