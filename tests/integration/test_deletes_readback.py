"""chaos.deletes against the real gateway and a real MinIO: a round of
writes, overwrites and deletes through the app, recorded in the ledger, and
the read-back that must call a deleted key that reads back "resurrected"
(here put back on purpose, straight into MinIO, with its first content)."""

from __future__ import annotations

import io
import secrets
import sys
from pathlib import Path

from chaos import deletes, ledger
from chaos.clients import http_pool, s3_client
from deployer.target import AppSpec
from tests.fixtures.localminio import LocalMinioCluster

# The app tests' way of running the real gateway as a subprocess (one place).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app" / "tests"))
from gateway_proc import GatewayFactory, gateway_factory  # noqa: F401 (a fixture)

APP = AppSpec(
    service="gateway",
    port=8080,
    write_method="PUT",
    write_path="/objects/{key}",
    ack_status=(200,),
    digest_header="X-Object-Sha256",
    read_path="/objects/{key}",
    stored_as="{key}",
    delete_path="/objects/{key}",
)


def test_a_round_recorded_and_a_put_back_key_called_resurrected(
    minio_cluster: LocalMinioCluster,
    gateway_factory: GatewayFactory,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    bucket = f"del-{secrets.token_hex(4)}"
    gateway = gateway_factory(minio_cluster, GATEWAY_BUCKET=bucket)
    rnd = deletes.Round(0, [f"deletes/r0/k{i}" for i in range(5)])
    with ledger.LedgerWriter(tmp_path / "ledger" / "deletes.jsonl") as writer:
        client = deletes.AppClient(gateway.url, APP, http_pool(), writer)
        deletes.write_first(client, rnd)
        deletes.overwrite(client, rnd)
        deletes.delete(client, rnd)
    assert len(rnd.first) == 5 and set(rnd.overwrites.values()) == {"acked"}
    assert sorted(rnd.acked_deletes) == sorted(rnd.keys)

    s3 = s3_client(minio_cluster.url(1), minio_cluster.credentials)
    deletes.read_back(s3, bucket, APP.object_name, rnd)
    assert rnd.resurrected == {} and rnd.flapping == [] and rnd.listed == [0] * deletes.LISTINGS

    # Sabotage: a round whose acknowledged deletes never happened reads back as its first writes.
    kept = deletes.Round(2, [f"deletes/r2/k{i}" for i in range(3)])
    with ledger.LedgerWriter(tmp_path / "kept" / "deletes.jsonl") as writer:
        deletes.write_first(deletes.AppClient(gateway.url, APP, http_pool(), writer), kept)
    kept.deletes = dict.fromkeys(kept.first, "acked")
    deletes.read_back(s3, bucket, APP.object_name, kept)
    assert kept.resurrected == dict.fromkeys(kept.keys, "first")

    # Sabotage: one deleted key is back with its first content, one with other bytes.
    first = deletes.payload()
    again = deletes.Round(1, ["deletes/r1/a", "deletes/r1/b"])
    again.first = {"deletes/r1/a": ledger.sha256_hex(first), "deletes/r1/b": ledger.sha256_hex(b"x")}
    again.deletes = {"deletes/r1/a": "acked", "deletes/r1/b": "acked"}
    s3.put_object(bucket, "deletes/r1/a", io.BytesIO(first), len(first))
    s3.put_object(bucket, "deletes/r1/b", io.BytesIO(b"other"), 5)
    deletes.read_back(s3, bucket, APP.object_name, again)
    assert again.resurrected == {"deletes/r1/a": "first", "deletes/r1/b": "other"}
    assert again.listed == [2] * deletes.LISTINGS

    # The ledger holds every operation, so the ordinary ledger check judges the same keys.
    recorded = ledger.load(tmp_path / "ledger")
    assert [w.op for w in recorded].count("delete") == 5 and [w.op for w in recorded].count("put") == 10
