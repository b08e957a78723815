"""Toolchain smoke check of the chaos tier.

Until the cluster scenarios exist, `tox -e chaos` proves that what they need
is in place: every tool at its pinned version and a Docker daemon that runs
privileged containers (kind nodes are privileged containers).
"""

import subprocess

import pytest

from deployer import engine, tools
from deployer.pins import PINS

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("name", sorted(PINS))
def test_tool_is_resolved_at_a_compatible_version(name):
    got = tools.resolve(name)
    assert PINS[name].compatible(got.version), f"{name} {got.version} from {got.source}"


def test_kind_binary_runs():
    kind = tools.resolve("kind")
    out = subprocess.run([kind.path, "version"], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.startswith("kind v0.30")


def test_docker_daemon_answers():
    engine.require_docker()
