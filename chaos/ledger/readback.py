"""The read-back: every key an operation may have changed, read in parallel
with streamed hashing, judged by ``rules``, then held against a listing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from chaos.ledger.records import ACKED, DELETE, FAILED, INDETERMINATE, PUT, SIZE_CLASSES, Write
from chaos.ledger.rules import DAMAGE, Found, KeyState, judge, last_acked
from kernel.errors import WaitTimeout
from kernel.wait import Deadline, wait_until

REFUSE_RETRY_S = 60.0
"""Seconds a read-back keeps asking a store that answers with an error (a
server still finishing its recovery) before the object counts as refused."""


class StoreRefused(Exception):
    """The store answered a read with an error: the object exists in the ledger
    but the stack will not return it. Raised by a Fetch or Lister function."""


# (sha256 hex, size) computed while streaming the object in chunks, None when
# the store says it does not exist; StoreRefused when it answers with another
# error; any other exception when it could not be asked at all.
Fetch = Callable[[str], Found]
# The keys under a prefix (in the ledger's key space), as a listing shows them.
Lister = Callable[[str], Iterable[str]]

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class KeyCheck:
    key: str
    verdict: KeyState
    expected_sha256: str
    found_sha256: str | None
    detail: str = ""
    size_class: str = "small"


def _class_row() -> dict[str, int]:
    return {"attempted": 0, "acknowledged": 0, **{v.value: 0 for v in KeyState}}


@dataclass
class LedgerReport:
    attempted: int
    acknowledged: int
    failed: int
    indeterminate: int
    # Keys by verdict: every key with an acknowledged operation, plus keys no
    # one was told about that hold what they may not (a partial upload).
    counts: dict[str, int]
    # Per-key findings other than stable, capped so a report stays readable.
    problems: list[KeyCheck] = field(default_factory=list)
    # Unacknowledged writes that turned out to be stored, whole (informational).
    indeterminate_stored: int = 0
    # Per size class: operations attempted and acknowledged, keys by verdict
    # (a key counts in the class of its last acknowledged operation).
    classes: dict[str, dict[str, int]] = field(default_factory=dict)
    deletes: dict[str, int] = field(default_factory=dict)
    overwrites: dict[str, int] = field(default_factory=dict)
    multipart: dict[str, int] = field(default_factory=dict)
    # prefix, keys listed, keys expected, listed keys the ledger does not know, error
    listing: dict[str, Any] | None = None
    readback: dict[str, float] = field(default_factory=dict)
    # Incomplete multipart uploads aborted after the check (set by the caller).
    aborted_uploads: int | None = None

    @property
    def lost(self) -> int:
        return self.counts.get(KeyState.LOST, 0)

    @property
    def damaged(self) -> int:
        """Keys the stack failed: lost, corrupted, stale, resurrected, missing
        from the listing, or refused."""
        return sum(self.counts.get(v, 0) for v in DAMAGE)

    @property
    def intact(self) -> int:
        return self.counts.get(KeyState.STABLE, 0)

    @property
    def checked(self) -> int:
        return sum(self.counts.values())

    @property
    def unreadable(self) -> int:
        return self.counts.get(KeyState.UNREADABLE, 0)

    def damage_text(self) -> str:
        """ "3 lost, 1 refused by the store": only the classes that occurred."""
        parts = [f"{self.counts[v]} {v.value.replace('_', ' ')}" for v in DAMAGE if self.counts.get(v)]
        return ", ".join(parts).replace(" refused", " refused by the store")

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["lost"] = self.lost
        data["damaged"] = self.damaged
        return data


@dataclass(slots=True)
class _Row:
    """One key's outcome, kept small: 100,000s of them live until the listing."""

    key: str
    size_class: str
    verdict: KeyState | None
    detail: str
    expected: str
    size: int | None  # what the store returned; None: it says the key does not exist
    found_sha: str | None = None  # kept only for findings other than stable

    @property
    def present(self) -> bool:
        return self.size is not None


def check(
    writes: list[Write],
    fetch: Fetch,
    *,
    lister: Lister | None = None,
    prefix: str | None = None,
    max_problems: int = 200,
    readers: int = 8,
    refuse_retry_s: float = REFUSE_RETRY_S,
) -> LedgerReport:
    """Read back every key an operation may have changed and classify it; then,
    with a ``lister``, list ``prefix`` (default: the keys' common prefix) and
    hold the listing against what the reads found. Keys the store refuses are
    asked again until ``refuse_retry_s`` after the check started."""
    started = time.monotonic()
    deadline = Deadline(refuse_retry_s)
    by_key: dict[str, list[Write]] = {}
    for write in writes:
        by_key.setdefault(write.key, []).append(write)
    # Keys nobody acknowledged and no write may have reached (single PUTs
    # refused with a 4xx) are not read: the store said they were not stored.
    todo = [
        key
        for key, ops in by_key.items()
        if any(o.outcome == ACKED for o in ops) or any(o.op == PUT and o.maybe_applied for o in ops)
    ]

    def read(key: str) -> _Row:
        ops = by_key[key]
        last = last_acked(ops)
        size_class = (last or ops[-1]).size_class
        expected = "" if last is None or last.op == DELETE else last.sha256
        try:
            # A 1-tuple, so a key the store says does not exist (None) ends the wait too.
            (found,) = wait_until(
                lambda: (fetch(key),), what=f"object {key}", timeout=deadline, interval=2.0, tolerate=(StoreRefused,)
            )
        except WaitTimeout as exc:
            return _Row(key, size_class, KeyState.REFUSED, exc.last_seen[:300], expected, None)
        except Exception as exc:  # noqa: BLE001 (the harness could not ask: kept apart from the stack's failures)
            return _Row(key, size_class, KeyState.UNREADABLE, f"{type(exc).__name__}: {exc}"[:300], expected, None)
        judgement = judge(ops, found)
        row = _Row(key, size_class, judgement.verdict, judgement.detail, judgement.expected, None)
        if found is not None:
            row.size = found[1]
            row.found_sha = None if judgement.verdict in (KeyState.STABLE, None) else found[0]
        return row

    # In parallel: a run acknowledges tens of thousands of writes, and one at
    # a time the read-back would take minutes. Each reader holds one chunk.
    rows = list(_bounded_map(read, todo, readers))
    read_s = time.monotonic() - started
    # No keys, no listing: an empty common prefix would list the whole bucket.
    listing = _hold_against_listing(rows, by_key, lister, prefix, refuse_retry_s) if lister and by_key else None
    listing_s = time.monotonic() - started - read_s
    report = _report(writes, by_key, rows, max_problems)
    report.listing = listing
    report.readback = {
        "keys": len(rows),
        "bytes": sum(r.size for r in rows if r.size is not None),
        "seconds": round(read_s, 3),
        "listing_seconds": round(listing_s, 3),
        "readers": readers,
    }
    return report


def _bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` on ``workers`` threads, with at most a few tasks per
    worker queued at a time: memory stays flat however many items there are."""
    window = workers * 4
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: set[Future[R]] = set()
        for item in items:
            pending.add(pool.submit(fn, item))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)


def _hold_against_listing(
    rows: list[_Row], by_key: dict[str, list[Write]], lister: Lister, prefix: str | None, retry_s: float
) -> dict[str, Any]:
    """A listing must show every key a GET returns as it should be, and no key
    whose acknowledged delete a GET confirms. Judged after the reads, which
    also let MinIO heal what they touched."""
    prefix = _common_prefix(by_key) if prefix is None else prefix
    info: dict[str, Any] = {"prefix": prefix, "listed": 0, "expected": 0, "not_in_ledger": 0, "error": ""}
    try:
        (listed,) = wait_until(
            lambda: (set(lister(prefix)),),
            what=f"a listing of {prefix!r}",
            timeout=Deadline(retry_s),
            interval=2.0,
            tolerate=(StoreRefused,),
        )
    except WaitTimeout as exc:
        info["error"] = f"the store refused to list {prefix!r}: {exc.last_seen[:300]}"
        return info
    except Exception as exc:  # noqa: BLE001 (the harness could not list: the listing check is left undone)
        info["error"] = f"could not list {prefix!r}: {type(exc).__name__}: {exc}"[:300]
        return info
    info["listed"] = len(listed)
    info["not_in_ledger"] = len(listed - by_key.keys())
    for row in rows:
        if row.verdict is not KeyState.STABLE:
            continue
        if row.present:
            info["expected"] += 1
            if row.key not in listed:
                row.verdict = KeyState.MISSING_FROM_LISTING
                row.detail = f"a GET returns it, a listing of {prefix!r} does not"
        elif row.key in listed:
            row.verdict = KeyState.RESURRECTED
            row.detail = "listed after its acknowledged delete (a GET says it does not exist)"
    return info


def _common_prefix(keys: Iterable[str]) -> str:
    """The longest string every key starts with (S3 prefixes are plain strings)."""
    low, high = min(keys, default=""), max(keys, default="")
    size = next((i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), min(len(low), len(high)))
    return low[:size]


def _report(writes: list[Write], by_key: dict[str, list[Write]], rows: list[_Row], max_problems: int) -> LedgerReport:
    counts = {v.value: 0 for v in KeyState}
    classes = {name: _class_row() for name in SIZE_CLASSES}
    for write in writes:
        classes[write.size_class]["attempted"] += 1
        classes[write.size_class]["acknowledged"] += write.outcome == ACKED
    problems: list[KeyCheck] = []
    stored = 0
    for row in rows:
        if row.verdict is None:
            stored += row.present
            continue
        counts[row.verdict.value] += 1
        classes[row.size_class][row.verdict.value] += 1
        if row.verdict is not KeyState.STABLE and len(problems) < max_problems:
            problems.append(KeyCheck(row.key, row.verdict, row.expected, row.found_sha, row.detail, row.size_class))
    puts = [w for w in writes if w.op == PUT]
    deletes = [w for w in writes if w.op == DELETE]
    multipart = [w for w in puts if w.multipart]
    firsts = {id(ops_puts[0]) for ops in by_key.values() if (ops_puts := [o for o in ops if o.op == PUT])}
    again = [w for w in puts if id(w) not in firsts]
    unacked_mp = {w.key for w in multipart if w.outcome != ACKED} - {w.key for w in writes if w.outcome == ACKED}
    mp_rows = [r for r in rows if r.key in unacked_mp and r.verdict is None]
    outcomes = [w.outcome for w in writes]
    return LedgerReport(
        attempted=len(writes),
        acknowledged=outcomes.count(ACKED),
        failed=outcomes.count(FAILED),
        indeterminate=outcomes.count(INDETERMINATE),
        counts=counts,
        problems=problems,
        indeterminate_stored=stored,
        classes=classes,
        deletes=_tally(deletes),
        overwrites={**_tally(again), "concurrent_keys": sum(map(_concurrent, by_key.values()))},
        multipart={
            **_tally(multipart),
            "unacknowledged_absent": sum(not r.present for r in mp_rows),
            "unacknowledged_complete": sum(r.present for r in mp_rows),
        },
    )


def _concurrent(ops: list[Write]) -> bool:
    """Whether two acknowledged writes to the key were in flight at once."""
    puts = sorted((o for o in ops if o.op == PUT and o.outcome == ACKED), key=lambda o: o.start)
    latest = float("-inf")
    for put in puts:
        if put.start < latest:
            return True
        latest = max(latest, put.at)
    return False


def _tally(ops: list[Write]) -> dict[str, int]:
    return {"attempted": len(ops), "acknowledged": sum(o.outcome == ACKED for o in ops)}
