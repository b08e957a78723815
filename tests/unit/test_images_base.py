"""Pure steps of the kind base image: containerd config, CRI base spec, file modes."""

from __future__ import annotations

import pytest

from deployer.images import base
from kernel.errors import InfraError

# the CRI part of kind v0.30's images/base/files/etc/containerd/config.toml
KIND_CONFIG = """version = 2

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"

[plugins."io.containerd.grpc.v1.cri"]
  # use fixed sandbox image
  sandbox_image = "registry.k8s.io/pause:3.10"
  tolerate_missing_hugepages_controller = true
  # restrict_oom_score_adj needs to be true when running inside UserNS (rootless)
  restrict_oom_score_adj = false
"""


def test_containerd_config_gets_our_pause_and_oom_setting() -> None:
    out = base.patch_containerd_config(KIND_CONFIG, "registry.k8s.io/pause:3.10.1")
    assert '  sandbox_image = "registry.k8s.io/pause:3.10.1"\n' in out
    assert "  restrict_oom_score_adj = true\n" in out
    assert 'pause:3.10"' not in out
    # everything else is kind's text unchanged
    assert out.replace("3.10.1", "3.10").replace("adj = true", "adj = false") == KIND_CONFIG


def test_containerd_config_without_the_keys_is_refused() -> None:
    with pytest.raises(InfraError, match="sandbox_image"):
        base.patch_containerd_config("version = 2\n", "registry.k8s.io/pause:3.10.1")
    with pytest.raises(InfraError, match="restrict_oom_score_adj"):
        base.patch_containerd_config('sandbox_image = "x"\n', "registry.k8s.io/pause:3.10.1")


def test_cri_base_spec_adds_the_hook_and_drops_rlimits() -> None:
    spec = {"ociVersion": "1.2.0", "process": {"rlimits": [{"type": "RLIMIT_NOFILE"}], "cwd": "/"}}
    out = base.cri_base_spec(spec)
    assert out["hooks"] == {"createContainer": [{"path": "/kind/bin/mount-product-files.sh"}]}
    assert out["process"] == {"cwd": "/"}
    # the input is left alone
    assert "rlimits" in spec["process"]


@pytest.mark.parametrize(
    ("relative", "mode"),
    [
        ("usr/local/bin/entrypoint", 0o755),
        ("kind/bin/mount-product-files.sh", 0o755),
        ("kind/README.txt", 0o644),
        ("etc/systemd/system/kubelet.service", 0o644),
    ],
)
def test_file_modes_follow_the_dockerfile(relative: str, mode: int) -> None:
    assert base.file_mode(relative) == mode


def test_base_key_changes_with_inputs() -> None:
    assert base.base_key(["a", "b"]) != base.base_key(["a", "c"])
    assert base.base_key(["a", "b"]) == base.base_key(["a", "b"])


def test_dockerfile_tail_matches_kinds_dockerfile() -> None:
    assert base.dockerfile_tail("localhost/chaosgate/kind-base:x-rootfs") == (
        "FROM localhost/chaosgate/kind-base:x-rootfs\n"
        "ENV container=docker\n"
        "STOPSIGNAL SIGRTMIN+3\n"
        'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\n'
    )
