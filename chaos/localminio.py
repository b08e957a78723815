"""A real MinIO distributed cluster of N server processes on loopback.

Why this endpoint form: MinIO treats an endpoint as local when its host is a
local (any loopback) address AND its port equals the server's own
``--address`` port. All-local endpoints with one port are rejected or become
a single-server setup; all-local endpoints with *different* ports are a real
distributed setup (DistErasure): each server owns the endpoints on its port
and talks to the others over the network like pods would. So every server
gets its own port and its own drive folder, and every server receives the
same explicit endpoint list::

    http://127.0.0.1:P1/<root>/n0/d0 http://127.0.0.1:P2/<root>/n1/d0 ...

Ellipses cannot express this: they expand to a cartesian product (every port
times every folder), and each ellipsis argument would become its own pool.

Credentials are generated per cluster and never written to a log. Cleanup
is guaranteed three ways: ``cleanup()`` (and the context manager), an atexit
hook, and ``PR_SET_PDEATHSIG`` so the kernel kills the servers if this
process dies without running Python cleanup (SIGKILL, OOM).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from urllib3 import PoolManager
from urllib3.exceptions import HTTPError
from urllib3.util import Retry, Timeout

from deployer.tools import resolve
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.progress import phase
from kernel.wait import Deadline, Seen, wait_until

DEFAULT_NODES = 4
# Seconds. A fresh 4-node cluster formats and reaches quorum in a few seconds
# on loopback; a busy 2-core CI runner needs more headroom than that.
DEFAULT_START_TIMEOUT = 60.0
# Seconds a server gets to exit after SIGTERM before it is SIGKILLed.
STOP_GRACE = 10.0
HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class RootCredentials:
    """The cluster's root key pair. The secret never appears in repr, so it
    cannot leak through logs, assertion messages or pytest's captured locals."""

    access_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class KillProof:
    """Proof that a kill took effect: the process is gone and how it ended."""

    index: int
    pid: int
    returncode: int


@dataclass
class _Node:
    index: int
    port: int
    drives: tuple[Path, ...]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _free_ports(count: int) -> list[int]:
    """Ports the kernel hands out right now. Held open together so the list
    has no duplicates; a race with another program remains possible and shows
    up as a server that exits with "address already in use" in its log."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. Note: the signal fires when
    # the *thread* that started the child exits, so start nodes from a thread
    # that lives as long as the cluster (pytest's main thread does).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty log)"


class LocalMinioCluster:
    """``nodes`` MinIO servers with ``drives_per_node`` folders each, on loopback.

    Use as a context manager, or call :meth:`start` and :meth:`cleanup`.
    Node indexes run from 0 to ``nodes - 1``.
    """

    def __init__(
        self,
        nodes: int = DEFAULT_NODES,
        drives_per_node: int = 1,
        *,
        binary: Path | None = None,
        root: Path | None = None,
    ) -> None:
        total = nodes * drives_per_node
        if nodes < 2 or drives_per_node < 1 or not 2 <= total <= 16:
            raise BadInputError(
                f"nodes={nodes}, drives_per_node={drives_per_node}: a distributed MinIO needs "
                "at least 2 servers and 2 to 16 drives in total (one erasure set)"
            )
        self._binary = binary
        self._owns_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="chaosgate-minio-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        # MinIO requires >= 3 characters for the user and >= 8 for the password.
        self.credentials = RootCredentials(f"cg{secrets.token_hex(6)}", secrets.token_urlsafe(24))
        self._nodes = [
            _Node(
                index=i,
                port=port,
                drives=tuple(self.root / f"n{i}" / f"d{j}" for j in range(drives_per_node)),
                log_path=self.root / f"node{i}.log",
            )
            for i, port in enumerate(_free_ports(nodes))
        ]
        self._http = PoolManager(timeout=Timeout(connect=1.0, read=5.0), retries=Retry(total=0, redirect=0))
        self._cleaned = False
        atexit.register(self.cleanup)

    def __repr__(self) -> str:
        return f"LocalMinioCluster(nodes={len(self._nodes)}, root={self.root}, urls={self.urls})"

    def __enter__(self) -> LocalMinioCluster:
        try:
            self.start()
        except BaseException:
            self.cleanup(remove_files=False)  # keep the logs that explain the failure
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- addresses ---------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._nodes)

    @property
    def drive_count(self) -> int:
        return sum(len(n.drives) for n in self._nodes)

    def endpoint(self, i: int) -> str:
        """``host:port`` of node ``i``, the form the minio SDK takes."""
        return f"{HOST}:{self._node(i).port}"

    def url(self, i: int) -> str:
        """``http://host:port`` of node ``i``, the form chaos probes take."""
        return f"http://{self.endpoint(i)}"

    @property
    def urls(self) -> list[str]:
        return [self.url(n.index) for n in self._nodes]

    @property
    def access_key(self) -> str:
        return self.credentials.access_key

    @property
    def secret_key(self) -> str:
        return self.credentials.secret_key

    @property
    def server_args(self) -> list[str]:
        """The endpoint list every server gets, in node order."""
        return [f"http://{HOST}:{n.port}{d}" for n in self._nodes for d in n.drives]

    def log_path(self, i: int) -> Path:
        return self._node(i).log_path

    def running(self, i: int) -> bool:
        return self._node(i).running()

    def pid(self, i: int) -> int | None:
        """Process id of node ``i`` while it runs, else None."""
        node = self._node(i)
        return node.process.pid if node.process is not None and node.running() else None

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float | Deadline = DEFAULT_START_TIMEOUT) -> None:
        """Start every server at once (a fresh cluster formats only when all
        drives are seen together) and wait until the cluster has write quorum."""
        deadline = timeout if isinstance(timeout, Deadline) else Deadline(timeout)
        with phase(f"start local MinIO cluster ({self.size} servers)"):
            for node in self._nodes:
                if not node.running():
                    self._spawn(node)
            try:
                self.wait_ready(deadline)
            except WaitTimeout as exc:
                tails = "\n".join(f"--- {n.log_path}:\n{_tail(n.log_path, 8)}" for n in self._nodes if n.running())
                raise InfraError(f"{exc}\n{tails}") from exc

    def start_node(self, i: int) -> int:
        """Start (restart) node ``i`` with its old drives; return the new pid.
        Does not wait: rejoining is what callers observe with probes."""
        node = self._node(i)
        if node.running():
            raise InfraError(f"node {i} is already running (pid {self.pid(i)})")
        return self._spawn(node)

    def kill(self, i: int) -> KillProof:
        """SIGKILL node ``i`` (no graceful shutdown, like a node loss) and prove it died."""
        node = self._node(i)
        if not node.running():
            raise InfraError(f"cannot kill node {i}: it is not running")
        assert node.process is not None
        node.process.kill()
        try:
            code = node.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired as exc:
            raise InfraError(f"node {i} (pid {node.process.pid}) survived SIGKILL") from exc
        self._close_log(node)
        if code != -signal.SIGKILL:
            raise InfraError(f"node {i} ended with code {code} before SIGKILL reached it; see {node.log_path}")
        return KillProof(i, node.process.pid, code)

    def stop(self) -> None:
        """Stop every running server: SIGTERM, then SIGKILL after a grace period."""
        for node in self._nodes:
            if node.running():
                assert node.process is not None
                node.process.terminate()
        for node in self._nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=STOP_GRACE)
            self._close_log(node)

    def cleanup(self, *, remove_files: bool = True) -> None:
        """Stop every server for sure and delete the drive folders. Idempotent."""
        if self._cleaned:
            return
        self.stop()
        self._cleaned = True
        atexit.unregister(self.cleanup)
        if remove_files and self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, timeout: float | Deadline = DEFAULT_START_TIMEOUT) -> None:
        """Wait until every *running* server answers /minio/health/ready and
        reports write quorum on /minio/health/cluster. Fails at once, with the
        log tail, when a server process exits while we wait."""
        wait_until(
            self._ready_now,
            what=f"MinIO servers {self._running_indexes()} ready with write quorum",
            timeout=timeout,
            interval=0.25,
        )

    # -- internals ---------------------------------------------------------

    def _ready_now(self) -> Seen:
        for node in self._nodes:
            # An exit we did not cause (killed nodes have their log closed) ends the wait at once.
            if node.process is not None and node.process.poll() is not None and node.log_file is not None:
                raise InfraError(
                    f"MinIO node {node.index} exited with code {node.process.returncode} while starting; "
                    f"last lines of {node.log_path}:\n{_tail(node.log_path)}"
                )
        running = [n for n in self._nodes if n.running()]
        if not running:
            raise InfraError("wait_ready: no MinIO server is running; start() or start_node() first")
        problems: list[str] = []
        for node in running:
            # Ready (process up) first, then cluster (every erasure set has write quorum).
            for path in ("/minio/health/ready", "/minio/health/cluster"):
                status = self._health_status(node, path)
                if status != 200:
                    problems.append(f"node {node.index} {path}: {status or 'no answer'}")
                    break
        if not problems:
            return Seen(True, "all running servers ready with write quorum")
        return Seen(False, "; ".join(problems))

    def _health_status(self, node: _Node, path: str) -> int | None:
        # The project's probes live in chaos.minio_health; this is the bare
        # minimum the deployer needs, since the deployer imports nothing above it.
        try:
            return int(self._http.request("GET", f"{self.url(node.index)}{path}").status)
        except HTTPError:
            return None

    def _running_indexes(self) -> list[int]:
        return [n.index for n in self._nodes if n.running()]

    def _node(self, i: int) -> _Node:
        if not 0 <= i < len(self._nodes):
            raise BadInputError(f"node index {i} out of range: this cluster has nodes 0..{len(self._nodes) - 1}")
        return self._nodes[i]

    def _env(self, node: _Node) -> dict[str, str]:
        # A clean environment: MinIO refuses peers whose MINIO_* variables
        # differ, so nothing from the caller's environment may leak in.
        return {
            # Inside a container (/.dockerenv) or a pod (KUBERNETES_SERVICE_HOST)
            # MinIO waits forever for endpoints that resolve to loopback, taking
            # them for DNS not ready yet. This names the server's own endpoints
            # explicitly; elsewhere MinIO ignores it and matches the port. Not a
            # MINIO_* variable, so it may differ between peers.
            "_MINIO_SERVER_LOCAL": f"{HOST}:{node.port}",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "MINIO_ROOT_USER": self.credentials.access_key,
            "MINIO_ROOT_PASSWORD": self.credentials.secret_key,
            # Drives live on the root filesystem; without this MinIO refuses them.
            "MINIO_CI_CD": "1",
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
            # Loopback-only test cluster: let observers scrape metrics without a JWT.
            "MINIO_PROMETHEUS_AUTH_TYPE": "public",
        }

    def _binary_path(self) -> Path:
        if self._binary is None:
            self._binary = resolve("minio").path
        return self._binary

    def _spawn(self, node: _Node) -> int:
        binary = self._binary_path()
        for drive in node.drives:
            drive.mkdir(parents=True, exist_ok=True)
        self._close_log(node)
        log_file = node.log_path.open("ab")
        log_file.write(f"--- chaosgate: starting node {node.index} on port {node.port}\n".encode())
        log_file.flush()
        args = [
            str(binary),
            "server",
            "--address",
            f"{HOST}:{node.port}",
            "--certs-dir",
            str(self.root / f"certs{node.index}"),
            *self.server_args,
        ]
        node.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            # Not a terminal: MinIO prints the root credentials in its banner
            # only when stdout is a terminal, so the log file never holds them.
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=self._env(node),
            cwd=self.root,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        node.log_file = log_file
        return node.process.pid

    @staticmethod
    def _close_log(node: _Node) -> None:
        if node.log_file is not None:
            node.log_file.close()
            node.log_file = None
