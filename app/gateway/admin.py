"""Signed calls to MinIO's admin API (``/minio/admin/v3/...``).

minio-py has no admin client; the admin API takes SigV4-signed requests with
the same credentials as S3 calls, and answers JSON.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

from minio.credentials.credentials import Credentials
from minio.signer import sign_v4_s3
from urllib3 import PoolManager
from urllib3.exceptions import HTTPError


class AdminFailed(Exception):
    """MinIO gave no usable answer this time: unreachable, busy or an error."""


class AdminRefused(AdminFailed):
    """MinIO refused the call for these credentials (HTTP 403): no retry can help."""


def admin_call(
    http: PoolManager,
    url: str,
    keys: tuple[str, str],
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: bytes = b"",
) -> dict[str, object]:
    """``method`` ``path`` on MinIO at ``url``, signed with ``keys`` (access
    key, secret key); the answer's JSON object, or AdminFailed."""
    base = urlsplit(url)
    target = base._replace(path=path, query=urlencode(sorted((query or {}).items()), quote_via=quote))
    digest = hashlib.sha256(body).hexdigest()
    now = datetime.now(UTC)
    headers = {"Host": base.netloc, "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"), "x-amz-content-sha256": digest}
    if body:
        headers["Content-Length"] = str(len(body))
    signed = sign_v4_s3(
        method=method,
        url=target,
        region="us-east-1",
        headers=headers,  # type: ignore[arg-type]
        credentials=Credentials(*keys),
        content_sha256=digest,
        date=now,
    )
    try:
        response = http.request(
            method, target.geturl(), body=body or None, headers={k: str(v) for k, v in signed.items()}
        )
    except HTTPError as exc:
        raise AdminFailed(f"no answer from {url}: {type(exc).__name__}") from exc
    text = response.data.decode(errors="replace")
    if response.status == 403:
        raise AdminRefused(f"{url} answered 403 to {path} (the credentials lack the admin right): {text[:200]}")
    if response.status != 200:
        raise AdminFailed(f"{url} answered {response.status} to {path}: {text[:200]}")
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise AdminFailed(f"{url} answered no JSON to {path}: {text[:200]}") from exc
    if not isinstance(answer, dict):
        raise AdminFailed(f"{url} answered {text[:200]} to {path}")
    return answer
