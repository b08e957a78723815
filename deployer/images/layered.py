"""Small images made of a Debian layer and a few files, loaded into Docker.

Each image is written as a ``docker save`` archive (``archive``) and given to
``docker load``: no Dockerfile, no FROM, no registry. Everything that shapes
the image (layer files, added files, owners, config) is hashed into a content
key stored as a label; when the tagged image in Docker's store carries the
same key, nothing is written or loaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from deployer import paths
from deployer.images import archive
from kernel import procs
from kernel.errors import InfraError
from kernel.files import locked
from kernel.progress import phase, say

CONTENT_KEY_LABEL = "dev.chaosgate.content-key"
BUILT_FROM_LABEL = "dev.chaosgate.built-from"
VERSION_LABEL = "org.opencontainers.image.version"
REVISION_LABEL = "org.opencontainers.image.revision"

RECIPE_VERSION = "1"
"""Bump when the way images are put together changes, so cached ones are rebuilt."""

DOCKER_TIMEOUT_S = 1800.0
"""Loading a few hundred MB on a slow, shared disk."""


@dataclass(frozen=True)
class OwnedFolder:
    """A folder owned by a non-root user (``archive`` writes everything as root)."""

    path: str
    uid: int
    gid: int
    mode: int = 0o755


def write_owned_folders(out: Path, folders: Sequence[OwnedFolder]) -> str:
    """A reproducible layer of folders with owners; returns its digest. The
    parents must exist in a lower layer: none are added here."""
    for item in folders:
        pure = PurePosixPath(item.path)
        if not pure.is_absolute() or ".." in pure.parts or str(pure) == "/":
            raise InfraError(f"folder {item.path!r} must be an absolute path inside the image")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for item in sorted(folders, key=lambda f: f.path):
            info = tarfile.TarInfo(item.path.lstrip("/"))
            info.type = tarfile.DIRTYPE
            info.mtime = archive.EPOCH_MTIME
            info.uid, info.gid, info.mode = item.uid, item.gid, item.mode
            tar.addfile(info)
    tmp.replace(out)
    return archive.sha256_digest(out)


def read_member(tar_path: Path, name: str) -> bytes:
    """One regular file of a root filesystem tar (``etc/passwd``), following one
    level of symlink inside the tar (``/etc/ssl/certs/ca-certificates.crt``)."""
    with tarfile.open(tar_path) as tar:
        try:
            member = tar.getmember(name)
        except KeyError:
            raise InfraError(f"{tar_path} has no {name}") from None
        if member.issym():
            target = PurePosixPath(name).parent / member.linkname
            if member.linkname.startswith("/"):
                target = PurePosixPath(member.linkname.lstrip("/"))
            return read_member(tar_path, str(target))
        handle = tar.extractfile(member)
        if handle is None:
            raise InfraError(f"{name} in {tar_path} is not a regular file")
        return handle.read()


def add_account(passwd: str, group: str, name: str, uid: int, home: str) -> tuple[str, str]:
    """``passwd`` and ``group`` with user and group ``name`` (uid = gid) added.
    Unchanged when they are already there; an error when another name holds the id."""

    def ids(text: str) -> dict[int, str]:
        result: dict[int, str] = {}
        for line in text.splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[2].isdigit():
                result[int(fields[2])] = fields[0]
        return result

    users, groups = ids(passwd), ids(group)
    for kind, table in (("user", users), ("group", groups)):
        if table.get(uid, name) != name:
            raise InfraError(f"id {uid} already belongs to {kind} {table[uid]!r}, not {name!r}")
    if uid not in users:
        passwd = passwd.rstrip("\n") + f"\n{name}:x:{uid}:{uid}:{name}:{home}:/usr/sbin/nologin\n"
    if uid not in groups:
        group = group.rstrip("\n") + f"\n{name}:x:{uid}:\n"
    return passwd, group


def qualified(ref: str) -> str:
    """The fully qualified form a ``docker save`` archive needs (``docker load``
    shows ``chaosgate/minio:x`` for ``docker.io/chaosgate/minio:x``)."""
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return ref
    return f"docker.io/{ref}" if "/" in ref else f"docker.io/library/{ref}"


def docker_labels(ref: str) -> dict[str, str] | None:
    """The labels of a local image; None when Docker has no image of that name."""
    try:
        out = procs.run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", ref], timeout=60)
    except InfraError:
        return None
    labels = json.loads(out.stdout or "null")
    return {str(k): str(v) for k, v in (labels or {}).items()}


def image_id(ref: str) -> str | None:
    try:
        return procs.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], timeout=60).stdout.strip()
    except InfraError:
        return None


def image_size_mb(ref: str) -> float:
    out = procs.run(["docker", "image", "inspect", "--format", "{{.Size}}", ref], timeout=60)
    return round(int(out.stdout.strip()) / 1e6, 1)


def is_current(ref: str, key: str) -> bool:
    labels = docker_labels(ref)
    return labels is not None and labels.get(CONTENT_KEY_LABEL) == key


def drop_replaced(old_id: str | None, ref: str) -> None:
    """Remove the image a rebuild took the tag from, unless something still uses it."""
    if not old_id or old_id == image_id(ref):
        return
    try:
        procs.run(["docker", "rmi", old_id], timeout=120)
    except InfraError as exc:
        say(f"kept the previous image {old_id[:19]} of {ref}: {str(exc).splitlines()[-1]}")


@dataclass(frozen=True)
class LayeredImage:
    """An image: lower layers given as tar files, then ``entries`` (root-owned
    files and folders), then ``owned`` folders, and the runtime config."""

    ref: str
    """As the charts name it (``chaosgate/minio:<tag>``)."""
    lower: Sequence[Path]
    entries: Sequence[archive.Entry]
    config: archive.ImageConfig
    owned: Sequence[OwnedFolder] = ()
    created: str = "1970-01-01T00:00:00Z"
    extra_key: Sequence[str] = field(default_factory=tuple)
    """Anything else the image depends on that the parts above do not show."""

    def key(self) -> str:
        """Changes whenever a byte of the image would change."""
        parts: list[object] = [RECIPE_VERSION, self.ref, self.created, *self.extra_key]
        parts += [archive.sha256_digest(layer) for layer in self.lower]
        for entry in self.entries:
            content = archive.sha256_digest(entry.source) if entry.source else ""
            if entry.data is not None:
                content = hashlib.sha256(entry.data).hexdigest()
            parts.append([entry.path, entry.mode, entry.is_dir, entry.symlink_to, content])
        parts += [[o.path, o.uid, o.gid, o.mode] for o in self.owned]
        parts.append(self.config.to_json())
        blob = json.dumps(parts, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def ensure_image(image: LayeredImage) -> str:
    """Build and load ``image`` unless Docker already has it with the same content
    key; returns its reference."""
    key = image.key()
    if is_current(image.ref, key):
        say(f"{image.ref} is up to date (content key {key})")
        return image.ref
    root = paths.cache_dir() / "stack-images"
    name = image.ref.rsplit("/", 1)[-1].split(":", 1)[0]
    with locked(root / f".{name}.lock"):
        if is_current(image.ref, key):
            return image.ref
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
        try:
            with phase(f"write and load image {image.ref}"):
                old_id = image_id(image.ref)
                out = write_archive(image, key, work)
                procs.run(["docker", "load", "--quiet", "--input", out], timeout=DOCKER_TIMEOUT_S)
                if not is_current(image.ref, key):
                    raise InfraError(f"docker load did not tag {image.ref} with content key {key}")
                drop_replaced(old_id, image.ref)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return image.ref


def write_archive(image: LayeredImage, key: str, work: Path) -> Path:
    layers = list(image.lower)
    if image.entries:
        layers.append(work / "files.tar")
        archive.write_layer(layers[-1], image.entries)
    if image.owned:
        layers.append(work / "owned.tar")
        write_owned_folders(layers[-1], image.owned)
    labels = {**image.config.labels, CONTENT_KEY_LABEL: key}
    config = replace(image.config, labels=labels)
    out = work / "image.tar"
    archive.write_docker_archive(out, [qualified(image.ref)], layers, config, image.created)
    return out
