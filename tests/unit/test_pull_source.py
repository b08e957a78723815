"""Where the pull path gets its images: upstream, or one mirror under
MIRROR/<registry host>/<path>; bad mirror and node-image values are bad input."""

from __future__ import annotations

import pytest

from chaos.settings import Settings
from deployer import localregistry, pins
from deployer.images import stackpins, upstream
from deployer.images.upstream import PullSource, full_name
from kernel.errors import BadInputError


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("kindest/node:v1.34.0", "docker.io/kindest/node:v1.34.0"),
        ("python:3.11-slim", "docker.io/library/python:3.11-slim"),
        ("docker.io/library/python:3.11", "docker.io/library/python:3.11"),
        ("quay.io/minio/minio:RELEASE.x", "quay.io/minio/minio:RELEASE.x"),
        ("localhost/chaosgate/kind-node:v1", "localhost/chaosgate/kind-node:v1"),
        ("127.0.0.1:5001/a/b:c", "127.0.0.1:5001/a/b:c"),
        ("kindest/node:v1@sha256:" + "a" * 64, "docker.io/kindest/node:v1@sha256:" + "a" * 64),
    ],
)
def test_full_name_adds_the_registry_docker_would_use(ref: str, full: str) -> None:
    assert full_name(ref) == full


def test_without_a_mirror_the_references_are_upstream() -> None:
    source = PullSource()
    assert source.ref(stackpins.UPSTREAM["minio"]) == stackpins.UPSTREAM["minio"]
    assert source.node() == pins.KIND_NODE_IMAGE
    assert source.hosts() == upstream.REGISTRY_HOSTS


def test_a_mirror_serves_each_registry_under_its_host_and_keeps_digests() -> None:
    source = PullSource(mirror="127.0.0.1:5001")
    assert source.ref("quay.io/minio/minio:X") == "127.0.0.1:5001/quay.io/minio/minio:X"
    assert source.ref("python:3.11") == "127.0.0.1:5001/docker.io/library/python:3.11"
    assert source.node() == "127.0.0.1:5001/docker.io/" + pins.KIND_NODE_IMAGE
    assert "@sha256:" in source.node()  # Docker checks what the mirror sends against the pin
    assert source.hosts() == ("127.0.0.1:5001",)
    nested = PullSource(mirror="registry.example.com/proxy", node_image="kindest/node:v1.33.1")
    assert nested.node() == "registry.example.com/proxy/docker.io/kindest/node:v1.33.1"
    assert nested.hosts() == ("registry.example.com",)


@pytest.mark.parametrize(
    "mirror", ["http://127.0.0.1:5001", "127.0.0.1:5001/", "Registry.Example.com", "a b", "h:99999x"]
)
def test_a_mirror_that_is_not_an_address_is_bad_input(mirror: str) -> None:
    with pytest.raises(BadInputError, match=r"--registry-mirror .*HOST\[:PORT\]\[/PATH\] without a scheme"):
        PullSource(mirror=mirror)


@pytest.mark.parametrize("node", ["kindest/node", "kindest/node:v1 x"])
def test_a_node_image_without_tag_or_digest_is_bad_input(node: str) -> None:
    with pytest.raises(BadInputError, match=r"--node-image .*needs a tag or digest"):
        PullSource(node_image=node)


def test_settings_check_the_mirror_before_anything_runs() -> None:
    with pytest.raises(BadInputError, match="--registry-mirror"):
        Settings(registry_mirror="https://mirror.example.com")
    settings = Settings(registry_mirror="127.0.0.1:5001", node_image="kindest/node:v1.34.4")
    assert settings.up_options().pull == PullSource("127.0.0.1:5001", "kindest/node:v1.34.4")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:5001", True),
        ("localhost:5000", True),
        ("127.8.0.1", True),
        ("quay.io", False),
        ("10.0.0.1:5000", False),
    ],
)
def test_plain_http_is_tried_only_on_loopback(host: str, loopback: bool) -> None:
    assert upstream.is_loopback(host) is loopback


@pytest.mark.parametrize("address", ["0.0.0.0:5001", "10.1.2.3:5001", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:x"])
def test_the_local_registry_serves_loopback_only(address: str) -> None:
    with pytest.raises(BadInputError, match=r"must be 127\.0\.0\.1:PORT"):
        localregistry.LocalRegistry(address)


def test_the_node_stand_in_is_named_by_the_version_built_here() -> None:
    assert f"kindest/node:{pins.KUBERNETES_VERSION}" == localregistry.NODE_STAND_IN
    lines = localregistry.describe(
        {"127.0.0.1:5001/docker.io/kindest/node:v1.34.4": "sha256:" + "b" * 64}, "127.0.0.1:5001"
    )
    assert "--node-image kindest/node:v1.34.4@sha256:" + "b" * 64 in lines[-1]
