"""Pure logic of the pinned Go component builds: wrapper go.mod, stamps, pins."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from deployer.images import gobuilds
from kernel.errors import InfraError

ETCD_UPSTREAM: dict[str, Any] = {
    "Module": {"Path": "go.etcd.io/etcd/server/v3"},
    "Go": "1.24",
    "Require": [{"Path": "go.etcd.io/etcd/api/v3", "Version": "v3.6.5"}],
    "Replace": [
        {"Old": {"Path": "go.etcd.io/etcd/api/v3"}, "New": {"Path": "../api"}},
        {"Old": {"Path": "go.etcd.io/etcd/pkg/v3"}, "New": {"Path": "../pkg"}},
        {"Old": {"Path": "go.etcd.io/etcd"}, "New": {"Path": "./FORBIDDEN_DEPENDENCY"}},
        {"Old": {"Path": "go.etcd.io/tests/v3"}, "New": {"Path": "./FORBIDDEN_DEPENDENCY"}},
    ],
    "Exclude": [{"Path": "example.com/broken", "Version": "v1.0.0"}],
}


def test_etcd_wrapper_uses_published_siblings_and_drops_guards() -> None:
    text = gobuilds.wrapper_gomod(gobuilds.ETCD, ETCD_UPSTREAM)
    assert "module chaosgate.invalid/build/etcd\n" in text
    assert "\tgo.etcd.io/etcd/server/v3 v3.6.5\n" in text
    assert "\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.5\n" in text
    assert "\tgo.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v3.6.5\n" in text
    assert "FORBIDDEN" not in text
    assert "\texample.com/broken v1.0.0\n" in text
    assert "tool (\n\tgo.etcd.io/etcd/server/v3\n)" in text


def test_wrapper_refuses_a_go_mod_of_another_module() -> None:
    with pytest.raises(InfraError, match=r"not github\.com/coredns/coredns"):
        gobuilds.wrapper_gomod(gobuilds.COREDNS, ETCD_UPSTREAM)


def test_without_sibling_prefix_every_local_replace_is_dropped() -> None:
    text = gobuilds.wrapper_gomod(dataclasses.replace(gobuilds.ETCD, sibling_prefix=""), ETCD_UPSTREAM)
    assert "replace" not in text


def test_ldflags_fill_the_stamps_and_strip() -> None:
    stamps = gobuilds.Stamps("v3.6.5", "a0614505aff9b8ff469e9c59c2d979a5936d13f4", "2025-09-19T19:32:08Z")
    assert gobuilds.render_ldflags(gobuilds.ETCD, stamps) == ("-X=go.etcd.io/etcd/api/v3/version.GitSHA=a061450 -s -w")
    runc = gobuilds.render_ldflags(gobuilds.RUNC, gobuilds.Stamps("v1.3.0", "", "2025-01-01T00:00:00Z"))
    assert runc == "-X=main.gitCommit= -X=main.version=1.3.0 -s -w"


def test_a_stamp_with_a_space_is_refused() -> None:
    stamps = gobuilds.Stamps("v1 .0", "", "")
    with pytest.raises(InfraError, match="space"):
        gobuilds.render_ldflags(gobuilds.LOCAL_PATH_PROVISIONER, stamps)


def test_stamps_take_the_commit_from_the_proxy_origin_only() -> None:
    info = {"Version": "v3.6.5", "Time": "2025-09-19T19:32:08Z"}
    root_info = {"Version": "v3.6.5", "Origin": {"VCS": "git", "Hash": "a0614505aff9b8ff"}}
    assert gobuilds.stamps_from_info("v3.6.5", info, root_info) == gobuilds.Stamps(
        "v3.6.5", "a0614505aff9b8ff", "2025-09-19T19:32:08Z"
    )
    assert gobuilds.stamps_from_info("v3.6.5", info, None).commit == ""


def test_spec_hash_follows_the_pin() -> None:
    bumped = dataclasses.replace(gobuilds.COREDNS, version="v1.12.2")
    assert bumped.spec_hash() != gobuilds.COREDNS.spec_hash()
    assert gobuilds.COREDNS.spec_hash() == dataclasses.replace(gobuilds.COREDNS).spec_hash()


@pytest.mark.parametrize("component", [*gobuilds.NODE_COMPONENTS, *gobuilds.IMAGE_COMPONENTS], ids=lambda c: c.name)
def test_pins_are_well_formed(component: gobuilds.GoComponent) -> None:
    assert re.fullmatch(r"v\d+\.\d+\.\d+", component.version)
    assert component.binaries
    for package in component.binaries.values():
        assert package == component.module or package.startswith(component.module + "/")
    # every template field must be one render_ldflags knows
    gobuilds.render_ldflags(component, gobuilds.Stamps(component.version, "0" * 40, "2025-01-01T00:00:00Z"))
    assert bool(component.cgo_pkgconfig) == bool(component.debian_dev_packages)
