"""What the load does next, and the bytes it sends: plain logic without
Locust, shared by the locustfiles and tested on its own.

Per step a user reads (``read_ratio``) or writes; a write deletes a key
(``delete_ratio``), replaces one (``overwrite_ratio``) or creates one. Keys
to replace come from the few most recent keys of the whole process, so
users also write the same key at the same time. Sizes come from the size
mix, held back by the byte budget (chaos.sizemix). Reads go to small and
medium keys: they measure availability, and large ones would spend the
machine's few cores on hashing.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from chaos.ledger import ACKED
from chaos.sizemix import ByteBudget, SizeMix
from deployer.objectnames import run_prefix

NOT_FOUND_FAILURE = "HTTP 404 for a key that was not deleted"
"""Locust's failure text for a read of an acknowledged, undeleted key that the
stack called missing; the harness counts it by this text (runner.failures_of)."""

CHUNK = 64 * 1024
HOT_KEYS = 16
"""Overwrites pick among this many most recent keys: with a few users this
makes two writers on one key at once a regular event, not a rarity."""
POOL_KEYS = 2000
"""Keys a process remembers for reads, overwrites and deletes."""


@dataclass(frozen=True)
class Shape:
    mix: SizeMix
    read_ratio: float
    overwrite_ratio: float = 0.0
    delete_ratio: float = 0.0
    bytes_per_s: float = 0.0


@dataclass(frozen=True)
class Action:
    kind: str  # "read", "put", "delete"
    key: str
    size_class: str = "small"
    size: int = 0
    overwrite: bool = False


@dataclass
class Entry:
    size_class: str
    # Every content sent to the key (acknowledged or not): a read may see any.
    versions: set[str] = field(default_factory=set)
    deleting: bool = False


class KeyPool:
    """The keys one process wrote, shared by its users (gevent: no locks needed)."""

    def __init__(self, limit: int = POOL_KEYS) -> None:
        self.limit = limit
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def add(self, key: str, size_class: str, digest: str) -> None:
        entry = self.entries.setdefault(key, Entry(size_class))
        entry.size_class = size_class
        entry.versions.add(digest)
        self.entries.move_to_end(key)
        while len(self.entries) > self.limit:
            self.entries.popitem(last=False)

    def note(self, key: str, digest: str | None, size_class: str) -> None:
        """Content about to be sent to ``key``: from now on a read may return it
        (a large one, whose digest is known only once sent, stops reads of it)."""
        entry = self.entries.get(key)
        if entry is None:
            return
        if digest is not None:
            entry.versions.add(digest)
        if size_class == "large":
            entry.size_class = size_class

    def settle(self, action: Action, outcome: str, digest: str) -> None:
        """Take in the answer to a write: an acknowledged key becomes one to
        read, replace and delete; a deleted one is forgotten whatever the answer."""
        if action.kind == "delete":
            self.forget(action.key)
        elif outcome == ACKED:
            self.add(action.key, action.size_class, digest)

    def live(self) -> list[str]:
        return [k for k, e in self.entries.items() if not e.deleting]

    def hot(self) -> list[str]:
        keys: list[str] = []
        for key in reversed(self.entries):
            if not self.entries[key].deleting:
                keys.append(key)
                if len(keys) == HOT_KEYS:
                    break
        return keys

    def start_delete(self, key: str) -> str:
        entry = self.entries[key]
        entry.deleting = True
        return entry.size_class

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)

    def read_ok(self, key: str, digest: str | None) -> bool:
        """Whether a read of ``key`` that found ``digest`` (None: not found) is right."""
        entry = self.entries.get(key)
        if entry is None:  # deleted (and forgotten) while the read was in flight
            return digest is None
        return digest in entry.versions if digest is not None else entry.deleting


class Traffic:
    """The next action of any user of this process."""

    def __init__(self, shape: Shape, run_id: str, rng: random.Random | None = None) -> None:
        self.shape = shape
        self.run_id = run_id
        self.rng = rng or random.Random()  # noqa: S311 (load shape, not secrets)
        self.pool = KeyPool()
        self.budget = ByteBudget(shape.mix, shape.bytes_per_s)

    def new_key(self) -> str:
        return run_prefix(self.run_id) + uuid.uuid4().hex

    def next(self) -> Action:
        rng, shape = self.rng, self.shape
        live = self.pool.live()
        if live and rng.random() < shape.read_ratio:
            readable = [k for k in live if self.pool.entries[k].size_class != "large"]
            if readable:
                return Action("read", rng.choice(readable))
        draw = rng.random()
        if live and draw < shape.delete_ratio:
            key = rng.choice(live)
            return Action("delete", key, self.pool.start_delete(key))
        size_class, size = self.size()
        if live and draw < shape.delete_ratio + shape.overwrite_ratio:
            return Action("put", rng.choice(self.pool.hot()), size_class, size, overwrite=True)
        return Action("put", self.new_key(), size_class, size)

    def size(self) -> tuple[str, int]:
        size_class, size = self.shape.mix.draw(self.rng)
        if self.budget.allow(size_class, size):
            return size_class, size
        # Over the byte budget: a small object instead (or the smallest class there is).
        fallback = self.shape.mix.get("small") or self.shape.mix.classes[0]
        return fallback.name, self.rng.randint(fallback.low, fallback.high)


class PatternStream:
    """``size`` bytes of seeded pseudo-random data, made as they are read and
    hashed on the way: a 64 MiB object never sits in memory. ``finish`` hashes
    what was not read (an upload broken off half-way), which gives the sha256
    of the content the whole upload would have stored."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self._rng = random.Random(seed)  # noqa: S311 (payload bytes, not secrets)
        self._left = size
        self._hash = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._rng.randbytes(n)
        self._hash.update(data)
        self._left -= n
        return data

    def finish(self) -> str:
        while self._left:
            self.read(CHUNK)
        return self._hash.hexdigest()
