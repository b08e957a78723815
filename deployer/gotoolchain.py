"""The pinned Go toolchain, fetched through the Go module proxy when the
machine has no Go new enough for the pinned modules.

Go itself switches toolchains this way (GOTOOLCHAIN): the proxy serves each
official release as the module golang.org/toolchain, version
v0.0.1-go1.X.Y.linux-amd64. The zip is checked against a pinned sha256 and
unpacked into the cache, so a fresh machine needs no Go and no access to
go.dev; GOPROXY is honoured as Go reads it (a list of proxies, "off", "direct").
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from deployer import paths, pins
from kernel.errors import BadInputError, InfraError
from kernel.files import locked
from kernel.progress import phase, say

DEFAULT_PROXY = "https://proxy.golang.org"
TIMEOUT_S = 30.0
"""Per read of the download: a proxy that stalls this long is given up on."""
CHUNK = 1 << 20
PLATFORM = "linux-amd64"


@dataclass(frozen=True)
class ToolchainPin:
    version: str  # go1.26.8
    sha256: str

    @property
    def module_version(self) -> str:
        return f"v0.0.1-{self.version}.{PLATFORM}"

    def zip_path(self, proxy: str) -> str:
        return f"{proxy.rstrip('/')}/golang.org/toolchain/@v/{self.module_version}.zip"


PINNED = ToolchainPin(pins.GO_TOOLCHAIN, pins.GO_TOOLCHAIN_ZIP_SHA256)


def proxies(goproxy: str | None = None) -> list[str]:
    """The proxy URLs to try, in order, from a GOPROXY value (Go's syntax:
    entries separated by "," or "|"). "direct" has no toolchain zips to offer
    and is skipped; "off" forbids the module proxy, which is bad input here."""
    value = os.environ.get("GOPROXY", "") if goproxy is None else goproxy
    entries = [e.strip() for e in value.replace("|", ",").split(",") if e.strip()] or [DEFAULT_PROXY]
    urls: list[str] = []
    for entry in entries:
        if entry == "off":
            break
        if entry != "direct":
            urls.append(entry)
    if not urls:
        raise BadInputError(
            f"GOPROXY={value!r} names no module proxy, and no Go {'.'.join(map(str, pins.GO_MINIMUM))}+ is installed; "
            f"fix: set GOPROXY to a proxy that serves golang.org/toolchain (default {DEFAULT_PROXY}), "
            "or install Go and set CHAOSGATE_GO to its go binary"
        )
    return urls


def toolchain_dir(pin: ToolchainPin | None = None) -> Path:
    return paths.cache_dir() / "go-toolchain" / (pin or PINNED).version


def ensure(pin: ToolchainPin | None = None) -> Path:
    """The pinned toolchain's ``go`` binary, fetched and unpacked on first use."""
    pin = pin or PINNED
    root = toolchain_dir(pin)
    go = root / "bin" / "go"
    if go.is_file():
        return go
    with locked(root.parent / f".{pin.version}.lock"):
        if go.is_file():
            return go
        problems: list[str] = []
        for proxy in proxies():
            url = pin.zip_path(proxy)
            try:
                with phase(f"fetch Go {pin.version} from {proxy} (no Go {_minimum()}+ on this machine)"):
                    _fetch_into(url, pin.sha256, root)
                return go
            except InfraError as exc:
                problems.append(str(exc))
        raise InfraError(f"cannot fetch Go {pin.version}: " + "; ".join(problems))


def _minimum() -> str:
    return ".".join(map(str, pins.GO_MINIMUM))


def _fetch_into(url: str, sha256: str, root: Path) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        blob = Path(tmp) / "toolchain.zip"
        _download(url, blob, sha256)
        staged = Path(tmp) / "go"
        _unpack(blob, staged)
        staged.replace(root)


def _download(url: str, blob: Path, sha256: str) -> None:
    if not url.startswith(("https://", "http://", "file://")):
        raise InfraError(f"GOPROXY entry {url} is not an http(s) or file URL")
    digest = hashlib.sha256()
    done = 0
    try:
        # The pinned sha256 is what makes any transport safe, plain http included.
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, blob.open("wb") as out:  # noqa: S310
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if done % (16 * CHUNK) < CHUNK:
                    say(f"  {done >> 20} MiB")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InfraError(f"cannot download {url}: {exc}") from exc
    if digest.hexdigest() != sha256:
        raise InfraError(f"checksum mismatch for {url}: got {digest.hexdigest()}, pinned {sha256}")


def _unpack(blob: Path, into: Path) -> None:
    """Unpack the module zip without its ``golang.org/toolchain@VERSION/`` prefix.

    Module zips carry no file modes, so the binaries are made executable the
    way Go's own toolchain switch does: everything under bin/ and pkg/tool/."""
    with zipfile.ZipFile(blob) as archive:
        for info in archive.infolist():
            prefix, _, rest = info.filename.partition("/")
            prefix2, _, rest = rest.partition("/")
            relative = Path(rest)
            if not rest or relative.is_absolute() or ".." in relative.parts or info.is_dir():
                continue
            if f"{prefix}/{prefix2}".split("@")[0] != "golang.org/toolchain":
                raise InfraError(f"{blob}: unexpected entry {info.filename}")
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            if relative.parts[0] == "bin" or relative.parts[:2] == ("pkg", "tool"):
                target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
