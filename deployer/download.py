"""Downloads of official release binaries, verified against published checksums."""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
import urllib.error
import urllib.request
from http.client import HTTPResponse
from pathlib import Path
from typing import cast

from deployer.pins import Download
from kernel.errors import InfraError
from kernel.progress import say

# Short connect timeout: on a machine with no route to the release host the
# build-from-source fallback should start within seconds, not minutes.
TIMEOUT_SECONDS = 20.0
CHUNK = 1 << 20


def _open(url: str) -> HTTPResponse:
    if not url.startswith("https://"):
        raise InfraError(f"refusing to download over a non-https URL: {url}")
    try:
        # https only, checked above
        return cast(HTTPResponse, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS))  # noqa: S310
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InfraError(f"cannot reach {url}: {exc}") from exc


def published_sha256(url: str) -> str:
    """The first token of a ``.sha256``/``.sha256sum`` file is the hex digest."""
    with _open(url) as response:
        text = response.read(4096).decode("ascii", "replace")
    token = text.split()[0].lower() if text.split() else ""
    if len(token) != 64 or any(c not in "0123456789abcdef" for c in token):
        raise InfraError(f"{url} does not hold a sha256 digest")
    return token


def fetch_verified(spec: Download, target: Path) -> None:
    """Download ``spec.url``, check its sha256, and place the binary at ``target``."""
    expected = published_sha256(spec.checksum_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        blob = Path(tmp) / "download"
        digest = hashlib.sha256()
        done = 0
        with _open(spec.url) as response, blob.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if total and done % (16 * CHUNK) < CHUNK:
                    say(f"  {done >> 20} of {total >> 20} MiB")
        if digest.hexdigest() != expected:
            raise InfraError(f"checksum mismatch for {spec.url}: got {digest.hexdigest()}, published {expected}")
        if spec.member is None:
            blob.replace(target)
            return
        with tarfile.open(blob, "r:gz") as archive:
            member = archive.extractfile(spec.member)
            if member is None:
                raise InfraError(f"{spec.url} has no file {spec.member}")
            with member, target.open("wb") as out:
                while chunk := member.read(CHUNK):
                    out.write(chunk)
