"""Read the version list of a MinIO ``xl.meta`` file, as evidence.

Every drive keeps one ``xl.meta`` per object: an 8-byte header (``XL2 `` and
the format's major/minor version), a msgpack ``bin`` holding the version
list, a CRC, then any inlined data. When a deleted key comes back, what each
drive held is the evidence: which drives had the object, which version
(its id, its modification time, whether it is a delete marker), and which
drives had nothing. Only the format MinIO has written since 2021 (1.2 and
later) is read; anything else is reported as unreadable, never guessed.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import msgpack

_MAGIC = b"XL2 "
# Version types of xlMetaV2VersionHeader in MinIO's xl-storage-format-v2.go.
_TYPES = {1: "object", 2: "delete-marker", 3: "legacy"}
_NULL_VERSION = uuid.UUID(int=0)


class XlMetaError(ValueError):
    """The bytes are not an xl.meta this module can read."""


class Kind(StrEnum):
    OBJECT = "object"
    DELETE_MARKER = "delete-marker"
    LEGACY = "legacy"


@dataclass(frozen=True)
class Version:
    """One entry of an object's version list on one drive."""

    version_id: str
    """"null" for the version an unversioned bucket keeps."""
    mod_time: float
    """Unix seconds, from the server clock that took the write."""
    kind: Kind

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.mod_time, tz=UTC).strftime("%H:%M:%S.%f")[:-3]
        return f"{self.kind.value} {self.version_id} @ {when}"


def parse(data: bytes) -> tuple[Version, ...]:
    """The versions in an ``xl.meta``, newest first (MinIO keeps them sorted)."""
    if len(data) <= 8 or data[:4] != _MAGIC:
        raise XlMetaError("not an xl.meta (no XL2 header)")
    major, minor = struct.unpack("<HH", data[4:8])
    if (major, minor) < (1, 2):
        raise XlMetaError(f"xl.meta format {major}.{minor} is older than 1.2 and not read here")
    unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
    unpacker.feed(data[8:])
    try:
        block = next(unpacker)
        if not isinstance(block, bytes):
            raise XlMetaError("xl.meta: the version block is not a msgpack bin")
        inner = msgpack.Unpacker(raw=True, strict_map_key=False)
        inner.feed(block)
        next(inner)  # header version
        next(inner)  # metadata version
        count = next(inner)
        versions = []
        for _ in range(int(count)):
            header = msgpack.unpackb(next(inner), raw=True)
            next(inner)  # the version's full metadata, not needed as evidence
            versions.append(_version(header))
    except (StopIteration, msgpack.UnpackException, ValueError, TypeError) as exc:
        raise XlMetaError(f"xl.meta: unreadable version list ({exc})") from exc
    return tuple(versions)


def _version(header: list[object]) -> Version:
    raw_id, mod_time, _sig, kind = header[0], header[1], header[2], header[3]
    if not isinstance(raw_id, bytes) or not isinstance(mod_time, int) or not isinstance(kind, int):
        raise XlMetaError("xl.meta: a version header of unexpected shape")
    vid = uuid.UUID(bytes=raw_id) if len(raw_id) == 16 else _NULL_VERSION
    if kind not in _TYPES:
        raise XlMetaError(f"xl.meta: unknown version type {kind}")
    return Version(
        version_id="null" if vid == _NULL_VERSION else str(vid),
        mod_time=mod_time / 1e9,
        kind=Kind(_TYPES[kind]),
    )
