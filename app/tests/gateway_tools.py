"""Test helpers: MinIO straight (bypassing the gateway), requests sent byte
for byte (HTTP clients normalise ``..`` and ``//`` away), metrics, and the
gateway process's memory as the kernel counts it."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from minio import Minio
from minio.error import S3Error
from prometheus_client.parser import text_string_to_metric_families
from urllib3 import PoolManager
from urllib3.util import Retry, Timeout

from tests.fixtures.localminio import LocalMinioCluster

BUCKET = "chaosgate"  # the gateway's default bucket
MiB = 1024 * 1024


def direct(cluster: LocalMinioCluster, node: int = 0) -> Minio:
    """The MinIO SDK straight to one server, bypassing the gateway. Retries
    off and short timeouts: the SDK's default retries 5 times for 5 minutes."""
    http = PoolManager(timeout=Timeout(connect=2.0, read=10.0), retries=Retry(total=0, redirect=0))
    return Minio(
        cluster.endpoint(node),
        access_key=cluster.access_key,
        secret_key=cluster.secret_key,
        secure=False,
        http_client=http,
    )


def exists(client: Minio, key: str) -> bool:
    try:
        client.stat_object(BUCKET, key)
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return False
        raise
    return True


def incomplete_uploads(client: Minio, key: str) -> list[str]:
    """Upload ids of multipart uploads of ``key`` that were neither completed
    nor aborted (ListMultipartUploads; the SDK keeps it private since 7.0)."""
    return [str(u.upload_id) for u in client._list_multipart_uploads(BUCKET, prefix=key).uploads]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        parsed = json.loads(self.body)
        assert isinstance(parsed, dict)
        return parsed


def raw_request(
    base_url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Answer:
    """One request with ``path`` sent exactly as given (percent-encode what
    must be encoded; ``..`` and ``//`` stay as they are)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def connect(base_url: str) -> socket.socket:
    url = urlsplit(base_url)
    return socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=20)


def chunked_head(path: str, extra: str = "") -> bytes:
    return f"PUT {path} HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n{extra}\r\n".encode()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def read_answer(sock: socket.socket) -> Answer:
    """Read one HTTP/1.1 response with a Content-Length from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError(f"connection closed after {data!r}")
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        more = sock.recv(65536)
        if not more:
            break
        rest += more
    return Answer(int(lines[0].split()[1]), headers, rest[:length])


def payload(total: int, seed: bytes, block: int = MiB) -> Iterator[bytes]:
    """``total`` deterministic bytes in blocks, never all in memory at once."""
    sent = 0
    counter = 0
    while sent < total:
        size = min(block, total - sent)
        data = hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(size)
        counter += 1
        sent += size
        yield data


def payload_sha256(total: int, seed: bytes) -> str:
    digest = hashlib.sha256()
    for data in payload(total, seed):
        digest.update(data)
    return digest.hexdigest()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metric(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


@dataclass(frozen=True)
class Memory:
    rss: int
    """Resident set size now, bytes (VmRSS)."""
    peak: int
    """Highest resident set size since start or the last ``reset_peak``, bytes (VmHWM)."""


def memory(pid: int) -> Memory:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024  # the kernel counts kB
    return Memory(fields["VmRSS"], fields["VmHWM"])


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh from the current RSS (Linux >= 4.0, same user)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
