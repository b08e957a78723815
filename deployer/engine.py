"""Probe the container engine (Docker) that kind needs.

``docker_status()`` only observes; ``require_docker()`` turns a missing or
unreachable engine into a ``BadInputError`` that names the fix, so a run
stops before it builds or deploys anything.
"""

from __future__ import annotations

import enum
import json
import shutil
from dataclasses import dataclass

from kernel import procs
from kernel.errors import BadInputError, InfraError

INFO_TIMEOUT = 15.0
"""Seconds ``docker info`` may take. A healthy daemon answers in well under a
second; a busy 2-core machine can take a few. Longer means the daemon hangs."""

HOST_SETUP_HINT = "python -m deployer host-setup"


class EngineProblem(enum.Enum):
    """Why the engine cannot be used."""

    NO_CLI = "no docker CLI on PATH"
    NO_DAEMON = "the Docker daemon is not answering"
    PERMISSION_DENIED = "permission denied on the Docker socket"
    HANGS = "the Docker daemon did not answer in time"


@dataclass(frozen=True)
class EngineStatus:
    """What ``docker`` and ``docker info`` said; ``problem`` is None when usable."""

    cli: str | None
    """Path of the docker CLI, None when there is none on PATH."""
    problem: EngineProblem | None
    detail: str = ""
    """The CLI's own words when the daemon could not be used."""
    server_version: str = ""
    default_runtime: str = ""
    cgroup_driver: str = ""
    cgroup_version: str = ""
    runtimes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None


def docker_status(timeout: float = INFO_TIMEOUT) -> EngineStatus:
    """Is there a docker CLI, and does a daemon answer ``docker info`` within ``timeout``?"""
    cli = shutil.which("docker")
    if cli is None:
        return EngineStatus(cli=None, problem=EngineProblem.NO_CLI)
    try:
        result = procs.run([cli, "info", "--format", "{{json .}}"], timeout=timeout)
    except InfraError as exc:
        # Newer CLIs print an empty info JSON next to the error: keep the words only.
        detail = "\n".join(line for line in str(exc).splitlines() if not line.startswith("{"))
        return EngineStatus(cli=cli, problem=classify_failure(detail), detail=detail[-1000:])
    return parse_info(cli, result.stdout)


def classify_failure(message: str) -> EngineProblem:
    """Map a failed ``docker info`` (its output, or procs' timeout message) to a problem."""
    lowered = message.lower()
    if "permission denied" in lowered:
        return EngineProblem.PERMISSION_DENIED
    if "did not finish within" in lowered:
        return EngineProblem.HANGS
    return EngineProblem.NO_DAEMON


def parse_info(cli: str, stdout: str) -> EngineStatus:
    """Read ``docker info --format '{{json .}}'``. Newer CLIs exit 0 and put
    connection errors into ``ServerErrors``, so those count as failures too."""
    try:
        info = json.loads(stdout)
    except json.JSONDecodeError:
        return EngineStatus(cli=cli, problem=EngineProblem.NO_DAEMON, detail=stdout.strip()[-500:])
    if not isinstance(info, dict):
        return EngineStatus(cli=cli, problem=EngineProblem.NO_DAEMON, detail=stdout.strip()[-500:])
    errors = info.get("ServerErrors") or []
    if errors or not info.get("ServerVersion"):
        detail = "; ".join(str(e) for e in errors) or "docker info returned no server version"
        return EngineStatus(cli=cli, problem=classify_failure(detail), detail=detail)
    runtimes = info.get("Runtimes") or {}
    return EngineStatus(
        cli=cli,
        problem=None,
        server_version=str(info.get("ServerVersion", "")),
        default_runtime=str(info.get("DefaultRuntime", "")),
        cgroup_driver=str(info.get("CgroupDriver", "")),
        cgroup_version=str(info.get("CgroupVersion", "")),
        runtimes=tuple(sorted(runtimes)) if isinstance(runtimes, dict) else (),
    )


def require_docker(timeout: float = INFO_TIMEOUT) -> None:
    """Raise ``BadInputError`` naming the problem and the fix unless a daemon answers."""
    status = docker_status(timeout)
    if status.problem is not None:
        raise BadInputError(problem_message(status))


def problem_message(status: EngineStatus) -> str:
    """One message per problem: what is wrong and what to run."""
    detail = f"\n{status.detail}" if status.detail else ""
    if status.problem is EngineProblem.NO_CLI:
        return f"no docker CLI found on PATH: install Docker (or run `{HOST_SETUP_HINT}` as root on Debian/Ubuntu)"
    if status.problem is EngineProblem.PERMISSION_DENIED:
        return (
            "permission denied on the Docker socket: run as root, or add your user to the "
            f"`docker` group and log in again{detail}"
        )
    if status.problem is EngineProblem.HANGS:
        return (
            "the Docker daemon did not answer `docker info` in time: it hangs; "
            f"check its log (/var/log/chaosgate-dockerd.log) or restart it{detail}"
        )
    return f"Docker daemon is not running: start it (`systemctl start docker` or `{HOST_SETUP_HINT}`){detail}"
