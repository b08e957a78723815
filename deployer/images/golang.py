"""The Go toolchain and generated wrapper modules.

Everything chaosgate runs in a cluster is built from pinned module versions
served by the Go module proxy, because no container registry is reachable.
Some upstream modules cannot be built with a plain ``go install mod@version``
(their go.mod replaces sibling modules with local paths, which Go ignores in
dependencies). For those, a small wrapper module is generated in the cache: it
requires the upstream module and turns each local replace into a versioned one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer import gotoolchain, paths, pins
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.files import write_if_changed
from kernel.progress import phase

GO_ENV_VAR = "CHAOSGATE_GO"
"""Path of the ``go`` binary to use when it is not on PATH."""

_FALLBACK_GO = Path("/usr/local/go/bin/go")

DOWNLOAD_TIMEOUT_S = 1800.0
"""Resolving and downloading a large module graph (Kubernetes: ~250 modules)
takes a few minutes on a good link; half an hour leaves room for a slow one."""

BUILD_TIMEOUT_S = 3600.0
"""One cold Kubernetes binary takes tens of minutes on two shared cores."""


@dataclass(frozen=True)
class GoToolchain:
    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return "go{}.{}.{}".format(*self.version)


def find_go() -> GoToolchain:
    """The Go toolchain: ``$CHAOSGATE_GO`` as given; else ``go`` on PATH or
    /usr/local/go when it is new enough for the pins (``pins.GO_MINIMUM``);
    else the pinned toolchain, fetched into the cache through the module proxy.

    Raises ``BadInputError`` naming the fix when ``$CHAOSGATE_GO`` is no Go."""
    explicit = os.environ.get(GO_ENV_VAR)
    if explicit:
        found = _toolchain_at(Path(explicit).expanduser())
        if found is None:
            raise BadInputError(
                f"${GO_ENV_VAR}={explicit} is not an executable go binary; fix: point it at one, "
                f"or unset it and chaosgate fetches Go {pins.GO_TOOLCHAIN} into its cache"
            )
        return found
    on_path = shutil.which("go")
    for candidate in [Path(on_path)] if on_path else []:
        found = _toolchain_at(candidate)
        if found is not None and found.version >= pins.GO_MINIMUM:
            return found
    found = _toolchain_at(_FALLBACK_GO)
    if found is not None and found.version >= pins.GO_MINIMUM:
        return found
    fetched = gotoolchain.ensure()
    pinned = _toolchain_at(fetched)
    if pinned is None:
        raise InfraError(f"the fetched Go toolchain at {fetched} does not run")
    return pinned


def _toolchain_at(candidate: Path) -> GoToolchain | None:
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        return None
    out = procs.run([candidate, "env", "GOVERSION"], timeout=60, env={"GOTOOLCHAIN": "local"})
    return GoToolchain(candidate, parse_go_version(out.stdout.strip()))


def parse_go_version(text: str) -> tuple[int, int, int]:
    """``go1.26.8`` -> (1, 26, 8); ``go1.24`` and ``go1.25rc1`` -> patch 0."""
    match = re.fullmatch(r"go(\d+)\.(\d+)(?:\.(\d+))?\S*", text.strip())
    if not match:
        raise InfraError(f"cannot read the Go version from {text!r}")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def parse_go_directive(text: str) -> tuple[int, int, int]:
    """A go.mod ``go`` directive (``1.24.0``, ``1.22``) as a comparable tuple."""
    return parse_go_version("go" + text)


def require_go_at_least(toolchain: GoToolchain, go_directive: str, what: str) -> None:
    """Fail early when the local toolchain is older than a module's ``go`` line.

    Builds run with GOTOOLCHAIN=local so Go never downloads another toolchain
    behind our back; an old toolchain must therefore be a clear input error."""
    needed = parse_go_directive(go_directive)
    if toolchain.version < needed:
        raise BadInputError(
            f"{what} needs Go {go_directive} or newer but {toolchain.path} is "
            f"{toolchain.version_text}; fix: point {GO_ENV_VAR} at a newer Go, or raise "
            f"deployer.pins.GO_MINIMUM so Go {pins.GO_TOOLCHAIN} is fetched instead of an older one."
        )


def go(
    toolchain: GoToolchain,
    args: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``go`` with chaosgate's module and build caches (see ``paths.go_env``)."""
    full_env = {**paths.go_env(), **(env or {})}
    return procs.run([toolchain.path, *args], timeout=timeout, cwd=cwd, env=full_env, capture=capture)


def read_gomod(toolchain: GoToolchain, gomod: Path) -> dict[str, Any]:
    """A go.mod file as the JSON ``go mod edit -json`` prints."""
    out = go(toolchain, ["mod", "edit", "-json", gomod], timeout=60, cwd=gomod.parent)
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def download_module(toolchain: GoToolchain, module: str, version: str) -> dict[str, Any]:
    """Download one module version into the module cache; returns ``go mod download
    -json`` output (Dir, GoMod, Info, ...)."""
    out = go(
        toolchain,
        ["mod", "download", "-json", f"{module}@{version}"],
        timeout=DOWNLOAD_TIMEOUT_S,
        cwd=paths.cache_dir(),
    )
    data: dict[str, Any] = json.loads(out.stdout)
    if data.get("Error"):
        raise InfraError(f"cannot download {module}@{version}: {data['Error']}")
    return data


def module_time(info_file: Path) -> str:
    """The commit time the module proxy records for a version (RFC 3339, UTC)."""
    info = json.loads(info_file.read_text())
    stamp = str(info.get("Time", ""))
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp):
        raise InfraError(f"{info_file} has no usable Time field: {info!r}")
    return stamp


@dataclass(frozen=True)
class Replace:
    old: str
    new: str
    new_version: str = ""
    old_version: str = ""

    def render(self) -> str:
        old = f"{self.old} {self.old_version}" if self.old_version else self.old
        new = f"{self.new} {self.new_version}" if self.new_version else self.new
        return f"{old} => {new}"


def versioned_replaces(upstream: Mapping[str, Any], local_version: Callable[[str, str], str | None]) -> list[Replace]:
    """Turn an upstream go.mod's replaces into ones that work from outside its repo.

    ``local_version(module, local_path)`` decides each replace that points at a
    local folder: a version turns it into ``module => module <version>`` (the
    sibling module as published), None drops it (for example etcd's guards that
    point at a missing ``./FORBIDDEN_DEPENDENCY``). Replaces that point at other
    modules are kept as they are, so the wrapper resolves the same code the
    upstream build does."""
    result: list[Replace] = []
    for entry in upstream.get("Replace") or []:
        old = entry["Old"]
        new = entry["New"]
        new_path: str = new["Path"]
        if is_local_path(new_path):
            version = local_version(old["Path"], new_path)
            if version:
                result.append(Replace(old["Path"], old["Path"], version, old.get("Version", "")))
        else:
            result.append(Replace(old["Path"], new_path, new.get("Version", ""), old.get("Version", "")))
    return result


def is_local_path(target: str) -> bool:
    """True for a replace target that is a folder rather than a module (go.mod rules)."""
    return target.startswith(("./", "../", "/")) or target in {".", ".."}


def render_wrapper_gomod(
    *,
    module_path: str,
    go_directive: str,
    godebug: Sequence[tuple[str, str]],
    requires: Sequence[tuple[str, str]],
    replaces: Sequence[Replace],
    excludes: Sequence[tuple[str, str]] = (),
    tools: Sequence[str] = (),
    comment: str = "",
) -> str:
    """The text of a wrapper go.mod (before ``go mod tidy`` fills in the rest)."""
    lines: list[str] = []
    if comment:
        lines += [f"// {line}" if line else "//" for line in comment.splitlines()]
        lines.append("")
    lines += [f"module {module_path}", "", f"go {go_directive}", ""]
    for key, value in godebug:
        lines.append(f"godebug {key}={value}")
    if godebug:
        lines.append("")
    lines += _block("require", [f"{path} {version}" for path, version in requires])
    lines += _block("replace", [r.render() for r in replaces])
    lines += _block("exclude", [f"{path} {version}" for path, version in excludes])
    lines += _block("tool", list(tools))
    return "\n".join(lines).rstrip("\n") + "\n"


def _block(keyword: str, entries: Sequence[str]) -> list[str]:
    if not entries:
        return []
    return [f"{keyword} (", *(f"\t{e}" for e in entries), ")", ""]


def godebug_of(upstream: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Upstream ``godebug`` lines: only the main module's count, so a wrapper copies
    them to run the code with the defaults its authors tested."""
    entries = upstream.get("GoDebug") or upstream.get("Godebug") or []
    return [(str(e["Key"]), str(e["Value"])) for e in entries]


def excludes_of(upstream: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(e["Path"]), str(e["Version"])) for e in upstream.get("Exclude") or []]


def prepare_wrapper(toolchain: GoToolchain, module_dir: Path, gomod_text: str, what: str) -> Path:
    """Write a generated wrapper go.mod into ``module_dir`` and resolve it with
    ``go mod tidy`` (which downloads what the build needs); skipped when the
    same text was already resolved there."""
    # go mod tidy rewrites go.mod, so the generated text is kept beside it and
    # only written once tidy succeeded: it marks the module as resolved.
    resolved = module_dir / "go.mod.generated"
    if resolved.is_file() and resolved.read_text() == gomod_text and (module_dir / "go.sum").is_file():
        return module_dir
    resolved.unlink(missing_ok=True)
    write_if_changed(module_dir / "go.mod", gomod_text)
    with phase(f"resolve modules for {what}"):
        go(toolchain, ["mod", "tidy"], cwd=module_dir, timeout=DOWNLOAD_TIMEOUT_S)
    write_if_changed(resolved, gomod_text)
    return module_dir


def binary_reports_version(binary: Path, args: Sequence[str], version: str) -> bool:
    """True when ``binary args...`` runs and prints ``version`` as a word.

    A binary that is missing, broken or reports another version is rebuilt."""
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return False
    try:
        out = procs.run([binary, *args], timeout=60)
    except InfraError:
        return False
    words = re.split(r"[\s,\"'{}:=]+", out.stdout + " " + out.stderr)
    return version in words
