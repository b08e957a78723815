"""The gateway turns versioning on for its bucket (the reference stack's
answer to deletes that come back, docs/findings/delete-resurrection.md), and
leaves a bucket alone when told ``off``; real gateway, real MinIO."""

from __future__ import annotations

import secrets

from gateway_proc import GatewayFactory
from minio import Minio

from tests.fixtures.localminio import LocalMinioCluster


def _client(cluster: LocalMinioCluster) -> Minio:
    return Minio(cluster.endpoint(0), access_key=cluster.access_key, secret_key=cluster.secret_key, secure=False)


def test_bucket_is_versioned_with_a_noncurrent_expiry(
    minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory
) -> None:
    bucket = f"ver-{secrets.token_hex(4)}"
    gateway = gateway_factory(minio_cluster, GATEWAY_BUCKET=bucket)
    client = _client(minio_cluster)
    assert client.get_bucket_versioning(bucket).status == "Enabled"
    lifecycle = client.get_bucket_lifecycle(bucket)
    assert lifecycle is not None
    (rule,) = lifecycle.rules
    assert rule.noncurrent_version_expiration is not None
    assert rule.noncurrent_version_expiration.noncurrent_days == 1

    # A delete through the gateway leaves a delete marker, and the key reads 404.
    with gateway.client() as http:
        assert http.put("/objects/k", content=b"one").status_code == 200
        assert http.put("/objects/k", content=b"two").status_code == 200
        assert http.delete("/objects/k").status_code in (200, 204)
        assert http.get("/objects/k").status_code == 404
    versions = list(client.list_objects(bucket, include_version=True))
    assert len(versions) == 3
    assert [v.is_delete_marker for v in versions].count(True) == 1


def test_off_leaves_the_bucket_unversioned(minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory) -> None:
    bucket = f"nover-{secrets.token_hex(4)}"
    gateway_factory(minio_cluster, GATEWAY_BUCKET=bucket, GATEWAY_BUCKET_VERSIONING="off")
    client = _client(minio_cluster)
    assert client.get_bucket_versioning(bucket).status is None  # never versioned
    assert client.get_bucket_lifecycle(bucket) is None
