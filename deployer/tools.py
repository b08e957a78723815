"""Find or provide every tool chaosgate runs: kind, kubectl, helm, minio.

Each tool is resolved in this order, and the first that works wins:

1. explicit: a path given by the caller (a CLI flag) or ``CHAOSGATE_<TOOL>``;
2. PATH: a binary whose version is compatible with the pin;
3. cache: a binary this module put in the cache folder earlier;
4. download: the official release, checked against its published sha256;
5. build: from source with the Go toolchain through the Go module proxy.

On a laptop step 2 or 4 is normal; on an air-gapped runner only step 5 works,
and it is the same code path that decides. Builds are cached, so only the
first run pays for them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from deployer import download, paths
from deployer.images import golang
from deployer.pins import PINS, ToolPin
from kernel.errors import BadInputError, InfraError
from kernel.files import locked
from kernel.procs import run
from kernel.progress import phase, say

SOURCES = ("explicit", "path", "cache", "download", "build")
# Resolved once per process: resolution runs subprocesses and may print.
# The key holds what the answer depends on, so a changed PATH or cache is seen.
_RESOLVED: dict[tuple[str, ...], ResolvedTool] = {}


@dataclass(frozen=True)
class ResolvedTool:
    name: str
    path: Path
    version: str
    source: str
    # Seconds spent obtaining it in this call (0 when it was already there).
    seconds: float = 0.0


def env_var(name: str) -> str:
    return f"CHAOSGATE_{name.upper()}"


def read_version(pin: ToolPin, binary: Path) -> str | None:
    """The version ``binary`` reports, or None when it does not run or says nothing we can read."""
    try:
        out = run([binary, *pin.version_args], timeout=30)
    except InfraError:
        return None
    return pin.parse_version(out.stdout + out.stderr)


def cache_path(pin: ToolPin) -> Path:
    return paths.bin_dir() / pin.name / pin.version / pin.name


def resolve(
    name: str,
    explicit: Path | str | None = None,
    *,
    allow_download: bool = True,
    allow_build: bool = True,
) -> ResolvedTool:
    """Resolve one tool; raise BadInputError for a bad explicit path and
    InfraError when no step could provide it."""
    pin = PINS.get(name)
    if pin is None:
        raise BadInputError(f"unknown tool {name!r}; known tools: {', '.join(sorted(PINS))}")
    given = explicit or os.environ.get(env_var(name))
    key = (name, str(given or ""), os.environ.get("PATH", ""), str(paths.cache_dir()))
    cached = _RESOLVED.get(key)
    if cached is not None and cached.path.is_file():
        return replace(cached, seconds=0.0)
    tool = _resolve(pin, given, allow_download=allow_download, allow_build=allow_build)
    _RESOLVED[key] = tool
    return tool


def _resolve(pin: ToolPin, given: Path | str | None, *, allow_download: bool, allow_build: bool) -> ResolvedTool:
    name = pin.name
    if given:
        return _explicit(pin, Path(given).expanduser())

    on_path = shutil.which(name)
    if on_path:
        version = read_version(pin, Path(on_path))
        if version and pin.compatible(version):
            return ResolvedTool(name, Path(on_path), version, "path")
        say(f"{name} on PATH ({on_path}, version {version or 'unknown'}) does not fit pin {pin.version}")

    with _lock(pin):
        cached = _from_cache(pin)
        if cached:
            return cached
        failures: list[str] = []
        if allow_download and pin.download:
            try:
                return _download(pin)
            except InfraError as exc:
                failures.append(f"download: {exc}")
                say(f"{name}: download not possible ({_first_line(exc)}); building from source")
        if allow_build:
            try:
                return _build(pin)
            except InfraError as exc:
                failures.append(f"build: {exc}")
    raise InfraError(
        f"could not provide {name} {pin.version}.\n"
        + "\n".join(failures or ["downloads and builds were turned off"])
        + f"\nFix: put a compatible {name} on PATH, or set {env_var(name)} to its path."
    )


def resolve_all(names: list[str] | None = None) -> list[ResolvedTool]:
    return [resolve(n) for n in (names or list(PINS))]


def _explicit(pin: ToolPin, path: Path) -> ResolvedTool:
    if not path.is_file() or not os.access(path, os.X_OK):
        raise BadInputError(
            f"{pin.name}: {path} (from a flag or {env_var(pin.name)}) is not an executable file; "
            f"point it at a {pin.name} binary or unset it"
        )
    version = read_version(pin, path)
    if version is None:
        raise BadInputError(f"{pin.name}: {path} does not report a version; is it really {pin.name}?")
    if not pin.compatible(version):
        # The user chose it on purpose: warn, do not refuse.
        say(f"warning: {pin.name} {version} at {path} differs from the pinned {pin.version}")
    return ResolvedTool(pin.name, path, version, "explicit")


def _from_cache(pin: ToolPin) -> ResolvedTool | None:
    target = cache_path(pin)
    if not target.is_file():
        return None
    version = read_version(pin, target)
    if version is None or not pin.compatible(version):
        say(f"{pin.name}: cached binary {target} is unusable (version {version}); replacing it")
        target.unlink()
        return None
    return ResolvedTool(pin.name, target, version, "cache")


def _download(pin: ToolPin) -> ResolvedTool:
    assert pin.download is not None
    target = cache_path(pin)
    start = time.monotonic()
    with phase(f"download {pin.name}"):
        download.fetch_verified(pin.download, target)
    return _finish(pin, target, "download", start)


def _build(pin: ToolPin) -> ResolvedTool:
    target = cache_path(pin)
    start = time.monotonic()
    if pin.kubernetes_binary:
        # Deferred import: the Kubernetes build machinery is large and only
        # needed on machines that cannot download kubectl.
        from deployer.k8sbuild import build_kubernetes  # noqa: PLC0415

        built = build_kubernetes([pin.name], pin.version)[pin.name]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)
    else:
        assert pin.build is not None
        _go_install(pin, target)
    return _finish(pin, target, "build", start)


def _go_install(pin: ToolPin, target: Path) -> None:
    assert pin.build is not None
    go = golang.find_go().path
    gobin = target.parent / "gobin"
    env = {**paths.go_env(), "GOBIN": str(gobin)}
    ldflags = " ".join(("-s", "-w", *pin.build.ldflags))
    with phase(f"build {pin.name} {pin.build.version} from source (cold: minutes)"):
        run(
            [go, "install", "-trimpath", f"-ldflags={ldflags}", f"{pin.build.package}@{pin.build.version}"],
            timeout=3600,
            env=env,
        )
    built = gobin / pin.build.package.rsplit("/", 1)[-1]
    built.replace(target)
    gobin.rmdir()


def _finish(pin: ToolPin, target: Path, source: str, start: float) -> ResolvedTool:
    target.chmod(0o755)
    version = read_version(pin, target)
    if version is None or not pin.compatible(version):
        target.unlink(missing_ok=True)
        raise InfraError(f"{pin.name} from {source} reports version {version!r}, expected {pin.version}")
    seconds = round(time.monotonic() - start, 1)
    meta = {"source": source, "version": version, "seconds": seconds, "at": time.time()}
    (target.parent / "meta.json").write_text(json.dumps(meta) + "\n")
    return ResolvedTool(pin.name, target, version, source, seconds)


def _lock(pin: ToolPin) -> AbstractContextManager[None]:
    """Two processes that resolve the same tool at once build it once."""
    return locked(paths.bin_dir() / f".{pin.name}.lock")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def describe(tool: ResolvedTool) -> dict[str, str]:
    """Printable form for ``python -m deployer tools --json``."""
    return {k: str(v) for k, v in asdict(tool).items()}
