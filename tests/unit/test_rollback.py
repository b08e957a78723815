"""The run's undo stack: newest first, every step tried, nothing reverted twice."""

import pytest

from chaos.rollback import Rollbacks
from kernel.errors import InfraError


def test_unwind_runs_pending_steps_newest_first_and_keeps_going_past_a_failure():
    done: list[str] = []
    stack = Rollbacks()
    stack.push("node/a", "start node a", lambda: done.append("a"))

    def broken():
        raise OSError("docker not answering")

    stack.push("statefulset/ns/s", "scale ns/s back to 4", broken)
    stack.push("node/b", "start node b", lambda: done.append("b"))
    with pytest.raises(InfraError, match=r"could not revert: scale ns/s back to 4: OSError: docker not answering"):
        stack.unwind()
    assert done == ["b", "a"]
    assert stack.pending() == []
    assert stack.unwind() == [], "nothing is reverted twice"


def test_a_fault_reverted_on_its_own_is_not_reverted_again():
    done: list[str] = []
    stack = Rollbacks()
    stack.push("node/a", "start node a", lambda: done.append("a"))
    assert stack.revert("node/a").what == "start node a"
    assert stack.unwind() == [] and done == ["a"]


def test_one_open_change_per_target_and_no_revert_of_what_was_never_changed():
    stack = Rollbacks()
    stack.push("node/a", "start node a", lambda: None)
    with pytest.raises(InfraError, match="already changed"):
        stack.push("node/a", "start node a", lambda: None)
    with pytest.raises(InfraError, match="nothing to revert"):
        stack.revert("node/z")
