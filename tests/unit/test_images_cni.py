"""node-routes: the manifest kind templates and the script it runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deployer.images import cni, iptables


def _rendered() -> list[dict[str, object]]:
    # kind replaces this placeholder before applying the manifest
    text = cni.manifest().replace("{{ .PodSubnet }}", "10.244.0.0/16")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_manifest_carries_kinds_markers() -> None:
    text = cni.manifest()
    assert "would you kindly template this file" in text
    assert "would you kindly patch this file" in text
    assert text.count("{{ .PodSubnet }}") == 1


def test_daemonset_runs_the_script_image_with_the_env_kind_patches() -> None:
    docs = _rendered()
    assert [d["kind"] for d in docs] == ["ClusterRole", "ClusterRoleBinding", "ServiceAccount", "DaemonSet"]
    pod = docs[-1]["spec"]["template"]["spec"]  # type: ignore[index]
    container = pod["containers"][0]
    assert container["image"] == cni.image_ref()
    assert container["command"] == [cni.SCRIPT_PATH]
    # kind's patch appends CONTROL_PLANE_ENDPOINT to containers/0/env, which must exist
    assert {e["name"] for e in container["env"]} == {"NODE_NAME", "POD_SUBNET"}
    assert pod["hostNetwork"] is True
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/etc/cni/net.d"}


def test_image_tag_follows_the_script() -> None:
    assert cni.image_ref().startswith("localhost/chaosgate/node-routes:")
    assert len(cni.image_ref().rsplit(":", 1)[1]) == 12


@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh")
def test_script_is_valid_sh(tmp_path: Path) -> None:
    script = tmp_path / "node-routes"
    script.write_text(cni.SCRIPT)
    subprocess.run(["sh", "-n", str(script)], check=True, timeout=30)
    assert cni.CNI_CONFIG in cni.SCRIPT


def test_iptables_wrapper_is_valid_sh_and_covers_every_command(tmp_path: Path) -> None:
    script = tmp_path / "iptables-wrapper"
    script.write_text(iptables.WRAPPER)
    subprocess.run(["sh", "-n", str(script)], check=True, timeout=30)
    links = {e.path: e.symlink_to for e in iptables.entries() if e.symlink_to}
    assert links == {f"/etc/alternatives/{c}": iptables.WRAPPER_PATH for c in iptables.COMMANDS}
