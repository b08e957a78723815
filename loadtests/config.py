"""What the harness tells Locust, as one dataclass on both sides of the process boundary.

The harness builds a :class:`LoadConfig` and passes ``to_env()`` to the Locust
process (and, through a Secret, to worker pods); the locustfiles read it back
with ``LoadConfig.from_env(os.environ)``. The variable names live here only.
Standard library only: the locustfiles import this under gevent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from kernel.errors import BadInputError

T = TypeVar("T")
PREFIX = "CHAOSGATE_"
READ_NAME = "GET /objects"
"""The locustfiles' request name for reads: the harness reads read availability under it."""


@dataclass(frozen=True)
class AppContract:
    """How the target's app takes writes, reads and (optionally) deletes
    (targets/README.md, app), and where it stores a key in the bucket."""

    write_method: str
    write_path: str
    ack_status: tuple[int, ...]
    digest_header: str
    read_path: str
    delete_path: str = ""  # empty: the app does not delete; deletes go to S3
    stored_as: str = "{key}"


def _env(name: str) -> str:
    return PREFIX + name.upper()


def _number(
    environ: Mapping[str, str], name: str, default: str, kind: Callable[[str], T], *, low: float, high: float
) -> T:
    var = _env(name)
    text = environ.get(var) or default
    try:
        value = kind(text)
    except ValueError:
        raise BadInputError(f"{var} must be a number, got {text!r}") from None
    if not low <= value <= high:  # type: ignore[operator]
        raise BadInputError(f"{var} must be within [{low}, {high}], got {text!r}")
    return value


@dataclass(frozen=True)
class LoadConfig:
    """Everything one Locust run is told. Empty strings and None are left out
    of the environment, so the locustfiles' defaults apply."""

    run_id: str = ""
    ledger_dir: str = ""  # the master's ledger folder; workers have none (their entries travel to it)
    size_mix: str = ""  # chaos.sizemix text; empty: every object object_size bytes
    object_size: int = 4096
    read_ratio: float = 0.5
    overwrite_ratio: float = 0.0
    delete_ratio: float = 0.0
    bytes_per_s: float = 0.0  # 0: no cap
    request_timeout: float = 10.0  # seconds a client waits for an answer
    s3_endpoint: str = ""  # the app file only: the s3 file's host is the endpoint
    s3_access_key: str = field(default="", repr=False)
    s3_secret_key: str = field(default="", repr=False)
    s3_bucket: str = ""
    app: AppContract | None = None

    def to_env(self) -> dict[str, str]:
        env = {
            _env("run_id"): self.run_id,
            _env("ledger_dir"): self.ledger_dir,
            _env("size_mix"): self.size_mix,
            _env("object_size"): str(self.object_size),
            _env("read_ratio"): str(self.read_ratio),
            _env("overwrite_ratio"): str(self.overwrite_ratio),
            _env("delete_ratio"): str(self.delete_ratio),
            _env("bytes_per_s"): str(self.bytes_per_s),
            _env("request_timeout"): str(self.request_timeout),
            _env("s3_endpoint"): self.s3_endpoint,
            _env("s3_access_key"): self.s3_access_key,
            _env("s3_secret_key"): self.s3_secret_key,
            _env("s3_bucket"): self.s3_bucket,
        }
        if self.app is not None:
            env.update(
                {
                    _env("app_write_method"): self.app.write_method,
                    _env("app_write_path"): self.app.write_path,
                    _env("app_ack_status"): ",".join(map(str, self.app.ack_status)),
                    _env("app_digest_header"): self.app.digest_header,
                    _env("app_read_path"): self.app.read_path,
                    _env("app_delete_path"): self.app.delete_path,
                    _env("app_stored_as"): self.app.stored_as,
                }
            )
        return {k: v for k, v in env.items() if v}

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LoadConfig:
        """Read back what ``to_env`` wrote; BadInputError names the variable and the fix."""
        text = {name: environ.get(_env(name), "") for name in ("run_id", "ledger_dir", "size_mix", "s3_endpoint")}
        config = cls(
            **text,
            object_size=_number(environ, "object_size", "4096", int, low=1, high=5 * 1024**3),
            read_ratio=_number(environ, "read_ratio", "0.5", float, low=0, high=1),
            overwrite_ratio=_number(environ, "overwrite_ratio", "0", float, low=0, high=1),
            delete_ratio=_number(environ, "delete_ratio", "0", float, low=0, high=1),
            bytes_per_s=_number(environ, "bytes_per_s", "0", float, low=0, high=float("inf")),
            request_timeout=_number(environ, "request_timeout", "10", float, low=0.1, high=600),
            s3_access_key=environ.get(_env("s3_access_key"), ""),
            s3_secret_key=environ.get(_env("s3_secret_key"), ""),
            s3_bucket=environ.get(_env("s3_bucket"), ""),
            app=_app(environ),
        )
        if config.overwrite_ratio + config.delete_ratio >= 1:
            raise BadInputError(f"{_env('overwrite_ratio')} + {_env('delete_ratio')} must be < 1: some writes are new")
        return config

    def for_workers(self, count: int) -> LoadConfig:
        """The workers' config: no ledger folder (their entries travel to the
        master), and each worker a share of the run's byte budget."""
        share = self.bytes_per_s / count if count > 0 and self.bytes_per_s else self.bytes_per_s
        return replace(self, ledger_dir="", bytes_per_s=share)

    def shape(self) -> dict[str, Any]:
        """The load's shape, for the report."""
        keys = ("size_mix", "overwrite_ratio", "delete_ratio", "bytes_per_s")
        return {k: str(getattr(self, k)) for k in keys}


def env_name(name: str) -> str:
    """The variable a LoadConfig field travels in (``ledger_dir``: CHAOSGATE_LEDGER_DIR)."""
    return _env(name)


def _app(environ: Mapping[str, str]) -> AppContract | None:
    if not environ.get(_env("app_write_method")):
        return None
    return AppContract(
        write_method=environ[_env("app_write_method")],
        write_path=environ.get(_env("app_write_path"), ""),
        ack_status=tuple(int(c) for c in environ.get(_env("app_ack_status"), "").split(",") if c),
        digest_header=environ.get(_env("app_digest_header"), ""),
        read_path=environ.get(_env("app_read_path"), ""),
        delete_path=environ.get(_env("app_delete_path"), ""),
        stored_as=environ.get(_env("app_stored_as")) or "{key}",
    )
