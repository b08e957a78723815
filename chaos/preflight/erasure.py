"""MinIO's erasure arithmetic, read from the endpoint list every server is given.

It follows minio/minio cmd/endpoint-ellipses.go (how a pool's drives split into
erasure sets) and the default parity of ecDrivesNoConfig; shared/notes/minio.md
has the numbers the suite relies on.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

ELLIPSIS = re.compile(r"\{([^{}]*?)\.\.\.([^{}]*?)\}")
SET_SIZES = tuple(range(2, 17))
MAX_EXPANDED = 256
"""Paths expanded from one endpoint at most; more is a typo, not a pool."""


def range_size(start: str, end: str) -> int:
    """Members of an ellipsis range; 0 when MinIO could not read it.

    MinIO reads a range as decimal, else as hex ({a...f})."""
    for base in (10, 16):
        try:
            first, last = int(start, base), int(end, base)
        except ValueError:
            continue
        return last - first + 1 if last >= first else 0
    return 0


def expand(text: str) -> list[str]:
    """Every string an ellipsis pattern names (decimal ranges keep their zero padding)."""
    parts = ELLIPSIS.split(text)
    literals, ranges = parts[0::3], list(zip(parts[1::3], parts[2::3], strict=True))
    choices = [_members(start, end) for start, end in ranges]
    if math.prod(len(c) for c in choices) > MAX_EXPANDED:
        return []
    out = []
    for picked in itertools.product(*choices):
        out.append(literals[0] + "".join(p + lit for p, lit in zip(picked, literals[1:], strict=True)))
    return out


def _members(start: str, end: str) -> list[str]:
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        return [str(i).zfill(width) for i in range(int(start), int(end) + 1)]
    size = range_size(start, end)
    first = int(start, 16) if size else 0
    return [format(first + i, "x") for i in range(size)]


def split_endpoint(arg: str) -> tuple[str, str]:
    """(host, path) of one endpoint argument; host is "" for a local path."""
    if "://" not in arg:
        return "", arg
    rest = arg.split("://", 1)[1]
    host, slash, path = rest.partition("/")
    return host, slash + path


@dataclass(frozen=True)
class Pool:
    """One server pool as the endpoint list names it."""

    arg: str
    servers: int
    drives_per_server: int
    host_prefix: str
    """The host text before its first ellipsis ("minio-pool0-"): names the StatefulSet."""
    distributed: bool
    first_range: int
    """Size of the first ellipsis in the argument: MinIO checks symmetry against it only."""

    @property
    def drives(self) -> int:
        return self.servers * self.drives_per_server


def parse_pools(args: Sequence[str]) -> list[Pool]:
    """The pools of a server's endpoint arguments: each argument with ellipses is
    a pool; arguments without any form one legacy pool together."""
    if not args:
        return []
    if not any(ELLIPSIS.search(a) for a in args):
        hosts = list(dict.fromkeys(split_endpoint(a)[0] for a in args))
        servers = len(hosts)
        return [Pool(" ".join(args), servers, len(args) // servers, "", hosts != [""], 0)]
    return [_pool(arg) for arg in args]


def _pool(arg: str) -> Pool:
    host, path = split_endpoint(arg)
    servers = math.prod(range_size(a, b) for a, b in ELLIPSIS.findall(host))
    drives = math.prod(range_size(a, b) for a, b in ELLIPSIS.findall(path))
    first = ELLIPSIS.search(arg)
    first_range = range_size(first.group(1), first.group(2)) if first else 0
    found = ELLIPSIS.search(host)
    prefix = host[: found.start()] if found else host
    return Pool(arg, servers, drives, prefix, bool(host), first_range)


def default_parity(set_size: int) -> int:
    """MinIO's parity when MINIO_STORAGE_CLASS_STANDARD is unset."""
    if set_size <= 1:
        return 0
    if set_size <= 3:
        return 1
    if set_size <= 5:
        return 2
    if set_size <= 7:
        return 3
    return 4


@dataclass(frozen=True)
class Layout:
    """How MinIO lays out one pool, and what it survives."""

    pool: Pool
    set_size: int
    """Drives per erasure set; 0 when MinIO refuses the pool at start."""
    parity: int
    problem: str
    """Why MinIO refuses this pool, or ""."""

    @property
    def write_quorum(self) -> int:
        extra = 1 if self.parity and self.set_size == 2 * self.parity else 0
        return self.set_size - self.parity + extra

    @property
    def drives_per_server_in_set(self) -> int:
        """Drives one server holds in one set: sets take drives host by host, so a
        set of N drives over S servers holds ceil(N / S) of each one it spans."""
        if not self.pool.distributed:
            return self.set_size
        return max(1, math.ceil(self.set_size / max(1, self.pool.servers)))

    @property
    def servers_lost_for_writes(self) -> int:
        """Servers of one set that may be down while writes still reach quorum."""
        if not self.set_size:
            return 0
        return (self.set_size - self.write_quorum) // self.drives_per_server_in_set

    @property
    def servers_lost_for_reads(self) -> int:
        if not self.set_size:
            return 0
        return self.parity // self.drives_per_server_in_set

    def survives(self) -> str:
        """What the pool survives, in words."""
        return f"writes survive {self.servers_lost_for_writes} server(s) down, reads {self.servers_lost_for_reads}"

    def summary(self) -> str:
        shape = f"{self.pool.servers} server(s) x {self.pool.drives_per_server} drive(s)"
        if not self.set_size:
            return f"{shape} that MinIO refuses"
        return (
            f"{shape} in erasure sets of {self.set_size} at EC:{self.parity} (write quorum {self.write_quorum}), "
            f"so {self.survives()}"
        )


def layouts(pools: Sequence[Pool], *, set_drive_count: int = 0, parity: int | None = None) -> list[Layout]:
    """The layout of every pool. The parity is the explicit one
    (MINIO_STORAGE_CLASS_STANDARD) or the first pool's default, for all pools."""
    sizes = [_set_size(p, set_drive_count) for p in pools]
    if parity is None:
        parity = default_parity(sizes[0][0]) if sizes else 0
    out = []
    for pool, (size, problem) in zip(pools, sizes, strict=True):
        if size and parity > size // 2:
            too_much = f"parity EC:{parity} is more than half of its erasure set of {size} drives"
            out.append(Layout(pool, 0, 0, too_much))
        else:
            out.append(Layout(pool, size, parity if size else 0, problem))
    return out


def _set_size(pool: Pool, custom: int) -> tuple[int, str]:
    """(drives per erasure set, "") or (0, why MinIO refuses the pool)."""
    total = pool.drives
    if total == 1 and not pool.first_range:
        return 1, ""  # one drive: MinIO runs without erasure coding
    if total < SET_SIZES[0]:
        return 0, f"{total} drive(s) are fewer than the smallest erasure set (2)"
    candidates = [s for s in SET_SIZES if total % s == 0]
    if custom:
        bad = f"MINIO_ERASURE_SET_DRIVE_COUNT={custom} does not divide {total} drives into sets of 2-16"
        return (custom, "") if custom in candidates else (0, bad)
    if pool.first_range:
        # MinIO keeps only set sizes symmetric with the first ellipsis range.
        candidates = [s for s in candidates if _symmetric(s, pool.first_range)]
    if not candidates:
        return 0, f"{total} drives do not split into erasure sets of 2-16 drives spread evenly over the servers"
    return max(candidates), ""


def _symmetric(set_size: int, count: int) -> bool:
    return count % set_size == 0 if count > set_size else set_size % count == 0
