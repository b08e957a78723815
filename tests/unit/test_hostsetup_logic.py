"""Pure logic of host-setup and the engine probe, and the runc wrapper run as a
real process against sample OCI files with a fake runc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deployer import engine, hostsetup, runc_wrapper
from kernel.errors import BadInputError

STATUS_TEXT = """Name:\tcat
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
CapEff:\t000001fffeffffff
CapBnd:\t000001fffeffffff
CapAmb:\t0000000000000000
"""

ALL_41 = (1 << 41) - 1


# ---- capabilities -------------------------------------------------------------


def test_parse_cap_mask_reads_the_named_field() -> None:
    assert hostsetup.parse_cap_mask(STATUS_TEXT) == 0x1FFFEFFFFFF
    assert hostsetup.parse_cap_mask(STATUS_TEXT, "CapInh") == 0


def test_parse_cap_mask_without_the_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="CapBnd"):
        hostsetup.parse_cap_mask("Name:\tcat\n")


def test_cap_names_follow_the_kernel_numbering() -> None:
    names = hostsetup.CAP_NAMES
    assert len(names) == 41
    assert names.index("CAP_NET_ADMIN") == 12
    assert names.index("CAP_SYS_ADMIN") == 21
    assert names.index("CAP_SYS_RESOURCE") == 24
    assert names.index("CAP_CHECKPOINT_RESTORE") == 40


def test_missing_caps_names_the_holes_in_the_bounding_set() -> None:
    assert hostsetup.missing_caps(0x1FFFEFFFFFF, 40) == ["CAP_SYS_RESOURCE"]
    assert hostsetup.missing_caps(ALL_41, 40) == []
    # An older kernel knows fewer capabilities: only those count.
    assert hostsetup.missing_caps(0x3FFFFFFFFF, 37) == []
    assert hostsetup.missing_caps(ALL_41 & ~(1 << 21) & ~(1 << 0), 40) == ["CAP_CHOWN", "CAP_SYS_ADMIN"]


def test_missing_caps_names_unknown_bits_by_number() -> None:
    assert hostsetup.missing_caps(ALL_41, 42) == ["CAP_41", "CAP_42"]


def test_host_missing_caps_reads_proc(tmp_path: Path) -> None:
    (tmp_path / "self").mkdir()
    (tmp_path / "self/status").write_text(STATUS_TEXT)
    (tmp_path / "sys/kernel").mkdir(parents=True)
    (tmp_path / "sys/kernel/cap_last_cap").write_text("40\n")
    assert hostsetup.host_missing_caps(tmp_path) == ["CAP_SYS_RESOURCE"]


# ---- daemon.json --------------------------------------------------------------


def test_merge_daemon_json_adds_the_runtime_and_keeps_everything_else() -> None:
    existing = {
        "log-driver": "json-file",
        "runtimes": {"crun": {"path": "/usr/bin/crun"}},
        "insecure-registries": ["localhost:5000"],
    }
    merged = hostsetup.merge_daemon_json(existing, "/w")
    assert merged == {
        "log-driver": "json-file",
        "insecure-registries": ["localhost:5000"],
        "runtimes": {"crun": {"path": "/usr/bin/crun"}, "chaosgate-runc": {"path": "/w"}},
        "default-runtime": "chaosgate-runc",
    }
    assert existing["runtimes"] == {"crun": {"path": "/usr/bin/crun"}}, "input must not be mutated"


def test_merge_daemon_json_is_idempotent() -> None:
    once = hostsetup.merge_daemon_json({}, "/w")
    assert hostsetup.merge_daemon_json(once, "/w") == once


def test_merge_daemon_json_replaces_plain_runc_default() -> None:
    merged = hostsetup.merge_daemon_json({"default-runtime": "runc"}, "/w")
    assert merged["default-runtime"] == "chaosgate-runc"


def test_merge_daemon_json_refuses_to_override_another_default_runtime() -> None:
    with pytest.raises(BadInputError, match=r'"default-runtime": "nvidia".*remove that key'):
        hostsetup.merge_daemon_json({"default-runtime": "nvidia"}, "/w")


def test_merge_daemon_json_rejects_runtimes_that_are_not_an_object() -> None:
    with pytest.raises(BadInputError, match="must be an object"):
        hostsetup.merge_daemon_json({"runtimes": ["runc"]}, "/w")


# ---- small helpers ------------------------------------------------------------


def test_sysctl_conf_text_lists_every_value() -> None:
    text = hostsetup.sysctl_conf_text({"fs.b": 2, "fs.a": 1})
    assert text.splitlines()[1:] == ["fs.a = 1", "fs.b = 2"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["create", "--bundle", "/b", "id"], (0, "create")),
        (["--root", "/r", "--log", "/l", "--log-format", "json", "create", "id"], (6, "create")),
        (["--root=/r", "--systemd-cgroup", "--debug", "exec", "id"], (3, "exec")),
        (["-root", "/r", "--rootless", "false", "run", "id"], (4, "run")),
        (["--log-format", "json", "--", "start", "id"], (3, "start")),
        (["--root", "/r"], None),
    ],
)
def test_subcommand_skips_global_flags(args: list[str], expected: tuple[int, str] | None) -> None:
    assert runc_wrapper.subcommand(args) == expected


def test_target_file_for_create_exec_and_others() -> None:
    g = ["--root", "/r", "--log", "/l", "--log-format", "json"]
    assert runc_wrapper.target_file([*g, "create", "--bundle", "/b", "--pid-file", "/p", "id"], "/cwd") == (
        "/b/config.json",
        True,
    )
    assert runc_wrapper.target_file([*g, "create", "-b=rel", "id"], "/cwd") == ("/cwd/rel/config.json", True)
    assert runc_wrapper.target_file([*g, "run", "id"], "/cwd") == ("/cwd/config.json", True)
    assert runc_wrapper.target_file([*g, "exec", "--process", "/t/p.json", "-d", "id"], "/cwd") == (
        "/t/p.json",
        False,
    )
    assert runc_wrapper.target_file([*g, "exec", "-p", "p.json", "id"], "/cwd") == ("/cwd/p.json", False)
    assert runc_wrapper.target_file([*g, "exec", "id", "ls"], "/cwd") is None
    assert runc_wrapper.target_file([*g, "start", "id"], "/cwd") is None
    assert runc_wrapper.target_file(["--version"], "/cwd") is None


def test_drop_caps_touches_every_list_and_nothing_else() -> None:
    every = ["CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"]
    process = {"args": ["sh"], "capabilities": {k: list(every) for k in runc_wrapper.CAP_KEYS}}
    assert runc_wrapper.drop_caps(process, {"CAP_SYS_RESOURCE"})
    assert process["capabilities"] == {k: ["CAP_CHOWN", "CAP_SYS_ADMIN"] for k in runc_wrapper.CAP_KEYS}
    assert process["args"] == ["sh"]
    assert not runc_wrapper.drop_caps(process, {"CAP_SYS_RESOURCE"}), "second pass changes nothing"
    assert not runc_wrapper.drop_caps({"args": ["sh"]}, {"CAP_SYS_RESOURCE"})


# ---- the installed wrapper, run as a process --------------------------------------


def _oci_config() -> dict[str, object]:
    caps = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_SYS_TIME"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "args": ["/bin/sh"],
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "inheritable": caps,
                "permitted": caps,
                "ambient": ["CAP_SYS_RESOURCE"],
            },
        },
        "root": {"path": "rootfs"},
    }


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Path]:
    """The wrapper installed as host-setup installs it, in a temporary folder,
    with a fake runc that records its arguments and working directory."""
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(runc_wrapper.__file__, lib / "runc_wrapper.py")
    record = tmp_path / "runc-called"
    fake = tmp_path / "fake-runc"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$PWD" "$@" > {record}\n')
    fake.chmod(0o755)
    launcher = lib / "runc-wrapper"
    launcher.write_text(
        hostsetup.render_launcher(os.path.realpath(sys.executable), lib, str(fake), ["CAP_SYS_RESOURCE"])
    )
    launcher.chmod(0o755)
    return launcher, record


def _run(launcher: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([launcher, *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True)


def test_wrapper_rewrites_the_bundle_config_and_passes_arguments_unchanged(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    launcher, record = installed
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(_oci_config()))
    (bundle / "config.json").chmod(0o600)
    args = [
        "--root", "/run/r", "--log", "/run/log.json", "--log-format", "json", "--systemd-cgroup",
        "create", "--bundle", str(bundle), "--pid-file", "/run/pid", "ctr1",
    ]  # fmt: skip
    _run(launcher, args, tmp_path)

    config = json.loads((bundle / "config.json").read_text())
    kept = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_TIME"]
    caps = config["process"]["capabilities"]
    assert caps == {
        "bounding": kept,
        "effective": kept,
        "inheritable": kept,
        "permitted": kept,
        "ambient": [],
    }
    assert config["root"] == {"path": "rootfs"}
    assert (bundle / "config.json").stat().st_mode & 0o777 == 0o600
    assert record.read_text().splitlines() == [str(tmp_path), *args]
    assert sorted(p.name for p in bundle.iterdir()) == ["config.json"], "no temporary file left"


def test_wrapper_uses_the_working_directory_as_default_bundle(installed: tuple[Path, Path], tmp_path: Path) -> None:
    launcher, _ = installed
    (tmp_path / "config.json").write_text(json.dumps(_oci_config()))
    _run(launcher, ["--root", "/r", "run", "ctr1"], tmp_path)
    caps = json.loads((tmp_path / "config.json").read_text())["process"]["capabilities"]
    assert all("CAP_SYS_RESOURCE" not in v for v in caps.values())


def test_wrapper_rewrites_the_exec_process_file(installed: tuple[Path, Path], tmp_path: Path) -> None:
    launcher, record = installed
    process_file = tmp_path / "runc-process123"
    process_file.write_text(json.dumps(_oci_config()["process"]))
    args = [
        "--root",
        "/r",
        "--log",
        "/l",
        "--log-format",
        "json",
        "exec",
        "--process",
        str(process_file),
        "-d",
        "c",
    ]
    _run(launcher, args, tmp_path)
    caps = json.loads(process_file.read_text())["capabilities"]
    assert caps["effective"] == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_TIME"]
    assert caps["ambient"] == []
    assert record.read_text().splitlines()[1:] == args


def test_wrapper_leaves_other_configs_byte_for_byte(installed: tuple[Path, Path], tmp_path: Path) -> None:
    launcher, record = installed
    config = _oci_config()
    config["process"] = {"args": ["/bin/sh"], "capabilities": {"bounding": ["CAP_CHOWN"]}}
    text = json.dumps(config, indent=3)
    (tmp_path / "config.json").write_text(text)
    _run(launcher, ["create", "--bundle", str(tmp_path), "c"], tmp_path)
    assert (tmp_path / "config.json").read_text() == text
    assert record.exists()


def test_wrapper_still_runs_runc_when_the_config_is_unreadable(installed: tuple[Path, Path], tmp_path: Path) -> None:
    launcher, record = installed
    (tmp_path / "config.json").write_text("{not json")
    result = _run(launcher, ["create", "--bundle", str(tmp_path), "c"], tmp_path)
    assert "capabilities left unchanged" in result.stderr
    assert record.read_text().splitlines()[1:] == ["create", "--bundle", str(tmp_path), "c"]


def test_wrapper_with_true_as_runc_exits_zero(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(runc_wrapper.__file__, lib / "runc_wrapper.py")
    launcher = lib / "runc-wrapper"
    launcher.write_text(hostsetup.render_launcher(os.path.realpath(sys.executable), lib, "/bin/true", ["CAP_X"]))
    launcher.chmod(0o755)
    (tmp_path / "config.json").write_text(json.dumps({"process": {"capabilities": {"bounding": ["CAP_X"]}}}))
    _run(launcher, ["run", "c"], tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {"process": {"capabilities": {"bounding": []}}}


# ---- engine probe ---------------------------------------------------------------


def test_parse_info_reads_the_server_fields() -> None:
    info = {
        "ServerVersion": "20.10.24+dfsg1",
        "DefaultRuntime": "chaosgate-runc",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "1",
        "Runtimes": {"runc": {"path": "runc"}, "chaosgate-runc": {"path": "/w"}},
        "ClientInfo": {"Version": "28.2.2"},
    }
    status = engine.parse_info("/usr/bin/docker", json.dumps(info))
    assert status.ok
    assert (status.server_version, status.default_runtime, status.cgroup_driver, status.cgroup_version) == (
        "20.10.24+dfsg1",
        "chaosgate-runc",
        "cgroupfs",
        "1",
    )
    assert status.runtimes == ("chaosgate-runc", "runc")


def test_parse_info_treats_server_errors_as_no_daemon() -> None:
    out = json.dumps({"ServerErrors": ["Cannot connect to the Docker daemon at unix:///var/run/docker.sock."]})
    status = engine.parse_info("/usr/bin/docker", out)
    assert status.problem is engine.EngineProblem.NO_DAEMON
    assert "Cannot connect" in status.detail


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",
            engine.EngineProblem.PERMISSION_DENIED,
        ),
        ("docker did not finish within 15s: docker info", engine.EngineProblem.HANGS),
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
            engine.EngineProblem.NO_DAEMON,
        ),
    ],
)
def test_classify_failure(message: str, problem: engine.EngineProblem) -> None:
    assert engine.classify_failure(message) is problem


@pytest.mark.parametrize(
    ("problem", "fragments"),
    [
        (engine.EngineProblem.NO_CLI, ["install Docker", "python -m deployer host-setup", "as root"]),
        (
            engine.EngineProblem.NO_DAEMON,
            ["Docker daemon is not running", "systemctl start docker", "host-setup"],
        ),
        (engine.EngineProblem.PERMISSION_DENIED, ["permission denied", "docker` group"]),
        (engine.EngineProblem.HANGS, ["did not answer", "restart"]),
    ],
)
def test_problem_messages_name_the_fix(problem: engine.EngineProblem, fragments: list[str]) -> None:
    message = engine.problem_message(engine.EngineStatus(cli="/usr/bin/docker", problem=problem))
    for fragment in fragments:
        assert fragment in message


def test_require_docker_without_cli_is_bad_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert engine.docker_status().problem is engine.EngineProblem.NO_CLI
    with pytest.raises(BadInputError, match="install Docker"):
        engine.require_docker()


def test_require_docker_with_cli_but_no_daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///x.sock' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BadInputError, match=r"Docker daemon is not running: start it \(`systemctl start docker`"):
        engine.require_docker()


def _proc_sys(root: Path, watches: int, instances: int) -> Path:
    inotify = root / "fs" / "inotify"
    inotify.mkdir(parents=True)
    (inotify / "max_user_watches").write_text(f"{watches}\n")
    (inotify / "max_user_instances").write_text(f"{instances}\n")
    return root


def test_limits_that_already_suffice_need_no_change_and_no_file(tmp_path: Path) -> None:
    # A fresh host with high enough limits must pass a non-root host setup.
    proc = _proc_sys(tmp_path / "proc", 1048576, 8192)
    conf = tmp_path / "99-chaosgate.conf"
    assert hostsetup._ensure_inotify(True, proc, conf) == []
    assert hostsetup._ensure_inotify(False, proc, conf) == []
    assert not conf.exists()


def test_raised_limits_are_written_and_persisted(tmp_path: Path) -> None:
    proc = _proc_sys(tmp_path / "proc", 8192, 128)
    conf = tmp_path / "99-chaosgate.conf"
    assert len(hostsetup._ensure_inotify(True, proc, conf)) == 3  # two raises and the file, not done
    assert not conf.exists()
    changes = hostsetup._ensure_inotify(False, proc, conf)
    assert changes[-1] == f"wrote {conf} so the limits survive a reboot"
    assert (proc / "fs" / "inotify" / "max_user_watches").read_text() == "524288\n"
    assert "fs.inotify.max_user_instances = 512" in conf.read_text()
    assert hostsetup._ensure_inotify(False, proc, conf) == []
