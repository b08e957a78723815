"""The pull path through a real registry: distribution's ``registry``, built
from the Go module proxy, on loopback. An image pushed under
MIRROR/<registry host>/<path> is pulled by its upstream reference with a
digest pin; a digest the mirror does not hold is refused; ``auto`` asks only
the mirror, and a mirror that does not answer means build.
Skipped when no Docker daemon answers, unless CHAOSGATE_REQUIRE_DOCKER=1
(the first run builds the registry: about 75 s on two cores).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from deployer import engine, target, targetimages
from deployer.images import layered, upstream
from deployer.images.upstream import PullSource
from deployer.localregistry import LocalRegistry
from deployer.target import ImageSource, Target
from kernel import procs
from kernel.errors import BadInputError, InfraError

pytestmark = [pytest.mark.docker]

REQUIRED = os.environ.get("CHAOSGATE_REQUIRE_DOCKER") == "1"


def docker(*args: str) -> str:
    return procs.run(["docker", *args], timeout=120).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalRegistry]:
    status = engine.docker_status()
    if not status.ok:
        if REQUIRED:
            pytest.fail(f"CHAOSGATE_REQUIRE_DOCKER=1 but {engine.problem_message(status)}")
        pytest.skip(engine.problem_message(status))
    local = LocalRegistry(f"127.0.0.1:{free_port()}")
    local.up()
    try:
        yield local
    finally:
        local.down()
        shutil.rmtree(local.root, ignore_errors=True)


@pytest.fixture
def pushed(registry: LocalRegistry, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A one-file image pushed as MIRROR/quay.io/chaosgate-test/tiny:<tag>, then
    removed from Docker's store; yields (upstream reference, digest)."""
    archive = tmp_path / "tiny.tar"
    with tarfile.open(archive, "w") as tar:
        body = uuid.uuid4().hex.encode()  # content differs per test: a digest of its own
        info = tarfile.TarInfo("hello.txt")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    upstream_ref = f"quay.io/chaosgate-test/tiny:{uuid.uuid4().hex[:8]}"
    mirrored = PullSource(mirror=registry.address).ref(upstream_ref)
    docker("import", str(archive), mirrored)
    try:
        docker("push", mirrored)
        digest = registry.digest(mirrored)
        docker("rmi", mirrored)
        yield upstream_ref, digest
    finally:
        procs.run(["docker", "rmi", "-f", mirrored], timeout=60) if layered.image_id(mirrored) else None


def test_an_upstream_reference_is_pulled_from_the_mirror_by_its_digest(
    registry: LocalRegistry, pushed: tuple[str, str]
) -> None:
    upstream_ref, digest = pushed
    source = PullSource(mirror=registry.address)
    assert source.reachable()  # what `--images auto` asks: only the mirror
    got = upstream.pull({"tiny": f"{upstream_ref}@{digest}"}, source)
    assert got == {"tiny": f"{registry.address}/{upstream_ref}@{digest}"}
    assert layered.image_id(got["tiny"]) is not None
    docker("rmi", got["tiny"])


def test_a_digest_the_mirror_does_not_hold_is_refused(registry: LocalRegistry, pushed: tuple[str, str]) -> None:
    upstream_ref, digest = pushed
    wrong = "sha256:" + ("0" if digest[-1] != "0" else "1") * 64
    with pytest.raises(InfraError, match=rf"could not pull .* from mirror {registry.address}"):
        upstream.pull({"tiny": f"{upstream_ref}@{wrong}"}, PullSource(mirror=registry.address))


def test_a_mirror_that_does_not_answer_means_build(registry: LocalRegistry) -> None:
    assert not PullSource(mirror=f"127.0.0.1:{free_port()}").reachable()


def _target_pulling(ref: str) -> Target:
    reference = target.load(target.REFERENCE)
    assert reference.deploy is not None
    images = (ImageSource("app", ref=ref, pull=True),)
    return replace(reference, deploy=replace(reference.deploy, images=images))


def test_the_image_a_team_ships_is_pulled_by_its_reference(registry: LocalRegistry, pushed: tuple[str, str]) -> None:
    upstream_ref, digest = pushed
    got = targetimages.resolve(_target_pulling(f"{upstream_ref}@{digest}"), {}, PullSource(mirror=registry.address))
    assert got == {"app": f"{registry.address}/{upstream_ref}@{digest}"}
    assert layered.image_id(got["app"]) is not None
    docker("rmi", got["app"])


def test_an_image_that_cannot_be_pulled_is_bad_input_naming_it_and_the_way_round(registry: LocalRegistry) -> None:
    ref = f"127.0.0.1:{free_port()}/team/app:1.0"
    with pytest.raises(BadInputError) as caught:
        targetimages.resolve(_target_pulling(ref), {})
    message = str(caught.value)
    assert f"deploy.images.app.pull: {ref} could not be pulled" in message
    assert "docker load -i FILE" in message and "present: NAME:TAG" in message
