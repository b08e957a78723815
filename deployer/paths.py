"""Where chaosgate keeps things outside the repository."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "CHAOSGATE_CACHE"

SOURCE_ROOT = Path(__file__).resolve().parent.parent
"""The source tree chaosgate runs from (an editable install, as tox makes it):
the charts, the target files, the app and the locustfiles are read from it.
The one place that knows where that is."""


def cache_dir() -> Path:
    """The cache folder: ``$CHAOSGATE_CACHE``, else ``$XDG_CACHE_HOME/chaosgate``,
    else ``~/.cache/chaosgate``. Builds, downloads and Go caches live here so a
    second run is warm and nothing upstream ever lands in the repository."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "chaosgate").resolve()


def bin_dir() -> Path:
    """Resolved tool binaries, one file per tool and version."""
    return cache_dir() / "bin"


def go_env() -> dict[str, str]:
    """Environment for Go builds: module and build caches inside the cache folder,
    static binaries, and module files writable so the cache can be deleted."""
    root = cache_dir() / "go"
    return {
        "GOMODCACHE": str(root / "mod"),
        "GOCACHE": str(root / "build"),
        "GOFLAGS": "-modcacherw",
        "CGO_ENABLED": "0",
        "GOTOOLCHAIN": "local",
    }
