"""A DELETE that MinIO acknowledges and then undoes, on a real 4-server MinIO.

The mechanism (MinIO at the pinned commit; docs/findings/delete-resurrection.md):
an overwrite whose commit (renameData) reaches fewer drives than write quorum
is refused with 503 and undone on the drives it reached. In an unversioned
bucket the new version had *replaced* the acknowledged one in each drive's
xl.meta, and on a drive remote to the server that took the PUT the undo
does not bring it back: the storage REST server's DeleteVersion handler
drops the undo options (UndoWrite, OldDataDir) the client sent, so the undo
is a plain delete of the object's only version. The acknowledged version is
left on only the drives where the commit failed (and on the coordinating
server's own drive, when the commit reached it: a local undo restores it).
With 4 drives at EC:2 that is 2 of 4, a tie: with one of those 2 servers
down, GET answers 404 and a DELETE reads "not found" at read quorum and
answers 204 without deleting anything; when the server returns the old
version reads back.

Versioned, the overwrite adds a version and its undo removes only that, so
the acknowledged version stays on every drive and the DELETE writes a
delete marker that holds.

The commit is made to fail on two drives the way a server dying between
writing the data and committing it would: the object's directory on those
drives is made immutable (chattr +i) for the one overwrite.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error, ServerError
from minio.versioningconfig import VersioningConfig

from chaos import xlmeta
from chaos.clients import s3_client
from chaos.minio_health import admin_info, observe_rejoined
from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster
from tests.fixtures.minio_local import ClusterFactory

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root (CI runs as root)")

BUCKET = "deletes"
KEYS = [f"orders/{i}" for i in range(6)]
SMALL = 1024  # inlined into xl.meta
REFUSING = (2, 3)
"""Drives whose commit the overwrite cannot reach (their servers stay up)."""
DOWN = 3
"""One of them, stopped for the delete: within write quorum (one server)."""


def _drive(cluster: LocalMinioCluster, node: int) -> Path:
    return cluster.root / f"n{node}" / "d0"


def _layout(cluster: LocalMinioCluster, key: str) -> tuple[int, ...]:
    """Versions of ``key`` on each drive (0: no xl.meta)."""
    metas = [_drive(cluster, n) / BUCKET / key / "xl.meta" for n in range(cluster.size)]
    return tuple(len(xlmeta.parse(m.read_bytes())) if m.is_file() else 0 for m in metas)


@contextmanager
def _commit_refused(cluster: LocalMinioCluster, key: str) -> Iterator[None]:
    dirs = [str(_drive(cluster, n) / BUCKET / key) for n in REFUSING]
    subprocess.run(["chattr", "+i", *dirs], check=True, timeout=10)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *dirs], check=True, timeout=10)


def _put(client: Minio, key: str, data: bytes) -> None:
    client.put_object(BUCKET, key, io.BytesIO(data), len(data))


def _answer(call: Callable[[], object]) -> str:
    """'ok', or the S3 error code / HTTP status MinIO answered with."""
    try:
        call()
    except S3Error as exc:
        return exc.code
    except ServerError as exc:
        return str(exc.status_code)
    return "ok"


def _read(client: Minio, key: str) -> bytes | None:
    try:
        response = client.get_object(BUCKET, key)
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return None
        raise
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def _refused_overwrites(
    factory: ClusterFactory, *, versioned: bool, size: int
) -> tuple[LocalMinioCluster, dict[str, bytes]]:
    """Write every key, then overwrite each with its commit refused on two
    drives; return the cluster and each key's acknowledged first version."""
    cluster = factory()
    client = s3_client(cluster.url(0), cluster.credentials)
    client.make_bucket(BUCKET)
    if versioned:
        client.set_bucket_versioning(BUCKET, VersioningConfig(ENABLED))
    first = {key: secrets.token_bytes(size) for key in KEYS}
    for key, data in first.items():
        _put(client, key, data)
    # Sent to a server whose own drive refuses: the drives the commit reaches
    # are all remote to it, and a remote undo is a plain delete (a local one
    # restores the previous xl.meta).
    coordinator = s3_client(cluster.url(REFUSING[0]), cluster.credentials)
    for key in KEYS:
        with _commit_refused(cluster, key):
            answer = _answer(lambda key=key: _put(coordinator, key, secrets.token_bytes(size)))
        assert answer in ("SlowDownWrite", "503"), f"an overwrite without a commit quorum answered {answer}"
    return cluster, first


def _stop(cluster: LocalMinioCluster, node: int) -> None:
    cluster.kill(node)
    wait_until(
        lambda: Seen(
            cluster.endpoint(node) in admin_info(cluster.url(0), cluster.credentials).servers_offline, "online"
        ),
        what=f"server {node} seen offline",
        timeout=60,
    )


def _restart(cluster: LocalMinioCluster, node: int) -> None:
    cluster.start_node(node)
    wait_until(
        lambda: observe_rejoined(
            cluster.urls, cluster.credentials, expected_servers=cluster.size, expected_drives=cluster.drive_count
        ),
        what="all servers rejoined",
        timeout=90,
    )


def test_unversioned_bucket_acknowledges_a_delete_and_brings_the_object_back(
    minio_cluster_factory: ClusterFactory,
) -> None:
    cluster, first = _refused_overwrites(minio_cluster_factory, versioned=False, size=SMALL)
    # At once: with a holder down nothing can read v1 at quorum, so MinIO's
    # MRF queue cannot heal it back onto the drives the undo emptied.
    _stop(cluster, DOWN)
    layouts = {key: _layout(cluster, key) for key in KEYS}
    # The refused overwrite took the acknowledged version off the drives it
    # reached. A key MRF healed before the stop (v1 on 3 drives) is no tie.
    tied = [key for key, layout in layouts.items() if layout == (0, 0, 1, 1)]
    healed = [key for key in KEYS if key not in tied]
    assert all(sum(layouts[key]) >= 3 for key in healed), layouts
    if not tied:
        pytest.skip(f"MRF healed every key before the stop, so none could tie: {layouts}")

    client = s3_client(cluster.url(0), cluster.credentials)
    wrong_404 = [key for key in tied if _read(client, key) is None]
    deletes = {key: _answer(lambda key=key: client.remove_object(BUCKET, key)) for key in tied}
    assert wrong_404 == tied, "GET found the acknowledged version with one holder down"
    assert set(deletes.values()) == {"ok"}, deletes
    assert {_layout(cluster, key) for key in tied} == {(0, 0, 1, 1)}, "the acknowledged delete deleted nothing"

    _restart(cluster, DOWN)
    # Resurrected: the deleted keys read back with their first content and are listed.
    wait_until(
        lambda: Seen(all(_read(client, key) == first[key] for key in tied), "not all read back yet"),
        what="the deleted keys reading back (resurrected)",
        timeout=60,
    )
    listed = {o.object_name for o in client.list_objects(BUCKET, prefix="orders/", recursive=True)}
    assert listed >= set(tied)


def test_versioned_bucket_keeps_the_version_and_the_delete(minio_cluster_factory: ClusterFactory) -> None:
    cluster, first = _refused_overwrites(minio_cluster_factory, versioned=True, size=SMALL)
    _stop(cluster, DOWN)
    # The undo removed only the refused version: the acknowledged one is on every drive.
    assert {_layout(cluster, key) for key in KEYS} == {(1, 1, 1, 1)}

    client = s3_client(cluster.url(0), cluster.credentials)
    assert all(_read(client, key) == first[key] for key in KEYS)
    # Every delete wrote a marker (MinIO says so); a marker-less 204 is the
    # look-up class of docs/findings/delete-resurrection.md, not this one.
    markers = {key: client._execute("DELETE", BUCKET, key).headers.get("x-amz-delete-marker") for key in KEYS}
    assert set(markers.values()) == {"true"}, markers

    _restart(cluster, DOWN)

    def all_deleted() -> Seen:
        # A server that has just started may not see every drive for up to
        # 15 s (MinIO's reconnect interval) and read an older version meanwhile.
        found = {
            (node, key)
            for node in range(cluster.size)
            for key in KEYS
            if _read(s3_client(cluster.url(node), cluster.credentials), key) is not None
        }
        return Seen(not found, f"still read: {sorted(found)[:5]}")

    wait_until(all_deleted, what="every delete read on every server", timeout=60, interval=5.0)
    assert not list(client.list_objects(BUCKET, prefix="orders/", recursive=True))
