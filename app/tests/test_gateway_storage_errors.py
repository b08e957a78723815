"""How MinIO failures are sorted: 404, 503 (unavailable) or 502 (other)."""

from __future__ import annotations

import pytest
from gateway.storage import ObjectNotFound, StorageError, StorageUnavailable, _translated
from minio.error import S3Error, ServerError
from urllib3 import HTTPConnectionPool, HTTPResponse
from urllib3.connection import HTTPConnection
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

POOL = HTTPConnectionPool("127.0.0.1")


def _s3_error(status: int, code: str) -> S3Error:
    return S3Error(HTTPResponse(status=status), code, "message", "/bucket/key", "req", "host")


def _raise_in(operation: str, exc: Exception) -> None:
    with _translated(operation):
        raise exc


@pytest.mark.parametrize(
    ("exc", "upstream"),
    [
        (_s3_error(503, "SlowDownWrite"), "SlowDownWrite"),
        (_s3_error(503, "XMinioServerNotInitialized"), "XMinioServerNotInitialized"),
        (ServerError("server failed with HTTP status code 503", 503), "HTTP 503"),
        (MaxRetryError(POOL, "/k", ReadTimeoutError(POOL, "/k", "read timed out")), "ReadTimeoutError"),
        (MaxRetryError(POOL, "/k", NewConnectionError(HTTPConnection("127.0.0.1"), "refused")), "NewConnectionError"),
    ],
)
def test_outages_are_unavailable(exc: Exception, upstream: str) -> None:
    with pytest.raises(StorageUnavailable) as raised:
        _raise_in("put", exc)
    assert raised.value.upstream == upstream
    assert raised.value.operation == "put"


@pytest.mark.parametrize(
    "exc",
    [_s3_error(403, "AccessDenied"), _s3_error(500, "InternalError"), ServerError("boom", 500)],
)
def test_other_errors_are_not_called_outages(exc: Exception) -> None:
    with pytest.raises(StorageError) as raised:
        _raise_in("get", exc)
    assert not isinstance(raised.value, StorageUnavailable)


def test_missing_key_is_not_found() -> None:
    with pytest.raises(ObjectNotFound):
        _raise_in("get", _s3_error(404, "NoSuchKey"))
