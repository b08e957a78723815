"""A TCP relay: one listening port per upstream, bytes passed on unchanged.

The harness must reach MinIO, the app and Prometheus inside a cluster it did
not create, without NodePorts. A `kubectl port-forward` to a MinIO pod dies
when a fault kills that pod, so the harness forwards to this relay instead
(a Deployment in chaosgate's helper namespace, see ``deployer.relay``, never a
fault target). Every accepted connection dials the upstream's Service name
afresh, so the Service picks a live pod each time. The relay never parses what
it carries: S3 signatures cover the Host header, and they still verify because
the bytes arrive as the client sent them.

Run it as ``python -m chaos.relay --route 9000=minio.shop.svc.cluster.local:9000
[--route ...]``. Standard library only, and it imports nothing else of ours
(``chaos/__init__.py`` is a docstring), so an image needs Python and these two
files. The route text ``LISTEN=HOST:PORT`` is the contract with the deployer,
which renders it (``deployer.relay.Route.arg``) because the deployer layer may
not import this one; a unit test ties the two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import socket
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

CONNECT_TIMEOUT_S = 5.0
DRAIN_S = 2.0
"""How long a client whose upstream failed may still send before the relay closes."""
"""Seconds for name lookup plus TCP connect to the upstream. A Service whose
pods are all down refuses at once; 5 s only bounds a lookup or a SYN that gets
no answer (a lost node), so a client is never left waiting on a dead dial."""

CHUNK = 64 * 1024
"""Bytes per read: asyncio's default stream limit, so nothing buffers more."""

BACKLOG = 512
"""Pending accepts per port: load runs open many connections at once, and the
default (100) would make a burst look like an outage of the stack."""

# TCP keepalive on the upstream side: a node that loses power sends no RST,
# and an idle keep-alive connection to a pod on it would otherwise stay open
# for hours. About a minute (30 s idle, 3 probes 10 s apart) finds it; probes
# only run on idle connections, so a slow upstream is never cut off.
KEEPALIVE_IDLE_S = 30
KEEPALIVE_INTERVAL_S = 10
KEEPALIVE_COUNT = 3

_PORT = re.compile(r"[0-9]{1,5}")
# A DNS name or IPv4 address (letters, digits, '-', '_', '.'; a trailing dot
# makes a name absolute), or an IPv6 literal in brackets.
_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")
_IPV6 = re.compile(r"\[([0-9A-Fa-f:.]+)\]")


@dataclass(frozen=True)
class Route:
    """Listen on ``listen_port``; send what arrives to ``host:port``."""

    listen_port: int
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listen_port}={host}:{self.port}"


def parse_port(text: str, what: str) -> int:
    """A TCP port 1..65535 written as plain digits (no sign, spaces or '_',
    which ``int()`` would accept)."""
    if not _PORT.fullmatch(text):
        raise ValueError(f"{what} must be a number from 1 to 65535, got {text!r}")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"{what} must be from 1 to 65535, got {port}")
    return port


def parse_route(text: str) -> Route:
    """``LISTEN=HOST:PORT`` -> Route; ValueError that quotes the text and says
    what is wrong with it."""
    listen_text, sep, target = text.partition("=")
    if not sep:
        raise ValueError(f"route {text!r} has no '=': write LISTEN=HOST:PORT, e.g. 9000=minio.shop.svc:9000")
    host_text, sep, port_text = target.rpartition(":")
    if not sep:
        raise ValueError(f"route {text!r} has no ':PORT' after the host: write LISTEN=HOST:PORT")
    listen_port = parse_port(listen_text, f"route {text!r}: the listen port")
    port = parse_port(port_text, f"route {text!r}: the upstream port")
    if not host_text:
        raise ValueError(f"route {text!r} has an empty host: write LISTEN=HOST:PORT")
    if ipv6 := _IPV6.fullmatch(host_text):
        host = ipv6.group(1)
    elif _NAME.fullmatch(host_text):
        host = host_text
    else:
        raise ValueError(
            f"route {text!r}: {host_text!r} is not a host name or address"
            " (IPv6 addresses go in brackets: 9000=[fd00::1]:9000)"
        )
    return Route(listen_port, host, port)


def parse_routes(texts: Iterable[str]) -> list[Route]:
    """Every route parsed; ValueError when there are none or two share a listen port."""
    routes = [parse_route(t) for t in texts]
    if not routes:
        raise ValueError("no routes: give at least one --route LISTEN=HOST:PORT")
    seen: dict[int, Route] = {}
    for route in routes:
        if route.listen_port in seen:
            raise ValueError(f"routes {seen[route.listen_port]} and {route} both listen on port {route.listen_port}")
        seen[route.listen_port] = route
    return routes


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    # Linux names; elsewhere the system's keepalive defaults apply.
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
    ):
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset: linger 0 makes close() send RST instead of FIN,
    so the peer sees a failure, never what looks like a complete answer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone: nothing left to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _end_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """End a client connection with a FIN, never a reset: the client side is
    `kubectl port-forward`, and a reset inside the pod makes the whole forward
    exit ("lost connection to pod"), cutting every connection of the harness.
    What the client still sends is read and dropped for a moment (closing a
    socket with unread data would send a reset). An HTTP client still sees a
    failure: the answer is missing or shorter than its Content-Length."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        writer.transport.abort()  # the relay is stopping: no time to be polite
        return
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            while await reader.read(CHUNK):
                pass
    writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until EOF, then pass the EOF on (half-close): an
    HTTP client may shut down its sending side and still await the answer."""
    while data := await reader.read(CHUNK):
        writer.write(data)
        # Waits while the peer reads slower than we receive: backpressure, so
        # memory stays within the transport's high-water mark.
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


async def _relay(route: Route, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.wait_for(
            asyncio.open_connection(route.host, route.port, limit=CHUNK), CONNECT_TIMEOUT_S
        )
    except (OSError, TimeoutError) as exc:
        reason = f"no answer within {CONNECT_TIMEOUT_S:.0f}s" if isinstance(exc, TimeoutError) else str(exc)
        _log(f"relay: {route}: cannot reach {route.host}:{route.port}: {type(exc).__name__}: {reason}")
        await _end_client(client_reader, client_writer)
        return
    _keepalive(upstream_writer)
    pumps = [
        asyncio.create_task(_pump(client_reader, upstream_writer)),
        asyncio.create_task(_pump(upstream_reader, client_writer)),
    ]
    clean = False
    try:
        await asyncio.gather(*pumps)
        clean = True
    except OSError:
        pass  # a reset on either side ends the pair; the finally below passes it on
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        if clean:
            client_writer.close()  # both EOFs passed on: flush what is left, then close
            upstream_writer.close()
        else:
            # One side failed (or the relay is stopping): the upstream is reset,
            # so its server learns at once; the client is closed at once.
            _reset(upstream_writer)
            await _end_client(client_reader, client_writer)


async def _connection(
    route: Route,
    live: set[asyncio.Task[None]],
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
) -> None:
    task = asyncio.current_task()
    if task is not None:
        live.add(task)
    try:
        await _relay(route, client_reader, client_writer)
    except Exception as exc:  # noqa: BLE001 (one broken connection must not take the relay down)
        _log(f"relay: {route}: connection failed: {type(exc).__name__}: {exc}")
        client_writer.transport.abort()
    finally:
        if task is not None:
            live.discard(task)


async def serve(routes: Sequence[Route], *, bind: str, stop: asyncio.Event) -> None:
    """Relay every route until ``stop`` is set, then stop accepting and reset
    the connections still open. OSError when a port cannot be bound."""
    live: set[asyncio.Task[None]] = set()
    servers: list[asyncio.Server] = []
    try:
        for route in routes:
            try:
                server = await asyncio.start_server(
                    partial(_connection, route, live), host=bind, port=route.listen_port, backlog=BACKLOG
                )
            except OSError as exc:
                raise OSError(exc.errno, f"cannot listen on {bind}:{route.listen_port} for {route}: {exc}") from exc
            servers.append(server)
            print(f"relay: {bind}:{route.listen_port} -> {route.host}:{route.port}", flush=True)
        await stop.wait()
    finally:
        # Server.wait_closed() is not awaited: from Python 3.12 on it waits
        # for every open connection, and idle keep-alive ones never end.
        for server in servers:
            server.close()
        for task in list(live):
            task.cancel()
        await asyncio.gather(*live, return_exceptions=True)


async def _run(routes: Sequence[Route], bind: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve(routes, bind=bind, stop=stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.relay",
        description="Relay TCP connections: each listen port to one upstream, dialled afresh per connection.",
    )
    parser.add_argument(
        "--route",
        action="append",
        required=True,
        metavar="LISTEN=HOST:PORT",
        help="listen on LISTEN and relay to HOST:PORT; repeat for more upstreams",
    )
    parser.add_argument(
        "--bind",
        default="0.0.0.0",  # noqa: S104 (in a pod: kubectl port-forward connects to the pod's address)
        help="address to listen on (default: %(default)s; tests use 127.0.0.1)",
    )
    args = parser.parse_args(argv)
    try:
        routes = parse_routes(args.route)
    except ValueError as exc:
        parser.error(str(exc))  # exit 2 with the usage line
    try:
        asyncio.run(_run(routes, args.bind))
    except OSError as exc:
        _log(f"relay: {exc.strerror or exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
