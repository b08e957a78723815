"""The TCP relay (chaos.relay) and its Deployment (deployer.relay).

The relay tests run the real relay as the pod runs it (`python -m
chaos.relay`) against real sockets on loopback. They run it from a folder
holding only chaos/__init__.py and chaos/relay.py, with `python -S` (no
site-packages), which proves what the image needs: Python and those two files.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from chaos import relay
from deployer import pins
from deployer import relay as deployer_relay
from kernel.errors import BadInputError

REPO = Path(__file__).resolve().parents[2]
IO_TIMEOUT_S = 20.0  # every socket in these tests: a relay that hangs fails the test instead of stalling it
START_TIMEOUT_S = 20.0


# --- route text -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9000=minio.shop.svc.cluster.local:9000", relay.Route(9000, "minio.shop.svc.cluster.local", 9000)),
        ("8080=gateway.shop.svc.cluster.local:8080", relay.Route(8080, "gateway.shop.svc.cluster.local", 8080)),
        ("1=127.0.0.1:65535", relay.Route(1, "127.0.0.1", 65535)),
        ("65535=prometheus:9090", relay.Route(65535, "prometheus", 9090)),
        ("9090=prom.mon.svc.cluster.local.:9090", relay.Route(9090, "prom.mon.svc.cluster.local.", 9090)),
        ("9000=[fd00::1]:9000", relay.Route(9000, "fd00::1", 9000)),
    ],
)
def test_parse_route_reads_listen_host_and_port(text: str, expected: relay.Route) -> None:
    assert relay.parse_route(text) == expected
    assert relay.parse_route(str(expected)) == expected, "str() writes the text parse_route reads"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "has no '='"),
        ("9000", "has no '='"),
        ("9000=minio", "has no ':PORT'"),
        ("9000=:9000", "empty host"),
        ("0=minio:9000", "listen port must be from 1 to 65535, got 0"),
        ("65536=minio:9000", "listen port must be from 1 to 65535, got 65536"),
        ("9000=minio:0", "upstream port must be from 1 to 65535, got 0"),
        ("9000=minio:70000", "upstream port must be from 1 to 65535, got 70000"),
        ("x=minio:9000", "listen port must be a number"),
        ("+9000=minio:9000", "listen port must be a number"),
        (" 9000=minio:9000", "listen port must be a number"),
        ("9000=minio:9_000", "upstream port must be a number"),
        ("9000=minio:", "upstream port must be a number"),
        ("9000=min io:9000", "is not a host name"),
        ("9000=-minio:9000", "is not a host name"),
        ("9000=fd00::1:9000", "IPv6 addresses go in brackets"),
        ("9000=http://minio:9000", "is not a host name"),
    ],
)
def test_parse_route_refuses_bad_text_and_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=None) as raised:
        relay.parse_route(text)
    assert message in str(raised.value)
    assert repr(text) in str(raised.value), "the message quotes the route as given"


def test_parse_routes_refuses_two_routes_on_one_listen_port() -> None:
    with pytest.raises(ValueError, match=r"9000=a:1 and 9000=b:2 both listen on port 9000"):
        relay.parse_routes(["9000=a:1", "8080=c:3", "9000=b:2"])
    with pytest.raises(ValueError, match="no routes"):
        relay.parse_routes([])
    assert relay.parse_routes(["9000=a:1", "9001=a:1"]) == [relay.Route(9000, "a", 1), relay.Route(9001, "a", 1)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--route", "9000=minio"], "has no ':PORT'"),
        (["--route", "9000=a:1", "--route", "9000=b:1"], "both listen on port 9000"),
        ([], "--route"),
    ],
)
def test_cli_exits_2_with_the_reason_on_bad_routes(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        relay.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_the_deployer_writes_the_route_text_the_relay_reads() -> None:
    # The one fact the two layers share (neither may import the other's Route).
    routes = [
        deployer_relay.Route(9000, "minio.shop.svc.cluster.local", 9000),
        deployer_relay.Route(1, "10.0.0.7", 65535),
        deployer_relay.Route(9001, "fd00::1", 80),
        deployer_relay.service_route(9090, "prometheus", "mon", 9090),
    ]
    for route in routes:
        assert relay.parse_route(route.arg) == relay.Route(route.listen_port, route.host, route.port)
    assert routes[3].host == "prometheus.mon.svc.cluster.local."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, "minio", 9000), "listen_port must be from 1 to 65535"),
        ((9000, "minio", 65536), "port must be from 1 to 65535"),
        ((True, "minio", 9000), "listen_port must be from 1 to 65535"),
        ((9000, "", 9000), "is not a host name"),
        ((9000, "minio:9000", 9000), "is not a host name"),
        ((9000, "minio shop", 9000), "is not a host name"),
    ],
)
def test_deployer_route_refuses_what_the_relay_would_refuse(args: tuple[Any, str, int], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        deployer_relay.Route(*args)


# --- a real relay on loopback -----------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def trailer(payload: bytes) -> bytes:
    return b"EOF-SEEN " + hashlib.sha256(payload).hexdigest().encode() + b"\n"


class _Echo(socketserver.BaseRequestHandler):
    """Echoes every byte; after the client's EOF it sends the sha256 of all
    it received, then closes. The trailer arrives only if the EOF got
    through, which is what proves half-close."""

    server: EchoServer

    def handle(self) -> None:
        self.server.count_connection()
        self.request.settimeout(IO_TIMEOUT_S)
        digest = hashlib.sha256()
        while data := self.request.recv(65536):
            digest.update(data)
            self.request.sendall(data)
        self.request.sendall(b"EOF-SEEN " + digest.hexdigest().encode() + b"\n")


class _ResetAfterFirstBytes(socketserver.BaseRequestHandler):
    """Reads once, then resets the connection (SO_LINGER 0): a pod killed mid-request."""

    def handle(self) -> None:
        self.request.settimeout(IO_TIMEOUT_S)
        self.request.recv(65536)
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.request.close()


class EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5 and the concurrency test opens 24
    # connections at once: on a busy machine an overflowing backlog can make
    # the relay's upstream dial give up, the likely cause of one empty answer
    # seen in a CI run.
    request_queue_size = 64

    def __init__(self, handler: type[socketserver.BaseRequestHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.port = int(self.server_address[1])
        self.connections = 0
        self._lock = threading.Lock()

    def count_connection(self) -> None:
        with self._lock:
            self.connections += 1


@pytest.fixture
def upstream_factory() -> Iterator[Callable[..., EchoServer]]:
    servers: list[EchoServer] = []

    def start(handler: type[socketserver.BaseRequestHandler] = _Echo, port: int = 0) -> EchoServer:
        server = EchoServer(handler, port)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def upstream(upstream_factory: Callable[..., EchoServer]) -> EchoServer:
    return upstream_factory()


def _lines_into(stream: Any, sink: queue.Queue[str | None]) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


@dataclass
class Relay:
    proc: subprocess.Popen[str]
    stdout: queue.Queue[str | None]
    stderr: queue.Queue[str | None]
    started: list[str] = field(default_factory=list)

    def stderr_line(self, timeout: float = IO_TIMEOUT_S) -> str:
        line = self.stderr.get(timeout=timeout)
        assert line is not None, "the relay closed stderr without a line"
        return line


@pytest.fixture(scope="module")
def relay_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the image holds: the chaos package's __init__ and the relay, nothing else."""
    root = tmp_path_factory.mktemp("relay-image")
    (root / "chaos").mkdir()
    for name in ("__init__.py", "relay.py"):
        shutil.copy(REPO / "chaos" / name, root / "chaos" / name)
    return root


@pytest.fixture
def start_relay(relay_dir: Path) -> Iterator[Callable[..., Relay]]:
    running: list[Relay] = []

    def start(*routes: str, expect_start: bool = True) -> Relay:
        args = [a for r in routes for a in ("--route", r)]
        proc = subprocess.Popen(
            [sys.executable, "-S", "-m", "chaos.relay", "--bind", "127.0.0.1", *args],
            cwd=relay_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        started = Relay(proc, queue.Queue(), queue.Queue())
        running.append(started)
        threading.Thread(target=_lines_into, args=(proc.stdout, started.stdout), daemon=True).start()
        threading.Thread(target=_lines_into, args=(proc.stderr, started.stderr), daemon=True).start()
        if expect_start:
            # The relay prints one line per route once it listens on it.
            for _ in routes:
                line = started.stdout.get(timeout=START_TIMEOUT_S)
                assert line is not None, f"the relay exited before listening: {proc.wait(timeout=5)}"
                started.started.append(line.rstrip("\n"))
        return started

    yield start
    for started in running:
        if started.proc.poll() is None:
            started.proc.kill()
        started.proc.wait(timeout=10)


def exchange(port: int, payload: bytes) -> bytes:
    """Send ``payload`` through 127.0.0.1:``port`` while reading, shut down
    the sending side, and return everything received until EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        errors: list[BaseException] = []

        def send() -> None:
            try:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                errors.append(exc)

        # A separate sender: the echo comes back while we send, and a peer
        # that is not read stops reading too.
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        received = bytearray()
        while chunk := sock.recv(256 * 1024):
            received += chunk
        sender.join(IO_TIMEOUT_S)
        assert not errors, errors
        return bytes(received)


def test_start_lines_name_each_route(start_relay: Callable[..., Relay], upstream: EchoServer) -> None:
    a, b = free_port(), free_port()
    started = start_relay(f"{a}=127.0.0.1:{upstream.port}", f"{b}=localhost:{upstream.port}")
    assert started.started == [
        f"relay: 127.0.0.1:{a} -> 127.0.0.1:{upstream.port}",
        f"relay: 127.0.0.1:{b} -> localhost:{upstream.port}",
    ]


def test_bytes_pass_both_ways_and_a_half_close_still_gets_the_answer(
    start_relay: Callable[..., Relay], upstream: EchoServer
) -> None:
    port = free_port()
    start_relay(f"{port}={'127.0.0.1'}:{upstream.port}")
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"hello")
        echoed = b""
        while len(echoed) < 5:
            chunk = sock.recv(5 - len(echoed))
            assert chunk, "the relay closed before the echo came back"
            echoed += chunk
        assert echoed == b"hello"
        sock.shutdown(socket.SHUT_WR)  # done sending; the answer must still arrive
        rest = b""
        while chunk := sock.recv(4096):
            rest += chunk
    assert rest == trailer(b"hello"), "the upstream saw our EOF and its answer came back after it"


def test_concurrent_connections_each_dial_the_upstream_and_keep_their_bytes(
    start_relay: Callable[..., Relay], upstream: EchoServer
) -> None:
    port = free_port()
    start_relay(f"{port}=127.0.0.1:{upstream.port}")
    payloads = [f"connection {i} ".encode() * (1000 + 37 * i) for i in range(24)]
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = exchange(port, payloads[i])
        except (OSError, AssertionError) as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(IO_TIMEOUT_S * 2)
    assert not errors, errors
    for i, payload in enumerate(payloads):
        assert results[i] == payload + trailer(payload), f"connection {i} got bytes of another"
    assert upstream.connections == len(payloads), "one upstream connection per client connection"


def test_a_large_payload_arrives_intact(start_relay: Callable[..., Relay], upstream: EchoServer) -> None:
    port = free_port()
    start_relay(f"{port}=127.0.0.1:{upstream.port}")
    payload = os.urandom(8 * 1024 * 1024)
    received = exchange(port, payload)
    echoed, tail = received[: len(payload)], received[len(payload) :]
    assert tail == trailer(payload), "the upstream received all 8 MiB unchanged"
    assert hashlib.sha256(echoed).hexdigest() == hashlib.sha256(payload).hexdigest(), "and sent them back unchanged"


def test_a_dead_upstream_closes_the_client_without_a_reset_and_the_next_connection_dials_again(
    start_relay: Callable[..., Relay], upstream_factory: Callable[..., EchoServer]
) -> None:
    port = free_port()
    # Bound but not listening: connections are refused, and no other process
    # on a busy machine can take the port before the upstream comes back.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    dead = holder.getsockname()[1]
    started = start_relay(f"{port}=127.0.0.1:{dead}")
    # A FIN, not a reset: behind `kubectl port-forward` a reset in the pod ends
    # the whole forward. A hang would end in TimeoutError, which fails the test.
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert sock.recv(1) == b""
    line = started.stderr_line()
    assert f"relay: {port}=127.0.0.1:{dead}: cannot reach 127.0.0.1:{dead}: ConnectionRefusedError" in line
    # The relay lives on, and dials afresh: once the upstream is back, it is reached.
    holder.close()
    back = upstream_factory(port=dead)
    assert exchange(port, b"again") == b"again" + trailer(b"again")
    assert back.connections == 1
    assert started.proc.poll() is None


def test_an_upstream_reset_mid_connection_closes_the_client_without_a_reset(
    start_relay: Callable[..., Relay], upstream_factory: Callable[..., EchoServer]
) -> None:
    upstream = upstream_factory(_ResetAfterFirstBytes)
    port = free_port()
    start_relay(f"{port}=127.0.0.1:{upstream.port}")
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"PUT /bucket/key HTTP/1.1\r\n")
        assert sock.recv(1) == b""
        # More bytes from the client after the upstream died are read and
        # dropped, so closing never turns into a reset either.
        sock.sendall(b"Content-Length: 5\r\n\r\nhello")


def test_sigterm_stops_the_relay_with_exit_0_and_closes_open_connections(
    start_relay: Callable[..., Relay], upstream: EchoServer
) -> None:
    port = free_port()
    started = start_relay(f"{port}=127.0.0.1:{upstream.port}")
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as idle:
        idle.sendall(b"ping")
        assert idle.recv(4) == b"ping"
        began = time.monotonic()
        started.proc.send_signal(signal.SIGTERM)
        assert started.proc.wait(timeout=10) == 0
        stopped_in = time.monotonic() - began
        try:
            rest = idle.recv(1)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", "the idle connection was closed, not left open"
    # Not a speed target: a relay that waited for idle keep-alive connections would never exit.
    assert stopped_in < 10
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S).close()


def test_a_port_it_cannot_bind_exits_1_and_names_it(start_relay: Callable[..., Relay], upstream: EchoServer) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = start_relay(f"{port}=127.0.0.1:{upstream.port}", expect_start=False)
        assert started.proc.wait(timeout=START_TIMEOUT_S) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in started.stderr_line()


# --- the Deployment ----------------------------------------------------------


ROUTES = [
    deployer_relay.Route(9000, "minio.shop.svc.cluster.local", 9000),
    deployer_relay.Route(8080, "gateway.shop.svc.cluster.local", 8080),
    deployer_relay.service_route(9090, "prometheus", "monitoring", 9090),
]


def _deployment() -> dict[str, Any]:
    objects = deployer_relay.manifest("chaosgate-helper", "registry.local/chaosgate-relay:1", ROUTES)
    assert [o["kind"] for o in objects] == ["Deployment"]
    return objects[0]


def test_manifest_runs_the_relay_with_one_port_and_one_route_per_upstream() -> None:
    dep = _deployment()
    assert dep["metadata"]["name"] == "chaosgate-relay"
    assert dep["metadata"]["namespace"] == "chaosgate-helper"
    spec = dep["spec"]
    assert spec["replicas"] == 1
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "chaosgate-relay"
    assert labels["app.kubernetes.io/managed-by"] == "chaosgate"
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["containers"]
    assert container["image"] == "registry.local/chaosgate-relay:1"
    assert container["command"] == ["python", "-m", "chaos.relay"]
    assert container["args"] == [
        "--route", "9000=minio.shop.svc.cluster.local:9000",
        "--route", "8080=gateway.shop.svc.cluster.local:8080",
        "--route", "9090=prometheus.monitoring.svc.cluster.local.:9090",
    ]  # fmt: skip
    assert [p["containerPort"] for p in container["ports"]] == [9000, 8080, 9090]
    assert len({p["name"] for p in container["ports"]}) == 3
    assert container["readinessProbe"]["tcpSocket"] == {"port": 9000}
    assert container["resources"] == {
        "requests": {"cpu": "50m", "memory": "32Mi"},
        "limits": {"cpu": "500m", "memory": "128Mi"},
    }
    # The relay parses exactly what the Deployment passes it.
    passed = container["args"][1::2]
    assert relay.parse_routes(passed) == [relay.Route(r.listen_port, r.host, r.port) for r in ROUTES]


def test_manifest_locks_the_relay_down() -> None:
    pod = _deployment()["spec"]["template"]["spec"]
    security = pod["containers"][0]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 10001
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False


def test_manifest_matches_the_pinned_kubernetes_api() -> None:
    version = pins.KUBERNETES_VERSION.removeprefix("v")
    minor = ".".join(version.split(".")[:2])
    assert kubernetes_validate.validate(_deployment(), version, strict=True) == minor


def test_manifest_refuses_no_routes_and_shared_listen_ports() -> None:
    with pytest.raises(BadInputError, match="at least one route"):
        deployer_relay.manifest("ns", "img", [])
    doubled = [ROUTES[0], deployer_relay.Route(9000, "other.shop.svc.cluster.local", 80)]
    with pytest.raises(BadInputError, match=r"share listen ports \[9000\]"):
        deployer_relay.manifest("ns", "img", doubled)


# --- what deploy and pod_name read --------------------------------------------


def _dep_status(generation: int, **status: int) -> dict[str, Any]:
    return {"metadata": {"generation": generation}, "status": status}


@pytest.mark.parametrize(
    ("deployment", "ok"),
    [
        (_dep_status(2, observedGeneration=2, replicas=1, updatedReplicas=1, availableReplicas=1), True),
        (_dep_status(2, observedGeneration=1, replicas=1, updatedReplicas=1, availableReplicas=1), False),
        (_dep_status(1, observedGeneration=1, replicas=1, updatedReplicas=1), False),
        # The old pod is still available while the new one starts: not done.
        (_dep_status(2, observedGeneration=2, replicas=2, updatedReplicas=1, availableReplicas=1), False),
        (_dep_status(1), False),
    ],
)
def test_rollout_is_done_when_one_updated_pod_is_available(deployment: dict[str, Any], ok: bool) -> None:
    assert bool(deployer_relay.rollout_seen(deployment)) is ok


def _pod(
    name: str, phase: str, ready: str, created: str, *, deleting: bool = False, **container: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:10:00Z"
    return {
        "metadata": meta,
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": ready}],
            "containerStatuses": [{"name": "relay", "restartCount": 0, **container}],
        },
    }


def test_running_pod_is_the_newest_ready_one_not_being_deleted() -> None:
    pods = [
        _pod("old", "Running", "True", "2025-01-01T00:00:00Z", deleting=True),
        _pod("new", "Running", "True", "2025-01-01T00:05:00Z"),
        _pod("starting", "Running", "False", "2025-01-01T00:09:00Z"),
        _pod("pending", "Pending", "False", "2025-01-01T00:09:30Z"),
    ]
    assert deployer_relay.running_pod(pods) == "new"
    assert deployer_relay.running_pod(pods[2:]) is None
    assert deployer_relay.running_pod([]) is None


def test_pods_state_shows_why_a_pod_is_not_running() -> None:
    pulling = _pod(
        "chaosgate-relay-abc",
        "Pending",
        "False",
        "2025-01-01T00:00:00Z",
        state={"waiting": {"reason": "ImagePullBackOff", "message": "pull access denied"}},
    )
    crashing = _pod(
        "chaosgate-relay-def",
        "Running",
        "False",
        "2025-01-01T00:00:00Z",
        state={"waiting": {"reason": "CrashLoopBackOff"}},
        lastState={"terminated": {"reason": "Error", "exitCode": 2}},
        restartCount=4,
    )
    text = deployer_relay.pods_state([pulling, crashing])
    assert "pod chaosgate-relay-abc: phase Pending, Ready False" in text
    assert "waiting (ImagePullBackOff, pull access denied)" in text
    assert "last terminated (Error, 2); restarts 4" in text
    assert "no relay pod" in deployer_relay.pods_state([])
