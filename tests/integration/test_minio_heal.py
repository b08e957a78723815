"""chaos.minio_heal against a real 4-server MinIO: objects written while a
server was away are missing on its drive until a heal puts them there."""

from __future__ import annotations

import io
import secrets
import shutil

import pytest

from chaos.clients import s3_client
from chaos.minio_heal import heal_prefix
from chaos.minio_health import admin_info, observe_rejoined
from kernel.errors import InfraError
from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster, RootCredentials
from tests.fixtures.minio_local import ClusterFactory

BUCKET = "heal"
KEYS = [f"during/{i}" for i in range(12)]


def _missing_on(cluster: LocalMinioCluster, node: int) -> list[str]:
    drive = cluster._node(node).drives[0] / BUCKET
    return [key for key in KEYS if not (drive / key / "xl.meta").is_file()]


def test_heal_puts_what_a_returning_server_missed_on_its_drive(minio_cluster_factory: ClusterFactory) -> None:
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    cluster.kill(3)
    # Writes right after the kill can be refused while the others time out on it.
    wait_until(
        lambda: Seen(cluster.endpoint(3) in admin_info(cluster.url(0), cluster.credentials).servers_offline, "online"),
        what="server 3 seen offline",
        timeout=30,
    )
    for key in KEYS:
        data = secrets.token_bytes(20_000)
        client.put_object(BUCKET, key, io.BytesIO(data), len(data))
    cluster.start_node(3)
    wait_until(
        lambda: observe_rejoined(cluster.urls, cluster.credentials, expected_servers=4, expected_drives=4),
        what="server 3 rejoined",
        timeout=90,
        interval=1,
    )
    # Rejoined and "nothing healing" to MinIO. Its MRF queue may already have
    # placed some or all of the objects written without it, and how many is a
    # race; take them off the drive again so the heal has every key to do.
    drive = cluster._node(3).drives[0] / BUCKET
    for key in KEYS:
        shutil.rmtree(drive / key, ignore_errors=True)
    missed = _missing_on(cluster, 3)
    assert missed == KEYS

    outcome = heal_prefix(cluster.url(0), cluster.credentials, BUCKET, "during/")

    assert _missing_on(cluster, 3) == [], outcome
    # Counted per pass from MinIO's before/after drive states, which can call
    # the just-returned drive offline in the first pass (8 of 12 on a loaded
    # host): the drive's contents above are the proof, the count only shows
    # the heal did the work.
    assert outcome.healed >= 1
    assert outcome.items >= len(KEYS)


def test_a_heal_refused_by_minio_is_an_error(minio_cluster: LocalMinioCluster) -> None:
    wrong = RootCredentials(minio_cluster.credentials.access_key, "not-the-secret-key")
    with pytest.raises(InfraError, match="answered 403"):
        heal_prefix(minio_cluster.url(0), wrong, BUCKET, "x/")
