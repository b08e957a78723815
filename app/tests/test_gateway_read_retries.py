"""Reads are tried again while MinIO is briefly unavailable; writes never
(real MinIO behind a proxy that answers chosen requests with 503)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flaky_proxy import FlakyProxy
from gateway_proc import GatewayFactory, RunningGateway
from gateway_tools import metric, samples

from tests.fixtures.localminio import LocalMinioCluster


class Refusals:
    """Refuse the first ``count`` requests of ``method`` whose target contains ``marker``."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str], int] = {}

    def __call__(self, method: str, target: str) -> bool:
        for (m, marker), left in self.rules.items():
            if m == method and marker in target and left > 0:
                self.rules[(m, marker)] = left - 1
                return True
        return False


@pytest.fixture
def proxied(minio_cluster: LocalMinioCluster) -> Iterator[tuple[FlakyProxy, Refusals]]:
    refusals = Refusals()
    host, port = minio_cluster.endpoint(0).split(":")
    proxy = FlakyProxy((host, int(port)), refusals)
    yield proxy, refusals
    proxy.close()


def _start(factory: GatewayFactory, cluster: LocalMinioCluster, proxy: FlakyProxy, **env: str) -> RunningGateway:
    return factory(cluster, MINIO_ENDPOINT=proxy.url, **env)


def _retries(gateway: RunningGateway, operation: str) -> float:
    with gateway.client() as http:
        return metric(samples(http.get("/metrics").text), "gateway_minio_retries_total", operation=operation)


def _count(proxy: FlakyProxy, method: str, marker: str) -> int:
    return sum(1 for m, target in proxy.seen if m == method and marker in target)


def test_get_head_and_list_are_tried_again_until_minio_answers(
    minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory, proxied: tuple[FlakyProxy, Refusals]
) -> None:
    proxy, refusals = proxied
    gateway = _start(gateway_factory, minio_cluster, proxy)
    key = f"retry-{secrets.token_hex(4)}"
    with gateway.client() as http:
        assert http.put(f"/objects/{key}", content=b"stored once").status_code == 200
        refusals.rules = {("GET", f"/{key}"): 2, ("HEAD", f"/{key}"): 2, ("GET", f"prefix={key}"): 2}
        got = http.get(f"/objects/{key}")
        assert (got.status_code, got.content) == (200, b"stored once")
        assert http.head(f"/objects/{key}").status_code == 200
        assert http.get("/objects", params={"prefix": key}).json()["keys"] == [key]
    assert (_retries(gateway, "get"), _retries(gateway, "head"), _retries(gateway, "list")) == (2, 2, 2)


def test_a_write_is_tried_once_whatever_minio_answers(
    minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory, proxied: tuple[FlakyProxy, Refusals]
) -> None:
    proxy, refusals = proxied
    gateway = _start(gateway_factory, minio_cluster, proxy)
    key = f"once-{secrets.token_hex(4)}"
    refusals.rules = {("PUT", f"/{key}"): 1, ("DELETE", f"/{key}"): 1}
    with gateway.client() as http:
        assert http.put(f"/objects/{key}", content=b"x").status_code == 503
        assert http.delete(f"/objects/{key}").status_code == 503
    assert (_count(proxy, "PUT", f"/{key}"), _count(proxy, "DELETE", f"/{key}")) == (1, 1)


def _get_refused(gateway: RunningGateway, refusals: Refusals, times: int) -> tuple[str, int]:
    """Store a key, then GET it with its first ``times`` GETs refused: (key, the client's status)."""
    key = f"refused-{secrets.token_hex(4)}"
    with gateway.client() as http:
        assert http.put(f"/objects/{key}", content=b"x").status_code == 200
        refusals.rules = {("GET", f"/{key}"): times}
        return key, http.get(f"/objects/{key}").status_code


def test_without_retries_one_refusal_is_the_clients_503(
    minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory, proxied: tuple[FlakyProxy, Refusals]
) -> None:
    proxy, refusals = proxied
    gateway = _start(gateway_factory, minio_cluster, proxy, GATEWAY_READ_ATTEMPTS="1")
    assert _get_refused(gateway, refusals, 1)[1] == 503
    assert _retries(gateway, "get") == 0


def test_a_read_still_refused_after_every_attempt_is_503(
    minio_cluster: LocalMinioCluster, gateway_factory: GatewayFactory, proxied: tuple[FlakyProxy, Refusals]
) -> None:
    proxy, refusals = proxied
    key, status = _get_refused(_start(gateway_factory, minio_cluster, proxy), refusals, 10)
    assert status == 503
    assert _count(proxy, "GET", f"/{key}") == 3
