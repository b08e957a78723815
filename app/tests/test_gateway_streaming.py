"""Large objects through a gateway with the default limits (128 MiB objects,
8 MiB parts): streamed in and out with bounded memory, acknowledged only
once MinIO completed the upload, and nothing left behind when a body stops
early (client gone, over the limit, sha256 mismatch)."""

from __future__ import annotations

import hashlib
import json
import secrets
import select
import socket
import time

import httpx
from gateway.config import Settings
from gateway_proc import GatewayFactory, RunningGateway
from gateway_tools import (
    MiB,
    chunk,
    chunked_head,
    connect,
    direct,
    exists,
    incomplete_uploads,
    memory,
    metric,
    payload,
    payload_sha256,
    read_answer,
    reset_peak,
    samples,
)

from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster

BIG = 64 * MiB
# The gateway holds about one 8 MiB part (two while it joins the chunks);
# a gateway that buffered the body would grow by 64 MiB or more.
MEMORY_BUDGET = 24 * MiB


def _report(what: str, value: int) -> None:
    print(f"[memory] {what}: {value / MiB:.1f} MiB")


def _aborted(gateway: RunningGateway, reason: str) -> float:
    with gateway.client() as http:
        return metric(samples(http.get("/metrics").text), "gateway_uploads_aborted_total", reason=reason)


def _events(gateway: RunningGateway, event: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in gateway.log_lines()]
    return [e for e in entries if e.get("event") == event]


def test_64_mib_chunked_put_streams_with_bounded_memory(
    gateway_defaults: RunningGateway, minio_cluster: LocalMinioCluster
) -> None:
    gateway = gateway_defaults
    pid = gateway.process.pid
    key = f"big/{secrets.token_hex(4)}"
    seed = secrets.token_bytes(8)
    with gateway.client() as http:
        # Warm up: first requests import and allocate what every request needs.
        assert http.put(f"/objects/warm-{key}", content=b"w" * 1000).status_code == 200
        before = memory(pid)
        reset_peak(pid)
        # A generator body: httpx sends it with Transfer-Encoding: chunked.
        put = http.put(f"/objects/{key}", content=payload(BIG, seed), timeout=120)
        after = memory(pid)
    assert put.status_code == 200, put.text
    digest = payload_sha256(BIG, seed)
    assert put.json() == {
        "key": key,
        "sha256": digest,
        "size": BIG,
        "bucket": "chaosgate",
        "etag": put.json()["etag"],
    }
    assert put.headers["x-object-sha256"] == digest
    assert put.json()["etag"].endswith("-8")  # 8 parts of 8 MiB: it was a multipart upload
    _report("RSS before the 64 MiB chunked PUT", before.rss)
    _report("RSS after it", after.rss)
    _report("RSS growth", after.rss - before.rss)
    _report("peak RSS during the PUT above the RSS before", after.peak - before.rss)
    assert after.rss - before.rss < MEMORY_BUDGET
    assert after.peak - before.rss < MEMORY_BUDGET

    # Stored intact: read straight from MinIO, then through the gateway, streamed.
    stored = direct(minio_cluster, 1).get_object("chaosgate", key)
    try:
        assert hashlib.sha256(stored.read()).hexdigest() == digest
    finally:
        stored.close()
        stored.release_conn()
    reset_peak(pid)
    base = memory(pid).rss
    hasher = hashlib.sha256()
    with gateway.client() as http, http.stream("GET", f"/objects/{key}", timeout=120) as got:
        assert got.status_code == 200
        assert int(got.headers["content-length"]) == BIG
        # No sha256 was declared, so the multipart object carries none: omitted, not computed.
        assert "x-object-sha256" not in got.headers
        for data in got.iter_bytes():
            hasher.update(data)
    assert hasher.hexdigest() == digest
    _report("peak RSS during the 64 MiB GET above the RSS before", memory(pid).peak - base)
    assert memory(pid).peak - base < MEMORY_BUDGET


def test_declared_sha256_is_checked_and_stored_with_a_multipart_object(
    gateway_defaults: RunningGateway, minio_cluster: LocalMinioCluster
) -> None:
    key = f"declared/{secrets.token_hex(4)}"
    seed = secrets.token_bytes(8)
    size = 20 * MiB
    digest = payload_sha256(size, seed)
    with gateway_defaults.client() as http:
        put = http.put(f"/objects/{key}", content=payload(size, seed), headers={"X-Object-Sha256": digest.upper()})
        assert put.status_code == 200, put.text
        assert put.json()["sha256"] == digest
        assert http.head(f"/objects/{key}").headers["x-object-sha256"] == digest
        with http.stream("GET", f"/objects/{key}") as got:
            assert got.headers["x-object-sha256"] == digest

        wrong = http.put(f"/objects/{key}-wrong", content=payload(size, seed), headers={"X-Object-Sha256": "0" * 64})
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "sha256_mismatch"
        assert wrong.json()["sha256"] == digest
        small = http.put(f"/objects/{key}-small", content=b"abc", headers={"X-Object-Sha256": "0" * 64})
        assert small.json()["error"] == "sha256_mismatch"
        malformed = http.put(f"/objects/{key}-bad", content=b"abc", headers={"X-Object-Sha256": "not-a-digest"})
        assert (malformed.status_code, malformed.json()["error"]) == (400, "bad_sha256")
    client = direct(minio_cluster)
    for refused in (f"{key}-wrong", f"{key}-small", f"{key}-bad"):
        assert not exists(client, refused)
    assert incomplete_uploads(client, f"{key}-wrong") == []


def test_interrupted_chunked_upload_leaves_nothing(
    gateway_defaults: RunningGateway, minio_cluster: LocalMinioCluster
) -> None:
    gateway = gateway_defaults
    key = f"cut/{secrets.token_hex(4)}"
    before = _aborted(gateway, "client_disconnect")
    client = direct(minio_cluster)
    with connect(gateway.url) as sock:
        sock.sendall(chunked_head(f"/objects/{key}"))
        for data in payload(20 * MiB, b"cut"):  # two full parts and then some
            sock.sendall(chunk(data))

        def upload_started() -> Seen:
            uploads = incomplete_uploads(client, key)
            return Seen(bool(uploads), f"incomplete uploads of {key}: {uploads}")

        wait_until(upload_started, what="the gateway to start the multipart upload", timeout=30)
        # The client goes away mid-body: no last chunk, and a RST rather than a FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def aborted() -> Seen:
        seen = [e for e in _events(gateway, "upload_aborted") if e["key"] == key]
        return Seen(bool(seen), f"upload_aborted events for {key}: {seen}")

    wait_until(aborted, what="the gateway to abort the upload", timeout=30)
    assert not exists(client, key)
    assert incomplete_uploads(client, key) == []
    assert _aborted(gateway, "client_disconnect") == before + 1
    assert [e["reason"] for e in _events(gateway, "upload_aborted") if e["key"] == key] == ["client_disconnect"]


def test_declared_length_over_the_limit_is_refused_before_the_body(gateway_defaults: RunningGateway) -> None:
    limit = Settings.max_object_bytes
    with connect(gateway_defaults.url) as sock:
        # Headers only: a gateway that waited for the body would never answer.
        sock.sendall(f"PUT /objects/huge HTTP/1.1\r\nHost: gateway\r\nContent-Length: {limit + 1}\r\n\r\n".encode())
        answer = read_answer(sock)
    assert answer.status == 413
    assert answer.json()["error"] == "too_large"
    assert answer.json()["limit"] == limit

    with connect(gateway_defaults.url) as sock:
        # A client that asks first is told before it sends anything (no 100 Continue).
        head = f"PUT /objects/huge HTTP/1.1\r\nHost: g\r\nContent-Length: {limit + 1}\r\nExpect: 100-continue\r\n\r\n"
        sock.sendall(head.encode())
        assert read_answer(sock).status == 413


def test_chunked_body_over_the_limit_gets_413_while_it_streams(
    gateway_factory: GatewayFactory, minio_cluster: LocalMinioCluster
) -> None:
    limit = 20 * MiB  # above one part: the multipart upload has started when the limit is passed
    gateway = gateway_factory(minio_cluster, GATEWAY_MAX_OBJECT_BYTES=str(limit))
    key = f"over/{secrets.token_hex(4)}"
    client = direct(minio_cluster)
    with connect(gateway.url) as sock:
        sock.sendall(chunked_head(f"/objects/{key}"))
        for data in payload(limit + 2 * MiB, b"over"):
            sock.sendall(chunk(data))
            if select.select([sock], [], [], 0)[0]:
                break
        # The body has not ended (no last chunk): the answer must come anyway.
        deadline = time.monotonic() + 30
        while not select.select([sock], [], [], 0.5)[0]:
            assert time.monotonic() < deadline, "no answer while the body was still open"
        answer = read_answer(sock)
    assert answer.status == 413
    assert answer.json()["error"] == "too_large"
    assert not exists(client, key)

    def no_upload_left() -> Seen:
        uploads = incomplete_uploads(client, key)
        return Seen(not uploads, f"incomplete uploads of {key}: {uploads}")

    wait_until(no_upload_left, what="the started upload to be aborted", timeout=10)
    assert [e["reason"] for e in _events(gateway, "upload_aborted") if e["key"] == key] == ["too_large"]


def test_chunked_body_over_the_limit_small(gateway: RunningGateway, minio_cluster: LocalMinioCluster) -> None:
    # The 1 MB gateway: refused before a part was full, so no upload ever started.
    key = f"over-small/{secrets.token_hex(4)}"
    with gateway.client() as http:
        refused = http.put(f"/objects/{key}", content=payload(2_000_000, b"s", block=100_000))
        assert (refused.status_code, refused.json()["error"]) == (413, "too_large")
        fits = http.put(f"/objects/{key}", content=payload(1_000_000, b"s", block=100_000))
        assert fits.status_code == 200
    assert direct(minio_cluster).stat_object("chaosgate", key).size == 1_000_000


def test_overwrite_acknowledges_the_new_content(gateway_defaults: RunningGateway) -> None:
    key = f"overwrite/{secrets.token_hex(4)}"
    versions = [b"first", payload_bytes(10 * MiB, b"second"), b"third"]  # small, multipart, small
    with gateway_defaults.client() as http:
        for body in versions:
            put = http.put(f"/objects/{key}", content=body)
            digest = hashlib.sha256(body).hexdigest()
            assert put.status_code == 200
            assert put.json()["sha256"] == digest
            assert put.headers["x-object-sha256"] == digest
            got = http.get(f"/objects/{key}")
            assert hashlib.sha256(got.content).hexdigest() == digest
        assert got.headers["x-object-sha256"] == hashlib.sha256(b"third").hexdigest()


def payload_bytes(size: int, seed: bytes) -> bytes:
    return b"".join(payload(size, seed))


def test_get_streams_with_content_length_and_a_missing_key_is_404(gateway_defaults: RunningGateway) -> None:
    with gateway_defaults.client() as http:
        missing = http.get(f"/objects/nothing-{secrets.token_hex(4)}")
        assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
        key = f"stream/{secrets.token_hex(4)}"
        body = payload_bytes(3 * MiB, b"stream")
        assert http.put(f"/objects/{key}", content=body).status_code == 200
        with http.stream("GET", f"/objects/{key}") as got:
            assert got.headers["content-length"] == str(len(body))
            assert got.headers["x-object-sha256"] == hashlib.sha256(body).hexdigest()
            assert b"".join(got.iter_bytes()) == body


def test_a_client_leaving_a_get_frees_the_connection(gateway_defaults: RunningGateway) -> None:
    key = f"leave/{secrets.token_hex(4)}"
    with gateway_defaults.client() as http:
        assert http.put(f"/objects/{key}", content=payload(20 * MiB, b"leave")).status_code == 200
    for _ in range(3):
        with (
            httpx.Client(base_url=gateway_defaults.url, timeout=20) as http,
            http.stream("GET", f"/objects/{key}") as got,
        ):
            next(got.iter_raw(65536))  # read a little, then hang up
    with gateway_defaults.client() as http:
        assert http.get(f"/objects/{key}").status_code == 200
        assert http.get("/healthz").status_code == 200
