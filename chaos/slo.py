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
    fault_load_s: int
    """Seconds of load in a fault scenario (covers the fault and the recovery)."""
    hpa_users: int
    """Locust users in the HPA scenario: enough to push the gateway over its CPU target."""
    hpa_load_s: int
    outage_s: int
    """Seconds that servers stay down in the beyond-quorum scenarios."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PROFILES = {
    "quick": Profile(
        "quick", users=8, spawn_rate=4, steady_s=15, fault_load_s=120, hpa_users=40, hpa_load_s=90, outage_s=30
    ),
    "standard": Profile(
        "standard", users=16, spawn_rate=4, steady_s=30, fault_load_s=240, hpa_users=60, hpa_load_s=360, outage_s=60
    ),
}
