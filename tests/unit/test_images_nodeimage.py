"""Node image assembly: the scripts run inside the build container, the cache key."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from deployer.images import nodeimage


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("script", [nodeimage.CONTAINERD_READY, nodeimage.CONTAINERD_STOP])
def test_container_scripts_are_valid_bash(script: str, tmp_path: Path) -> None:
    path = tmp_path / "script.sh"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=30)


def test_key_depends_on_every_input_and_its_order() -> None:
    key = nodeimage.node_key("base", "images", "kubeadm")
    assert len(key) == 12
    assert key == nodeimage.node_key("base", "images", "kubeadm")
    assert key != nodeimage.node_key("base", "images", "kubeadm2")
    assert key != nodeimage.node_key("images", "base", "kubeadm")
