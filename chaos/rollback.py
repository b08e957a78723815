"""Undo steps of the faults a run injected, kept per run (Chaos Toolkit's
rollbacks): every fault that changes something registers how to change it
back, with the client it needs, before it acts; the fault's own revert takes
its step off again; cleanup (also on Ctrl-C) unwinds whatever is left, newest
first, and keeps going when one step fails."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from kernel.errors import InfraError


@dataclass(frozen=True)
class Undo:
    key: str  # what is changed, e.g. "statefulset/ns/minio-pool0", "node/chaosgate-worker"
    what: str  # for people: "scale ns/minio-pool0 back to 4 replicas"
    action: Callable[[], object]


class Rollbacks:
    def __init__(self) -> None:
        self._steps: list[Undo] = []
        self._lock = threading.Lock()

    def push(self, key: str, what: str, action: Callable[[], object]) -> Undo:
        """Register an undo before the fault acts. One open change per target:
        a second fault on a target not yet reverted is refused."""
        undo = Undo(key, what, action)
        with self._lock:
            if any(step.key == key for step in self._steps):
                raise InfraError(f"{key} is already changed by a fault that was not reverted")
            self._steps.append(undo)
        return undo

    def pop(self, key: str) -> Undo:
        """Take the undo of ``key`` off the stack (the caller runs it)."""
        with self._lock:
            for step in reversed(self._steps):
                if step.key == key:
                    self._steps.remove(step)
                    return step
        raise InfraError(f"no fault changed {key} in this run: nothing to revert")

    def revert(self, key: str) -> Undo:
        """Run and drop the undo of ``key``."""
        undo = self.pop(key)
        undo.action()
        return undo

    def pending(self) -> list[str]:
        with self._lock:
            return [step.what for step in self._steps]

    def unwind(self) -> list[str]:
        """Run every pending undo, newest first; returns what was reverted.
        A step that fails does not stop the others; InfraError lists them after."""
        reverted: list[str] = []
        failed: list[str] = []
        while True:
            with self._lock:
                if not self._steps:
                    break
                step = self._steps.pop()
            try:
                step.action()
            except Exception as exc:  # noqa: BLE001 (every other undo must still run)
                failed.append(f"{step.what}: {type(exc).__name__}: {exc}")
            else:
                reverted.append(step.what)
        if failed:
            raise InfraError("could not revert: " + "; ".join(failed))
        return reverted
