"""A TCP proxy in front of a real MinIO server that answers chosen requests
with 503 itself, as a server briefly without quorum or a load balancer
between pods does: requests are parsed one by one (keep-alive included) and
forwarded unless a rule says to refuse them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nConnection: close\r\n"
    b"Content-Length: 95\r\n\r\n"
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>\n\n\n\n\n\n\n"
)


@dataclass
class FlakyProxy:
    """``refuse(method, target)`` decides per request; ``seen`` lists every
    (method, target) the proxy received, refused or forwarded."""

    upstream: tuple[str, int]
    refuse: Callable[[str, str], bool]
    seen: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream)
        threading.Thread(target=_pipe, args=(server, client), daemon=True).start()
        pending = b""
        try:
            while True:
                head, pending = _read_head(client, pending)
                if head is None:
                    return
                method, target = head.split(b" ", 2)[:2]
                length = _content_length(head)
                body, pending = _read_exact(client, pending, length)
                with self._lock:
                    self.seen.append((method.decode(), target.decode()))
                    refused = self.refuse(method.decode(), target.decode())
                if refused:
                    client.sendall(REFUSAL)
                    return
                server.sendall(head + body)
        except OSError:
            return
        finally:
            client.close()
            server.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass


def _read_head(sock: socket.socket, pending: bytes) -> tuple[bytes | None, bytes]:
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        pending += chunk
    end = pending.index(b"\r\n\r\n") + 4
    return pending[:end], pending[end:]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _read_exact(sock: socket.socket, pending: bytes, length: int) -> tuple[bytes, bytes]:
    while len(pending) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("the client closed mid-body")
        pending += chunk
    return pending[:length], pending[length:]
