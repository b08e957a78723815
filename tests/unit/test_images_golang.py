"""Pure logic of Go toolchain handling and wrapper go.mod generation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deployer.images import golang
from kernel.errors import BadInputError, InfraError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("go1.26.8", (1, 26, 8)), ("go1.24", (1, 24, 0)), ("go1.25rc1", (1, 25, 0)), ("go1.22.0 X:foo", None)],
)
def test_parse_go_version(text: str, expected: tuple[int, int, int] | None) -> None:
    if expected is None:
        with pytest.raises(InfraError):
            golang.parse_go_version(text)
    else:
        assert golang.parse_go_version(text) == expected


def test_old_toolchain_is_bad_input_that_names_the_needed_version() -> None:
    old = golang.GoToolchain(Path("/opt/go/bin/go"), (1, 23, 4))
    golang.require_go_at_least(old, "1.23.0", "thing")
    with pytest.raises(BadInputError, match=r"thing needs Go 1\.24\.0 or newer but /opt/go/bin/go is go1\.23\.4"):
        golang.require_go_at_least(old, "1.24.0", "thing")


# etcd's server module: siblings replaced with relative folders, plus guards.
ETCD_SERVER: dict[str, Any] = {
    "Module": {"Path": "go.etcd.io/etcd/server/v3"},
    "Go": "1.24",
    "Replace": [
        {"Old": {"Path": "go.etcd.io/etcd/api/v3"}, "New": {"Path": "../api"}},
        {"Old": {"Path": "go.etcd.io/etcd/client/v3"}, "New": {"Path": "../client/v3"}},
        {"Old": {"Path": "go.etcd.io/etcd"}, "New": {"Path": "./FORBIDDEN_DEPENDENCY"}},
    ],
}


def test_local_replaces_become_versioned_or_are_dropped() -> None:
    def version(module: str, local: str) -> str | None:
        return "v3.6.5" if local.startswith("../") else None

    replaces = golang.versioned_replaces(ETCD_SERVER, version)
    assert [r.render() for r in replaces] == [
        "go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.5",
        "go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v3.6.5",
    ]


@pytest.mark.parametrize(
    ("target", "local"),
    [("./x", True), ("../x", True), ("/abs", True), (".", True), ("example.com/x", False)],
)
def test_is_local_path(target: str, local: bool) -> None:
    assert golang.is_local_path(target) is local


def test_render_wrapper_gomod_layout() -> None:
    text = golang.render_wrapper_gomod(
        module_path="chaosgate.invalid/x",
        go_directive="1.24",
        godebug=[("default", "go1.24")],
        requires=[("go.etcd.io/etcd/server/v3", "v3.6.5")],
        replaces=[golang.Replace("a.example/m", "a.example/m", "v1.0.0")],
        excludes=[("b.example/m", "v0.1.0")],
        tools=["go.etcd.io/etcd/server/v3"],
        comment="line one\nline two",
    )
    assert text == (
        "// line one\n// line two\n\nmodule chaosgate.invalid/x\n\ngo 1.24\n\ngodebug default=go1.24\n\n"
        "require (\n\tgo.etcd.io/etcd/server/v3 v3.6.5\n)\n\n"
        "replace (\n\ta.example/m => a.example/m v1.0.0\n)\n\n"
        "exclude (\n\tb.example/m v0.1.0\n)\n\n"
        "tool (\n\tgo.etcd.io/etcd/server/v3\n)\n"
    )


def test_godebug_accepts_both_json_spellings() -> None:
    assert golang.godebug_of({"GoDebug": [{"Key": "default", "Value": "go1.24"}]}) == [("default", "go1.24")]
    assert golang.godebug_of({"Godebug": [{"Key": "x509sha1", "Value": "1"}]}) == [("x509sha1", "1")]
    assert golang.godebug_of({}) == []


def test_module_time_reads_the_proxy_info(tmp_path: Path) -> None:
    info = tmp_path / "v1.34.4.info"
    info.write_text('{"Version":"v1.34.4","Time":"2026-02-10T12:53:36Z"}')
    assert golang.module_time(info) == "2026-02-10T12:53:36Z"
    info.write_text('{"Version":"v1.34.4"}')
    with pytest.raises(InfraError, match="no usable Time"):
        golang.module_time(info)


def test_binary_reports_version_matches_whole_words(tmp_path: Path) -> None:
    binary = tmp_path / "tool"
    binary.write_text("#!/bin/sh\necho 'Kubernetes v1.34.40'\n")
    binary.chmod(0o755)
    assert golang.binary_reports_version(binary, ["--version"], "v1.34.40")
    assert not golang.binary_reports_version(binary, ["--version"], "v1.34.4")
    assert not golang.binary_reports_version(tmp_path / "missing", ["--version"], "v1.34.4")
