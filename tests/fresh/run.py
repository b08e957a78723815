"""``tox -e fresh``: the README's install line and ``tox``, as written, on a
stock Debian bookworm with no Go and no tox.

The root filesystem comes from debootstrap (deployer/images/rootfs.py, the
same code that builds the node image's root) with only sudo and
ca-certificates added, so a newcomer's account can run the README's sudo
lines. It runs as a Docker container (imported from that tree) as the user
``newcomer``, whose ``git clone`` gets the commit under test (a ``git
bundle`` of HEAD in place of the URL). Needs root (debootstrap), Docker and a link to the Debian
archive, PyPI and the Go module proxy; prints the wall time.

Behind a TLS-inspecting egress (as here) a fresh machine trusts the egress's
CA the way its administrator set it up: this host's extra CAs
(/usr/local/share/ca-certificates) are installed in the container with
update-ca-certificates, and pip (which keeps its own CA list inside
virtualenvs) is pointed at the system store in /etc/pip.conf. Nothing of the
README's lines changes.

``--commands tox`` (default) runs the fast tier. ``tox -e chaos`` then runs
as written too, as far as a machine without Docker gets: its preflight
renders the target with the helm it builds, and it must stop with exit 2
naming the host-setup command (the container has no Docker daemon: one
inside needs a privileged container, and the host's socket would make
kind's bind mounts name paths of the container). The chaos tier's tools
phase follows: kind, kubectl, helm and minio resolved as a run resolves
them, built from source. The images are not built inside. Everything is
cold: no cache of this machine is shared, so the Go toolchain, the Go
modules and the tools built from them are all fetched and made inside.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deployer.images import rootfs
from tests.fresh import readme

ROOT = Path(__file__).resolve().parents[2]
SPEC = rootfs.RootfsSpec(name="fresh-debian", packages=("sudo", "ca-certificates"))
HOME = "/home/newcomer"
RUN_TIMEOUT_S = 3 * 3600.0
"""A cold fast tier builds minio, helm and actionlint from source on 2 cores."""

EXTRA_CAS = Path("/usr/local/share/ca-certificates")

PREPARE = f"""set -eux
if [ -d /fresh/cas ]; then
  cp /fresh/cas/*.crt /usr/local/share/ca-certificates/ && update-ca-certificates
  printf '[global]\\ncert = /etc/ssl/certs/ca-certificates.crt\\n' > /etc/pip.conf
fi
useradd --create-home --shell /bin/bash newcomer
echo 'newcomer ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/newcomer
chown -R newcomer:newcomer {HOME}
if command -v go || command -v tox; then echo "not a fresh machine"; exit 3; fi
"""


CHAOS = "tox -e chaos"
CHAOS_WITHOUT_DOCKER = f"""set +e
{CHAOS} 2>&1 | tee /tmp/chaos.out
code=${{PIPESTATUS[0]}}
set -e
if [ "$code" != 2 ] || ! grep -q 'deployer host-setup' /tmp/chaos.out; then
  echo "fresh: '{CHAOS}' without Docker exited $code, not 2 naming host-setup"; exit 1
fi
.tox/chaos/bin/python -m deployer tools kind kubectl helm minio
"""
"""The chaos tier on a machine without Docker: exit 2 with the fix named,
then its tools phase."""


def newcomer_script(text: str, commands: tuple[str, ...]) -> str:
    """The README's install block and ``commands``; ``tox -e chaos`` last,
    as CHAOS_WITHOUT_DOCKER runs it."""
    script = readme.script(text, "/fresh/source.bundle", tuple(c for c in commands if c != CHAOS))
    return script + CHAOS_WITHOUT_DOCKER if CHAOS in commands else script


def _image() -> str:
    tag = f"chaosgate/fresh-{SPEC.suite}:{SPEC.key()}"
    present = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False, timeout=60)
    if present.returncode != 0:
        tar = rootfs.build_rootfs_tar(SPEC)
        subprocess.run(["docker", "import", str(tar), tag], check=True, timeout=600)
    return tag


def main() -> int:
    parser = argparse.ArgumentParser(prog="tox -e fresh --", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--commands",
        nargs="+",
        default=["tox", CHAOS],
        help=f"which README commands to run (default: tox and {CHAOS!r}, the latter up to its tools phase)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    image = _image()
    with tempfile.TemporaryDirectory(prefix="fresh-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        # A bundle, so the README's `git clone` runs (actionlint wants a repository).
        bundle = ["git", "-C", str(ROOT), "bundle", "create", str(folder / "source.bundle"), "HEAD"]
        subprocess.run(bundle, check=True, timeout=120)
        text = readme.README.read_text()
        (folder / "newcomer.sh").write_text(newcomer_script(text, tuple(args.commands)))
        (folder / "prepare.sh").write_text(PREPARE)
        mounts = ["-v", f"{folder}:/fresh:ro"]
        cas = sorted(EXTRA_CAS.glob("*.crt")) if EXTRA_CAS.is_dir() else []
        if cas:
            (folder / "cas").mkdir()
            for ca in cas:
                (folder / "cas" / ca.name).write_bytes(ca.read_bytes())
        command = "bash /fresh/prepare.sh && su - newcomer -c 'bash /fresh/newcomer.sh'"
        print(f"fresh: {image}, README lines:\n{(folder / 'newcomer.sh').read_text()}", flush=True)
        result = subprocess.run(
            ["docker", "run", "--rm", "--network", "host", *mounts, image, "bash", "-c", command],
            check=False,
            timeout=RUN_TIMEOUT_S,
        )
    took = time.monotonic() - started
    print(f"fresh: exit {result.returncode} after {took / 60:.1f} min ({took:.0f} s)", flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
