"""Gateway fixtures: the real app as a subprocess against real MinIO clusters
(``minio_cluster`` and ``minio_cluster_factory`` come from the plugin
tests.fixtures.minio_local: these tests run inside chaosgate's test
environment, see app/README.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_proc import RunningGateway, factory, gateway_factory  # noqa: F401 (a fixture)

from tests.fixtures.localminio import LocalMinioCluster

pytest_plugins = ["tests.fixtures.minio_local"]


@pytest.fixture(scope="module")
def gateway(minio_cluster: LocalMinioCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """One gateway on the shared cluster, with a 1 MB object limit to test 413 cheaply."""
    started: list[RunningGateway] = []
    try:
        yield factory(tmp_path_factory.mktemp("gateway"), started)(minio_cluster, GATEWAY_MAX_OBJECT_BYTES="1000000")
    finally:
        for running in started:
            running.stop()


@pytest.fixture(scope="module")
def gateway_defaults(
    minio_cluster: LocalMinioCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    """One gateway on the shared cluster with the default limits (128 MiB
    objects, 8 MiB parts): for the large-object tests."""
    started: list[RunningGateway] = []
    try:
        yield factory(tmp_path_factory.mktemp("gateway-defaults"), started)(minio_cluster)
    finally:
        for running in started:
            running.stop()
