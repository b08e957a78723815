"""The states a key is read back in (chaos.ledger's classes), and which are damage.

The rule for what each state means is stated in chaos.ledger's docstring;
here is only the consequence a verdict draws from it.
"""

from __future__ import annotations

from enum import StrEnum


class KeyState(StrEnum):
    """One key after the read-back, in report order."""

    STABLE = "stable"
    LOST = "lost"
    CORRUPTED = "corrupted"
    STALE = "stale"
    RESURRECTED = "resurrected"
    MISSING_FROM_LISTING = "missing_from_listing"
    REFUSED = "refused"
    UNREADABLE = "unreadable"


DAMAGE: tuple[KeyState, ...] = (
    KeyState.LOST,
    KeyState.CORRUPTED,
    KeyState.STALE,
    KeyState.RESURRECTED,
    KeyState.MISSING_FROM_LISTING,
    # A store that answers with an error every time it is asked for data it
    # acknowledged will not return that data: to its users that is loss.
    KeyState.REFUSED,
)
"""Acknowledged state the stack failed to keep: product failures (data loss)."""

UNDECIDED: tuple[KeyState, ...] = (KeyState.UNREADABLE,)
"""The harness could not ask: neither intact nor damaged, the verdict is inconclusive."""


def is_damage(state: str) -> bool:
    """Whether a read-back state (a KeyState or its value in summary.json) is damage."""
    return state in {s.value for s in DAMAGE}
