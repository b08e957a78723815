"""File helpers shared by every layer: atomic writes and exclusive locks."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_if_changed(path: Path, text: str, *, mode: int | None = None, dry_run: bool = False) -> bool:
    """Write ``text`` unless the file already holds it (with ``mode``, when given);
    True when it differed, and so was written, or would be with ``dry_run``.

    The write goes to a temporary file that replaces the target, so a reader
    (or a crash halfway) never sees half a file. ``mode`` sets the permission
    bits of the new file before it takes the target's place."""
    try:
        if path.read_text() == text and (mode is None or (path.stat().st_mode & 0o7777) == mode):
            return False
    except OSError:
        pass  # absent or unreadable: write it
    if dry_run:
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    if mode is not None:
        tmp.chmod(mode)
    tmp.replace(path)
    return True


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock so two runs never build into the same folder at once."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
