"""The sampler: records what the system looks like, at least once a second.

Each source (MinIO health, pods, the HPA, Locust) runs in a thread of its own
and keeps its latest reading; the sampler writes a snapshot of all of them to
the timeline every ``period`` seconds. A source that hangs (an admin call to a
cluster without quorum) therefore never delays the others or the sampling
clock: its reading just ages, and the age is recorded.

Observers only observe: sources must not change anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.timeline import Timeline

Source = Callable[[], Mapping[str, Any]]


@dataclass
class _Reading:
    data: Mapping[str, Any] = field(default_factory=dict)
    at: float = 0.0  # monotonic time of the reading
    error: str = ""


class Sampler:
    def __init__(self, timeline: Timeline, sources: Mapping[str, Source], period: float = 1.0) -> None:
        if not 0 < period <= 1.0:
            raise ValueError("the sampling period must be in (0, 1] seconds")
        self.timeline = timeline
        self.sources = dict(sources)
        self.period = period
        self._readings = {name: _Reading() for name in sources}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.samples = 0

    def _poll(self, name: str, source: Source) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                reading = _Reading(dict(source()), time.monotonic())
            except Exception as exc:  # noqa: BLE001 (a failing probe is an observation, not a crash)
                reading = _Reading({}, time.monotonic(), f"{type(exc).__name__}: {exc}"[:200])
            with self._lock:
                self._readings[name] = reading
            self._stop.wait(max(0.0, self.period - (time.monotonic() - started)))

    def _sample_loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.snapshot()
            next_at += self.period
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        record: dict[str, Any] = {}
        with self._lock:
            for name, reading in self._readings.items():
                entry: dict[str, Any] = dict(reading.data)
                entry["age_s"] = round(now - reading.at, 2) if reading.at else None
                if reading.error:
                    entry["error"] = reading.error
                record[name] = entry
        self.timeline.sample(record)
        self.samples += 1
        return record

    def latest(self, name: str) -> Mapping[str, Any]:
        with self._lock:
            return dict(self._readings[name].data)

    def fresh(self, name: str, max_age: float | None = None) -> Mapping[str, Any] | None:
        """The latest reading of ``name`` if it is evidence: taken within
        ``max_age`` seconds (default: a period plus a second for the probe
        itself) by a probe that did not fail; None otherwise."""
        limit = self.period + 1.0 if max_age is None else max_age
        with self._lock:
            reading = self._readings[name]
        if reading.error or not reading.at or time.monotonic() - reading.at > limit:
            return None
        return dict(reading.data)

    def start(self) -> Sampler:
        for name, source in self.sources.items():
            thread = threading.Thread(target=self._poll, args=(name, source), name=f"probe-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        sampler = threading.Thread(target=self._sample_loop, name="sampler", daemon=True)
        sampler.start()
        self._threads.append(sampler)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
