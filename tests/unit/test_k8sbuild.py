"""Pure logic of the Kubernetes build: versions, stamps, the wrapper go.mod, reuse."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deployer import k8sbuild, pins
from deployer.images import golang
from kernel.errors import BadInputError, InfraError

# The shape `go mod edit -json` prints for k8s.io/kubernetes' go.mod, cut down.
UPSTREAM: dict[str, Any] = {
    "Module": {"Path": "k8s.io/kubernetes"},
    "Go": "1.24.0",
    "GoDebug": [{"Key": "default", "Value": "go1.24"}],
    "Require": [
        {"Path": "github.com/spf13/cobra", "Version": "v1.9.1"},
        {"Path": "k8s.io/api", "Version": "v0.0.0"},
    ],
    "Exclude": None,
    "Replace": [
        {"Old": {"Path": "k8s.io/api"}, "New": {"Path": "./staging/src/k8s.io/api"}},
        {"Old": {"Path": "k8s.io/client-go"}, "New": {"Path": "./staging/src/k8s.io/client-go"}},
        {
            "Old": {"Path": "github.com/example/forked", "Version": "v1.0.0"},
            "New": {"Path": "github.com/example/fork", "Version": "v1.0.1"},
        },
    ],
}


def test_version_parse_and_staging_version() -> None:
    v = k8sbuild.KubeVersion.parse("v1.34.4")
    assert (v.major, v.minor, v.patch) == (1, 34, 4)
    assert v.git_version == "v1.34.4"
    assert v.staging_version == "v0.34.4"


@pytest.mark.parametrize("bad", ["1.34.4", "v1.34", "v1.35.0-rc.1", "latest", ""])
def test_version_parse_rejects_non_release(bad: str) -> None:
    with pytest.raises(BadInputError, match="release version"):
        k8sbuild.KubeVersion.parse(bad)


def test_pin_is_a_release_version() -> None:
    assert k8sbuild.KubeVersion.parse(pins.KUBERNETES_VERSION).git_version == pins.KUBERNETES_VERSION


def test_ldflags_stamp_both_version_packages() -> None:
    flags = k8sbuild.version_ldflags(k8sbuild.KubeVersion.parse("v1.34.4"), "2026-02-10T12:53:36Z")
    for package in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        assert f"-X={package}.gitVersion=v1.34.4" in flags
        assert f"-X={package}.gitMajor=1" in flags
        assert f"-X={package}.gitMinor=34" in flags
        assert f"-X={package}.gitTreeState=clean" in flags
        assert f"-X={package}.buildDate=2026-02-10T12:53:36Z" in flags
        assert f"-X={package}.gitCommit=" in flags
    assert len(flags) == 12
    # go build splits -ldflags on spaces: no value may contain one
    assert all(" " not in f for f in flags)


def test_wrapper_gomod_replaces_staging_with_published_versions() -> None:
    text = k8sbuild.wrapper_gomod(UPSTREAM, k8sbuild.KubeVersion.parse("v1.34.4"))
    assert "module chaosgate.invalid/k8sbuild\n" in text
    assert "\ngo 1.24.0\n" in text
    assert "\ngodebug default=go1.24\n" in text
    assert "\tk8s.io/kubernetes v1.34.4\n" in text
    assert "\tk8s.io/api => k8s.io/api v0.34.4\n" in text
    assert "\tk8s.io/client-go => k8s.io/client-go v0.34.4\n" in text
    assert "\tgithub.com/example/forked v1.0.0 => github.com/example/fork v1.0.1\n" in text
    assert "./staging" not in text
    for name in k8sbuild.COMMANDS:
        assert f"\tk8s.io/kubernetes/cmd/{name}\n" in text


def test_wrapper_gomod_rejects_other_modules_and_unknown_local_replaces() -> None:
    version = k8sbuild.KubeVersion.parse("v1.34.4")
    with pytest.raises(InfraError, match=r"not k8s\.io/kubernetes"):
        k8sbuild.wrapper_gomod({**UPSTREAM, "Module": {"Path": "example.com/x"}}, version)
    odd = {**UPSTREAM, "Replace": [{"Old": {"Path": "k8s.io/api"}, "New": {"Path": "./third_party/api"}}]}
    with pytest.raises(InfraError, match="not served"):
        k8sbuild.wrapper_gomod(odd, version)


@pytest.mark.skipif(shutil.which("go") is None and not Path("/usr/local/go/bin/go").exists(), reason="no Go")
def test_wrapper_gomod_is_valid_go_mod_syntax(tmp_path: Path) -> None:
    gomod = tmp_path / "go.mod"
    gomod.write_text(k8sbuild.wrapper_gomod(UPSTREAM, k8sbuild.KubeVersion.parse("v1.34.4")))
    go = shutil.which("go") or "/usr/local/go/bin/go"
    out = subprocess.run(
        [go, "mod", "edit", "-json", str(gomod)], check=True, capture_output=True, text=True, timeout=60
    )
    parsed = json.loads(out.stdout)
    assert parsed["Module"]["Path"] == k8sbuild.WRAPPER_MODULE
    assert {r["Old"]["Path"]: r["New"].get("Version") for r in parsed["Replace"]}["k8s.io/api"] == "v0.34.4"
    assert len(parsed["Tool"]) == len(k8sbuild.COMMANDS)


def test_check_names_rejects_unknown_binaries() -> None:
    k8sbuild.check_names(["kubectl", "kube-proxy"])
    with pytest.raises(BadInputError, match="kubectx"):
        k8sbuild.check_names(["kubectl", "kubectx"])


def _fake_binary(path: Path, output: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(0o755)


def test_present_binaries_with_the_right_version_are_reused_without_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path))
    # a Go toolchain that does not exist: any attempt to build would fail loudly
    monkeypatch.setenv(golang.GO_ENV_VAR, str(tmp_path / "no-go"))
    bin_dir = tmp_path / "k8s" / "v1.34.4" / "bin"
    _fake_binary(bin_dir / "kubectl", "Client Version: v1.34.4")
    _fake_binary(bin_dir / "kubelet", "Kubernetes v1.34.4")
    got = k8sbuild.build_kubernetes(["kubectl", "kubelet"], "v1.34.4")
    assert got == {"kubectl": bin_dir / "kubectl", "kubelet": bin_dir / "kubelet"}


def test_a_binary_reporting_another_version_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path))
    monkeypatch.setenv(golang.GO_ENV_VAR, str(tmp_path / "no-go"))
    _fake_binary(tmp_path / "k8s" / "v1.34.4" / "bin" / "kubectl", "Client Version: v1.34.3")
    with pytest.raises(BadInputError, match="is not an executable go binary"):
        k8sbuild.build_kubernetes(["kubectl"], "v1.34.4")


def test_missing_go_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path))
    monkeypatch.setenv(golang.GO_ENV_VAR, str(tmp_path / "no-go"))
    with pytest.raises(BadInputError) as info:
        k8sbuild.build_kubernetes(["kubeadm"])
    message = str(info.value)
    assert golang.GO_ENV_VAR in message
    assert "fetches Go" in message
