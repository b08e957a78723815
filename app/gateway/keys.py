"""Which object keys (and list prefixes) the gateway accepts.

A key is refused with 400 before any MinIO call when MinIO would refuse it
(which the gateway used to pass on as a 502, or as a 500 when the minio SDK
raised ValueError first) or when it is unsafe to store: it would alias
another key, or be read back differently than it was written. The rules,
checked against the MinIO server (names from its object-naming limits):

- ``empty``: MinIO has no object with an empty name.
- ``too_long``: more than 1024 bytes of UTF-8 (MinIO: KeyTooLongError).
- ``segment_too_long``: a ``/``-separated segment of more than 255 bytes
  (MinIO stores segments as file names: XMinioInvalidObjectName).
- ``empty_segment``: a leading ``/``, a trailing ``/`` or ``//``. MinIO
  refuses ``a//b``; it accepts ``a/`` and ``/a`` but stores ``a/`` as a
  folder marker and ``/a`` as ``a``, so the key read back is not the one written.
- ``dot_segment``: a segment that is ``.`` or ``..``, also with blanks
  around it (the minio SDK raises on the bare form, MinIO refuses the rest).
- ``control_character``: U+0000-U+001F and U+007F-U+009F (MinIO refuses
  NUL; the others break logs, listings and HTTP clients).
- ``backslash``: ``\\`` is a path separator on some systems and tools.
- ``reserved``: contains ``__XLDIR__``, MinIO's internal folder-marker
  suffix: an object ``a__XLDIR__`` is stored and listed as ``a/``.
- ``invalid_utf8``: the percent-encoded path is not UTF-8 (checked on the
  raw request path, see ``decode_key``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
RESERVED_MARKER = "__XLDIR__"


@dataclass(frozen=True)
class KeyProblem:
    """Why a key (or prefix) is refused: a stable rule name and a sentence."""

    rule: str
    message: str


def _control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _problems(text: str, what: str) -> Iterator[KeyProblem]:
    """Rules shared by keys and prefixes (a trailing '/' is the caller's rule)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        yield KeyProblem("too_long", f"{what} is longer than {MAX_KEY_BYTES} bytes of UTF-8")
    if _control(text):
        yield KeyProblem("control_character", f"{what} contains a control character (U+0000-U+001F, U+007F-U+009F)")
    if "\\" in text:
        yield KeyProblem("backslash", f"{what} contains a backslash")
    if RESERVED_MARKER in text:
        yield KeyProblem("reserved", f"{what} contains {RESERVED_MARKER!r}, MinIO's internal folder marker")
    if text.startswith("/") or "//" in text:
        yield KeyProblem("empty_segment", f"{what} has an empty segment (a leading '/' or '//')")
    segments = text.split("/")
    if any(segment.strip() in (".", "..") for segment in segments):
        yield KeyProblem("dot_segment", f"{what} has a '.' or '..' segment")
    if any(len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES for segment in segments):
        yield KeyProblem("segment_too_long", f"{what} has a segment longer than {MAX_SEGMENT_BYTES} bytes")


def _common(text: str, what: str) -> KeyProblem | None:
    return next(_problems(text, what), None)


def key_problem(key: str) -> KeyProblem | None:
    """None when ``key`` can be stored and read back as written."""
    if not key:
        return KeyProblem("empty", "the key is empty")
    if key.endswith("/"):
        return KeyProblem("empty_segment", "the key ends with '/' (MinIO would store a folder marker)")
    return _common(key, "the key")


def prefix_problem(prefix: str) -> KeyProblem | None:
    """None when ``prefix`` may start keys: as a key, but it may be empty or end with '/'."""
    return _common(prefix, "the prefix") if prefix else None


def marker_problem(marker: str) -> KeyProblem | None:
    """``start_after`` need not be a key; it only must not be absurd."""
    if len(marker.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return KeyProblem("too_long", f"start_after is longer than {MAX_KEY_BYTES} bytes of UTF-8")
    if _control(marker):
        return KeyProblem("control_character", "start_after contains a control character")
    return None


def decode_key(encoded: bytes) -> str | KeyProblem:
    """The key from its undecoded (percent-encoded) form in the request path.

    The ASGI server decodes percent-escapes leniently (invalid UTF-8 becomes
    U+FFFD), which would store a different key than the client sent."""
    try:
        return unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        return KeyProblem("invalid_utf8", "the percent-encoded key is not valid UTF-8")
