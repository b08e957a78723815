"""The judgement of one key: which final states its operations allow, and what
to call any other (the rules are stated in the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaos.ledger.records import ACKED, DELETE, INDETERMINATE, PUT, Write
from chaos.rulebook.states import DAMAGE, KeyState

__all__ = ["DAMAGE", "Found", "Judgement", "KeyState", "judge", "last_acked", "may_have_won"]


# (sha256 hex, size) of what the store returned, None when it says the key does not exist.
Found = tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class Judgement:
    """``verdict`` None: a key nobody was told about holds a state it may hold
    (absent, or a whole unanswered write); such keys are not counted."""

    verdict: KeyState | None
    detail: str
    expected: str  # the last acknowledged write's sha256, "" when that was a delete


def last_acked(ops: Sequence[Write]) -> Write | None:
    acked = [o for o in ops if o.outcome == ACKED]
    return max(acked, key=lambda o: o.at) if acked else None


def may_have_won(ops: Sequence[Write]) -> list[Write]:
    """Operations whose effect may be the key's final state: applied (acknowledged)
    or maybe applied, and not definitely followed by an acknowledged operation,
    i.e. no acknowledged operation was sent after this one's interval ended."""
    acked = [o for o in ops if o.outcome == ACKED]
    return [
        c
        for c in ops
        if (c.outcome == ACKED or c.maybe_applied) and not any(y is not c and y.start > c.at for y in acked)
    ]


def judge(ops: Sequence[Write], found: Found) -> Judgement:
    """The verdict on a key from all operations on it and what the store returned."""
    last = last_acked(ops)
    if last is None:
        return _judge_unacknowledged(ops, found)
    expected = last.sha256 if last.op == PUT else ""
    winners = may_have_won(ops)
    if found is None:
        deletes = [c for c in winners if c.op == DELETE]
        if last.op == DELETE:
            return Judgement(KeyState.STABLE, "deleted", expected)
        if deletes:
            return Judgement(KeyState.STABLE, _won(deletes[0]), expected)
        return Judgement(KeyState.LOST, "object does not exist", expected)
    won = [c for c in winners if c.op == PUT and c.sha256 == found[0]]
    if won:
        return Judgement(KeyState.STABLE, "" if won[0] is last else _won(won[0]), expected)
    verdict, detail = _not_allowed(ops, winners, found)
    return Judgement(verdict, detail, expected)


def _not_allowed(ops: Sequence[Write], winners: Sequence[Write], found: tuple[str, int]) -> tuple[KeyState, str]:
    """What to call content that none of the operations that may have won left."""
    sha, size = found
    same = [o for o in ops if o.op == PUT and o.sha256 == sha]
    if not any(c.op == PUT for c in winners):
        what = "the content of an earlier write" if same else f"{size} bytes that match no write"
        return KeyState.RESURRECTED, f"deleted (acknowledged), yet exists with {what}"
    if any(o.outcome == ACKED for o in same):
        return KeyState.STALE, "content of an earlier acknowledged write"
    if any(o.maybe_applied for o in same):
        return (
            KeyState.STALE,
            "content of an earlier unanswered write, whose client gave up before a later acknowledged one was sent",
        )
    return KeyState.CORRUPTED, _mismatch(ops, same, size)


def _judge_unacknowledged(ops: Sequence[Write], found: Found) -> Judgement:
    # Nobody was told this key is stored: absent is fine, and so is the whole
    # content of a write that may have been applied; never a part of one.
    if found is None:
        return Judgement(None, "absent", "")
    sha, size = found
    if any(o.op == PUT and o.maybe_applied and o.sha256 == sha for o in ops):
        return Judgement(None, "stored", "")
    same = [o for o in ops if o.op == PUT and o.sha256 == sha]
    return Judgement(KeyState.CORRUPTED, _mismatch(ops, same, size), "")


def _mismatch(ops: Sequence[Write], same: Sequence[Write], size: int) -> str:
    if same:
        return "content of a write that was refused (4xx)"
    partial = [o for o in ops if o.op == PUT and o.multipart and o.size > size]
    if partial:
        return f"partial multipart upload: {size} of {partial[-1].size} bytes"
    return f"{size} bytes match no write"


def _won(op: Write) -> str:
    what = "write" if op.op == PUT else "delete"
    if op.outcome == ACKED:
        return f"a concurrent acknowledged {what} won"
    if op.outcome == INDETERMINATE:
        return f"an unanswered {what} won"
    return "a multipart upload answered with an error had completed, and won"
