"""Service-level objectives the scenarios hold the stack to, and run profiles.

Defaults are sized for a kind cluster on a 2-core machine; an SLO file
(``--slo-file``, YAML) overrides any of them. Unknown keys and wrong types are
refused, naming the key, so a typo cannot silently loosen a gate.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chaos.sizemix import SizeMix
from kernel.errors import BadInputError


@dataclass(frozen=True)
class Slo:
    read_availability_min: float = 0.9
    """Share of GETs that must succeed while more MinIO servers are down than the
    erasure code tolerates for reads (0-1): what a degraded stack still owes."""
    read_availability_within_parity_min: float = 0.98
    """Share of GETs that must succeed while the servers down are within what the
    stack's own parity tolerates for reads (0-1). MinIO reads from the remaining
    drives, so only requests in flight to the killed server may fail; not 1.0
    for those. Measured on the reference stack: 0.9936-1.0 during a pod kill,
    1.0 with 2 of 4 servers down at EC:2. A stack with less redundancy than it
    claims loses more and fails this."""
    detect_max_s: float = 60.0
    """Seconds from a pod kill until MinIO reports the server offline
    (two missed 10 s internode pings plus probing slack)."""
    first_ack_max_s: float = 30.0
    """Seconds from a single-pod fault to the first acknowledged write after it.
    Write quorum survives one server down, so writes should barely pause."""
    rejoin_max_s: float = 180.0
    """Seconds from a fault until every server and drive is online again
    (restart, DNS cache of ~30 s, 15 s drive reconnect)."""
    healed_max_s: float = 300.0
    """Seconds from a fault until no drive is healing and cluster health is 200."""
    full_outage_recovery_max_s: float = 300.0
    """Seconds from deleting every MinIO pod until the cluster serves writes again."""
    hpa_scale_out_max_s: float = 240.0
    """Seconds from load start until the gateway HPA adds replicas (metrics-server
    resolution 15 s, HPA sync 15 s, pod start)."""
    hpa_scale_in_max_s: float = 420.0
    """Seconds from load stop until the HPA is back at its minimum (stabilisation
    window plus scale-down policy periods of values-kind.yaml)."""
    error_ratio_max: float = 0.02
    """Share of requests that may fail under load without faults (0-1)."""
    p95_latency_max_ms: float = 2000.0
    """95th percentile latency under load without faults, on a 2-core machine."""
    expansion_outage_max_s: float = 45.0
    """Longest time without an acknowledged write while a new server pool is
    added: every server restarts together once (MinIO's way to take a new
    endpoint list), so writes pause for the restart and the new pool joining."""
    alert_active_max_s: float = 60.0
    """Seconds from a fault until its alert is pending or firing in Prometheus:
    MinIO's metrics reflect the loss (graceful delete at once), plus one scrape
    and one rule evaluation (5 s each on kind, values-kind.yaml), with slack."""
    alert_resolve_max_s: float = 90.0
    """Seconds from the stack's recovery until the alert is no longer active:
    a scrape and an evaluation after MinIO reports every server again."""

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def load_slo(path: Path | None) -> Slo:
    if path is None:
        return Slo()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"cannot read SLO file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"SLO file {path} must be a mapping of SLO names to numbers")
    known = {f.name for f in dataclasses.fields(Slo)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise BadInputError(f"SLO file {path}: unknown key(s) {unknown}; known: {sorted(known)}")
    values: dict[str, float] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise BadInputError(f"SLO file {path}: {key} must be a finite number, got {value!r}")
        problem = _out_of_range(key, float(value))
        if problem:
            raise BadInputError(f"SLO file {path}: {key} = {value!r} {problem}")
        values[key] = float(value)
    return Slo(**values)


def _out_of_range(key: str, value: float) -> str:
    """Why ``value`` is no limit at all for ``key`` (a check that could never
    fail, or never pass), or "" when it is a real limit."""
    if key.endswith("_min"):  # shares that must be reached
        return "" if 0 < value <= 1 else "must be a share in (0, 1]: 0 or less lets any result pass"
    if key.endswith("ratio_max"):  # shares that may fail
        return "" if 0 <= value < 1 else "must be a share in [0, 1): 1 or more lets every request fail"
    return "" if value > 0 else "must be > 0: a limit of 0 or less can never be met"


@dataclass(frozen=True)
class Profile:
    name: str
    users: int
    """Locust users for the fault scenarios."""
    spawn_rate: float
    steady_s: int
    """Seconds of load before a fault, to have a baseline on the plots."""
    recovery_s: int
    """Seconds of load a fault scenario plans after its fault is over (the
    servers killed or restored): recovery under load, and writes after it.
    The load lasts the baseline, the fault's own time and this, and no longer:
    on the reference stack recovery took 8-20 s of it."""
    hpa_users: int
    """Locust users in the HPA scenario: enough to push the gateway over its CPU target."""
    hpa_load_s: int
    outage_s: int
    """Seconds that servers stay down in the beyond-quorum scenarios."""
    size_mix: str = "small=4KiB:1"
    """Object sizes the load writes, ``class=size[-max]:weight`` (chaos.sizemix):
    small objects MinIO keeps inline in xl.meta (<= 128 KiB), medium ones it
    stores as erasure-coded part files (one PUT), large ones sent as multipart
    uploads in 5 MiB parts (through S3 directly, also when the target has an
    app). Weights are relative; bytes_per_s may turn a medium or large draw
    into a small one (the ledger records what was written)."""
    overwrite_ratio: float = 0.0
    """Share of writes (0-1) that replace a key acknowledged before, drawn from
    a few recent keys shared by all users, so concurrent writers to one key
    happen too. The last acknowledged content must read back."""
    delete_ratio: float = 0.0
    """Share of writes (0-1) that delete a key acknowledged before. A deleted
    key must stay deleted, in GETs and in listings."""
    extended: bool = False
    """Also run the longer scenarios (rolling restart and the like): they add
    minutes, so the quick profile (the default, and what pull requests run) leaves them out."""
    bytes_per_s: int = 0
    """Bytes per second that medium and large objects may send per Locust
    process (0: no cap), split over those classes by the bytes their weights
    ask for. Bounds a run's volume whatever the request rate: a run of T
    seconds with W writes sends at most W x small size + bytes_per_s x T plus
    one object of each larger class (chaos.sizemix.SizeMix.bound_bytes)."""

    def __post_init__(self) -> None:
        SizeMix.parse(self.size_mix, f"profile {self.name} size_mix")
        for name in ("overwrite_ratio", "delete_ratio"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise BadInputError(f"profile {self.name}: {name} must be a share in [0, 1), got {value!r}")
        if self.overwrite_ratio + self.delete_ratio >= 1:
            raise BadInputError(f"profile {self.name}: overwrite_ratio + delete_ratio must leave room for new keys")
        if self.bytes_per_s < 0:
            raise BadInputError(f"profile {self.name}: bytes_per_s must be >= 0 (0: no cap)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def load_shape(self) -> dict[str, Any]:
        """The load's shape, as fields of loadtests.config.LoadConfig."""
        return {
            "size_mix": SizeMix.parse(self.size_mix).text(),
            "overwrite_ratio": self.overwrite_ratio,
            "delete_ratio": self.delete_ratio,
            "bytes_per_s": self.bytes_per_s,
        }


# Volume on the reference stack (4 drives of 1 GiB at EC:2, ~2 GiB usable): at
# the ~40 writes/s measured with the quick profile on a 2-core machine, quick's
# four fault scenarios (hpa-under-load, pod-kill, beyond-write-quorum,
# full-outage) send at most ~0.4 GiB (tests/unit/test_slo.py computes it);
# standard's, at twice that rate, ~1 GiB, half of it small objects.
PROFILES = {
    "quick": Profile(
        "quick",
        users=8,
        spawn_rate=4,
        steady_s=15,
        recovery_s=60,
        hpa_users=40,
        hpa_load_s=90,
        outage_s=30,
        size_mix="small=4KiB:83,medium=1MiB:15,large=16MiB:2",
        overwrite_ratio=0.1,
        delete_ratio=0.05,
        bytes_per_s=512 * 1024,
    ),
    "standard": Profile(
        "standard",
        extended=True,
        users=16,
        spawn_rate=4,
        steady_s=30,
        recovery_s=150,
        hpa_users=60,
        hpa_load_s=360,
        outage_s=60,
        size_mix="small=4KiB:70,medium=1MiB-2MiB:27,large=16MiB-64MiB:3",
        overwrite_ratio=0.15,
        delete_ratio=0.05,
        bytes_per_s=384 * 1024,
    ),
}

# quick's load and outages, and every scenario.
PROFILES["full"] = dataclasses.replace(PROFILES["quick"], name="full", extended=True)
