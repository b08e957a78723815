"""A DELETE refused with 503 in a versioned bucket, on real MinIO, with the
delete marker's commit failing on some drives (docs/findings/delete-resurrection.md,
"What versioning does not fix").

MinIO does not take back a delete marker that reached fewer drives than write
quorum. Whether that leftover decides reads depends on the layout:
- 4 drives at EC:2: read quorum is 2 (data drives), write quorum 3. A marker
  refused on 2 drives sits on the other 2, a read quorum of its own: GETs
  answer 200 or 404 from request to request and listings disagree with them,
  until a heal of the key puts the marker on every drive (chaos.deletes'
  split check sees both).
- 5 drives at EC:2: read and write quorum are both 3. A marker refused on 3
  drives sits on 2, short of read quorum: every GET and every listing see the
  object, as the 503 allows.

The commit is refused the way a server dying between data and commit would
refuse it: the key's directory on those drives is immutable (chattr +i).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import subprocess

import pytest
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error, ServerError
from minio.versioningconfig import VersioningConfig

from chaos import deletes
from chaos.clients import s3_client
from chaos.ledger.records import INDETERMINATE
from chaos.minio_heal import heal_prefix
from tests.fixtures.localminio import LocalMinioCluster
from tests.fixtures.minio_local import ClusterFactory

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root (CI runs as root)")

BUCKET = "markers"
KEYS = [f"orders/{i}" for i in range(6)]
READS = 6
"""GETs of each key on each server after the refused delete."""


def _refused_deletes(cluster: LocalMinioCluster, refusing: list[int]) -> tuple[Minio, dict[str, bytes]]:
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    client.set_bucket_versioning(BUCKET, VersioningConfig(ENABLED))
    first: dict[str, bytes] = {}
    for key in KEYS:
        first[key] = secrets.token_bytes(1024)
        client.put_object(BUCKET, key, io.BytesIO(first[key]), len(first[key]))
    for key in KEYS:
        dirs = [str(cluster.root / f"n{n}" / "d0" / BUCKET / key) for n in refusing]
        subprocess.run(["chattr", "+i", *dirs], check=True, timeout=10)
        try:
            answer = _answer(client, key)
        finally:
            subprocess.run(["chattr", "-i", *dirs], check=True, timeout=10)
        # 4 drives answer SlowDownWrite (503), 5 drives InternalError (500):
        # either way the delete was not acknowledged.
        assert answer != "ok", "a delete marker without write quorum was acknowledged"
    return client, first


def _answer(client: Minio, key: str) -> str:
    try:
        client.remove_object(BUCKET, key)
    except S3Error as exc:
        return exc.code
    except ServerError as exc:
        return str(exc.status_code)
    return "ok"


def _reads(cluster: LocalMinioCluster, key: str) -> set[bytes | None]:
    """Every distinct answer to GET ``key`` over READS rounds on every server."""
    seen: set[bytes | None] = set()
    for _ in range(READS):
        for node in range(cluster.size):
            try:
                response = s3_client(cluster.url(node), cluster.credentials).get_object(BUCKET, key)
            except S3Error as exc:
                assert exc.code == "NoSuchKey", exc
                seen.add(None)
                continue
            try:
                seen.add(response.read())
            finally:
                response.close()
                response.release_conn()
    return seen


def _listed(client: Minio) -> set[str]:
    return {o.object_name for o in client.list_objects(BUCKET, prefix="orders/", recursive=True)}


def test_five_drives_at_ec2_keep_the_object_after_a_refused_delete_marker(
    minio_cluster_factory: ClusterFactory,
) -> None:
    cluster = minio_cluster_factory(nodes=5)
    client, first = _refused_deletes(cluster, refusing=[2, 3, 4])
    assert {key: _reads(cluster, key) for key in KEYS} == {key: {first[key]} for key in KEYS}
    assert _listed(client) == set(KEYS)


def test_four_drives_at_ec2_split_on_a_refused_delete_marker_until_a_heal(
    minio_cluster_factory: ClusterFactory,
) -> None:
    cluster = minio_cluster_factory(nodes=4)
    client, first = _refused_deletes(cluster, refusing=[2, 3])
    rnd = deletes.Round(0, list(KEYS))
    rnd.first = {key: hashlib.sha256(data).hexdigest() for key, data in first.items()}
    rnd.deletes = dict.fromkeys(KEYS, INDETERMINATE)
    deletes.read_refused(client, BUCKET, str, rnd)
    # Present to some GETs or listings and absent to others: neither outcome a refused delete allows.
    assert rnd.split, rnd.answers

    heal_prefix(cluster.url(0), cluster.credentials, BUCKET, "orders/")
    healed = deletes.Round(0, list(KEYS), first=rnd.first, deletes=rnd.deletes)
    deletes.read_refused(client, BUCKET, str, healed)
    assert healed.split == [], healed.answers
