"""What kind itself says a node image contains, read from kind's pinned source.

kind's node image builder (pkg/build/nodeimage) and base image
(images/base) define the manifests, image names and node files; the module
proxy serves kind's source, so chaosgate reads them from the module cache at
the pinned kind version instead of copying them into this repository. That
keeps the node image in step with the kind binary that will boot it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deployer import pins
from deployer.images import golang
from kernel.errors import InfraError

KIND_MODULE = "sigs.k8s.io/kind"

NODEIMAGE_SOURCES = ("const.go", "const_cni.go", "const_storage.go", "defaults.go")


@dataclass(frozen=True)
class KindNodeFacts:
    """The parts of kind's node image builder a hand-assembled image must match."""

    source_dir: Path
    cni_manifest: str
    storage_manifest: str
    kindnetd_image: str
    storage_provisioner_image: str
    storage_helper_image: str
    containerd_config: str
    sandbox_image: str

    @property
    def base_files(self) -> Path:
        """kind's images/base/files: systemd units, entrypoint, containerd config."""
        return self.source_dir / "images" / "base" / "files"


def kind_source(toolchain: golang.GoToolchain, version: str = pins.KIND_VERSION) -> Path:
    """kind's module source at ``version`` in the module cache (read-only use)."""
    return Path(golang.download_module(toolchain, KIND_MODULE, version)["Dir"])


def node_facts(source_dir: Path) -> KindNodeFacts:
    constants: dict[str, str] = {}
    for name in NODEIMAGE_SOURCES:
        path = source_dir / "pkg" / "build" / "nodeimage" / name
        constants.update(go_string_constants(path.read_text(), known=constants))
    config = (source_dir / "images" / "base" / "files" / "etc" / "containerd" / "config.toml").read_text()
    try:
        return KindNodeFacts(
            source_dir=source_dir,
            cni_manifest=constants["defaultCNIManifest"],
            storage_manifest=constants["defaultStorageManifest"],
            kindnetd_image=constants["kindnetdImage"],
            storage_provisioner_image=constants["storageProvisionerImage"],
            storage_helper_image=constants["storageHelperImage"],
            containerd_config=config,
            sandbox_image=sandbox_image(config),
        )
    except KeyError as exc:
        raise InfraError(f"kind's source at {source_dir} no longer defines {exc}; update deployer/images") from exc


def sandbox_image(containerd_config: str) -> str:
    """The pause image containerd runs pods with (kind: nodeimage/helpers.go)."""
    match = re.search(r'sandbox_image\s+=\s+"([^"\n]+)"', containerd_config)
    if not match:
        raise InfraError("the containerd config has no sandbox_image")
    return match[1]


def go_string_constants(source: str, known: dict[str, str] | None = None) -> dict[str, str]:
    """String constants of a Go file: ``const x = "a"`` and ``const x = `raw` + y + `raw```.

    Enough Go to read kind's manifest constants; anything else (calls, slices,
    numbers, unknown names) is skipped rather than guessed."""
    values: dict[str, str] = dict(known or {})
    found: dict[str, str] = {}
    for match in re.finditer(r"(?m)^const\s+([A-Za-z_]\w*)(?:\s+string)?\s*=\s*", source):
        value = _string_expr(source, match.end(), values)
        if value is not None:
            values[match[1]] = found[match[1]] = value
    for block in re.finditer(r"(?ms)^const\s*\((.*?)^\)", source):
        for line in re.finditer(r"(?m)^\s*([A-Za-z_]\w*)(?:\s+string)?\s*=\s*", block[1]):
            value = _string_expr(block[1], line.end(), values)
            if value is not None:
                values[line[1]] = found[line[1]] = value
    return found


def _string_expr(source: str, pos: int, values: dict[str, str]) -> str | None:
    """The string ``term + term + ...`` at ``pos``, or None. The loop reads one
    term per pass and ends at the end of the expression: a parser, not a wait."""
    parts: list[str] = []
    while True:
        pos = _skip_blank(source, pos, newlines=False)
        term, pos = _term(source, pos, values)
        if term is None:
            return None
        parts.append(term)
        after = _skip_blank(source, pos, newlines=False)
        if after < len(source) and source[after] == "+":
            pos = _skip_blank(source, after + 1, newlines=True)
            continue
        if after < len(source) and source[after] not in "\n;/)":
            return None
        return "".join(parts)


def _skip_blank(source: str, pos: int, *, newlines: bool) -> int:
    blanks = " \t\r\n" if newlines else " \t\r"
    while pos < len(source) and source[pos] in blanks:
        pos += 1
    return pos


_TERM = re.compile(r'`(?P<raw>[^`]*)`|"(?P<quoted>(?:[^"\\\n]|\\.)*)"|(?P<name>[A-Za-z_]\w*)(?![\w(.\[{])')


def _term(source: str, pos: int, values: dict[str, str]) -> tuple[str | None, int]:
    match = _TERM.match(source, pos)
    if match is None:
        return None, pos
    if match["raw"] is not None:
        value: str | None = match["raw"].replace("\r", "")
    elif match["quoted"] is not None:
        value = _unquote(match["quoted"])
    else:
        value = values.get(match["name"])
    return value, match.end()


def _unquote(body: str) -> str:
    escapes = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "r": "\r"}
    out: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in escapes:
                raise InfraError(f"unsupported escape \\{nxt} in a Go string constant")
            out.append(escapes[nxt])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)
