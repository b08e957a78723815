"""Clients that never retry: the pool settings and URL handling."""

from __future__ import annotations

import socket

import pytest
from urllib3.exceptions import MaxRetryError

from chaos.clients import Credentials, admin_client, http_pool, s3_client, split_url
from kernel.errors import BadInputError


def test_credentials_hide_the_secret_in_repr() -> None:
    creds = Credentials("user", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(creds)
    assert "user" in repr(creds)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:9000", ("127.0.0.1:9000", False)),
        ("https://minio.ns.svc:9000/", ("minio.ns.svc:9000", True)),
    ],
)
def test_split_url(url: str, expected: tuple[str, bool]) -> None:
    assert split_url(url) == expected


@pytest.mark.parametrize("url", ["127.0.0.1:9000", "ftp://host:1", "http://host:9000/bucket"])
def test_split_url_rejects_what_the_sdk_would_misread(url: str) -> None:
    with pytest.raises(BadInputError):
        split_url(url)


def test_pool_has_no_retries_and_short_timeouts() -> None:
    pool = http_pool(connect=1.5, read=4.0)
    retries = pool.connection_pool_kw["retries"]
    timeout = pool.connection_pool_kw["timeout"]
    assert retries.total == 0
    assert (timeout.connect_timeout, timeout.read_timeout) == (1.5, 4.0)


def test_sdk_clients_use_the_no_retry_pool() -> None:
    creds = Credentials("user", "password")
    pool = http_pool()
    assert s3_client("http://127.0.0.1:9", creds, http=pool)._http is pool
    assert admin_client("http://127.0.0.1:9", creds, http=pool)._http is pool


def test_a_refused_connection_fails_on_the_first_try() -> None:
    # A port that was just free: nothing listens, so the connection is refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(MaxRetryError) as raised:
        http_pool().request("GET", f"http://127.0.0.1:{port}/")
    assert raised.value.reason is not None
    assert "refused" in str(raised.value.reason).lower()
