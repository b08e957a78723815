"""What the ledger records: one line per operation a client attempted.

Writers append JSON lines to files (one per process, so Locust workers and the
harness can write at once without locks); ``load`` merges them. Lines written
before operations had ``op``, ``size_class`` and ``multipart`` still load, as
the single-PUT small writes they were.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

ACKED = "acked"
FAILED = "failed"
INDETERMINATE = "indeterminate"
OUTCOMES = (ACKED, FAILED, INDETERMINATE)


def outcome_of_status(status: int) -> str:
    """What an error answer says about a request: a 4xx is a refusal that
    changed nothing (failed); a 5xx leaves it unknown (indeterminate): S3's
    own rule for 500 and 503, and MinIO may finish a half-applied change when
    it heals."""
    return FAILED if status < 500 else INDETERMINATE


PUT = "put"
DELETE = "delete"
OPS = (PUT, DELETE)

# Where MinIO keeps an object, which is what a fault can break differently:
# small objects live inline in xl.meta, medium ones as erasure-coded part
# files, large ones arrive as multipart uploads (several part files each).
SIZE_CLASSES = ("small", "medium", "large")


@dataclass(frozen=True, slots=True)
class Write:
    """One operation as its client saw it: a PUT (``op="put"``, what was sent)
    or a DELETE (``op="delete"``, ``size`` 0 and ``sha256`` empty; its
    ``size_class`` is that of the object it deleted)."""

    key: str
    size: int
    sha256: str
    outcome: str
    # Wall-clock seconds (time.time) when the answer arrived, or when the client
    # gave up: comparable across processes, which placing operations on a
    # fault timeline and ordering concurrent writers both need.
    at: float
    path: str  # "app" (through the gateway) or "s3" (straight to MinIO)
    latency_ms: float = 0.0
    detail: str = ""
    op: str = PUT
    size_class: str = "small"
    # A multipart upload: acknowledged only when CompleteMultipartUpload answered 2xx.
    multipart: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")
        if self.op not in OPS:
            raise ValueError(f"op must be one of {OPS}, not {self.op!r}")
        if self.size_class not in SIZE_CLASSES:
            raise ValueError(f"size_class must be one of {SIZE_CLASSES}, not {self.size_class!r}")

    @property
    def start(self) -> float:
        """When the request was sent (wall clock): its answer time minus its latency."""
        return self.at - self.latency_ms / 1000.0

    @property
    def maybe_applied(self) -> bool:
        """Not acknowledged, yet possibly applied by the store: no answer at all,
        or a multipart upload that got an error from one of its requests
        (CompleteMultipartUpload can commit and still answer with an error).
        A single request refused with a 4xx was not applied."""
        return self.outcome == INDETERMINATE or (self.outcome == FAILED and self.multipart)


_FIELDS = frozenset(f.name for f in dataclasses.fields(Write))
# Fields with a handful of values: one shared string each instead of one per
# line keeps 100,000 loaded entries some 25 MB smaller.
_REPEATED = ("outcome", "path", "op", "size_class", "detail")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LedgerWriter:
    """Appends operations to one JSONL file; safe to share between threads."""

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
    """Every operation recorded in ``folder``, oldest answer first. A torn last
    line (a writer killed while writing it) is skipped: it was never flushed
    whole, so its client never finished recording the answer. Fields a newer
    writer added are ignored, missing ones take their defaults."""
    writes: list[Write] = []
    for file in sorted(folder.glob("*.jsonl")):
        with file.open(encoding="utf-8") as lines:  # line by line: a ledger can hold 100,000s of entries
            for line in lines:
                try:
                    raw = json.loads(line)
                    for name in _REPEATED:
                        if isinstance(raw.get(name), str):
                            raw[name] = sys.intern(raw[name])
                    writes.append(Write(**{k: v for k, v in raw.items() if k in _FIELDS}))
                except (json.JSONDecodeError, TypeError, ValueError, AttributeError):
                    continue
    writes.sort(key=lambda w: w.at)
    return writes
