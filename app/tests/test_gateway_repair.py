"""A DELETE that MinIO refuses after its delete marker reached 2 of 4 drives
(4 servers at EC:2, real MinIO, real gateway): the gateway heals the key once
MinIO has write quorum, so the key reads and lists one way everywhere. With
GATEWAY_REPAIR=off the key is left split: GETs find it, listings do not.

The marker's commit is refused on drives 2 and 3 the way servers dying
mid-write would refuse it: the key's directory there is immutable (chattr +i).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from collections.abc import Callable

import pytest
from gateway_proc import GatewayFactory, RunningGateway
from minio import Minio
from minio.error import S3Error

from kernel.wait import Seen, wait_until
from tests.fixtures.localminio import LocalMinioCluster
from tests.fixtures.minio_local import ClusterFactory

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root (CI runs as root)")

KEYS = [f"orders/{i}" for i in range(4)]
REFUSING = (2, 3)
SETTLE_S = 5.0
"""Seconds the sabotaged gateway gets to (not) settle the keys: a pass runs every second."""


def _refused_deletes(
    cluster: LocalMinioCluster,
    gateway: RunningGateway,
    bucket: str,
    *,
    while_refused: Callable[[], None] = lambda: None,
) -> None:
    """PUT every key, then DELETE each with its marker refused on REFUSING;
    ``while_refused`` runs before the drives take writes again."""
    with gateway.client() as http:
        for key in KEYS:
            assert http.put(f"/objects/{key}", content=secrets.token_bytes(1024)).status_code == 200
        dirs = [str(cluster.root / f"n{n}" / "d0" / bucket / key) for n in REFUSING for key in KEYS]
        subprocess.run(["chattr", "+i", *dirs], check=True, timeout=10)
        try:
            answers = {key: http.delete(f"/objects/{key}").status_code for key in KEYS}
            while_refused()
        finally:
            subprocess.run(["chattr", "-i", *dirs], check=True, timeout=10)
    assert set(answers.values()) == {503}, f"delete markers refused on {REFUSING} answered {answers}"


def _client(cluster: LocalMinioCluster, node: int) -> Minio:
    return Minio(cluster.endpoint(node), access_key=cluster.access_key, secret_key=cluster.secret_key, secure=False)


def _views(cluster: LocalMinioCluster, bucket: str) -> dict[str, set[str]]:
    """Per key, every answer seen: GETs on each server, 5 rounds ('200'/'404'),
    and whether a listing shows it ('listed'/'unlisted')."""
    views: dict[str, set[str]] = {key: set() for key in KEYS}
    for _ in range(5):
        for node in range(cluster.size):
            client = _client(cluster, node)
            for key in KEYS:
                try:
                    client.stat_object(bucket, key)
                    views[key].add("200")
                except S3Error as exc:
                    assert exc.code in ("NoSuchKey", "NoSuchObject"), exc
                    views[key].add("404")
    lister = _client(cluster, 0)
    listed = {o.object_name for o in lister.list_objects(bucket, recursive=True)}
    for key in KEYS:
        views[key].add("listed" if key in listed else "unlisted")
    return views


def _consistent(answers: set[str]) -> bool:
    return answers in ({"200", "listed"}, {"404", "unlisted"})


def _metric(gateway: RunningGateway, pattern: str) -> float:
    with gateway.client() as http:
        text = http.get("/metrics").text
    found = re.search(pattern + r" ([0-9.e+]+)", text)
    return float(found.group(1)) if found else 0.0


def test_refused_deletes_are_healed_to_one_answer(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory(nodes=4)
    bucket = f"rep-{secrets.token_hex(4)}"
    gateway = gateway_factory(cluster, GATEWAY_BUCKET=bucket)

    def still_refused() -> None:
        # MinIO has write quorum, so the gateway heals at once; a heal that
        # cannot write to the refusing drives must not count as done.
        time.sleep(SETTLE_S)
        assert _metric(gateway, 'gateway_repairs_total{outcome="healed"}') == 0
        assert _metric(gateway, "gateway_repairs_pending") == len(KEYS)

    _refused_deletes(cluster, gateway, bucket, while_refused=still_refused)

    wait_until(
        lambda: Seen(_metric(gateway, 'gateway_repairs_total{outcome="healed"}') >= len(KEYS), "not all healed"),
        what="the gateway healing every refused key",
        timeout=30,
    )
    assert _metric(gateway, "gateway_repairs_pending") == 0
    views = _views(cluster, bucket)
    assert all(_consistent(answers) for answers in views.values()), views


def test_without_repair_a_refused_delete_leaves_the_key_split(
    minio_cluster_factory: ClusterFactory, gateway_factory: GatewayFactory
) -> None:
    cluster = minio_cluster_factory(nodes=4)
    bucket = f"norep-{secrets.token_hex(4)}"
    gateway = gateway_factory(cluster, GATEWAY_BUCKET=bucket, GATEWAY_REPAIR="off")
    _refused_deletes(cluster, gateway, bucket)
    time.sleep(SETTLE_S)

    views = _views(cluster, bucket)
    split = [key for key, answers in views.items() if "200" in answers and "unlisted" in answers]
    assert split, f"no key was left split; the sabotaged gateway cannot show the repair matters: {views}"
    assert _metric(gateway, 'gateway_repairs_total{outcome="healed"}') == 0
