"""Admin info parsing and the rejoined verdict, on admin info recorded from a
real 4-server cluster (DEVELOPMENT.2026-02-12T20-18-48Z, tests.fixtures.localminio)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos.minio_health import (
    ClusterInfo,
    HealthCheck,
    HealthPath,
    ProbeError,
    Topology,
    parse_admin_info,
    rejoined,
)

DATA = Path(__file__).parent / "data"
URL = "http://127.0.0.1:9000"
HEALTHY_CLUSTER = HealthCheck(URL, HealthPath.CLUSTER, 200, write_quorum=3)


def _raw(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def _healthy() -> ClusterInfo:
    return parse_admin_info((DATA / "admin_info_healthy.json").read_text())


def test_parse_healthy_cluster() -> None:
    info = _healthy()
    assert info.mode == "online"
    assert len(info.servers) == 4
    assert len(info.servers_online) == 4
    assert info.servers_offline == ()
    assert len(info.drives_ok) == 4
    assert info.drives_offline == () and info.drives_healing == ()
    assert (info.online_disks, info.offline_disks) == (4, 0)
    assert {d.set_index for d in info.drives} == {0}


def test_parse_one_server_offline() -> None:
    info = parse_admin_info(_raw("admin_info_one_server_offline.json"))
    assert len(info.servers_online) == 3
    assert len(info.servers_offline) == 1
    offline = info.servers_offline[0]
    # The offline server's drive is listed, with its own endpoint, as offline.
    assert [d for d in info.drives_offline if offline in d] == list(info.drives_offline)
    assert len(info.drives_offline) == 1
    assert (info.online_disks, info.offline_disks) == (3, 1)


def test_rejoined_true_only_for_the_healthy_sample() -> None:
    verdict = rejoined(_healthy(), HEALTHY_CLUSTER, expected_servers=4, expected_drives=4)
    assert verdict.ok, str(verdict)


def test_rejoined_false_with_a_server_offline_and_says_why() -> None:
    info = parse_admin_info(_raw("admin_info_one_server_offline.json"))
    verdict = rejoined(info, HEALTHY_CLUSTER, expected_servers=4, expected_drives=4)
    assert not verdict.ok
    assert "servers not online" in verdict.detail
    assert "offlineDisks=1" in verdict.detail
    assert info.servers_offline[0] in verdict.detail


def test_rejoined_false_while_a_drive_heals() -> None:
    raw = _raw("admin_info_healthy.json")
    raw["servers"][2]["drives"][0]["healing"] = True
    verdict = rejoined(parse_admin_info(raw), HEALTHY_CLUSTER, expected_servers=4, expected_drives=4)
    assert not verdict.ok
    assert "drives healing" in verdict.detail


def test_rejoined_false_when_cluster_health_reports_healing() -> None:
    healing = HealthCheck(URL, HealthPath.CLUSTER, 200, write_quorum=3, healing_drives=1)
    verdict = rejoined(_healthy(), healing, expected_servers=4, expected_drives=4)
    assert not verdict.ok
    assert "1 healing drives" in verdict.detail


def test_rejoined_false_without_write_quorum() -> None:
    no_quorum = HealthCheck(URL, HealthPath.CLUSTER, 503, write_quorum=3)
    verdict = rejoined(_healthy(), no_quorum, expected_servers=4, expected_drives=4)
    assert not verdict.ok
    assert "503" in verdict.detail


def test_rejoined_false_when_a_server_is_missing_from_the_list() -> None:
    raw = _raw("admin_info_healthy.json")
    del raw["servers"][0]
    raw["backend"]["onlineDisks"] = 3
    verdict = rejoined(parse_admin_info(raw), HEALTHY_CLUSTER, expected_servers=4, expected_drives=4)
    assert not verdict.ok
    assert "3 servers listed, expected 4" in verdict.detail


def test_rejoined_refuses_the_wrong_health_endpoint() -> None:
    live = HealthCheck(URL, HealthPath.LIVE, 200)
    with pytest.raises(ValueError, match="/minio/health/cluster"):
        rejoined(_healthy(), live, expected_servers=4, expected_drives=4)


def test_missing_omitempty_fields_take_zero_values() -> None:
    info = parse_admin_info({"servers": [{"endpoint": "a:1", "state": "online", "drives": [{"state": "ok"}]}]})
    assert info.servers[0].drives[0].healing is False
    assert (info.online_disks, info.offline_disks) == (0, 0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "expected an object"),
        ({"servers": {"a": 1}}, "'servers'"),
        ({"backend": {"onlineDisks": "4"}}, "'onlineDisks'"),
        ({"backend": {"offlineDisks": True}}, "'offlineDisks'"),
    ],
)
def test_malformed_admin_info_is_a_probe_error(raw: Any, message: str) -> None:
    with pytest.raises(ProbeError, match=message):
        parse_admin_info(raw)


def test_health_check_describes_itself() -> None:
    down = HealthCheck(URL, HealthPath.CLUSTER, None, error="ConnectionRefused")
    assert not down.ok
    assert str(down) == f"{URL}/minio/health/cluster: no answer (ConnectionRefused)"
    healing = HealthCheck(URL, HealthPath.CLUSTER, 200, write_quorum=3, healing_drives=2)
    assert str(healing) == f"{URL}/minio/health/cluster: 200 (write_quorum=3, healing_drives=2)"


@pytest.mark.parametrize("name", ["admin_info_healthy.json", "admin_info_one_server_offline.json"])
def test_topology_comes_from_the_erasure_layout_whatever_the_servers_state(name: str) -> None:
    shape = parse_admin_info(_raw(name)).topology
    assert (shape.servers, shape.drives, shape.pools, shape.drives_per_set, shape.parity) == (4, 4, 1, 4, 2)


def test_topology_of_two_pools_adds_their_drives() -> None:
    raw = _raw("admin_info_healthy.json")
    raw["backend"] = {**raw["backend"], "totalSets": [1, 2], "totalDrivesPerSet": [4, 4]}
    shape = parse_admin_info(raw).topology
    assert (shape.drives, shape.pools) == (12, 2)


def test_topology_refuses_a_garbled_layout() -> None:
    raw = _raw("admin_info_healthy.json")
    raw["backend"] = {**raw["backend"], "totalSets": ["1"]}
    with pytest.raises(ProbeError, match="totalSets"):
        parse_admin_info(raw)


@pytest.mark.parametrize(
    ("servers", "pools", "drives_per_set", "parity", "tolerance"),
    [
        (4, 1, 4, 2, 2),  # the reference stack: a drive per server, EC:2
        (4, 1, 4, 1, 1),  # less redundancy: one server down is all reads survive
        (2, 1, 4, 2, 1),  # two drives per server in the set: a server takes two
        (2, 1, 4, 1, 0),  # ... and beyond EC:1 at once
        (8, 2, 4, 2, 2),  # two pools of four: each pool's sets tolerate two
    ],
)
def test_read_tolerance_follows_parity_and_drive_spread(servers, pools, drives_per_set, parity, tolerance) -> None:
    shape = Topology(servers, servers, pools, drives_per_set, parity)
    assert shape.read_tolerance() == tolerance


@pytest.mark.parametrize(
    ("shape", "reads", "writes"),
    [
        # servers, drives, pools, drives per set, parity
        ((4, 4, 1, 4, 2), 2, 1),  # the reference stack: write quorum 3 of 4
        ((4, 8, 1, 8, 4), 2, 1),  # 4 x 2 drives at EC:4: a server holds 2 drives of the set
        ((6, 6, 1, 6, 3), 3, 2),  # parity half the set: quorum is data + 1
        ((16, 16, 1, 16, 4), 4, 4),  # EC:4 of 16: quorum is the 12 data drives
        ((8, 8, 2, 4, 2), 2, 1),  # two pools of 4: tolerance per set
        ((0, 0, 0, 0, 0), 0, 0),  # nothing known: no tolerance claimed
    ],
)
def test_read_and_write_tolerance_follow_the_erasure_layout(shape, reads, writes) -> None:
    topology = Topology(*shape)
    assert topology.read_tolerance() == reads
    assert topology.write_tolerance() == writes
