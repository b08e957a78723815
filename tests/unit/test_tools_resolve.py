"""The resolution order of deployer.tools, with small scripts standing in for tools.

These exercise our own decision logic (explicit -> PATH -> cache -> ...); the
real binaries are resolved in tests/integration/test_tools_real.py.
"""

import os
import stat

import pytest

from deployer import tools
from deployer.pins import HELM
from kernel.errors import BadInputError, InfraError


def _fake_helm(path, version):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CHAOSGATE_HELM", raising=False)
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return tmp_path


def test_explicit_env_var_wins(isolated, monkeypatch):
    fake = _fake_helm(isolated / "mine" / "helm", "v3.15.2")
    monkeypatch.setenv("CHAOSGATE_HELM", str(fake))
    got = tools.resolve("helm", allow_download=False, allow_build=False)
    assert (got.source, got.path, got.version) == ("explicit", fake, "v3.15.2")


def test_explicit_path_that_is_not_a_binary_is_bad_input(isolated):
    with pytest.raises(BadInputError, match="not an executable file"):
        tools.resolve("helm", isolated / "nope")


def test_incompatible_tool_on_path_is_passed_over_for_the_cache(isolated, monkeypatch):
    _fake_helm(isolated / "emptybin" / "helm", "v2.17.0")
    cached = _fake_helm(tools.cache_path(HELM), "v3.19.0")
    got = tools.resolve("helm", allow_download=False, allow_build=False)
    assert (got.source, got.path) == ("cache", cached)


def test_compatible_tool_on_path_is_used(isolated):
    on_path = _fake_helm(isolated / "emptybin" / "helm", "v3.18.1")
    got = tools.resolve("helm", allow_download=False, allow_build=False)
    assert (got.source, got.path, got.version) == ("path", on_path, "v3.18.1")


def test_broken_cache_entry_is_removed_and_the_failure_names_the_fix(isolated):
    stale = _fake_helm(tools.cache_path(HELM), "v2.0.0")
    with pytest.raises(InfraError, match="CHAOSGATE_HELM"):
        tools.resolve("helm", allow_download=False, allow_build=False)
    assert not stale.exists()


def test_unknown_tool_is_bad_input():
    with pytest.raises(BadInputError, match="unknown tool"):
        tools.resolve("kubeadm-ng")
