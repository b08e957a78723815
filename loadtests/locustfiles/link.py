"""The ledger of a Locust process, whatever its role.

* alone (no --master/--worker): entries go to this process's ledger file;
* worker: intents and entries go to the master as Locust messages, and a
  final count when the worker stops (loadtests/merge.py says why);
* master: takes the workers' messages into its ledger file; when the run
  ends it asks every worker to stop its users and waits for each final
  count before Locust quits, so answers still in flight are not cut off.

Imported only inside Locust processes (gevent), never by the harness.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from chaos.ledger import LedgerWriter, Write, writer_for_process
from loadtests.config import env_name
from loadtests.merge import Intent, Merger, write_summary

ENV_LEDGER_DIR = env_name("ledger_dir")

INTENT = "chaosgate_intent"
OPERATION = "chaosgate_operation"
HELLO = "chaosgate_hello"
DONE = "chaosgate_done"
FINISH = "chaosgate_finish"

CONFIRM_GRACE_S = 20.0
"""How long past Locust's stop timeout the master waits for workers' final
counts: a worker's users have stop_timeout to finish their request; the rest
is message latency. A dead worker costs the run this long, once."""


class ProcessLedger:
    def __init__(self) -> None:
        self.writer: LedgerWriter | None = None
        self.environment: Environment | None = None
        self.role = "local"
        self.merger: Merger | None = None
        self._seq = itertools.count(1)
        self._sent = 0
        self._requests = 0
        self._started = 0.0
        # Registered by call rather than as decorators, which mypy would see as untyped.
        events.init.add_listener(self._open)
        events.quitting.add_listener(self._close)

    # -- setup -------------------------------------------------------------

    def _open(self, environment: Environment, **_: object) -> None:
        self.environment = environment
        runner = environment.runner
        folder = os.environ.get(ENV_LEDGER_DIR)
        if isinstance(runner, WorkerRunner):
            self.role = "worker"
            runner.register_message(FINISH, self._on_finish, concurrent=True)
            environment.events.test_start.add_listener(self._on_worker_start)
            environment.events.test_stop.add_listener(self._on_worker_stop)
            environment.events.request.add_listener(self._count)
            return
        self.writer = writer_for_process(Path(folder), "locust") if folder else None
        if isinstance(runner, MasterRunner):
            self.role = "master"
            self.merger = Merger(self._write)
            runner.register_message(HELLO, lambda msg, **_: self._merge().hello(msg.node_id))
            runner.register_message(INTENT, lambda msg, **_: self._merge().intent(msg.node_id, msg.data))
            runner.register_message(OPERATION, lambda msg, **_: self._merge().operation(msg.node_id, msg.data))
            runner.register_message(DONE, lambda msg, **_: self._merge().done(msg.node_id, msg.data))
            environment.events.test_stop.add_listener(self._on_master_stop)

    def _close(self, environment: Environment, **_: object) -> None:
        if self.merger is not None:
            summary = self.merger.finish()
            folder = os.environ.get(ENV_LEDGER_DIR)
            if folder:
                write_summary(Path(folder), summary)
            self.merger = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _merge(self) -> Merger:
        assert self.merger is not None
        return self.merger

    def _write(self, write: Write) -> None:
        if self.writer is not None:
            self.writer.record(write)

    # -- what the users call -------------------------------------------------

    def intend(
        self,
        key: str,
        op: str,
        size_class: str,
        size: int,
        path: str,
        *,
        sha256: str = "",
        seed: int | None = None,
        multipart: bool = False,
    ) -> int:
        """Announce a request before sending it; returns its number for ``record``."""
        seq = next(self._seq)
        if self.role == "worker":
            intent = Intent(seq, key, op, size_class, size, path, time.time(), sha256, seed, multipart)
            self._send(INTENT, intent.to_message())
        return seq

    def record(self, write: Write, seq: int = 0) -> None:
        if self.role == "worker":
            self._send(OPERATION, {"seq": seq, "write": asdict(write)})
            self._sent += 1
        else:
            self._write(write)

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        assert self.environment is not None and self.environment.runner is not None
        self.environment.runner.send_message(kind, data)

    # -- worker ------------------------------------------------------------

    def _on_worker_start(self, environment: Environment, **_: object) -> None:
        self._started = time.monotonic()
        self._send(HELLO, {"host": socket.gethostname(), "pid": os.getpid()})

    def _count(self, **_: object) -> None:
        self._requests += 1

    def _on_finish(self, environment: Environment, msg: Any, **_: object) -> None:
        # Stopping the users fires test_stop, which sends the final count.
        if environment.runner is not None:
            environment.runner.stop()

    def _on_worker_stop(self, environment: Environment, **_: object) -> None:
        seconds = time.monotonic() - self._started if self._started else 0.0
        self._send(DONE, {"sent": self._sent, "requests": self._requests, "seconds": round(seconds, 3)})

    # -- master ------------------------------------------------------------

    def _on_master_stop(self, environment: Environment, **_: object) -> None:
        runner = environment.runner
        if not isinstance(runner, MasterRunner) or self.merger is None:
            return
        runner.send_message(FINISH)
        deadline = time.monotonic() + environment.stop_timeout + CONFIRM_GRACE_S
        while time.monotonic() < deadline:
            connected = {client.id for client in runner.clients.all}
            if not self.merger.waiting_for(connected):
                return
            gevent.sleep(0.2)
