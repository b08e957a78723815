"""The project's error kinds.

Every failure chaosgate reports falls into one of three kinds, because each one
means something different to the person reading the verdict:

* ``BadInputError``: the user's config, flags, values or environment are wrong.
  Exit code 2, nothing is deployed.
* ``InfraError``: the harness could not do its job (a build failed, the cluster
  did not come up, a fault could not be proven). Verdict "inconclusive".
* ``ProductFailure``: the stack under test misbehaved. Verdict "fail"; never
  retried.
"""

from __future__ import annotations


class ChaosgateError(Exception):
    """Base of every error chaosgate raises on purpose."""

    exit_code = 2


class BadInputError(ChaosgateError):
    """Wrong input. The message names the problem and the fix."""

    exit_code = 2


class InfraError(ChaosgateError):
    """The harness could not do its job; the verdict is inconclusive."""

    exit_code = 2


class ProductFailure(ChaosgateError):
    """The stack under test misbehaved."""

    exit_code = 1


class WaitTimeout(InfraError):
    """A wait ran past its deadline. Says what it waited for and what it last saw."""

    def __init__(self, what: str, last_seen: str, seconds: float, *, evidence: bool = True) -> None:
        super().__init__(f"timed out after {seconds:.0f}s waiting for {what}; last seen: {last_seen}")
        self.what = what
        self.last_seen = last_seen
        self.seconds = seconds
        # False when the last poll saw nothing either way (a probe that failed
        # or hung): the wait's end says nothing about the system it watched.
        self.evidence = evidence
