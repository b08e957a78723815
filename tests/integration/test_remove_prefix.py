"""Removing what a run wrote into a stack chaosgate did not deploy, against a
real 4-server MinIO: only the run's prefix goes, and a store without write
quorum is asked again until the deadline, then reported, never skipped."""

import io

import pytest

from chaos.clients import remove_prefix, s3_client
from kernel.errors import WaitTimeout
from tests.fixtures.minio_local import ClusterFactory


def test_only_the_prefix_is_removed_and_a_store_without_quorum_is_reported(
    minio_cluster_factory: ClusterFactory,
):
    cluster = minio_cluster_factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket("shop")
    for name in ("pod-kill/a", "pod-kill/b", "pod-kill/deep/c", "users/keep"):
        client.put_object("shop", name, io.BytesIO(b"x"), 1)
    assert remove_prefix(client, "shop", "pod-kill/") == 3
    assert [o.object_name for o in client.list_objects("shop", recursive=True)] == ["users/keep"]

    client.put_object("shop", "pod-kill/d", io.BytesIO(b"x"), 1)
    cluster.kill(2)
    cluster.kill(3)  # 2 of 4 drives: reads may answer, deletes cannot
    with pytest.raises(WaitTimeout):
        remove_prefix(client, "shop", "pod-kill/", timeout=8)
