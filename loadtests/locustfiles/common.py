"""Shared by the locustfiles: settings from the environment and the ledger.

Imported only inside Locust processes (gevent monkey-patching), never by the
harness.
"""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from locust import events, stats
from locust.env import Environment

from chaos.ledger import LedgerWriter, Write, writer_for_process

# Locust writes its per-second history to disk only every few seconds; the
# sampler reads it live to put load on the fault timeline, so flush each second.
stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

# The runner passes everything through these variables (see loadtests.runner).
ENV_LEDGER_DIR = "CHAOSGATE_LEDGER_DIR"
ENV_OBJECT_SIZE = "CHAOSGATE_OBJECT_SIZE"
ENV_RUN_ID = "CHAOSGATE_RUN_ID"
ENV_READ_RATIO = "CHAOSGATE_READ_RATIO"
ENV_TIMEOUT = "CHAOSGATE_REQUEST_TIMEOUT"
ENV_APP_WRITE_METHOD = "CHAOSGATE_APP_WRITE_METHOD"
ENV_APP_WRITE_PATH = "CHAOSGATE_APP_WRITE_PATH"
ENV_APP_ACK_STATUS = "CHAOSGATE_APP_ACK_STATUS"
ENV_APP_DIGEST_HEADER = "CHAOSGATE_APP_DIGEST_HEADER"
ENV_APP_READ_PATH = "CHAOSGATE_APP_READ_PATH"


@dataclass(frozen=True)
class LoadSettings:
    object_size: int
    run_id: str
    read_ratio: float
    timeout: float

    @classmethod
    def from_env(cls) -> LoadSettings:
        return cls(
            object_size=int(os.environ.get(ENV_OBJECT_SIZE, "4096")),
            run_id=os.environ.get(ENV_RUN_ID, uuid.uuid4().hex[:8]),
            read_ratio=float(os.environ.get(ENV_READ_RATIO, "0.5")),
            timeout=float(os.environ.get(ENV_TIMEOUT, "10")),
        )


@dataclass(frozen=True)
class AppContract:
    """How the target's app takes writes and reads (targets/README.md, app)."""

    write_method: str
    write_path: str
    ack_status: frozenset[int]
    digest_header: str
    read_path: str

    @classmethod
    def from_env(cls) -> AppContract:
        # No defaults: the contract is the target's, never a guess at one app's.
        return cls(
            write_method=required(ENV_APP_WRITE_METHOD),
            write_path=required(ENV_APP_WRITE_PATH),
            ack_status=frozenset(int(c) for c in required(ENV_APP_ACK_STATUS).split(",") if c),
            digest_header=os.environ.get(ENV_APP_DIGEST_HEADER, ""),
            read_path=required(ENV_APP_READ_PATH),
        )


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} is not set: the harness passes the target's app contract to Locust")
    return value


class ProcessLedger:
    """This Locust process's ledger file: opened when Locust starts, closed
    when it quits; without CHAOSGATE_LEDGER_DIR nothing is recorded."""

    def __init__(self) -> None:
        self.writer: LedgerWriter | None = None
        # Registered by call rather than as decorators, which mypy would see as untyped.
        events.init.add_listener(self._open)
        events.quitting.add_listener(self._close)

    def _open(self, environment: Environment, **_: object) -> None:
        folder = os.environ.get(ENV_LEDGER_DIR)
        self.writer = writer_for_process(Path(folder), "locust") if folder else None

    def _close(self, environment: Environment, **_: object) -> None:
        if self.writer is not None:
            self.writer.close()

    def record(self, write: Write) -> None:
        if self.writer is not None:
            self.writer.record(write)


def new_key(settings: LoadSettings) -> str:
    # Unique keys: a key is written once, so "stale" cannot hide a loss.
    return f"{settings.run_id}/{uuid.uuid4().hex}"


def payload(size: int) -> bytes:
    return random.randbytes(size)
