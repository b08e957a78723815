"""A DELETE that MinIO answers 204 without writing a delete marker, for a key
that is there (4 servers at EC:2, real MinIO, real gateway).

MinIO's look-up before a delete ignores drives it cannot use and counts "not
found" from the rest against read quorum. Here the key's PUT never reached
drive 3 (its copy is removed, as when drive 3 was not connected to the
coordinating server) and drives 0 and 1 are unusable (their format.json is
moved away, as a drive not reconnected yet after a restart): the look-up sees
only drive 2 with the key and drive 3 without, reads "not found", and MinIO
answers 204 and deletes nothing. Once drives 0 and 1 are back, the key reads
back: an acknowledged delete undone. The gateway must not acknowledge it.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from gateway_proc import GatewayFactory, RunningGateway
from gateway_tools import direct, metric, samples
from minio.error import S3Error

from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster
from tests.fixtures.minio_local import ClusterFactory

AWAY = (0, 1)
UNREACHED = 3
CONTENT = b"acknowledged v1"


@contextmanager
def _drives_away(cluster: LocalMinioCluster) -> Iterator[None]:
    formats = [cluster.root / f"n{n}" / "d0" / ".minio.sys" / "format.json" for n in AWAY]
    for path in formats:
        path.rename(path.with_suffix(".away"))
    try:
        yield
    finally:
        for path in formats:
            path.with_suffix(".away").rename(path)


def _key_only_on_some_drives(cluster: LocalMinioCluster, gateway: RunningGateway, bucket: str) -> str:
    key = f"settle/{secrets.token_hex(4)}"
    with gateway.client() as http:
        assert http.put(f"/objects/{key}", content=CONTENT).status_code == 200
    # Just after a cluster starts, the PUT itself may have missed a drive its
    # server was not connected to yet: drive 3's copy may already be absent.
    shutil.rmtree(cluster.root / f"n{UNREACHED}" / "d0" / bucket / key, ignore_errors=True)
    return key


def _exists(cluster: LocalMinioCluster, bucket: str, key: str) -> bool:
    try:
        direct(cluster, 2).stat_object(bucket, key)
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return False
        raise
    return True


def _wait_back(cluster: LocalMinioCluster, bucket: str, key: str) -> None:
    wait_until(lambda: Seen(_exists(cluster, bucket, key), "not back"), what="the key reading back", timeout=30)


def _unconfirmed(gateway: RunningGateway) -> float:
    with gateway.client() as http:
        return metric(samples(http.get("/metrics").text), "gateway_deletes_unconfirmed_total")


def _delete_while_drives_away(cluster: LocalMinioCluster, gateway: RunningGateway, bucket: str) -> tuple[str, int]:
    key = _key_only_on_some_drives(cluster, gateway, bucket)
    with _drives_away(cluster):
        # MinIO notices a moved format.json within a second or two; until
        # then its look-up still finds the key and a real marker is written.
        wait_until(
            lambda: Seen(not _exists(cluster, bucket, key), "MinIO still finds the key"),
            what="MinIO reading not found",
            timeout=30,
        )
        with gateway.client() as http:
            status = http.delete(f"/objects/{key}").status_code
    return key, status


def test_a_delete_without_a_marker_is_refused_while_drives_are_away(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory(nodes=4)
    bucket = f"settle-{secrets.token_hex(4)}"
    gateway = gateway_factory(cluster, node=2, GATEWAY_BUCKET=bucket, GATEWAY_DELETE_SETTLE="1")
    key, status = _delete_while_drives_away(cluster, gateway, bucket)
    assert status == 503, "the gateway acknowledged a delete MinIO did not carry out"
    _wait_back(cluster, bucket, key)  # allowed: the client was told 503
    assert _unconfirmed(gateway) == 1
    with gateway.client() as http:
        assert http.delete(f"/objects/{key}").status_code == 204  # every drive back: a real marker
        assert http.get(f"/objects/{key}").status_code == 404


def test_without_the_check_the_acknowledged_delete_is_undone(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory(nodes=4)
    bucket = f"nosettle-{secrets.token_hex(4)}"
    gateway = gateway_factory(cluster, node=2, GATEWAY_BUCKET=bucket, GATEWAY_DELETE_SETTLE="0")
    key, status = _delete_while_drives_away(cluster, gateway, bucket)
    assert status == 204
    _wait_back(cluster, bucket, key)  # the acknowledged delete undone
    assert _unconfirmed(gateway) == 0
    with gateway.client() as http:
        assert http.get(f"/objects/{key}").content == CONTENT


def test_a_missing_key_is_204_once_servers_are_settled_and_503_before(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory(nodes=4)
    young = gateway_factory(cluster, GATEWAY_DELETE_SETTLE="3600")
    settled = gateway_factory(cluster, GATEWAY_DELETE_SETTLE="2")
    with young.client() as http:
        answer = http.delete("/objects/never-written")
    assert answer.status_code == 503
    assert answer.json()["error"] == "delete_unconfirmed"
    assert "under 3600 s" in answer.json()["why"]
    with settled.client() as http:
        wait_until(
            lambda: Seen(http.delete("/objects/never-written").status_code == 204, "still refused"),
            what="a settled cluster's 'nothing to delete' being believed",
            timeout=20,
        )
