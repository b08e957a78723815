"""LocalMinioCluster layout and input checks (no processes started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import BadInputError, InfraError
from tests.fixtures.localminio import LocalMinioCluster


def test_layout_ports_drives_and_credentials(tmp_path: Path) -> None:
    cluster = LocalMinioCluster(4, 2, binary=Path("/nonexistent"), root=tmp_path)
    try:
        ports = [int(cluster.endpoint(i).rsplit(":", 1)[1]) for i in range(4)]
        assert len(set(ports)) == 4
        assert cluster.urls == [f"http://127.0.0.1:{p}" for p in ports]
        assert cluster.drive_count == 8
        args = cluster.server_args
        # Every server gets the same explicit list: one URL per drive, the
        # drive folders of node i on node i's port.
        assert len(args) == 8 and len(set(args)) == 8
        assert args[0] == f"http://127.0.0.1:{ports[0]}{tmp_path}/n0/d0"
        assert args[7] == f"http://127.0.0.1:{ports[3]}{tmp_path}/n3/d1"
        assert len(cluster.access_key) >= 3 and len(cluster.secret_key) >= 8
        assert cluster.secret_key not in repr(cluster)
    finally:
        cluster.cleanup()


def test_credentials_differ_per_cluster(tmp_path: Path) -> None:
    a = LocalMinioCluster(binary=Path("/x"), root=tmp_path / "a")
    b = LocalMinioCluster(binary=Path("/x"), root=tmp_path / "b")
    try:
        assert a.secret_key != b.secret_key and a.access_key != b.access_key
    finally:
        a.cleanup()
        b.cleanup()


@pytest.mark.parametrize(("nodes", "drives"), [(1, 4), (4, 0), (9, 2)])
def test_impossible_layouts_are_bad_input(nodes: int, drives: int) -> None:
    with pytest.raises(BadInputError):
        LocalMinioCluster(nodes, drives, binary=Path("/x"))


def test_node_index_out_of_range_and_kill_of_a_stopped_node(tmp_path: Path) -> None:
    cluster = LocalMinioCluster(binary=Path("/x"), root=tmp_path)
    try:
        with pytest.raises(BadInputError, match=r"nodes 0\.\.3"):
            cluster.url(4)
        with pytest.raises(InfraError, match="not running"):
            cluster.kill(0)
    finally:
        cluster.cleanup()


def test_owned_temp_folder_is_removed_by_cleanup() -> None:
    cluster = LocalMinioCluster(binary=Path("/x"))
    root = cluster.root
    assert root.is_dir()
    cluster.cleanup()
    assert not root.exists()
    cluster.cleanup()  # idempotent


def test_wait_ready_with_nothing_running_is_an_error_not_a_wait(tmp_path: Path) -> None:
    cluster = LocalMinioCluster(binary=Path("/x"), root=tmp_path)
    try:
        with pytest.raises(InfraError, match="no MinIO server is running"):
            cluster.wait_ready(timeout=30)
    finally:
        cluster.cleanup()
