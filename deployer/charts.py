"""Charts named by reference: a chart repository with name and version, or an
``oci://`` reference with its tag (and digest where the registry gives one).

A reference is pulled once with the pinned helm (``helm pull --untar``) into
the cache folder, under a key made of the whole reference, and read from
there on every later install or render: a gate approves one chart, so the
version is exact (never a range) and a second run reads the same files.
Where nothing can be pulled (offline, a version the repository does not
have) the error is bad input naming the reference and how to vendor it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deployer import paths, tools
from kernel.errors import BadInputError, InfraError
from kernel.files import locked
from kernel.procs import run

EXACT_VERSION = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
"""A SemVer 2 version, as Helm writes chart versions; ``^5.4``, ``~5.4.0``,
``>=5`` or ``5.x`` are ranges Helm would resolve to whatever is newest."""
OCI = re.compile(r"^(?P<ref>oci://[^\s@]+?):(?P<version>[^\s:/@]+)(@(?P<digest>sha256:[0-9a-f]{64}))?$")
PULL_TIMEOUT = 180.0  # seconds; a chart is a few hundred KiB, the rest is a slow index


@dataclass(frozen=True)
class ChartRef:
    """A chart by reference; exactly one of ``repo`` and ``oci`` is set."""

    name: str
    version: str
    repo: str = ""  # an HTTP(S) chart repository (with an index.yaml)
    oci: str = ""  # oci://host/path/name, without tag
    digest: str = ""  # sha256:..., OCI only

    def __str__(self) -> str:
        if self.oci:
            return f"{self.oci}:{self.version}" + (f"@{self.digest}" if self.digest else "")
        return f"chart {self.name} {self.version} from {self.repo}"

    def key(self) -> str:
        """The cache folder's name: readable, and unique per whole reference
        (the same name and version from two repositories are two charts)."""
        whole = "\n".join((self.repo, self.oci, self.name, self.version, self.digest))
        return f"{self.name}-{self.version}-{hashlib.sha256(whole.encode()).hexdigest()[:12]}"

    def pull_args(self) -> list[str]:
        """What follows ``helm pull``: the chart and its exact version."""
        if self.oci:
            return [f"{self.oci}@{self.digest}" if self.digest else self.oci, "--version", self.version]
        return [self.name, "--repo", self.repo, "--version", self.version]


def from_target(raw: str | Mapping[str, Any]) -> ChartRef | None:
    """The reference a target file's ``chart`` names, or None for a local
    folder or .tgz. The schema has checked the shape; the version is checked
    here too, so a ChartRef made in code cannot be a range either."""
    if isinstance(raw, Mapping):
        ref = ChartRef(name=str(raw["name"]), version=str(raw["version"]), repo=str(raw["repo"]))
    elif raw.startswith("oci://"):
        match = OCI.match(raw)
        if match is None:
            raise BadInputError(
                f"chart {raw}: an oci:// chart needs its exact version as tag, e.g. oci://host/charts/minio:5.4.0"
            )
        oci = match["ref"]
        ref = ChartRef(oci.rsplit("/", 1)[-1], match["version"], oci=oci, digest=match["digest"] or "")
    else:
        return None
    if not EXACT_VERSION.match(ref.version):
        raise BadInputError(
            f"{ref}: version {ref.version!r} is not one exact version; fix: name the version the gate approves, "
            "e.g. 5.4.0 (ranges such as ^5.4 or >=5 pick whatever is newest)"
        )
    return ref


def local_chart(chart: Path | ChartRef, *, cache: Path | None = None) -> Path:
    """A path helm can install: a local chart as it is, a reference pulled
    into the cache (once). BadInputError when it cannot be pulled."""
    if isinstance(chart, Path):
        return chart
    root = (cache or paths.cache_dir()) / "charts"
    folder = root / chart.key() / chart.name
    if (folder / "Chart.yaml").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / f".{chart.key()}.lock"):
        if not (folder / "Chart.yaml").is_file():  # another run may have pulled it meanwhile
            _pull(chart, root)
    return folder


def _pull(chart: ChartRef, root: Path) -> None:
    helm = tools.resolve("helm").path
    scratch = Path(tempfile.mkdtemp(prefix=".pull-", dir=root))
    # Helm's own folders inside the cache: no repository the user added
    # leaks in, and helm writes nothing into the user's home.
    home = root / ".helm"
    env = {f"HELM_{part}_HOME": str(home / part.lower()) for part in ("CACHE", "CONFIG", "DATA")}
    try:
        try:
            run([helm, "pull", *chart.pull_args(), "--untar", "--untardir", scratch], timeout=PULL_TIMEOUT, env=env)
        except InfraError as exc:
            raise BadInputError(not_pullable(chart, str(exc))) from None
        pulled = scratch / chart.name
        _check_pulled(chart, pulled)
        keyed = root / chart.key()
        shutil.rmtree(keyed, ignore_errors=True)  # what an interrupted pull left
        keyed.mkdir()
        pulled.rename(keyed / chart.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_pulled(chart: ChartRef, pulled: Path) -> None:
    meta_file = pulled / "Chart.yaml"
    if not meta_file.is_file():
        raise BadInputError(not_pullable(chart, f"helm pull made no chart folder named {chart.name}"))
    version = str((yaml.safe_load(meta_file.read_text()) or {}).get("version", ""))
    if version.removeprefix("v") != chart.version.removeprefix("v"):
        raise BadInputError(not_pullable(chart, f"the pulled chart says version {version!r}"))


def not_pullable(chart: ChartRef, reason: str) -> str:
    """Names the reference and how to provide the chart without a pull."""
    return (
        f"{chart} could not be pulled: {reason.strip()}\n"
        f"fix: check the repository, name and version; or vendor the chart where this machine can read it: "
        f"on a machine that reaches the repository run `helm pull {' '.join(chart.pull_args())} --untar "
        f"--untardir vendor` and point the release's chart at the folder it makes (chart: vendor/{chart.name})"
    )
