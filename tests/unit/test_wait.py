"""The one wait helper: returns what it waited for, or says what it last saw."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Deadline, Seen, wait_until


def test_returns_the_first_truthy_value() -> None:
    answers = iter([0, None, "", 42, 43])
    assert wait_until(lambda: next(answers), what="an answer", timeout=5, interval=0.01) == 42


def test_a_condition_that_already_holds_never_times_out() -> None:
    assert wait_until(lambda: "yes", what="yes", timeout=0) == "yes"


def test_timeout_names_what_and_the_last_seen_detail() -> None:
    calls = []

    def never() -> Seen:
        calls.append(1)
        return Seen(False, f"servers offline: ['n{len(calls)}']")

    start = time.monotonic()
    with pytest.raises(WaitTimeout) as raised:
        wait_until(never, what="servers to rejoin", timeout=0.3, interval=0.05)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 2
    assert raised.value.what == "servers to rejoin"
    assert raised.value.last_seen == f"servers offline: ['n{len(calls)}']"
    assert len(calls) >= 3
    assert isinstance(raised.value, InfraError)


def test_tolerated_exceptions_count_as_not_yet() -> None:
    answers: Iterator[Exception | str] = iter([ConnectionError("refused"), ConnectionError("refused"), "up"])

    def flaky() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(flaky, what="up", timeout=5, interval=0.01, tolerate=(ConnectionError,)) == "up"


def test_tolerated_exception_is_reported_as_last_seen() -> None:
    def refused() -> bool:
        raise ConnectionError("connection refused")

    with pytest.raises(WaitTimeout, match="ConnectionError: connection refused"):
        wait_until(refused, what="up", timeout=0.1, interval=0.02, tolerate=(ConnectionError,))


def test_other_exceptions_propagate_at_once() -> None:
    calls = []

    def broken() -> bool:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        wait_until(broken, what="x", timeout=5, tolerate=(ConnectionError,))
    assert calls == [1]


def test_a_shared_deadline_bounds_several_waits() -> None:
    deadline = Deadline(0.2)
    with pytest.raises(WaitTimeout):
        wait_until(lambda: False, what="first", timeout=deadline, interval=0.05)
    start = time.monotonic()
    with pytest.raises(WaitTimeout):
        wait_until(lambda: False, what="second", timeout=deadline, interval=0.05)
    assert time.monotonic() - start < 0.1  # nothing left of the shared budget
    assert deadline.expired() and deadline.remaining() == 0


def test_zero_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        wait_until(lambda: True, what="x", timeout=1, interval=0)
