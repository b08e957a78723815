"""The pinned Go toolchain fetched through a module proxy: GOPROXY's syntax,
the checksum gate, unpacking, and find_go's choice between the machine's Go
and the fetched one. The proxy here is a folder (GOPROXY accepts file URLs)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from deployer import gotoolchain, pins
from deployer.images import golang
from kernel.errors import BadInputError, InfraError

VERSION = "go1.26.8"
FAKE_GO = "#!/bin/sh\necho go1.26.8\n"


def _proxy(tmp_path: Path, go_script: str = FAKE_GO) -> tuple[Path, str]:
    """A file proxy serving a toolchain zip whose go prints its version; its sha256."""
    pin = gotoolchain.ToolchainPin(VERSION, "")
    zip_file = Path(pin.zip_path(str(tmp_path / "proxy")))
    zip_file.parent.mkdir(parents=True)
    prefix = f"golang.org/toolchain@{pin.module_version}"
    with zipfile.ZipFile(zip_file, "w") as archive:
        archive.writestr(f"{prefix}/bin/go", go_script)
        archive.writestr(f"{prefix}/pkg/tool/linux_amd64/compile", "#!/bin/sh\n")
        archive.writestr(f"{prefix}/VERSION", f"{VERSION}\n")
    return tmp_path / "proxy", hashlib.sha256(zip_file.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ["https://proxy.golang.org"]),
        ("https://a.example,https://b.example|direct", ["https://a.example", "https://b.example"]),
        ("https://a.example,off,https://b.example", ["https://a.example"]),
    ],
)
def test_goproxy_is_read_as_go_reads_it(value: str, expected: list[str]) -> None:
    assert gotoolchain.proxies(value) == expected


@pytest.mark.parametrize("value", ["off", "direct"])
def test_goproxy_without_a_proxy_is_bad_input_naming_the_fix(value: str) -> None:
    with pytest.raises(BadInputError, match="fix: set GOPROXY"):
        gotoolchain.proxies(value)


def test_the_pinned_zip_path_is_the_module_proxy_protocol() -> None:
    assert gotoolchain.PINNED.zip_path("https://proxy.golang.org/") == (
        f"https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-{pins.GO_TOOLCHAIN}.linux-amd64.zip"
    )


def test_fetch_verifies_and_unpacks_an_executable_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, sha = _proxy(tmp_path)
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOPROXY", f"file://{proxy}")
    go = gotoolchain.ensure(gotoolchain.ToolchainPin(VERSION, sha))
    assert go == tmp_path / "cache" / "go-toolchain" / VERSION / "bin" / "go"
    assert (go.parent.parent / "VERSION").read_text() == f"{VERSION}\n"
    assert go.stat().st_mode & 0o111
    assert (go.parent.parent / "pkg" / "tool" / "linux_amd64" / "compile").stat().st_mode & 0o111


def test_a_zip_that_differs_from_the_pin_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, _ = _proxy(tmp_path)
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOPROXY", f"file://{proxy}")
    with pytest.raises(InfraError, match="checksum mismatch"):
        gotoolchain.ensure(gotoolchain.ToolchainPin(VERSION, "0" * 64))
    assert not gotoolchain.toolchain_dir(gotoolchain.ToolchainPin(VERSION, "")).exists()


def test_find_go_passes_over_an_old_go_for_the_fetched_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_bin = tmp_path / "oldgo"
    old_bin.mkdir()
    (old_bin / "go").write_text("#!/bin/sh\necho go1.19.8\n")  # Debian 12's golang-go
    (old_bin / "go").chmod(0o755)
    proxy, sha = _proxy(tmp_path)
    monkeypatch.setenv("PATH", f"{old_bin}:/usr/bin:/bin")
    monkeypatch.delenv(golang.GO_ENV_VAR, raising=False)
    monkeypatch.setattr(golang, "_FALLBACK_GO", tmp_path / "absent")
    monkeypatch.setattr(gotoolchain, "PINNED", gotoolchain.ToolchainPin(VERSION, sha))
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOPROXY", f"file://{proxy}")
    found = golang.find_go()
    assert found.path == gotoolchain.toolchain_dir() / "bin" / "go"
    assert found.version == (1, 26, 8)


def test_find_go_keeps_a_new_enough_go_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    new_bin = tmp_path / "newgo"
    new_bin.mkdir()
    (new_bin / "go").write_text("#!/bin/sh\necho go1.25.3\n")
    (new_bin / "go").chmod(0o755)
    monkeypatch.setenv("PATH", f"{new_bin}:/usr/bin:/bin")
    monkeypatch.delenv(golang.GO_ENV_VAR, raising=False)
    monkeypatch.setenv("GOPROXY", "off")  # fetching would be bad input: it must not be tried
    assert golang.find_go().path == new_bin / "go"
