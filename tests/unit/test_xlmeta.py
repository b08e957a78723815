"""chaos.xlmeta refuses what it cannot read (real files are read in
tests/integration/test_delete_resurrection.py); chaos.drive_views tells
which drives hold an object version; chaos.deletes splits listings."""

from __future__ import annotations

import struct

import msgpack
import pytest

from chaos import drive_views, xlmeta
from chaos.deletes import split_listings


def _meta(*headers: list[object], minor: int = 3) -> bytes:
    inner = msgpack.packb(3) + msgpack.packb(2) + msgpack.packb(len(headers))
    for header in headers:
        inner += msgpack.packb(msgpack.packb(header)) + msgpack.packb(b"")
    return b"XL2 " + struct.pack("<HH", 1, minor) + msgpack.packb(inner) + msgpack.packb(0)


def test_versions_newest_first_with_null_and_delete_markers() -> None:
    marker = [bytes(range(16)), 2_000_000_000_000_000_000, b"sig!", 2, 0, 0, 0]
    null = [bytes(16), 1_000_000_000_500_000_000, b"sig!", 1, 0, 2, 2]
    versions = xlmeta.parse(_meta(marker, null))
    assert [v.kind for v in versions] == [xlmeta.Kind.DELETE_MARKER, xlmeta.Kind.OBJECT]
    assert versions[0].version_id == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert versions[1].version_id == "null"
    assert versions[1].mod_time == pytest.approx(1_000_000_000.5)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"XL2 \x01\x00", "no XL2 header"),
        (b"JSON{}" + b"\x00" * 8, "no XL2 header"),
        (b"XL2 " + struct.pack("<HH", 1, 1) + b"\x00" * 8, "older than 1.2"),
        (b"XL2 " + struct.pack("<HH", 1, 3) + msgpack.packb(7), "not a msgpack bin"),
        (_meta([bytes(16), 1, b"sig!", 9, 0, 0, 0]), "unknown version type 9"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(data: bytes, why: str) -> None:
    with pytest.raises(xlmeta.XlMetaError, match=why):
        xlmeta.parse(data)


def test_holders_are_drives_whose_newest_entry_is_an_object() -> None:
    view: dict[str, object] = {
        "minio-0": None,
        "minio-1": [{"kind": "delete-marker"}, {"kind": "object"}],
        "minio-2": [{"kind": "object"}],
        "minio-3": "not read: node gone",
    }
    assert drive_views.holders(view) == ["minio-2"]


def test_listings_split_into_flapping_and_always_shown() -> None:
    assert split_listings([{"a", "b"}, {"a"}, {"a", "c"}]) == (["b", "c"], ["a"])
    assert split_listings([set(), set()]) == ([], [])
    assert split_listings([]) == ([], [])
