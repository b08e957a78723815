"""Container image archives written directly, without a registry or a daemon.

The images a kind node preloads (kube-apiserver, etcd, coredns, pause, ...) are
a binary or two on top of a shared root filesystem layer. Writing them as
``docker save`` archives (manifest.json + config + uncompressed layer tars) in
Python needs neither Docker nor network: ``ctr images import`` inside the node
and ``docker load`` both read this format, and the output is byte-for-byte
reproducible (fixed mtimes and owners, sorted entries), so an unchanged image
keeps its digest across rebuilds.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kernel.errors import InfraError

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

EPOCH_MTIME = 0
"""mtime of every entry in layers written here: stable digests beat real dates."""


@dataclass(frozen=True)
class Entry:
    """One entry of a layer: a file (from ``source`` or ``data``), a folder or a symlink."""

    path: str
    source: Path | None = None
    data: bytes | None = None
    mode: int = 0o644
    symlink_to: str = ""
    is_dir: bool = False

    def __post_init__(self) -> None:
        pure = PurePosixPath(self.path)
        if pure.is_absolute() is False or ".." in pure.parts or str(pure) == "/":
            raise InfraError(f"layer entry {self.path!r} must be an absolute path inside the image")
        kinds = [self.source is not None, self.data is not None, bool(self.symlink_to), self.is_dir]
        if sum(kinds) != 1:
            raise InfraError(f"layer entry {self.path!r} needs exactly one of source, data, symlink_to, is_dir")

    @property
    def name(self) -> str:
        return str(PurePosixPath(self.path).relative_to("/"))


def executable(path: str, source: Path) -> Entry:
    return Entry(path, source=source, mode=0o755)


def text_file(path: str, text: str, mode: int = 0o644) -> Entry:
    return Entry(path, data=text.encode(), mode=mode)


def folder(path: str, mode: int = 0o755) -> Entry:
    return Entry(path, is_dir=True, mode=mode)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, symlink_to=target, mode=0o777)


def write_layer(out: Path, entries: Iterable[Entry]) -> str:
    """Write a reproducible uncompressed layer tar; returns its ``sha256:`` digest.

    Parent folders are added (0755, root) unless given explicitly."""
    by_name: dict[str, Entry] = {}
    for entry in entries:
        if entry.name in by_name:
            raise InfraError(f"layer {out.name} lists {entry.path} twice")
        by_name[entry.name] = entry
    for name in list(by_name):
        for parent in PurePosixPath(name).parents:
            if str(parent) != "." and str(parent) not in by_name:
                by_name[str(parent)] = folder("/" + str(parent))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(by_name):
            _add(tar, name, by_name[name])
    tmp.replace(out)
    return sha256_digest(out)


def _add(tar: tarfile.TarFile, name: str, entry: Entry) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = EPOCH_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = entry.mode
    if entry.is_dir:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif entry.symlink_to:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.symlink_to
        tar.addfile(info)
    elif entry.data is not None:
        info.size = len(entry.data)
        tar.addfile(info, io.BytesIO(entry.data))
    else:
        assert entry.source is not None
        if not entry.source.is_file():
            raise InfraError(f"cannot add {entry.source} to an image: it is not a file")
        info.size = entry.source.stat().st_size
        with entry.source.open("rb") as handle:
            tar.addfile(info, handle)


def sha256_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config (what a Dockerfile's last lines set)."""

    entrypoint: Sequence[str] = ()
    cmd: Sequence[str] = ()
    env: Sequence[str] = (DEFAULT_PATH,)
    user: str = ""
    workdir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str = ""

    def to_json(self) -> dict[str, Any]:
        config: dict[str, Any] = {"Env": list(self.env)}
        if self.entrypoint:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            config["Cmd"] = list(self.cmd)
        if self.user:
            config["User"] = self.user
        if self.workdir:
            config["WorkingDir"] = self.workdir
        if self.labels:
            config["Labels"] = dict(sorted(self.labels.items()))
        if self.stop_signal:
            config["StopSignal"] = self.stop_signal
        return config


def image_config_json(config: ImageConfig, layer_digests: Sequence[str], created: str) -> bytes:
    """The image config blob (OCI image config, which Docker reads as well)."""
    document = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": config.to_json(),
        "rootfs": {"type": "layers", "diff_ids": list(layer_digests)},
        "history": [{"created": created, "created_by": "chaosgate deployer.images"} for _ in layer_digests],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ArchiveImage:
    """One image inside an archive: its tags, layers (bottom first) and config."""

    tags: Sequence[str]
    layers: Sequence[Path]
    config: ImageConfig
    created: str = "1970-01-01T00:00:00Z"


def write_docker_archive(
    out: Path, tags: Sequence[str], layers: Sequence[Path], config: ImageConfig, created: str
) -> str:
    """Write a ``docker save`` style archive of one image; returns its image id."""
    return write_multi_archive(out, [ArchiveImage(tags, layers, config, created)])[0]


def write_multi_archive(out: Path, images: Sequence[ArchiveImage]) -> list[str]:
    """Write several images into one ``docker save`` style archive, each layer stored
    once however many images share it; returns the image ids (config digests).

    One archive keeps a shared root filesystem layer from being written and
    imported once per image."""
    entries: list[dict[str, Any]] = []
    configs: dict[str, bytes] = {}
    layer_files: dict[str, Path] = {}
    by_path: dict[Path, str] = {}
    ids: list[str] = []
    for image in images:
        if not image.tags:
            raise InfraError(f"an image in {out} needs at least one tag")
        for tag in image.tags:
            check_reference(tag)
        digests = [layer_digest(layer, layer_files, by_path) for layer in image.layers]
        blob = image_config_json(image.config, digests, image.created)
        config_hex = hashlib.sha256(blob).hexdigest()
        configs[config_hex] = blob
        ids.append("sha256:" + config_hex)
        entries.append(
            {
                "Config": f"{config_hex}.json",
                "RepoTags": list(image.tags),
                "Layers": [f"{d.removeprefix('sha256:')}/layer.tar" for d in digests],
            }
        )
    all_tags = [t for image in images for t in image.tags]
    if len(set(all_tags)) != len(all_tags):
        raise InfraError(f"{out}: a tag is given to two images: {sorted(all_tags)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for config_hex, blob in configs.items():
            _add_bytes(tar, f"{config_hex}.json", blob)
        for digest, layer in layer_files.items():
            info = tarfile.TarInfo(f"{digest.removeprefix('sha256:')}/layer.tar")
            info.mtime = EPOCH_MTIME
            info.size = layer.stat().st_size
            with layer.open("rb") as handle:
                tar.addfile(info, handle)
        _add_bytes(tar, "manifest.json", json.dumps(entries, separators=(",", ":")).encode())
    tmp.replace(out)
    return ids


def layer_digest(layer: Path, seen: dict[str, Path], by_path: dict[Path, str]) -> str:
    """Digest of a layer file (each file hashed once), remembered in ``seen``
    (digest -> file) so equal layers are stored once."""
    digest = by_path.get(layer) or sha256_digest(layer)
    by_path[layer] = digest
    seen.setdefault(digest, layer)
    return digest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = EPOCH_MTIME
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def archive_tags(path: Path) -> list[str]:
    """The RepoTags of a ``docker save`` archive (what ``ctr images import`` names it)."""
    with tarfile.open(path) as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise InfraError(f"{path} has no manifest.json; not a docker image archive")
        manifest = json.loads(member.read())
    return [tag for item in manifest for tag in item.get("RepoTags") or []]


def check_reference(reference: str) -> None:
    """Fail on a tag that containerd would rename: images must carry the exact
    fully qualified name kubelet asks for (``registry.k8s.io/pause:3.10``)."""
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag or not tag:
        raise InfraError(f"image reference {reference!r} needs an explicit :tag")
    host = name.split("/", 1)[0]
    if "/" not in name or ("." not in host and ":" not in host and host != "localhost"):
        raise InfraError(f"image reference {reference!r} must start with a registry host (docker.io/...)")
