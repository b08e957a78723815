"""The ledger of distributed Locust, gathered on the master.

Workers do not write files the harness could read (they may run as pods):
each operation travels to the master as two messages over Locust's own
worker -> master channel, an *intent* before the request is sent (what is
about to be written, and the digest of its content) and the *operation* once
its answer arrived (the ledger entry). The master writes the entries into its
ledger file; at the end each worker confirms how many entries it sent.

A worker that dies mid-run leaves intents without an answer. Those requests
may or may not have reached the store, so each becomes an indeterminate entry
(a write the check allows but never requires), and operations the worker got
an answer to but could not send are no longer known as acknowledged: the
ledger is incomplete, which the harness turns into an inconclusive verdict,
never a pass on a partial ledger.

Plain logic without Locust; the locustfiles' transport lives in
loadtests/locustfiles/link.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaos.ledger import DELETE, INDETERMINATE, Write
from loadtests.traffic import PatternStream

SUMMARY = "workers.json"
"""Written by the master next to its ledger file."""

LOST_DETAIL = "worker lost before its answer reached the master"


@dataclass(frozen=True)
class Intent:
    """A request a worker is about to send. ``seed`` names the generated
    content of a multipart upload, whose digest is known only once all of it
    was produced: the master can produce it again."""

    seq: int
    key: str
    op: str
    size_class: str
    size: int
    path: str
    start: float
    sha256: str = ""
    seed: int | None = None
    multipart: bool = False

    def to_message(self) -> dict[str, Any]:
        return asdict(self)

    def unanswered(self, now: float) -> Write:
        """The entry for a request whose answer never arrived."""
        sha = self.sha256
        if self.op != DELETE and not sha and self.seed is not None:
            sha = PatternStream(self.size, self.seed).finish()
        latency_ms = max(0.0, now - self.start) * 1000.0
        return Write(
            self.key,
            self.size if self.op != DELETE else 0,
            sha if self.op != DELETE else "",
            INDETERMINATE,
            now,
            self.path,
            latency_ms,
            LOST_DETAIL,
            self.op,
            self.size_class,
            self.multipart,
        )


@dataclass
class WorkerBook:
    received: int = 0
    pending: dict[int, Intent] = field(default_factory=dict)
    sent: int | None = None  # from the worker's final count; None: it never confirmed
    synthesized: int = 0
    requests: int = 0  # every request the worker made (reads too), from its final count
    seconds: float = 0.0  # from its first user to its stop


class Merger:
    """The master's side: takes the workers' messages, hands ledger entries to
    ``record`` and says at the end whether the ledger is complete."""

    def __init__(self, record: Callable[[Write], None], clock: Callable[[], float] = time.time) -> None:
        self.record = record
        self.clock = clock
        self.books: dict[str, WorkerBook] = {}

    def book(self, worker: str) -> WorkerBook:
        return self.books.setdefault(worker, WorkerBook())

    def hello(self, worker: str) -> None:
        self.book(worker)

    def intent(self, worker: str, data: Mapping[str, Any]) -> None:
        intent = Intent(**data)
        self.book(worker).pending[intent.seq] = intent

    def operation(self, worker: str, data: Mapping[str, Any]) -> None:
        book = self.book(worker)
        book.pending.pop(int(data.get("seq", 0)), None)
        book.received += 1
        self.record(Write(**data["write"]))

    def done(self, worker: str, data: Mapping[str, Any]) -> None:
        book = self.book(worker)
        book.sent = int(data["sent"])
        book.requests = int(data.get("requests", 0))
        book.seconds = float(data.get("seconds", 0.0))

    def waiting_for(self, connected: set[str] | frozenset[str] = frozenset()) -> set[str]:
        """Workers (seen or connected) that have not yet confirmed every entry."""
        names = set(self.books) | set(connected)
        return {name for name in names if not self._confirmed(self.book(name))}

    @staticmethod
    def _confirmed(book: WorkerBook) -> bool:
        return book.sent is not None and book.sent == book.received and not book.pending

    def finish(self) -> dict[str, Any]:
        """Unanswered intents become indeterminate entries; returns the
        summary: per worker what arrived, and every gap in words."""
        now = self.clock()
        problems: list[str] = []
        workers: dict[str, Any] = {}
        for name, book in sorted(self.books.items()):
            for intent in sorted(book.pending.values(), key=lambda i: i.seq):
                self.record(intent.unanswered(now))
                book.synthesized += 1
            book.pending.clear()
            if book.sent is None:
                problems.append(
                    f"Locust worker {name} ended without confirming its ledger ({book.received} operations "
                    f"arrived, {book.synthesized} in flight recorded as indeterminate): operations it was "
                    "answered but could not report are missing"
                )
            elif book.sent != book.received:
                problems.append(
                    f"Locust worker {name} sent {book.sent} ledger entries, the master received {book.received}"
                )
            workers[name] = {
                "received": book.received,
                "sent": book.sent,
                "in_flight_indeterminate": book.synthesized,
                "requests": book.requests,
                "seconds": book.seconds,
                "rps": round(book.requests / book.seconds, 2) if book.seconds > 0 else None,
            }
        return {"workers": workers, "complete": not problems, "problems": problems}


def write_summary(folder: Path, summary: Mapping[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")


def gaps(folder: Path, expected_workers: int) -> list[str]:
    """Why the ledger in ``folder`` cannot be trusted as complete (empty: it
    can). A run without workers has nothing to confirm."""
    if expected_workers == 0:
        return []
    path = folder / SUMMARY
    if not path.is_file():
        return [f"the Locust master wrote no worker summary ({path.name}): the workers' ledger may be incomplete"]
    summary = json.loads(path.read_text())
    problems = [str(p) for p in summary.get("problems", [])]
    seen = len(summary.get("workers", {}))
    if seen < expected_workers:
        problems.append(f"{expected_workers} Locust workers were expected, {seen} reported to the master")
    return problems
