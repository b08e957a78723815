"""Stack images: pins against the charts, image specs, content keys, the wheel
index and the registry check. No Docker here (see tests/integration)."""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

from deployer import pins
from deployer.images import archive, layered, pyapp, stack, stackpins, upstream
from kernel.errors import BadInputError, InfraError

ROOT = Path(__file__).resolve().parents[2]


def _tar(path: Path, files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


@pytest.fixture
def rootfs_tar(tmp_path: Path) -> Path:
    return _tar(
        tmp_path / "rootfs.tar",
        {
            "etc/passwd": b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n",
            "etc/group": b"root:x:0:\nnogroup:x:65534:\n",
            "usr/share/ca-certificates/bundle.crt": b"-----BEGIN CERTIFICATE-----\n",
        },
        {"etc/ssl/certs/ca-certificates.crt": "/usr/share/ca-certificates/bundle.crt"},
    )


# --- pins against the charts -------------------------------------------------


def test_chart_defaults_are_the_tags_built() -> None:
    assert stackpins.chart_image("minio") == f"chaosgate/minio:{pins.MINIO.version}"
    assert stackpins.chart_image("monitoring") == f"chaosgate/prometheus:{stackpins.PROMETHEUS_RELEASE}"
    app_version = pyapp.app_version((ROOT / "app/pyproject.toml").read_text())
    assert stackpins.chart_image("app") == f"chaosgate/gateway:{app_version}"


def test_prometheus_module_version_is_the_release() -> None:
    assert stackpins.prometheus_module_version("v3.5.0") == "v0.305.0"
    assert stackpins.prometheus_module_version("v3.10.2") == "v0.310.2"
    assert stackpins.PROMETHEUS.version == stackpins.prometheus_module_version(stackpins.PROMETHEUS_RELEASE)
    assert "builtinassets" not in stackpins.PROMETHEUS.tags
    assert set(stackpins.PROMETHEUS.binaries) == {"prometheus", "promtool"}
    with pytest.raises(BadInputError, match=r"3\.x"):
        stackpins.prometheus_module_version("v2.53.0")


def test_chart_image_names_the_file_when_values_lack_an_image(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "values.yaml").write_text("replicas: 1\n")
    with pytest.raises(BadInputError, match=r"x/values.yaml"):
        stackpins.chart_image("x", charts=tmp_path)


def test_upstream_table_matches_the_pins() -> None:
    assert stackpins.UPSTREAM["minio"] == f"quay.io/minio/minio:{pins.MINIO_RELEASE}"
    assert stackpins.split_ref(stackpins.UPSTREAM["prometheus"])[1] == stackpins.PROMETHEUS_RELEASE
    ms = stackpins.split_ref(stackpins.UPSTREAM["metrics-server"])
    assert ms == ("registry.k8s.io/metrics-server/metrics-server", stackpins.METRICS_SERVER.version)
    assert stackpins.METRICS_SERVER_REF.endswith(":" + stackpins.METRICS_SERVER.version)


def test_split_ref() -> None:
    assert stackpins.split_ref("localhost:5000/a/b:1.0") == ("localhost:5000/a/b", "1.0")
    assert stackpins.split_ref("quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z")[1] == pins.MINIO_RELEASE
    with pytest.raises(BadInputError):
        stackpins.split_ref("localhost:5000/a/b")


def test_unknown_mode_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="pull, build, auto"):
        stack.ensure_stack_images("fetch")


# --- layers, accounts, keys ----------------------------------------------------


def test_owned_folders_layer(tmp_path: Path) -> None:
    folders = [layered.OwnedFolder("/prometheus", 65534, 65534, 0o775), layered.OwnedFolder("/data", 1000, 1000)]
    first = layered.write_owned_folders(tmp_path / "a.tar", folders)
    second = layered.write_owned_folders(tmp_path / "b.tar", list(reversed(folders)))
    assert first == second
    with tarfile.open(tmp_path / "a.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["data", "prometheus"]
    assert all(m.isdir() and m.mtime == 0 for m in members)
    assert (members[1].uid, members[1].gid, members[1].mode) == (65534, 65534, 0o775)
    with pytest.raises(InfraError, match="absolute"):
        layered.write_owned_folders(tmp_path / "c.tar", [layered.OwnedFolder("data", 1, 1)])


def test_read_member_follows_symlinks(rootfs_tar: Path) -> None:
    assert layered.read_member(rootfs_tar, "etc/ssl/certs/ca-certificates.crt").startswith(b"-----BEGIN")
    with pytest.raises(InfraError, match="etc/shadow"):
        layered.read_member(rootfs_tar, "etc/shadow")


def test_add_account_adds_once_and_refuses_a_taken_id() -> None:
    passwd, group = "root:x:0:0:root:/root:/bin/bash\n", "root:x:0:\n"
    p1, g1 = layered.add_account(passwd, group, "minio", 1000, "/home/minio")
    assert p1.endswith("minio:x:1000:1000:minio:/home/minio:/usr/sbin/nologin\n")
    assert g1.endswith("minio:x:1000:\n")
    assert layered.add_account(p1, g1, "minio", 1000, "/home/minio") == (p1, g1)
    with pytest.raises(InfraError, match="belongs to user 'minio'"):
        layered.add_account(p1, g1, "other", 1000, "/home/other")


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("chaosgate/minio:x", "docker.io/chaosgate/minio:x"),
        ("busybox:1", "docker.io/library/busybox:1"),
        ("quay.io/minio/minio:x", "quay.io/minio/minio:x"),
        ("localhost:5000/a:1", "localhost:5000/a:1"),
    ],
)
def test_qualified(ref: str, full: str) -> None:
    assert layered.qualified(ref) == full
    archive.check_reference(layered.qualified(ref))


def _minio(rootfs_tar: Path, binary: Path) -> layered.LayeredImage:
    return stack.minio_image(
        "chaosgate/minio:DEVELOPMENT.2026-02-12T20-18-48Z",
        binary=binary,
        version="DEVELOPMENT.2026-02-12T20-18-48Z",
        built_from="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c",
        base_tar=rootfs_tar,
        license_file=None,
    )


def test_minio_image_spec(tmp_path: Path, rootfs_tar: Path) -> None:
    binary = tmp_path / "minio"
    binary.write_bytes(b"\x7fELF minio")
    image = _minio(rootfs_tar, binary)
    entries = {e.path: e for e in image.entries}
    assert entries["/usr/local/bin/minio"].mode == 0o755
    assert entries["/etc/passwd"].data is not None
    assert b"\nminio:x:1000:1000:" in entries["/etc/passwd"].data
    assert b"nobody:x:65534" in entries["/etc/passwd"].data
    assert image.lower == [rootfs_tar]
    assert {o.path: o.uid for o in image.owned} == {"/home/minio": 1000, "/data": 1000}
    config = image.config.to_json()
    assert config["User"] == "1000:1000"
    assert config["Entrypoint"] == ["/usr/local/bin/minio"]
    assert config["Labels"][layered.VERSION_LABEL] == "DEVELOPMENT.2026-02-12T20-18-48Z"
    assert config["Labels"][layered.REVISION_LABEL] == "7aac2a2c5b7c"
    assert image.created == "2026-02-12T20:18:48Z"


def test_content_key_follows_every_input(tmp_path: Path, rootfs_tar: Path) -> None:
    binary = tmp_path / "minio"
    binary.write_bytes(b"\x7fELF minio")
    key = _minio(rootfs_tar, binary).key()
    assert _minio(rootfs_tar, binary).key() == key
    binary.write_bytes(b"\x7fELF minio, rebuilt")
    changed_binary = _minio(rootfs_tar, binary).key()
    assert changed_binary != key
    with tarfile.open(rootfs_tar, "a") as tar:
        info = tarfile.TarInfo("etc/extra")
        tar.addfile(info, io.BytesIO(b""))
    assert _minio(rootfs_tar, binary).key() != changed_binary


def test_archive_carries_the_content_key(tmp_path: Path, rootfs_tar: Path) -> None:
    binary = tmp_path / "minio"
    binary.write_bytes(b"\x7fELF minio")
    image = _minio(rootfs_tar, binary)
    work = tmp_path / "work"
    work.mkdir()
    out = layered.write_archive(image, image.key(), work)
    assert archive.archive_tags(out) == ["docker.io/chaosgate/minio:DEVELOPMENT.2026-02-12T20-18-48Z"]
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config = json.loads(tar.extractfile(manifest[0]["Config"]).read())  # type: ignore[union-attr]
    assert len(manifest[0]["Layers"]) == 3  # Debian, files, owned folders
    assert config["config"]["Labels"][layered.CONTENT_KEY_LABEL] == image.key()


def test_prometheus_and_metrics_server_specs(tmp_path: Path, rootfs_tar: Path) -> None:
    module = tmp_path / "module"
    (module / "documentation/examples").mkdir(parents=True)
    for name in ("documentation/examples/prometheus.yml", "LICENSE", "NOTICE"):
        (module / name).write_text(name)
    binaries = {name: tmp_path / name for name in ("prometheus", "promtool", "metrics-server")}
    for path in binaries.values():
        path.write_bytes(b"\x7fELF")
    prom = stack.prometheus_image("chaosgate/prometheus:v3.5.0", binaries, module, "2025-07-14T16:17:09Z", rootfs_tar)
    paths = {e.path for e in prom.entries}
    assert {"/usr/local/bin/prometheus", "/usr/local/bin/promtool", "/etc/prometheus/prometheus.yml"} <= paths
    assert prom.config.to_json()["User"] == "65534:65534"
    assert prom.config.to_json()["WorkingDir"] == "/prometheus"
    assert [(o.path, o.uid) for o in prom.owned] == [("/prometheus", 65534)]

    ms = stack.metrics_server_image(
        "chaosgate/metrics-server:v0.8.0",
        binaries["metrics-server"],
        b"certs",
        module / "LICENSE",
        "2025-07-03T08:11:27Z",
    )
    assert ms.lower == []
    entries = {e.path: e for e in ms.entries}
    assert entries["/tmp"].is_dir and entries["/tmp"].mode == 0o1777
    assert entries["/etc/ssl/certs/ca-certificates.crt"].data == b"certs"
    assert ms.config.to_json()["User"] == "1000:1000"
    assert ms.config.to_json()["Entrypoint"] == ["/metrics-server"]


def test_pseudo_version_commit() -> None:
    assert stack.pseudo_version_commit("v0.0.0-20260212201848-7aac2a2c5b7c") == "7aac2a2c5b7c"
    assert stack.pseudo_version_commit("v0.8.0") == ""


# --- the gateway's wheels and build context --------------------------------------


def test_lock_pins_every_app_requirement() -> None:
    requirements = pyapp.app_requirements((ROOT / "app/pyproject.toml").read_text())
    names = {pyapp.normalize(re.match(r"[A-Za-z0-9._-]+", r)[0]) for r in requirements}  # type: ignore[index]
    locked = {pyapp.normalize(line.split("==")[0]) for line in pyapp.GATEWAY_LOCK}
    assert "setuptools" in names and "fastapi" in names
    assert names <= locked
    assert all(line.count("==") == 1 for line in pyapp.GATEWAY_LOCK)


def test_wheel_names_and_unpinned() -> None:
    assert pyapp.wheel_name_version("pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.whl") == (
        "pydantic-core",
        "2.50.5",
    )
    wheels = ["fastapi-0.165.0-py3-none-any.whl", "Foo_Bar-1.0-py3-none-any.whl"]
    assert pyapp.unpinned(wheels, ["fastapi==0.165.0"]) == ["foo-bar==1.0"]
    with pytest.raises(InfraError):
        pyapp.wheel_name_version("fastapi-0.165.0.tar.gz")


def test_pip_target_args_cover_bookworm_only() -> None:
    args = pyapp.pip_target_args()
    platforms = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert "manylinux_2_36_x86_64" in platforms and "manylinux_2_17_x86_64" in platforms
    assert "manylinux2014_x86_64" in platforms
    assert "manylinux_2_37_x86_64" not in platforms
    assert {args[i + 1] for i, a in enumerate(args) if a == "--abi"} == {"cp311", "abi3", "none"}
    assert "--only-binary=:all:" in args


def test_simple_index_is_served(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    wheel = files / "typing_extensions-4.16.0-py3-none-any.whl"
    wheel.write_bytes(b"PK fake wheel")
    pyapp.write_simple_index([wheel], tmp_path)
    with pyapp.serve_index(tmp_path) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/simple/")
        with urllib.request.urlopen(url + "typing-extensions/", timeout=5) as response:
            page = response.read().decode()
        assert "../../files/typing_extensions-4.16.0-py3-none-any.whl#sha256=" in page
        with urllib.request.urlopen(url + "../files/" + wheel.name, timeout=5) as response:
            assert response.read() == b"PK fake wheel"


def test_dockerignore_reading_matches_docker() -> None:
    patterns = pyapp.dockerignore_patterns((ROOT / "app/.dockerignore").read_text())
    assert patterns is not None
    for path in ("tests/conftest.py", "gateway/__pycache__/api.cpython-311.pyc", "gateway.egg-info/PKG-INFO"):
        assert pyapp.is_ignored(path, patterns), path
    for path in ("gateway/api.py", "pyproject.toml", "Dockerfile", "README.md"):
        assert not pyapp.is_ignored(path, patterns), path
    assert pyapp.dockerignore_patterns("*\n!gateway\n") is None
    star = pyapp.dockerignore_patterns("*.md\n")
    assert star is not None
    assert pyapp.is_ignored("README.md", star) and not pyapp.is_ignored("docs/README.md", star)


def test_context_files_and_version_check(tmp_path: Path) -> None:
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "api.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("")
    (tmp_path / ".dockerignore").write_text("tests/\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "gateway"\nversion = "9.9.9"\n')
    assert pyapp.context_files(tmp_path) == [".dockerignore", "gateway/api.py", "pyproject.toml"]
    with pytest.raises(BadInputError, match=r"9\.9\.9"):
        pyapp.gateway_ref(tmp_path)


def test_python_base_dockerfile_puts_the_venv_first() -> None:
    text = pyapp.python_base_dockerfile("chaosgate/python-base:rootfs")
    assert text.startswith("FROM chaosgate/python-base:rootfs\n")
    assert "python3 -m venv /opt/python" in text
    assert "ENV PATH=/opt/python/bin:" in text
    assert set(pyapp.PYTHON_ROOTFS.packages) >= {"python3", "python3-venv"}


# --- registry check ------------------------------------------------------------------


def test_registry_check_stops_at_dns() -> None:
    probed: list[str] = []

    def probe(host: str, timeout: float) -> bool:
        probed.append(host)
        return True

    assert not upstream.registry_reachable(resolve=lambda host: host != "quay.io", probe=probe)
    assert probed == []


def test_registry_check_needs_every_host_to_answer() -> None:
    assert upstream.registry_reachable(resolve=lambda host: True, probe=lambda host, t: True)
    assert not upstream.registry_reachable(resolve=lambda host: True, probe=lambda host, t: host != "registry.k8s.io")
    assert set(upstream.REGISTRY_HOSTS) >= {"registry-1.docker.io", "quay.io"}


def test_registry_check_gives_up_after_the_timeout() -> None:
    def slow(host: str) -> bool:
        time.sleep(2.0)
        return True

    start = time.monotonic()
    assert not upstream.registry_reachable(("a.invalid",), timeout=0.2, resolve=slow, probe=lambda h, t: True)
    assert time.monotonic() - start < 1.5
