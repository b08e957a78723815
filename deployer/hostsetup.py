"""Prepare a Debian/Ubuntu host so kind can run: Docker installed and running,
privileged containers working, inotify limits high enough.

``host_setup()`` is idempotent: it returns the changes it made, and an empty
list when the host was already prepared. Everything it changes lives in a few
well-known places (Debian's docker.io package, /etc/docker/daemon.json,
/usr/local/lib/chaosgate, /etc/sysctl.d/99-chaosgate.conf, a dockerd started
in the background with its log in /var/log/chaosgate-dockerd.log).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from deployer import engine, runc_wrapper
from kernel import procs
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.files import write_if_changed
from kernel.progress import phase, say
from kernel.wait import Deadline, Seen, wait_until

# Indexed by capability number (linux/capability.h), as runc and Docker name them.
CAP_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)  # fmt: skip

RUNTIME_NAME = "chaosgate-runc"
WRAPPER_DIR = Path("/usr/local/lib/chaosgate")
WRAPPER = WRAPPER_DIR / "runc-wrapper"
DAEMON_JSON = Path("/etc/docker/daemon.json")
DOCKERD_LOG = Path("/var/log/chaosgate-dockerd.log")
DOCKER_PIDFILE = Path("/var/run/docker.pid")
SYSCTL_CONF = Path("/etc/sysctl.d/99-chaosgate.conf")

INOTIFY_MINIMUMS = {
    "fs.inotify.max_user_watches": 524288,
    "fs.inotify.max_user_instances": 512,
}
"""What kind's known-issues page asks for: every node runs kubelet and
systemd, which watch many files; the kernel defaults run out with a few nodes."""

APT_TIMEOUT = 1200.0
"""Seconds for one ``apt-get install``: docker.io (about 60 MB of packages) or
the image build packages."""
BUILD_PACKAGES = ("debootstrap", "gcc", "libc6-dev", "libseccomp-dev", "pkg-config")
"""What building the kind node and stack images from source needs beyond Go:
debootstrap for root filesystems, gcc for pause, libseccomp for runc."""
DOCKERD_START_TIMEOUT = 120.0
"""Seconds until a fresh dockerd answers; it is a few seconds on an idle host,
the rest is room for a busy 2-core machine."""
RELOAD_TIMEOUT = 20.0
"""Seconds for a SIGHUP'd dockerd to report the new default runtime (it takes
milliseconds; the rest is room for a busy machine)."""
DOCKERD_STOP_TIMEOUT = 90.0
"""Seconds for dockerd to exit on SIGTERM; it stops running containers first
(15s grace each, in parallel)."""

_APT_OPTIONS = (
    "-o", "Acquire::http::Timeout=30",
    "-o", "Acquire::Retries=3",
    "-o", "DPkg::Lock::Timeout=300",
)  # fmt: skip


# ---- pure logic -------------------------------------------------------------


def parse_cap_mask(status_text: str, field: str = "CapBnd") -> int:
    """The hex mask of ``field`` in the text of /proc/<pid>/status."""
    for line in status_text.splitlines():
        key, _, value = line.partition(":")
        if key == field:
            return int(value.strip(), 16)
    raise ValueError(f"no {field} line in /proc status text")


def cap_name(bit: int) -> str:
    return CAP_NAMES[bit] if bit < len(CAP_NAMES) else f"CAP_{bit}"


def missing_caps(bounding: int, last_cap: int) -> list[str]:
    """Capabilities 0..``last_cap`` the kernel knows but the bounding set lacks."""
    return [cap_name(bit) for bit in range(last_cap + 1) if not bounding >> bit & 1]


def host_missing_caps(proc: Path = Path("/proc")) -> list[str]:
    bounding = parse_cap_mask((proc / "self/status").read_text())
    last_cap = int((proc / "sys/kernel/cap_last_cap").read_text())
    return missing_caps(bounding, last_cap)


def merge_daemon_json(existing: dict[str, Any], wrapper: str, source: Path = DAEMON_JSON) -> dict[str, Any]:
    """``existing`` with the wrapper registered and made the default runtime; every
    other key is kept. A different default runtime (e.g. nvidia) is the user's
    choice: refuse rather than override it."""
    default = existing.get("default-runtime")
    if default not in (None, "runc", RUNTIME_NAME):
        raise BadInputError(
            f'{source} sets "default-runtime": "{default}"; privileged containers need '
            f'"{RUNTIME_NAME}" on this host: remove that key, or set it to "{RUNTIME_NAME}" '
            "and run host-setup again"
        )
    runtimes = existing.get("runtimes", {})
    if not isinstance(runtimes, dict):
        raise BadInputError(f'{source}: "runtimes" must be an object, found {type(runtimes).__name__}')
    return {
        **existing,
        "runtimes": {**runtimes, RUNTIME_NAME: {"path": wrapper}},
        "default-runtime": RUNTIME_NAME,
    }


def render_launcher(python: str, module_dir: Path, real_runc: str, drop: Collection[str]) -> str:
    """The executable dockerd runs as its runtime: it imports the wrapper module
    copied next to it. ``-I -S``: no site packages, no PYTHON* variables, so a
    container start costs one small interpreter start."""
    return (
        f"#!{python} -IS\n"
        "# chaosgate runc wrapper: drops capabilities the host's bounding set lacks,\n"
        "# then execs the real runc. Written by `python -m deployer host-setup`.\n"
        "import sys\n"
        f"sys.path.insert(0, {str(module_dir)!r})\n"
        "import runc_wrapper\n"
        f"runc_wrapper.main(sys.argv[1:], {real_runc!r}, {tuple(sorted(drop))!r})\n"
    )


def sysctl_conf_text(values: dict[str, int]) -> str:
    lines = "".join(f"{k} = {v}\n" for k, v in sorted(values.items()))
    return "# Written by chaosgate host-setup: limits kind nodes need.\n" + lines


# ---- host steps -------------------------------------------------------------


def host_setup(*, dry_run: bool = False, builds: bool = False) -> list[str]:
    """Make this host ready for kind; return the changes made (or, with
    ``dry_run``, the ones that would be made). Empty when nothing was needed.

    ``builds``: also the Debian packages that building images from source
    needs (debootstrap, a C compiler and libseccomp for runc). Only root can
    change anything; without root, a host that needs nothing passes and one
    that needs something gets the list and the command to run."""
    if not dry_run and os.geteuid() != 0:
        needed = host_setup(dry_run=True, builds=builds)
        if needed:
            flag = " --builds yes" if builds else ""
            # This interpreter, not the system's python3: only it has chaosgate's
            # dependencies (a fresh Debian has no jsonschema or yaml).
            raise BadInputError(
                "this host needs changes only root can make:\n  "
                + "\n  ".join(needed)
                + f"\nrun: sudo {sys.executable} -m deployer host-setup{flag}"
            )
        return []
    changes: list[str] = []
    changes += _ensure_docker_installed(dry_run)
    if builds:
        changes += _ensure_build_packages(dry_run)
    changes += _ensure_runc_wrapper(dry_run)
    changes += _ensure_inotify(dry_run)
    changes += _ensure_dockerd(dry_run)
    if not changes:
        say("host-setup: nothing to change")
    return changes


def find_dockerd() -> str | None:
    return shutil.which("dockerd") or next(
        (str(p) for p in (Path("/usr/sbin/dockerd"), Path("/usr/bin/dockerd")) if p.is_file()), None
    )


def find_real_runc() -> str | None:
    """Debian's runc (docker.io depends on it), else one on PATH that is not our wrapper."""
    candidates: list[str] = ["/usr/sbin/runc", "/usr/bin/runc"]
    on_path = shutil.which("runc")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK) and path.resolve() != WRAPPER.resolve():
            return str(path)
    return None


def _missing_packages(packages: tuple[str, ...]) -> list[str]:
    missing = []
    for package in packages:
        try:
            status = procs.run(["dpkg-query", "-W", "-f", "${Status}", package], timeout=30).stdout
        except InfraError:
            status = ""
        if "install ok installed" not in status:
            missing.append(package)
    return missing


def _ensure_build_packages(dry_run: bool) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []  # not Debian: the image builds name what they miss themselves
    missing = _missing_packages(BUILD_PACKAGES)
    if not missing:
        return []
    change = f"installed Debian packages for image builds: {' '.join(missing)}"
    if dry_run:
        return [_not_done(change)]
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    with phase("install image build packages (apt-get)"):
        procs.run(["apt-get", *_APT_OPTIONS, "update"], timeout=600, env=env)
        procs.run(
            ["apt-get", *_APT_OPTIONS, "install", "-y", "--no-install-recommends", *missing],
            timeout=APT_TIMEOUT,
            env=env,
        )
    return [change]


def _ensure_docker_installed(dry_run: bool) -> list[str]:
    if find_dockerd():
        return []
    if not Path("/etc/debian_version").is_file() or shutil.which("apt-get") is None:
        raise BadInputError(
            "dockerd is not installed and this is not a Debian/Ubuntu host (no apt-get): "
            "install Docker Engine with your distribution's packages, start it, and run again"
        )
    change = "installed Debian's docker.io (dockerd, containerd, runc)"
    if dry_run:
        return [_not_done(change)]
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    with phase("install docker.io (apt-get update, apt-get install)"):
        procs.run(["apt-get", *_APT_OPTIONS, "update"], timeout=600, env=env)
        procs.run(
            ["apt-get", *_APT_OPTIONS, "install", "-y", "--no-install-recommends", "docker.io"],
            timeout=APT_TIMEOUT,
            env=env,
        )
    if not find_dockerd():
        raise InfraError("apt-get installed docker.io but no dockerd was found in /usr/sbin or on PATH")
    version = procs.run(["dpkg-query", "-W", "-f", "${Version}", "docker.io"], timeout=30).stdout
    cli = shutil.which("docker")
    say(f"docker.io {version} installed; docker CLI in use: {cli}")
    return [f"{change} {version}"]


def _ensure_runc_wrapper(dry_run: bool) -> list[str]:
    drop = host_missing_caps()
    if not drop and not WRAPPER.exists():
        return []
    if drop:
        say(f"host capability bounding set lacks {', '.join(drop)}: privileged containers need a runc wrapper")
    real_runc = find_real_runc()
    if real_runc is None:
        if not dry_run:
            raise InfraError("no runc found in /usr/sbin, /usr/bin or on PATH; install Debian's runc package")
        real_runc = "/usr/sbin/runc"  # what docker.io's install brings
    python = "/usr/bin/python3" if Path("/usr/bin/python3").is_file() else os.path.realpath(sys.executable)
    module_source = Path(runc_wrapper.__file__).read_text()
    launcher = render_launcher(python, WRAPPER_DIR, real_runc, drop)
    changes: list[str] = []
    module_changed = write_if_changed(WRAPPER_DIR / "runc_wrapper.py", module_source, mode=0o644, dry_run=dry_run)
    launcher_changed = write_if_changed(WRAPPER, launcher, mode=0o755, dry_run=dry_run)
    if module_changed or launcher_changed:
        changes.append(f"installed the runc wrapper {WRAPPER} (drops {', '.join(drop) or 'nothing'}, runs {real_runc})")
    changes += _ensure_daemon_json(dry_run)
    return [_not_done(c) for c in changes] if dry_run else changes


def _ensure_daemon_json(dry_run: bool) -> list[str]:
    existing: dict[str, Any] = {}
    if DAEMON_JSON.exists():
        try:
            loaded = json.loads(DAEMON_JSON.read_text() or "{}")
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{DAEMON_JSON} is not valid JSON ({exc}): fix it, then run again") from exc
        if not isinstance(loaded, dict):
            raise BadInputError(f"{DAEMON_JSON} must hold a JSON object")
        existing = loaded
    merged = merge_daemon_json(existing, str(WRAPPER))
    if merged == existing:
        return []
    write_if_changed(DAEMON_JSON, json.dumps(merged, indent=2) + "\n", mode=0o644, dry_run=dry_run)
    return [f'registered runtime "{RUNTIME_NAME}" as dockerd\'s default in {DAEMON_JSON}']


def _ensure_inotify(dry_run: bool, proc_sys: Path = Path("/proc/sys"), conf: Path = SYSCTL_CONF) -> list[str]:
    """Raise the inotify limits kind needs, and persist what was raised. A
    host whose limits already suffice needs nothing, not even the file: as
    a change it would make a non-root run ask for root on every fresh host."""
    changes: list[str] = []
    wanted: dict[str, int] = {}
    for key, minimum in INOTIFY_MINIMUMS.items():
        path = proc_sys / key.replace(".", "/")
        current = int(path.read_text())
        wanted[key] = max(current, minimum)
        if current < minimum:
            if not dry_run:
                try:
                    path.write_text(f"{minimum}\n")
                except OSError as exc:  # a read-only /proc/sys (inside a container)
                    say(f"cannot raise {key} from {current} to {minimum} ({exc}): kind may run out of watches")
                    continue
            changes.append(f"raised {key} from {current} to {minimum}")
    if changes and write_if_changed(conf, sysctl_conf_text(wanted), mode=0o644, dry_run=dry_run):
        changes.append(f"wrote {conf} so the limits survive a reboot")
    return [_not_done(c) for c in changes] if dry_run else changes


def _ensure_dockerd(dry_run: bool) -> list[str]:
    status = engine.docker_status()
    wants_wrapper = WRAPPER.exists() or bool(host_missing_caps())
    if status.ok:
        if not wants_wrapper or status.default_runtime == RUNTIME_NAME:
            say(f"dockerd {status.server_version} answers (default runtime {status.default_runtime})")
            return []
        if dry_run:
            return [_not_done(f"reloaded dockerd's configuration so it runs containers with {RUNTIME_NAME}")]
        return [_apply_daemon_config()]
    if status.problem is engine.EngineProblem.PERMISSION_DENIED:
        raise BadInputError(engine.problem_message(status))
    change = f"started dockerd (log: {DOCKERD_LOG})"
    if dry_run:
        return [_not_done(change)]
    pid = dockerd_pid()
    if pid is not None:
        # Started moments ago (by a package script, or a parallel run): let it come up,
        # then judge it like any answering daemon.
        say(f"dockerd (pid {pid}) runs but does not answer yet: waiting")
        _wait_for_docker(None)
        return _ensure_dockerd(dry_run)
    _start_dockerd()
    return [change]


def uses_systemd() -> bool:
    try:
        return Path("/proc/1/comm").read_text().strip() == "systemd"
    except OSError:
        return False


def dockerd_pid() -> int | None:
    """The running dockerd: the one in its pidfile, else any process named dockerd."""
    try:
        pid = int(DOCKER_PIDFILE.read_text().strip())
        if _comm(pid) == "dockerd":
            return pid
    except (OSError, ValueError):
        pass
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _comm(int(entry.name)) == "dockerd":
            return int(entry.name)
    return None


def _comm(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ...": a zombie has exited already.
    comm, _, rest = stat.partition("(")[2].rpartition(")")
    return None if rest.split()[:1] == ["Z"] else comm


def _start_dockerd() -> None:
    if uses_systemd():
        say("starting dockerd with systemctl")
        procs.run(["systemctl", "start", "docker"], timeout=DOCKERD_START_TIMEOUT)
        _wait_for_docker(None)
        return
    dockerd = find_dockerd()
    if dockerd is None:
        raise InfraError("dockerd is not installed")
    say(f"starting {dockerd} in the background (log: {DOCKERD_LOG})")
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with phase("start dockerd"):
        with DOCKERD_LOG.open("ab") as log:
            # A daemon, not a command: procs.run waits for its end. Its own session
            # keeps it alive after this process and away from the terminal's signals.
            proc = subprocess.Popen(
                [dockerd],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        _wait_for_docker(proc)
    _report_containerd()


def _apply_daemon_config() -> str:
    """Make the running dockerd use daemon.json. dockerd reloads runtimes and the
    default runtime on SIGHUP, which keeps running containers (a kind cluster)
    alive; a restart would stop them, so it is only the fallback."""
    if uses_systemd():
        procs.run(["systemctl", "reload", "docker"], timeout=60)
    else:
        pid = dockerd_pid()
        if pid is None:
            raise InfraError("a Docker daemon answers but no local dockerd process was found (DOCKER_HOST?)")
        say(f"asking dockerd (pid {pid}) to reload {DAEMON_JSON} (SIGHUP)")
        os.kill(pid, signal.SIGHUP)
    try:
        wait_until(
            _default_runtime_is_ours,
            what=f"dockerd to take up {RUNTIME_NAME} on reload",
            timeout=Deadline(RELOAD_TIMEOUT),
            interval=0.3,
        )
    except WaitTimeout as exc:
        say(f"{exc}: restarting it")
        _restart_dockerd()
        return f"restarted dockerd so it runs containers with {RUNTIME_NAME}"
    return f"reloaded dockerd's configuration: containers now run with {RUNTIME_NAME}"


def _default_runtime_is_ours() -> Seen:
    status = engine.docker_status(timeout=10)
    if not status.ok:
        return Seen(False, f"docker info: {status.detail or status.problem}")
    return Seen(status.default_runtime == RUNTIME_NAME, f"default runtime {status.default_runtime}")


def _restart_dockerd() -> None:
    if uses_systemd():
        say("restarting dockerd with systemctl")
        procs.run(["systemctl", "restart", "docker"], timeout=DOCKERD_STOP_TIMEOUT + DOCKERD_START_TIMEOUT)
        _wait_for_docker(None)
        return
    pid = dockerd_pid()
    if pid is not None:
        say(f"stopping dockerd (pid {pid}) to load {DAEMON_JSON}")
        os.kill(pid, signal.SIGTERM)
        wait_until(
            lambda: Seen(_comm(pid) != "dockerd", "still running"),
            what=f"dockerd (pid {pid}) to exit after SIGTERM",
            timeout=Deadline(DOCKERD_STOP_TIMEOUT),
            interval=0.2,
        )
    _start_dockerd()


def _wait_for_docker(proc: subprocess.Popen[bytes] | None) -> None:
    """Poll ``docker info`` until it answers; fail early when our dockerd exits."""

    def answers() -> Seen:
        status = engine.docker_status(timeout=10)
        if status.ok:
            return Seen(
                True,
                f"dockerd {status.server_version} answers: default runtime {status.default_runtime}, "
                f"cgroup driver {status.cgroup_driver} (v{status.cgroup_version})",
            )
        code = None if proc is None else proc.poll()
        if code is not None:
            # Not a "not yet": waiting on would only hide why it failed.
            raise InfraError(
                f"dockerd exited with code {code} while starting; last lines of {DOCKERD_LOG}:\n{_log_tail()}"
            )
        return Seen(False, status.detail or str(status.problem))

    seen = wait_until(
        answers, what="dockerd to answer `docker info`", timeout=Deadline(DOCKERD_START_TIMEOUT), interval=0.5
    )
    say(str(seen))


def _report_containerd() -> None:
    """dockerd without --containerd supervises its own containerd; say which one is used."""
    own = Path("/var/run/docker/containerd/containerd.sock")
    system = Path("/run/containerd/containerd.sock")
    sock = own if own.exists() else system if system.exists() else None
    say(f"containerd socket: {sock}" if sock else "no containerd socket found: dockerd may fail to run containers")


def _log_tail(lines: int = 20) -> str:
    try:
        return "\n".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(cannot read: {exc})"


def _not_done(change: str) -> str:
    return f"not done (dry run): {change}"
