"""Probes of MinIO health: they observe, never change anything.

Two sources, because neither alone proves a server rejoined:

* the health endpoints (``/minio/health/live``, ``/ready``, ``/cluster``,
  ``/cluster/read``): live and ready are process-level only; cluster says
  whether every erasure set has write quorum and whether drives are healing;
* admin info (``MinioAdmin.info()``): per-server and per-drive state as the
  answering server sees its peers.

"Rejoined" = all servers online, all drives ok, offlineDisks == 0 and
/minio/health/cluster 200 without ``x-minio-healing-drives``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from urllib3 import PoolManager
from urllib3.exceptions import HTTPError

from chaos.clients import KeyPair, admin_client, http_pool
from kernel.errors import InfraError
from kernel.wait import Seen


class ProbeError(InfraError):
    """A probe got no usable answer (unreachable, refused, unparseable)."""


class HealthPath(Enum):
    LIVE = "/minio/health/live"
    READY = "/minio/health/ready"
    CLUSTER = "/minio/health/cluster"
    CLUSTER_READ = "/minio/health/cluster/read"


@dataclass(frozen=True)
class HealthCheck:
    """One answer of one health endpoint. ``status`` is None when nothing
    answered; that is an observation too (the server is down), not an error."""

    url: str
    path: HealthPath
    status: int | None
    write_quorum: int | None = None
    read_quorum: int | None = None
    healing_drives: int = 0
    server_status: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def __str__(self) -> str:
        if self.status is None:
            return f"{self.url}{self.path.value}: no answer ({self.error})"
        extras = [
            f"{name}={value}"
            for name, value in (
                ("write_quorum", self.write_quorum),
                ("read_quorum", self.read_quorum),
                ("healing_drives", self.healing_drives or None),
                ("server_status", self.server_status),
            )
            if value is not None
        ]
        return f"{self.url}{self.path.value}: {self.status}" + (f" ({', '.join(extras)})" if extras else "")


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def check(url: str, path: HealthPath, *, http: PoolManager | None = None) -> HealthCheck:
    """GET one health endpoint of the server at ``url`` (``http://host:port``)."""
    pool = http or http_pool()
    try:
        response = pool.request("GET", url.rstrip("/") + path.value)
    except HTTPError as exc:
        return HealthCheck(url, path, None, error=f"{type(exc).__name__}: {exc}")
    headers = response.headers
    return HealthCheck(
        url=url,
        path=path,
        status=response.status,
        write_quorum=_int_header(headers, "x-minio-write-quorum"),
        read_quorum=_int_header(headers, "x-minio-read-quorum"),
        healing_drives=_int_header(headers, "x-minio-healing-drives") or 0,
        server_status=headers.get("x-minio-server-status"),
    )


@dataclass(frozen=True)
class DriveState:
    endpoint: str
    state: str
    healing: bool
    pool_index: int
    set_index: int
    total_bytes: int = 0
    available_bytes: int = 0
    """As the server's statfs of the drive says (0 when not reported)."""

    @property
    def ok(self) -> bool:
        return self.state == "ok" and not self.healing


@dataclass(frozen=True)
class ServerState:
    endpoint: str
    state: str
    drives: tuple[DriveState, ...]

    @property
    def online(self) -> bool:
        return self.state == "online"


@dataclass(frozen=True)
class Topology:
    servers: int
    drives: int
    pools: int
    drives_per_set: int
    parity: int

    def read_tolerance(self) -> int:
        """How many servers may be down while every erasure set still has the
        data drives a read needs (drives per set minus parity). MinIO spreads
        each set's drives evenly over the servers of its pool, so a server
        holds ``drives_per_set / servers_per_set`` drives of a set."""
        return self._servers_for(self.parity)

    def write_tolerance(self) -> int:
        """How many servers may be down while writes still reach write quorum:
        the data drives, plus one when parity is half the set (a tie could
        otherwise split the set into two writable halves)."""
        data = self.drives_per_set - self.parity
        quorum = data + 1 if data == self.parity else data
        return self._servers_for(max(0, self.drives_per_set - quorum))

    def _servers_for(self, drives: int) -> int:
        if self.servers <= 0 or self.pools <= 0 or self.drives_per_set <= 0:
            return 0
        servers_per_pool = self.servers // self.pools
        servers_per_set = max(1, min(servers_per_pool, self.drives_per_set))
        drives_per_server_in_set = -(-self.drives_per_set // servers_per_set)  # ceiling
        return drives // drives_per_server_in_set

    def __str__(self) -> str:
        return (
            f"{self.servers} servers, {self.drives} drives in {self.pools} pool(s), "
            f"{self.drives_per_set} drives per erasure set, parity EC:{self.parity}"
        )


@dataclass(frozen=True)
class ClusterInfo:
    """Admin info summarised: what one server reports about every server and drive."""

    mode: str
    servers: tuple[ServerState, ...]
    online_disks: int
    offline_disks: int
    # The erasure layout from the backend section: per pool, how many sets and
    # drives per set, and the standard storage class's parity.
    sets_per_pool: tuple[int, ...] = ()
    drives_per_set: tuple[int, ...] = ()
    parity: int = 0

    @property
    def topology(self) -> Topology:
        """The cluster's shape as MinIO itself declares it. Every server is
        started with the full endpoint list, so servers that are down are still
        listed, and the layout holds whatever state the servers are in."""
        return Topology(
            servers=len(self.servers),
            drives=sum(s * d for s, d in zip(self.sets_per_pool, self.drives_per_set, strict=True)),
            pools=len(self.sets_per_pool),
            drives_per_set=min(self.drives_per_set, default=0),
            parity=self.parity,
        )

    @property
    def drives(self) -> tuple[DriveState, ...]:
        return tuple(d for s in self.servers for d in s.drives)

    @property
    def servers_online(self) -> tuple[str, ...]:
        return tuple(s.endpoint for s in self.servers if s.online)

    @property
    def servers_offline(self) -> tuple[str, ...]:
        return tuple(s.endpoint for s in self.servers if not s.online)

    @property
    def drives_ok(self) -> tuple[str, ...]:
        return tuple(d.endpoint for d in self.drives if d.state == "ok")

    @property
    def drives_offline(self) -> tuple[str, ...]:
        """Drives in any state but ok (offline, faulty, unformatted, ...)."""
        return tuple(d.endpoint for d in self.drives if d.state != "ok")

    @property
    def drives_healing(self) -> tuple[str, ...]:
        return tuple(d.endpoint for d in self.drives if d.healing)

    def __str__(self) -> str:
        return (
            f"mode={self.mode} servers online={len(self.servers_online)} "
            f"offline={list(self.servers_offline)} drives ok={len(self.drives_ok)} "
            f"not ok={list(self.drives_offline)} healing={list(self.drives_healing)} "
            f"onlineDisks={self.online_disks} offlineDisks={self.offline_disks}"
        )


def _field(obj: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    # madmin marks most fields omitempty: absence means the zero value.
    value = obj.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProbeError(f"admin info field {key!r} is {value!r}, expected {kind.__name__}")
    return value


def parse_admin_info(raw: str | Mapping[str, Any]) -> ClusterInfo:
    """Summarise the JSON of ``MinioAdmin.info()`` (madmin ``InfoMessage``)."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ProbeError(f"admin info is not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ProbeError(f"admin info is a {type(data).__name__}, expected an object")
    backend = _field(data, "backend", dict, {})
    servers = []
    for server in _field(data, "servers", list, []):
        drives = tuple(
            DriveState(
                endpoint=_field(d, "endpoint", str, ""),
                state=_field(d, "state", str, "unknown"),
                healing=_field(d, "healing", bool, False),
                pool_index=_field(d, "pool_index", int, -1),
                set_index=_field(d, "set_index", int, -1),
                total_bytes=_field(d, "totalspace", int, 0),
                available_bytes=_field(d, "availspace", int, 0),
            )
            for d in _field(server, "drives", list, [])
        )
        servers.append(
            ServerState(
                endpoint=_field(server, "endpoint", str, ""),
                state=_field(server, "state", str, "unknown"),
                drives=drives,
            )
        )
    return ClusterInfo(
        mode=_field(data, "mode", str, "unknown"),
        servers=tuple(servers),
        online_disks=_field(backend, "onlineDisks", int, 0),
        offline_disks=_field(backend, "offlineDisks", int, 0),
        sets_per_pool=_ints(backend, "totalSets"),
        drives_per_set=_ints(backend, "totalDrivesPerSet"),
        parity=_field(backend, "standardSCParity", int, 0),
    )


def _ints(obj: Mapping[str, Any], key: str) -> tuple[int, ...]:
    values = _field(obj, key, list, [])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ProbeError(f"admin info field {key!r} is {values!r}, expected a list of whole numbers")
    return tuple(values)


def admin_info(url: str, credentials: KeyPair, *, http: PoolManager | None = None) -> ClusterInfo:
    """Ask the server at ``url`` for admin info; ProbeError when it cannot answer."""
    try:
        raw = admin_client(url, credentials, http=http).info()
    except Exception as exc:  # the SDK raises urllib3, MinioAdminException and ValueError alike
        raise ProbeError(f"admin info from {url} failed: {type(exc).__name__}: {exc}") from exc
    return parse_admin_info(raw)


def rejoined(
    info: ClusterInfo,
    cluster: HealthCheck,
    *,
    expected_servers: int,
    expected_drives: int,
) -> Seen:
    """Pure verdict: true only when every server and drive is back and nothing heals.

    The expected counts matter because a server that never joined may be
    missing from admin info altogether rather than listed as offline.
    """
    reasons: list[str] = []
    if len(info.servers) != expected_servers:
        reasons.append(f"{len(info.servers)} servers listed, expected {expected_servers}")
    if info.servers_offline:
        reasons.append(f"servers not online: {list(info.servers_offline)}")
    if len(info.drives_ok) != expected_drives:
        reasons.append(f"{len(info.drives_ok)} of {expected_drives} drives ok")
    if info.drives_offline:
        reasons.append(f"drives not ok: {list(info.drives_offline)}")
    if info.drives_healing:
        reasons.append(f"drives healing: {list(info.drives_healing)}")
    if info.offline_disks != 0:
        reasons.append(f"offlineDisks={info.offline_disks}")
    if cluster.path is not HealthPath.CLUSTER:
        raise ValueError(f"rejoined needs the {HealthPath.CLUSTER.value} answer, got {cluster.path.value}")
    if not cluster.ok:
        reasons.append(f"cluster health: {cluster}")
    if cluster.healing_drives:
        reasons.append(f"cluster health reports {cluster.healing_drives} healing drives")
    if reasons:
        return Seen(False, "; ".join(reasons))
    return Seen(True, f"rejoined: {len(info.servers)} servers online, {expected_drives} drives ok")


def observe_rejoined(
    urls: Sequence[str],
    credentials: KeyPair,
    *,
    expected_servers: int,
    expected_drives: int,
) -> Seen:
    """Ask every server in ``urls`` and apply :func:`rejoined` to each view.

    Each server answers from its own view of its peers, so a restarted server
    can think it is fine while a peer still marks it offline; all must agree.
    An unreachable server is a "no", never an exception, so this works as a
    :func:`kernel.wait.wait_until` predicate.
    """
    if not urls:
        raise ValueError("observe_rejoined needs at least one server URL")
    verdicts: list[str] = []
    all_ok = True
    http = http_pool()
    for url in urls:
        try:
            info = admin_info(url, credentials, http=http)
        except ProbeError as exc:
            all_ok = False
            verdicts.append(str(exc))
            continue
        verdict = rejoined(
            info,
            check(url, HealthPath.CLUSTER, http=http),
            expected_servers=expected_servers,
            expected_drives=expected_drives,
        )
        all_ok = all_ok and verdict.ok
        verdicts.append(f"{url}: {verdict}")
    return Seen(all_ok, " | ".join(verdicts))
