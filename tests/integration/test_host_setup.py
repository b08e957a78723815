"""Proof that this host runs privileged containers, which kind nodes are.

The image is built on the spot from the host's own binaries (``docker import``
of a tarball), so no registry is involved. Skipped only when no Docker daemon
answers and CHAOSGATE_REQUIRE_DOCKER is not "1"; CI sets it, so there a
missing daemon is a failure.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployer import engine, hostsetup
from kernel import procs
from kernel.errors import InfraError

pytestmark = pytest.mark.docker

REQUIRED = os.environ.get("CHAOSGATE_REQUIRE_DOCKER") == "1"
BINARIES = ("sh", "cat", "mount", "ls", "sleep")
CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_MKNOD = 12, 19, 21, 27

# Prints the capability lines, whether a tmpfs mount works, and how many
# device nodes the container sees (a privileged one sees the host's /dev).
PROBE = (
    "while read k v; do case $k in Cap*) echo $k $v;; esac; done </proc/self/status; "
    "mount -t tmpfs none /mnt/t && echo MOUNT=ok || echo MOUNT=failed; "
    "n=0; for f in /dev/*; do n=$((n+1)); done; echo DEVICES=$n"
)


def _unusable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CHAOSGATE_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def prepared_host() -> None:
    """A host with an answering daemon; as root, also prepared by host_setup()
    (the first call may change things; the idempotency test makes the second)."""
    status = engine.docker_status()
    if not status.ok:
        _unusable(engine.problem_message(status))
    if os.geteuid() == 0:
        hostsetup.host_setup()


def _copy_with_libraries(binary: str, root: Path) -> None:
    path = shutil.which(binary)
    assert path, f"{binary} not found on the host"
    files = [path]
    try:
        ldd = procs.run(["ldd", path], timeout=30).stdout
    except InfraError:  # a static binary: nothing to add
        ldd = ""
    files += [tok for line in ldd.splitlines() for tok in line.split() if tok.startswith("/")]
    for f in files:
        target = root / ("bin/" + binary if f == path else f.lstrip("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(f), target)


@pytest.fixture(scope="module")
def local_image(prepared_host: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tiny image from the host's sh, cat, mount, ls, sleep and their libraries."""
    work = tmp_path_factory.mktemp("image")
    root = work / "root"
    for d in ("proc", "sys", "dev", "mnt/t", "tmp"):
        (root / d).mkdir(parents=True)
    for binary in BINARIES:
        _copy_with_libraries(binary, root)
    tarball = work / "rootfs.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(root, arcname=".")
    tag = f"chaosgate-hostsetup-proof:{uuid.uuid4().hex[:12]}"
    procs.run(["docker", "import", tarball, tag], timeout=120)
    yield tag
    procs.run(["docker", "rmi", "--force", tag], timeout=120)


def _parse(output: str) -> dict[str, str]:
    pairs = (line.replace(":", "=", 1).replace("= ", "=").split("=", 1) for line in output.splitlines())
    return {k.strip(): v.strip() for k, v in (p for p in pairs if len(p) == 2)}


def _has(mask: int, bit: int) -> bool:
    return bool(mask >> bit & 1)


def test_privileged_container_gets_every_capability_the_host_has(local_image: str) -> None:
    out = procs.run(["docker", "run", "--rm", "--privileged", local_image, "/bin/sh", "-c", PROBE], timeout=120)
    seen = _parse(out.stdout)
    eff, bnd = int(seen["CapEff"], 16), int(seen["CapBnd"], 16)
    host_bnd = hostsetup.parse_cap_mask(Path("/proc/self/status").read_text())
    for bit in (CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_MKNOD):
        assert _has(eff, bit), f"{hostsetup.cap_name(bit)} missing from CapEff {seen['CapEff']}"
    assert eff == bnd == int(seen["CapPrm"], 16), seen
    assert eff & ~host_bnd == 0, "a container cannot hold what the host's bounding set lacks"
    assert seen["MOUNT"] == "ok", out.stdout

    plain = _parse(procs.run(["docker", "run", "--rm", local_image, "/bin/sh", "-c", PROBE], timeout=120).stdout)
    assert not _has(int(plain["CapEff"], 16), CAP_SYS_ADMIN), "the probe must tell the two apart"
    assert plain["MOUNT"] == "failed"
    assert int(seen["DEVICES"]) > int(plain["DEVICES"]), (seen["DEVICES"], plain["DEVICES"])


def test_privileged_exec_into_a_privileged_container(local_image: str) -> None:
    name = f"chaosgate-proof-{uuid.uuid4().hex[:8]}"
    procs.run(["docker", "run", "-d", "--privileged", "--name", name, local_image, "/bin/sleep", "300"], timeout=120)
    try:
        out = procs.run(["docker", "exec", "--privileged", name, "/bin/sh", "-c", PROBE], timeout=60)
    finally:
        procs.run(["docker", "rm", "--force", name], timeout=120)
    seen = _parse(out.stdout)
    assert _has(int(seen["CapEff"], 16), CAP_SYS_ADMIN), seen
    assert seen["MOUNT"] == "ok"


def test_host_setup_is_idempotent(prepared_host: None) -> None:
    if os.geteuid() != 0:
        _unusable("host_setup() changes the host and needs root")
    assert hostsetup.host_setup() == []
    assert hostsetup.host_setup(dry_run=True) == []
    status = engine.docker_status()
    assert status.ok, status
    if hostsetup.host_missing_caps():
        assert status.default_runtime == hostsetup.RUNTIME_NAME, status
