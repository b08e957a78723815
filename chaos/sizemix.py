"""The load's object sizes: which size classes, how large, how often, and a
byte budget that keeps a run's volume bounded whatever the request rate.

A mix is written ``small=4KiB:83,medium=1MiB:15,large=16MiB-64MiB:2``: per
class a size (or a range, drawn uniformly) in bytes with an optional KiB/MiB
suffix, and a weight (relative, any positive numbers). The classes are where
MinIO keeps an object, which is what a fault breaks differently:

* small: at most 128 KiB, stored inline in xl.meta;
* medium: one PUT of more than 128 KiB and at most 5 MiB, stored as
  erasure-coded part files (part files for sure when the size exceeds 128 KiB
  times the data drives of an erasure set: 1 MiB does it up to 8 of them);
* large: more than 5 MiB, sent as a multipart upload in 5 MiB parts.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from chaos.ledger import SIZE_CLASSES
from kernel.errors import BadInputError

KIB = 1024
MIB = 1024 * KIB
INLINE_MAX = 128 * KIB
"""Largest small object: MinIO keeps objects up to its 128 KiB inline block
(per data shard) inside xl.meta, so any small object is inline."""
PART_SIZE = 5 * MIB
"""Multipart part size: the S3 minimum, so a large object has as many parts as it can."""
BURST_S = 10.0
"""Seconds of a class's byte rate its budget may save up (at least one object of it)."""

_SIZE = re.compile(r"^(\d+)(KiB|MiB)?$")
_UNITS = {None: 1, "KiB": KIB, "MiB": MIB}
_LIMITS = {"small": (1, INLINE_MAX), "medium": (INLINE_MAX + 1, PART_SIZE), "large": (PART_SIZE + 1, 5 * 1024 * MIB)}


@dataclass(frozen=True)
class SizeClass:
    name: str
    low: int
    high: int
    weight: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def text(self) -> str:
        size = _show(self.low) if self.low == self.high else f"{_show(self.low)}-{_show(self.high)}"
        return f"{self.name}={size}:{self.weight:g}"


@dataclass(frozen=True)
class SizeMix:
    classes: tuple[SizeClass, ...]

    @classmethod
    def parse(cls, text: str, what: str = "size mix") -> SizeMix:
        """``small=4KiB:83,medium=1MiB:15``; BadInputError naming ``what`` and the fix."""
        classes: list[SizeClass] = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, rest = item.partition("=")
            sizes, _, weight = rest.partition(":")
            if name not in SIZE_CLASSES:
                raise BadInputError(f"{what}: {name!r} is no size class; use {', '.join(SIZE_CLASSES)}")
            if name in {c.name for c in classes}:
                raise BadInputError(f"{what}: {name} is given twice")
            low_text, _, high_text = sizes.partition("-")
            low = _size(low_text, what, name)
            high = _size(high_text, what, name) if high_text else low
            lo_limit, hi_limit = _LIMITS[name]
            if not lo_limit <= low <= high <= hi_limit:
                raise BadInputError(
                    f"{what}: {name} sizes must be {_show(lo_limit)} to {_show(hi_limit)} (low <= high), got {sizes!r}"
                )
            try:
                share = float(weight or "1")
            except ValueError:
                share = math.nan
            if not (math.isfinite(share) and share > 0):
                raise BadInputError(f"{what}: {name} weight must be a number > 0, got {weight!r}")
            classes.append(SizeClass(name, low, high, share))
        if not classes:
            raise BadInputError(f"{what} names no class; e.g. small=4KiB:80,medium=1MiB:15,large=16MiB:5")
        return cls(tuple(classes))

    @classmethod
    def single(cls, size: int) -> SizeMix:
        """Every object ``size`` bytes, in the class that size belongs to."""
        name = next(n for n, (_, high) in _LIMITS.items() if size <= high)
        return cls((SizeClass(name, size, size, 1.0),))

    def text(self) -> str:
        return ",".join(c.text() for c in self.classes)

    def get(self, name: str) -> SizeClass | None:
        return next((c for c in self.classes if c.name == name), None)

    def draw(self, rng: random.Random) -> tuple[str, int]:
        """A class by weight and a size in its range."""
        chosen = rng.choices(self.classes, weights=[c.weight for c in self.classes])[0]
        return chosen.name, rng.randint(chosen.low, chosen.high)

    def rates(self, bytes_per_s: float) -> dict[str, float]:
        """The byte budget split over the classes above small, by the bytes their
        weights ask for, so the cap keeps the mix's proportions and large
        objects never starve behind medium ones."""
        big = [c for c in self.classes if c.name != "small"]
        demand = sum(c.weight * c.mean for c in big)
        return {c.name: bytes_per_s * c.weight * c.mean / demand for c in big} if demand else {}

    def bound_bytes(self, bytes_per_s: float, seconds: float, writes: int) -> int:
        """At most how many payload bytes one budgeted Locust process sends in
        ``seconds`` with ``writes`` write attempts."""
        small = self.get("small")
        rates = self.rates(bytes_per_s)
        saved = sum(max(c.high, rates[c.name] * BURST_S) for c in self.classes if c.name in rates)
        return int((small.high * writes if small else 0) + bytes_per_s * seconds + saved)


class ByteBudget:
    """A token bucket per class above small (rates from ``SizeMix.rates``): a
    draw of such a class goes ahead only when its bucket holds its size; the
    caller then writes a small object instead. Small objects are never held
    back. ``bytes_per_s`` 0 means no budget."""

    def __init__(self, mix: SizeMix, bytes_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rates = mix.rates(bytes_per_s) if bytes_per_s > 0 else {}
        # Full at the start, so the baseline before a fault already stores objects of every class.
        self._cap = {c.name: max(c.high, self._rates[c.name] * BURST_S) for c in mix.classes if c.name in self._rates}
        self._tokens = dict(self._cap)
        self._last = clock()

    def allow(self, name: str, size: int) -> bool:
        if name not in self._rates:
            return True
        now = self._clock()
        elapsed, self._last = now - self._last, now
        for n, rate in self._rates.items():
            self._tokens[n] = min(self._cap[n], self._tokens[n] + rate * elapsed)
        if self._tokens[name] < size:
            return False
        self._tokens[name] -= size
        return True


def _size(text: str, what: str, name: str) -> int:
    match = _SIZE.match(text.strip())
    if not match:
        raise BadInputError(f"{what}: {name} size {text!r} must be bytes, optionally with KiB or MiB (e.g. 4KiB)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _show(size: int) -> str:
    for unit in ("MiB", "KiB"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)
