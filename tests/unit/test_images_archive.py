"""Image archives written without Docker: layout, reproducibility, tags."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from deployer.images import archive
from kernel.errors import InfraError


def _layer(tmp_path: Path, name: str) -> tuple[Path, str]:
    binary = tmp_path / "etcd-bin"
    binary.write_bytes(b"\x7fELF fake etcd")
    out = tmp_path / name
    digest = archive.write_layer(
        out,
        [
            archive.executable("/usr/local/bin/etcd", binary),
            archive.text_file("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n"),
            archive.symlink("/bin/etcd", "/usr/local/bin/etcd"),
            archive.folder("/tmp", 0o1777),
        ],
    )
    return out, digest


def test_layer_is_reproducible_and_adds_parents(tmp_path: Path) -> None:
    first, digest1 = _layer(tmp_path, "a.tar")
    _second, digest2 = _layer(tmp_path, "b.tar")
    assert digest1 == digest2 == "sha256:" + hashlib.sha256(first.read_bytes()).hexdigest()
    with tarfile.open(first) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == sorted(members)
    assert {"usr", "usr/local", "usr/local/bin", "etc", "bin", "tmp"} <= set(members)
    etcd = members["usr/local/bin/etcd"]
    assert etcd.mode == 0o755 and etcd.uid == 0 and etcd.mtime == 0
    assert members["bin/etcd"].issym() and members["bin/etcd"].linkname == "/usr/local/bin/etcd"
    assert members["tmp"].mode == 0o1777


@pytest.mark.parametrize("bad", ["relative/path", "/../etc/passwd", "/"])
def test_entries_must_be_absolute_and_inside(bad: str) -> None:
    with pytest.raises(InfraError):
        archive.text_file(bad, "x")


def test_entry_needs_exactly_one_kind(tmp_path: Path) -> None:
    with pytest.raises(InfraError, match="exactly one"):
        archive.Entry("/x", data=b"a", is_dir=True)
    with pytest.raises(InfraError, match="twice"):
        archive.write_layer(tmp_path / "l.tar", [archive.text_file("/a", "1"), archive.text_file("/a", "2")])


def test_docker_archive_layout(tmp_path: Path) -> None:
    layer, digest = _layer(tmp_path, "layer.tar")
    out = tmp_path / "etcd.tar"
    config = archive.ImageConfig(entrypoint=["/usr/local/bin/etcd"], user="0", stop_signal="SIGTERM")
    image_id = archive.write_docker_archive(
        out, ["registry.k8s.io/etcd:3.6.5-0"], [layer, layer], config, "2025-09-19T19:32:08Z"
    )
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config_blob = tar.extractfile(manifest[0]["Config"]).read()  # type: ignore[union-attr]
    hex_digest = digest.removeprefix("sha256:")
    # the same layer twice is stored once but listed twice, as docker save does
    assert names.count(f"{hex_digest}/layer.tar") == 1
    assert manifest[0]["Layers"] == [f"{hex_digest}/layer.tar"] * 2
    assert manifest[0]["RepoTags"] == ["registry.k8s.io/etcd:3.6.5-0"]
    assert image_id == "sha256:" + hashlib.sha256(config_blob).hexdigest()
    document = json.loads(config_blob)
    assert document["rootfs"]["diff_ids"] == [digest, digest]
    assert document["config"]["Entrypoint"] == ["/usr/local/bin/etcd"]
    assert document["config"]["Env"] == [archive.DEFAULT_PATH]
    assert document["config"]["StopSignal"] == "SIGTERM"
    assert archive.archive_tags(out) == ["registry.k8s.io/etcd:3.6.5-0"]


@pytest.mark.parametrize(
    "reference",
    ["registry.k8s.io/pause:3.10", "docker.io/kindest/local-path-helper:v20241212-8ac705d0", "localhost/x:1"],
)
def test_fully_qualified_references_pass(reference: str) -> None:
    archive.check_reference(reference)


@pytest.mark.parametrize("reference", ["pause:3.10", "kindest/kindnetd:v1", "registry.k8s.io/pause", "x.io/a:b/c"])
def test_references_containerd_would_rename_fail(reference: str) -> None:
    with pytest.raises(InfraError):
        archive.check_reference(reference)


def test_multi_image_archive_shares_layers(tmp_path: Path) -> None:
    base, base_digest = _layer(tmp_path, "base.tar")
    top = tmp_path / "top.tar"
    top_digest = archive.write_layer(top, [archive.text_file("/etc/motd", "hi\n")])
    out = tmp_path / "all.tar"
    images = [
        archive.ArchiveImage(["registry.k8s.io/a:1"], [base, top], archive.ImageConfig(entrypoint=["/a"])),
        archive.ArchiveImage(["docker.io/kindest/b:2"], [base], archive.ImageConfig()),
    ]
    ids = archive.write_multi_archive(out, images)
    assert len(set(ids)) == 2
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    layer_names = sorted(n for n in names if n.endswith("/layer.tar"))
    assert layer_names == sorted(f"{d.removeprefix('sha256:')}/layer.tar" for d in (base_digest, top_digest))
    assert [m["RepoTags"] for m in manifest] == [["registry.k8s.io/a:1"], ["docker.io/kindest/b:2"]]
    assert archive.archive_tags(out) == ["registry.k8s.io/a:1", "docker.io/kindest/b:2"]


def test_one_tag_for_two_images_is_refused(tmp_path: Path) -> None:
    layer, _ = _layer(tmp_path, "l.tar")
    image = archive.ArchiveImage(["registry.k8s.io/a:1"], [layer], archive.ImageConfig())
    with pytest.raises(InfraError, match="two images"):
        archive.write_multi_archive(tmp_path / "x.tar", [image, image])
