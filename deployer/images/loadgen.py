"""The Locust worker image (loadtests/image/Dockerfile), for load generated
inside the cluster, and for the relay the harness reaches the stack through.

Built like the gateway image: on the local Python base where no registry
answers, on the pulled one where it does (the same decision as every other
image), with wheels from a loopback index. The context is assembled here from
the repository's load code, so the image always carries the locustfiles the
harness was started with; the content key makes a code change a rebuild.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from deployer import paths
from deployer.images import layered, pyapp, stackpins, upstream
from deployer.paths import SOURCE_ROOT
from kernel.errors import BadInputError, InfraError
from kernel.files import locked
from kernel.progress import say

REPO_ROOT = SOURCE_ROOT
DOCKERFILE = REPO_ROOT / "loadtests" / "image" / "Dockerfile"
PACKAGES = ("kernel", "chaos", "loadtests")
REF = "chaosgate/loadgen:0.1.0"

REQUIREMENTS = ("locust==2.47.0", "minio==7.2.20", "urllib3>=2,<3")
LOADGEN_LOCK: tuple[str, ...] = (
    "argon2-cffi==25.1.0",
    "argon2-cffi-bindings==26.2.0",
    "bidict==0.24.1",
    "blinker==1.9.0",
    "brotli==1.2.1",
    "certifi==2026.10.19.post1",
    "cffi==2.1.1",
    "charset-normalizer==3.5.3",
    "click==8.5.1",
    "configargparse==1.9.0",
    "flask==3.1.3",
    "flask-cors==6.0.5",
    "flask-login==0.6.3",
    "gevent==26.9.0",
    "geventhttpclient==2.6.1",
    "greenlet==3.5.6",
    "h11==0.16.0",
    "idna==3.20",
    "iniconfig==2.3.1",
    "itsdangerous==2.2.0",
    "jinja2==3.1.6",
    "locust==2.47.0",
    "markupsafe==3.0.4",
    "minio==7.2.20",
    "msgpack==1.2.4",
    "packaging==26.4",
    "pluggy==1.7.0",
    "psutil==7.2.2",
    "pycparser==3.12",
    "pycryptodome==4.4.0",
    "pygments==2.21.0",
    "pytest==9.2.0",
    "python-engineio==4.15.1",
    "python-socketio==5.18.1",
    "pyzmq==27.3.0",
    "requests==2.34.2",
    "simple-websocket==1.1.0",
    "typing-extensions==4.16.0",
    "urllib3==2.8.0",
    "websocket-client==1.9.2",
    "werkzeug==3.1.9",
    "wsproto==1.3.2",
    "zope-event==6.2",
    "zope-interface==8.7",
)
"""Every wheel in the image: Locust's and minio's dependencies resolved, at the
versions the fast tier runs with."""


def context_files(root: Path = REPO_ROOT) -> list[str]:
    """The load code that goes into the image (Python sources of the three packages)."""
    files = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                files.append(path.relative_to(root).as_posix())
    return files


def base_image(mode: str, source: upstream.PullSource = upstream.UPSTREAM) -> str:
    """The Python base: pulled where registries answer, else the local one."""
    if mode == "pull":
        name = "python-base"
        return upstream.pull({name: stackpins.UPSTREAM[name]}, source)[name]
    if mode == "build":
        return pyapp.build_python_base()
    raise BadInputError(f"loadgen image: mode must be pull or build, got {mode!r}")


def ensure(mode: str, source: upstream.PullSource = upstream.UPSTREAM) -> str:
    """Build (or reuse) the worker image on the base ``mode`` gives; returns its reference."""
    base = base_image(mode, source)
    base_id = layered.image_id(base)
    if base_id is None:
        raise InfraError(f"the loadgen image's base {base} is not in Docker's image store")
    wheels = pyapp.wheelhouse("load generator", REQUIREMENTS, LOADGEN_LOCK, "LOADGEN_LOCK (deployer/images/loadgen.py)")
    files = context_files()
    key = pyapp._key(
        [
            pyapp.RECIPE_VERSION,
            base_id,
            f"Dockerfile {pyapp._sha256(DOCKERFILE)}",
            *REQUIREMENTS,
            *(f"{name} {pyapp._sha256(REPO_ROOT / name)}" for name in files),
            *sorted(p.name for p in (wheels / "files").glob("*.whl")),
        ]
    )
    if layered.is_current(REF, key):
        say(f"{REF} is up to date (content key {key})")
        return REF
    root = paths.cache_dir() / "stack-images"
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / ".loadgen.lock"):
        if layered.is_current(REF, key):
            return REF
        work = Path(tempfile.mkdtemp(prefix="loadgen-", dir=root))
        try:
            shutil.copy(DOCKERFILE, work / "Dockerfile")
            (work / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
            for name in files:
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(REPO_ROOT / name, work / name)
            labels = {
                layered.CONTENT_KEY_LABEL: key,
                layered.BUILT_FROM_LABEL: "loadtests/image/Dockerfile",
                "dev.chaosgate.base-image": f"{base}@{base_id}",
            }
            pyapp.build_with_wheels(REF, key, work, base_image=base, wheels=wheels, labels=labels)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return REF
