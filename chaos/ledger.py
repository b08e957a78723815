"""The acknowledged-write ledger.

Every write a client attempted is recorded with what it sent (key, size,
sha256) and what it was told: acknowledged (a 2xx that claims the object is
stored), failed (an error answer) or indeterminate (a timeout or a reset: the
write may or may not have happened). After the faults every acknowledged write
is read back and classified:

* stable: the object is there with the acknowledged content;
* lost: the object is gone;
* corrupted: there is an object, but its content matches no write to that key;
* stale: the content is that of an earlier acknowledged write to the key;
* refused: the store answered, with an error, every time it was asked during
  the retry period (REFUSE_RETRY_S): it will not return data it acknowledged.
  A product failure, like loss;
* unreadable: the harness could not ask (connection refused, our own timeout).
  An infrastructure problem: the verdict is inconclusive, never pass.

Failed and indeterminate writes never count as loss: nobody was told they
were stored. This is the set-full idea from Jepsen applied to an S3 store.

Writers append JSON lines to files (one per process, so Locust workers and the
harness can write at once without locks); ``load`` merges them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO

from kernel.errors import WaitTimeout
from kernel.wait import Deadline, wait_until

ACKED = "acked"
FAILED = "failed"
INDETERMINATE = "indeterminate"
OUTCOMES = (ACKED, FAILED, INDETERMINATE)


class Verdict(StrEnum):
    STABLE = "stable"
    LOST = "lost"
    CORRUPTED = "corrupted"
    STALE = "stale"
    REFUSED = "refused"
    UNREADABLE = "unreadable"


DAMAGE = (Verdict.LOST, Verdict.CORRUPTED, Verdict.STALE, Verdict.REFUSED)

REFUSE_RETRY_S = 60.0
"""Seconds a read-back keeps asking a store that answers with an error (a
server still finishing its recovery) before the object counts as refused."""


class StoreRefused(Exception):
    """The store answered a read with an error: the object exists in the ledger
    but the stack will not return it. Raised by a Fetch function."""


@dataclass(frozen=True)
class Write:
    """One write attempt as its client saw it."""

    key: str
    size: int
    sha256: str
    outcome: str
    # Wall-clock seconds (time.time) when the answer arrived: comparable across
    # processes, which is what placing writes on a fault timeline needs.
    at: float
    path: str  # "app" (through the gateway) or "s3" (straight to MinIO)
    latency_ms: float = 0.0
    detail: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LedgerWriter:
    """Appends writes to one JSONL file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def record(self, write: Write) -> None:
        line = json.dumps(asdict(write), separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            # Flushed per line: a writer killed mid-run must not take its
            # acknowledged writes with it, or the check would miss them.
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def writer_for_process(folder: Path, prefix: str) -> LedgerWriter:
    """A ledger file of this process's own in ``folder``."""
    return LedgerWriter(folder / f"{prefix}-{os.getpid()}.jsonl")


def load(folder: Path) -> list[Write]:
    """Every write recorded in ``folder``, oldest answer first. A torn last line
    (a writer killed while writing it) is skipped: it was never flushed whole,
    so its client never finished recording the answer."""
    writes: list[Write] = []
    for file in sorted(folder.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                writes.append(Write(**json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError):
                continue
    writes.sort(key=lambda w: w.at)
    return writes


@dataclass
class KeyCheck:
    key: str
    verdict: Verdict
    expected_sha256: str
    found_sha256: str | None
    detail: str = ""


@dataclass
class LedgerReport:
    attempted: int
    acknowledged: int
    failed: int
    indeterminate: int
    counts: dict[str, int]
    # Per-key findings other than stable, capped so a report stays readable.
    problems: list[KeyCheck] = field(default_factory=list)
    # Indeterminate writes that turned out to be stored (informational).
    indeterminate_stored: int = 0

    @property
    def lost(self) -> int:
        return self.counts.get(Verdict.LOST, 0)

    @property
    def damaged(self) -> int:
        """Acknowledged writes the stack failed: lost, corrupted, stale or refused."""
        return sum(self.counts.get(v, 0) for v in DAMAGE)

    @property
    def intact(self) -> int:
        return self.counts.get(Verdict.STABLE, 0)

    def damage_text(self) -> str:
        """ "3 lost, 1 refused by the store": only the classes that occurred."""
        parts = [f"{self.counts[v]} {v.value}" for v in DAMAGE if self.counts.get(v)]
        return ", ".join(parts).replace(" refused", " refused by the store")

    @property
    def unreadable(self) -> int:
        return self.counts.get(Verdict.UNREADABLE, 0)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["lost"] = self.lost
        data["damaged"] = self.damaged
        return data


# Returns the object's bytes, None when the store says it does not exist;
# raises StoreRefused when the store answers with another error, and anything
# else when it could not be asked at all.
Fetch = Callable[[str], bytes | None]


def latest_acked(writes: Iterable[Write]) -> dict[str, list[Write]]:
    """Acknowledged writes grouped by key, in answer order."""
    by_key: dict[str, list[Write]] = {}
    for write in writes:
        if write.outcome == ACKED:
            by_key.setdefault(write.key, []).append(write)
    return by_key


def check(
    writes: list[Write],
    fetch: Fetch,
    *,
    max_problems: int = 200,
    readers: int = 8,
    refuse_retry_s: float = REFUSE_RETRY_S,
) -> LedgerReport:
    """Read back every acknowledged key and classify it. Keys the store refuses
    are asked again until ``refuse_retry_s`` after the check started."""
    deadline = Deadline(refuse_retry_s)
    acked = latest_acked(writes)
    all_by_key: dict[str, list[Write]] = {}
    for write in writes:
        all_by_key.setdefault(write.key, []).append(write)

    counts = {v.value: 0 for v in Verdict}
    problems: list[KeyCheck] = []
    # Reads in parallel: a run acknowledges tens of thousands of writes, and one
    # at a time the read-back would take minutes.
    with ThreadPoolExecutor(max_workers=readers) as pool:
        results = list(
            pool.map(lambda item: _check_key(item[0], item[1], all_by_key[item[0]], fetch, deadline), acked.items())
        )
    for result in results:
        counts[result.verdict.value] += 1
        if result.verdict is not Verdict.STABLE and len(problems) < max_problems:
            problems.append(result)

    indeterminate_stored = 0
    for key, attempts in all_by_key.items():
        if key in acked or not any(w.outcome == INDETERMINATE for w in attempts):
            continue
        try:
            if fetch(key) is not None:
                indeterminate_stored += 1
        except Exception:  # noqa: BLE001, S112 (informational count only: a failed read changes no verdict)
            continue

    outcomes = [w.outcome for w in writes]
    return LedgerReport(
        attempted=len(writes),
        acknowledged=outcomes.count(ACKED),
        failed=outcomes.count(FAILED),
        indeterminate=outcomes.count(INDETERMINATE),
        counts=counts,
        problems=problems,
        indeterminate_stored=indeterminate_stored,
    )


def _check_key(key: str, acked: list[Write], attempts: list[Write], fetch: Fetch, deadline: Deadline) -> KeyCheck:
    expected = acked[-1].sha256
    try:
        # A 1-tuple, so a key the store says does not exist (None) ends the wait too.
        (data,) = wait_until(
            lambda: (fetch(key),), what=f"object {key}", timeout=deadline, interval=2.0, tolerate=(StoreRefused,)
        )
    except WaitTimeout as exc:
        return KeyCheck(key, Verdict.REFUSED, expected, None, exc.last_seen[:300])
    except Exception as exc:  # noqa: BLE001 (the harness could not ask: kept apart from the stack's failures)
        return KeyCheck(key, Verdict.UNREADABLE, expected, None, f"{type(exc).__name__}: {exc}"[:300])
    return _classify(key, data, acked, attempts)


def _classify(key: str, data: bytes | None, acked: list[Write], attempts: list[Write]) -> KeyCheck:
    expected = acked[-1].sha256
    if data is None:
        return KeyCheck(key, Verdict.LOST, expected, None, "object does not exist")
    found = sha256_hex(data)
    if found == expected:
        return KeyCheck(key, Verdict.STABLE, expected, found)
    # A write that was attempted after the last ack may legitimately have won
    # (its client just never heard back), so any later attempt's content counts
    # as intact too.
    last_ack_at = acked[-1].at
    if any(w.sha256 == found and w.at >= last_ack_at and w.outcome != ACKED for w in attempts):
        return KeyCheck(key, Verdict.STABLE, expected, found, "a later unacknowledged write won")
    if any(w.sha256 == found for w in acked[:-1]):
        return KeyCheck(key, Verdict.STALE, expected, found, "content of an earlier acknowledged write")
    return KeyCheck(key, Verdict.CORRUPTED, expected, found, f"{len(data)} bytes match no write")
