"""The gateway image from app/Dockerfile, and a local Python base for it.

app/Dockerfile installs the app with ``pip install --index-url $PIP_INDEX_URL .``.
The wheels it needs are downloaded on the host first (PyPI answers the host,
not necessarily a build container), pinned by ``GATEWAY_LOCK``, laid out as
a PEP 503 simple index and served on 127.0.0.1 only while the build runs.
The build shares the host's network namespace to reach that loopback index;
pip is given no other index, so the build fetches nothing from outside.

Where no registry answers, the base is ``stackpins.PYTHON_BASE_REF``: a
debootstrap Debian with its python3 and a virtual environment
at /opt/python first on PATH, so ``python -m pip install`` works as in the
official image (Debian's own Python refuses pip installs, PEP 668).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deployer import paths
from deployer.images import archive, layered, rootfs, stackpins
from kernel import procs
from kernel.errors import BadInputError, InfraError
from kernel.files import locked
from kernel.progress import phase, say

GATEWAY_LOCK: tuple[str, ...] = (
    "annotated-doc==0.0.7",
    "annotated-types==0.8.0",
    "anyio==4.16.0",
    "argon2-cffi==25.1.0",
    "argon2-cffi-bindings==26.2.0",
    "certifi==2026.10.19.post1",
    "cffi==2.1.1",
    "click==8.5.1",
    "fastapi==0.165.0",
    "h11==0.16.0",
    "idna==3.20",
    "minio==7.2.20",
    "opentelemetry-api==1.45.2",
    "prometheus-client==0.26.0",
    "pycparser==3.12",
    "pycryptodome==4.4.0",
    "pydantic==2.14.4",
    "pydantic-core==2.50.5",
    "setuptools==84.2.1",
    "starlette==1.10.0",
    "typing-extensions==4.16.0",
    "typing-inspection==0.4.5",
    "urllib3==2.8.0",
    "uvicorn==0.54.0",
)
"""Every wheel in the gateway image (app/pyproject.toml's dependencies and build
requirement, resolved), at the versions the app's tests run with. A dependency
the app adds later is downloaded unpinned, with a warning naming it."""

TARGET_PYTHON = stackpins.PYTHON_VERSION
TARGET_GLIBC_MINOR = 36
"""Debian bookworm: CPython 3.11, glibc 2.36, x86_64 (as python:3.11-slim-bookworm)."""

PIP_TIMEOUT_S = 900.0
"""Resolving and downloading ~10 MB of wheels; generous for slow links."""

BUILD_TIMEOUT_S = 1800.0

PYTHON_ROOTFS = rootfs.RootfsSpec(name="python-base", packages=("python3", "python3-venv", "ca-certificates"))
VENV = "/opt/python"
RECIPE_VERSION = "1"
"""Bump when the build steps below change, so cached images are rebuilt."""


def normalize(name: str) -> str:
    """PEP 503 project name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name_version(filename: str) -> tuple[str, str]:
    """``pydantic_core-2.50.5-cp311-...whl`` -> (``pydantic-core``, ``2.50.5``)."""
    parts = filename.removesuffix(".whl").split("-")
    if not filename.endswith(".whl") or len(parts) < 5:
        raise InfraError(f"{filename} is not a wheel file name")
    return normalize(parts[0]), parts[1]


def unpinned(wheels: Sequence[str], lock: Sequence[str]) -> list[str]:
    """Wheels whose name==version the lock does not list."""
    locked = {normalize(n) + "==" + v for n, _, v in (line.partition("==") for line in lock)}
    found = ["{}=={}".format(*wheel_name_version(w)) for w in wheels]
    return sorted(item for item in found if item not in locked)


def app_requirements(pyproject_text: str) -> list[str]:
    """What pip needs to install the app: its dependencies and its build backend."""
    data: dict[str, Any] = tomllib.loads(pyproject_text)
    deps = list(data.get("project", {}).get("dependencies", []))
    build = list(data.get("build-system", {}).get("requires", []))
    return [str(r) for r in [*deps, *build]]


def app_version(pyproject_text: str) -> str:
    return str(tomllib.loads(pyproject_text).get("project", {}).get("version", ""))


def pip_target_args(glibc_minor: int = TARGET_GLIBC_MINOR) -> list[str]:
    """``pip download`` flags for wheels that install in the image, whatever
    Python runs on the host: CPython 3.11, any manylinux up to the image's glibc."""
    args = ["--only-binary=:all:", "--python-version", TARGET_PYTHON, "--implementation", "cp"]
    for abi in (f"cp{TARGET_PYTHON.replace('.', '')}", "abi3", "none"):
        args += ["--abi", abi]
    for minor in range(glibc_minor, 4, -1):
        args += ["--platform", f"manylinux_2_{minor}_x86_64"]
    for legacy in ("manylinux2014", "manylinux2010", "manylinux1"):
        args += ["--platform", f"{legacy}_x86_64"]
    return args


def write_simple_index(files: Sequence[Path], root: Path) -> None:
    """A PEP 503 index under ``root/simple`` linking to ``root/files``."""
    projects: dict[str, list[Path]] = {}
    for wheel in files:
        projects.setdefault(wheel_name_version(wheel.name)[0], []).append(wheel)
    simple = root / "simple"
    simple.mkdir(parents=True, exist_ok=True)
    links = [f'<a href="{name}/">{name}</a>' for name in sorted(projects)]
    (simple / "index.html").write_text(_page("Simple index", links))
    for name, wheels in projects.items():
        rows = [
            f'<a href="../../files/{html.escape(w.name)}#sha256={_sha256(w)}">{html.escape(w.name)}</a>'
            for w in sorted(wheels)
        ]
        (simple / name).mkdir(exist_ok=True)
        (simple / name / "index.html").write_text(_page(f"Links for {name}", rows))


def _page(title: str, links: Sequence[str]) -> str:
    body = "<br>\n".join(links)
    return f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>\n{body}\n</body></html>\n"


def _sha256(path: Path) -> str:
    return archive.sha256_digest(path).removeprefix("sha256:")


def ensure_wheelhouse(app_dir: Path = stackpins.APP_DIR) -> Path:
    """Download the app's wheels for the image (once per lock and requirement set);
    returns the folder holding ``files/`` and ``simple/``."""
    requirements = app_requirements((app_dir / "pyproject.toml").read_text())
    return wheelhouse("gateway", requirements, GATEWAY_LOCK, "GATEWAY_LOCK (deployer/images/pyapp.py)")


def wheelhouse(what: str, requirements: Sequence[str], lock: Sequence[str], lock_name: str) -> Path:
    """Wheels for ``requirements`` under ``lock`` as a simple index, downloaded
    once per lock and requirement set; returns the folder holding ``files/``
    and ``simple/``."""
    target = pip_target_args()
    key = hashlib.sha256(json.dumps([list(lock), list(requirements), target]).encode()).hexdigest()[:12]
    root = paths.cache_dir() / "stack-images" / "wheels" / key
    if (root / "simple" / "index.html").is_file():
        return root
    with locked(root.parent / ".wheels.lock"):
        if (root / "simple" / "index.html").is_file():
            return root
        shutil.rmtree(root, ignore_errors=True)
        files = root / "files"
        files.mkdir(parents=True)
        constraints = root / "constraints.txt"
        constraints.write_text("\n".join(lock) + "\n")
        with phase(f"download {len(requirements)} requirements of the {what} as wheels"):
            _pip_download(["-d", str(files), "-c", str(constraints), *target, *requirements])
        wheels = sorted(files.glob("*.whl"))
        extra = unpinned([w.name for w in wheels], lock)
        if extra:
            say(f"warning: not pinned in {lock_name}: {', '.join(extra)}")
        write_simple_index(wheels, root)
    return root


def _pip_download(args: Sequence[str]) -> None:
    pip = [sys.executable, "-m", "pip"]
    try:
        procs.run([*pip, "--version"], timeout=60)
    except InfraError as exc:
        raise BadInputError(f"downloading the gateway's wheels needs pip for {sys.executable}: {exc}") from exc
    try:
        procs.run([*pip, "download", "--disable-pip-version-check", "--no-input", *args], timeout=PIP_TIMEOUT_S)
    except InfraError as exc:
        if "ResolutionImpossible" in str(exc) or "conflict" in str(exc).lower():
            raise BadInputError(
                "app/pyproject.toml's requirements do not fit GATEWAY_LOCK in deployer/images/pyapp.py; "
                f"update the lock to versions that satisfy them:\n{exc}"
            ) from exc
        raise InfraError(f"could not download the gateway's wheels from the package index: {exc}") from exc


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_index(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free loopback port; yields the simple index URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="wheel-index", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def dockerignore_patterns(text: str) -> list[re.Pattern[str]] | None:
    """A .dockerignore as regular expressions over slash-separated relative paths;
    None when it has exceptions (``!``), which this reading does not model."""
    patterns: list[re.Pattern[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            return None
        line = line.removeprefix("./").strip("/")
        out = ""
        i = 0
        while i < len(line):
            if line.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif line.startswith("**", i):
                out, i = out + ".*", i + 2
            elif line[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif line[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(line[i]), i + 1
        patterns.append(re.compile(out))
    return patterns


def is_ignored(relative: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    """Docker leaves out a path when it or one of its parent folders matches."""
    parts = relative.split("/")
    return any(p.fullmatch("/".join(parts[:i])) for p in patterns for i in range(1, len(parts) + 1))


def context_files(app_dir: Path) -> list[str]:
    """Relative paths of the files Docker sends as the build context."""
    ignore_file = app_dir / ".dockerignore"
    patterns = dockerignore_patterns(ignore_file.read_text()) if ignore_file.is_file() else []
    result = []
    for path in sorted(app_dir.rglob("*")):
        relative = path.relative_to(app_dir).as_posix()
        if path.is_file() and not (patterns and is_ignored(relative, patterns)):
            result.append(relative)
    return result


def python_base_dockerfile(from_ref: str) -> str:
    return "\n".join(
        [
            f"FROM {from_ref}",
            f"RUN python3 -m venv {VENV} && {VENV}/bin/python -m pip --version",
            f"ENV PATH={VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8",
            'CMD ["python3"]',
            "",
        ]
    )


def build_python_base() -> str:
    """Build (or reuse) ``stackpins.PYTHON_BASE_REF``; returns its reference."""
    ref = stackpins.PYTHON_BASE_REF
    tar = rootfs.build_rootfs_tar(PYTHON_ROOTFS)
    key = _key([RECIPE_VERSION, archive.sha256_digest(tar), python_base_dockerfile("{rootfs}")])
    if layered.is_current(ref, key):
        say(f"{ref} is up to date (content key {key})")
        return ref
    root = paths.cache_dir() / "stack-images"
    with locked(root / ".python-base.lock"):
        if layered.is_current(ref, key):
            return ref
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="python-base-", dir=root))
        imported = f"{ref}-rootfs-{key}"
        try:
            with phase(f"build {ref}"):
                old_id = layered.image_id(ref)
                procs.run(["docker", "import", tar, imported], timeout=layered.DOCKER_TIMEOUT_S)
                (work / "Dockerfile").write_text(python_base_dockerfile(imported))
                labels = {
                    layered.CONTENT_KEY_LABEL: key,
                    layered.BUILT_FROM_LABEL: f"debian {PYTHON_ROOTFS.suite} {' '.join(PYTHON_ROOTFS.packages)}",
                }
                _docker_build(["--network", "none", "-t", ref, *_label_args(labels), str(work)])
                layered.drop_replaced(old_id, ref)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            _remove_quietly(imported)
    return ref


def _remove_quietly(ref: str) -> None:
    """Drop an intermediate tag without hiding the error that brought us here."""
    try:
        if layered.image_id(ref):
            procs.run(["docker", "rmi", ref], timeout=120)
    except InfraError as exc:
        say(f"could not remove {ref}: {str(exc).splitlines()[-1]}")


def gateway_ref(app_dir: Path = stackpins.APP_DIR) -> str:
    """The chart's gateway image; its tag must be the app's version."""
    ref = stackpins.chart_image(stackpins.CHART_OF["gateway"])
    version = app_version((app_dir / "pyproject.toml").read_text())
    tag = stackpins.split_ref(ref)[1]
    if tag != version:
        raise BadInputError(
            f"charts/app/values.yaml tags the gateway image {tag} but app/pyproject.toml says version "
            f"{version!r}; make them equal"
        )
    return ref


def build_gateway(base_image: str, app_dir: Path = stackpins.APP_DIR) -> str:
    """Build (or reuse) the gateway image from app/Dockerfile on ``base_image``."""
    ref = gateway_ref(app_dir)
    base_id = layered.image_id(base_image)
    if base_id is None:
        raise InfraError(f"the gateway's base image {base_image} is not in Docker's image store")
    wheels = ensure_wheelhouse(app_dir)
    files = context_files(app_dir)
    key = _key(
        [
            RECIPE_VERSION,
            base_id,
            *(f"{name} {_sha256(app_dir / name)}" for name in files),
            *sorted(p.name for p in (wheels / "files").glob("*.whl")),
        ]
    )
    if layered.is_current(ref, key):
        say(f"{ref} is up to date (content key {key})")
        return ref
    with locked(paths.cache_dir() / "stack-images" / ".gateway.lock"):
        if layered.is_current(ref, key):
            return ref
        labels = {
            layered.CONTENT_KEY_LABEL: key,
            layered.VERSION_LABEL: stackpins.split_ref(ref)[1],
            layered.BUILT_FROM_LABEL: "app/Dockerfile",
            "dev.chaosgate.base-image": f"{base_image}@{base_id}",
        }
        build_with_wheels(ref, key, app_dir, base_image=base_image, wheels=wheels, labels=labels)
    return ref


def build_with_wheels(
    ref: str, key: str, context: Path, *, base_image: str, wheels: Path, labels: dict[str, str]
) -> None:
    """``docker build`` of ``context`` on ``base_image``, pip reaching only the
    wheels served on loopback; checks the result carries ``key`` and drops
    the image it replaced."""
    old_id = layered.image_id(ref)
    with phase(f"build {ref} from {context.name}/Dockerfile on {base_image}"), serve_index(wheels) as index:
        _docker_build(
            [
                "--network",
                "host",
                "-t",
                ref,
                *_label_args(labels),
                "--build-arg",
                f"BASE_IMAGE={base_image}",
                "--build-arg",
                f"PIP_INDEX_URL={index}",
                str(context),
            ]
        )
    if not layered.is_current(ref, key):
        raise InfraError(f"docker build did not leave {ref} with content key {key}")
    layered.drop_replaced(old_id, ref)


def _docker_build(args: Sequence[str]) -> None:
    # The classic builder: BuildKit may try to resolve FROM images in a registry.
    procs.run(["docker", "build", "--pull=false", *args], timeout=BUILD_TIMEOUT_S, env={"DOCKER_BUILDKIT": "0"})


def _label_args(labels: dict[str, str]) -> list[str]:
    return [arg for k, v in sorted(labels.items()) for arg in ("--label", f"{k}={v}")]


def _key(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
