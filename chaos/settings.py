"""The run's settings: one typed object, each field with its flag, env var,
unit and the reason for its default.

The pytest options, the env vars, the README table and the report's
"effective settings" all come from the fields below, so they cannot drift
apart. Bad input fails here, early, naming the field and the fix.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos import catalog, slo
from deployer import target as target_mod
from deployer.images.upstream import PullSource
from deployer.providers import ClusterOptions
from deployer.target import Target
from deployer.up import UpOptions
from kernel.errors import BadInputError

CLUSTERS = ("kind", "existing")
PROFILES = tuple(slo.PROFILES)
MAX_LOAD_WORKERS = 16
MAX_ROUNDS = 50


def option(flag: str, help: str, **extra: Any) -> Any:
    """Field metadata: the CLI flag (the env var is derived from it) and help text."""
    env = "CHAOSGATE_" + flag.lstrip("-").upper().replace("-", "_")
    return field(metadata={"flag": flag, "env": env, "help": help}, **extra)


@dataclass(frozen=True)
class Settings:
    cluster: str = option(
        "--cluster",
        "kind: create (or reuse) a local kind cluster; existing: use the cluster of --kube-context.",
        default="kind",
    )
    cluster_name: str = option(
        "--cluster-name",
        "Name of the kind cluster. A fixed default lets --reuse-cluster find it again.",
        default="chaosgate",
    )
    kube_context: str = option(
        "--kube-context",
        "Context of an existing cluster (only with --cluster existing).",
        default="",
    )
    allowed_contexts: tuple[str, ...] = option(
        "--allowed-contexts",
        "Comma-separated contexts chaosgate may touch with --cluster existing. Empty by default so a "
        "production context is never used by accident.",
        default=(),
    )
    keep_cluster: bool = option("--keep-cluster", "Keep the kind cluster after the run (for debugging).", default=False)
    reuse_cluster: bool = option(
        "--reuse-cluster",
        "Reuse a kind cluster of the same name if it exists instead of recreating it.",
        default=False,
    )
    images: str = option(
        "--images",
        "pull: from registries; build: from pinned sources; auto: pull when a registry answers, else build.",
        default="auto",
    )
    registry_mirror: str = option(
        "--registry-mirror",
        "HOST[:PORT][/PATH] of one registry that serves every pulled image as MIRROR/<registry host>/<path> "
        "(a pull-through cache or a copy for machines without internet); --images auto then asks only it. "
        "Empty: the upstream registries.",
        default="",
    )
    node_image: str = option(
        "--node-image",
        "kind node image to pull (pull mode), e.g. another Kubernetes version. Empty: the pinned kindest/node "
        "digest that the pinned kind release names.",
        default="",
    )
    workers: int = option(
        "--workers",
        "kind worker nodes. Two: MinIO pods spread over more than one node, so node loss is a real test, "
        "and still fits a 2-core machine.",
        default=2,
    )
    report_dir: Path = option(
        "--report-dir",
        "Where run folders go (one per run, named by start time). Never next to code.",
        default=Path("runs"),
    )
    profile: str = option(
        "--profile",
        "Load, durations and scenario set: quick (CI-sized load and outages, the core scenarios), full (quick's "
        "load, every scenario), standard (twice the users, longer outages, larger objects under a lower byte "
        "budget, every scenario). Numbers: docs/reference/profiles.md.",
        default="quick",
    )
    slo_file: Path | None = option(
        "--slo-file",
        "YAML file overriding the default SLOs (availability, recovery times, HPA timings); "
        "default: the target file's slo, else the built-in SLOs.",
        default=None,
    )
    target: Path = option(
        "--target",
        "Target file: the stack to deploy and what the scenarios act on (targets/README.md). "
        "The reference stack by default.",
        default=target_mod.REFERENCE,
    )
    pull_images: tuple[str, ...] = option(
        "--pull-image",
        "Comma-separated NAME=REF: the target's image NAME is pulled by reference (a tag, a digest, or both) "
        "instead of coming from the source the target file names; a release gate passes the image about to "
        "ship. Pulled through --registry-mirror when set; unpullable is bad input (exit 2).",
        default=(),
    )

    load_workers: int = option(
        "--load-workers",
        "Locust workers as pods in the cluster (Locust's distributed mode, the master next to the harness). "
        "0 runs Locust as one local process, which a 2-core machine's HPA scenario needs no more than.",
        default=0,
    )
    load_master_host: str = option(
        "--load-master-host",
        "Where worker pods reach the Locust master on this machine (it listens only there). Default on kind: "
        "this machine's address on kind's Docker network; elsewhere it must be given.",
        default="",
    )

    helper_image: str = option(
        "--helper-image",
        "Image of chaosgate's pods in the cluster (relay, Locust workers) as the cluster can pull it, e.g. "
        "chaosgate/loadgen pushed to your registry. Default: built here and loaded into kind's nodes, "
        "which only a kind cluster can use.",
        default="",
    )

    resurrection_rounds: int = option(
        "--resurrection-rounds",
        "Rounds of the delete-resurrection scenarios on one cluster (each: write, lose write quorum, "
        "overwrite and delete, recover, read back; about a minute). 3 shows a rate; 10 or more to prove "
        "a fix holds.",
        default=3,
    )

    stop_on_preflight: bool = option(
        "--stop-on-preflight",
        "End the run when the preflight row fails (an error finding not waived in the target file). Off by "
        "default: the scenarios still run, so a release manager sees both the findings and what they cost.",
        default=False,
    )

    def __post_init__(self) -> None:
        _one_of("cluster", self.cluster, CLUSTERS)
        if not 1 <= self.resurrection_rounds <= MAX_ROUNDS:
            raise BadInputError(f"--resurrection-rounds must be 1..{MAX_ROUNDS}, got {self.resurrection_rounds}")
        if not 0 <= self.load_workers <= MAX_LOAD_WORKERS:
            raise BadInputError(f"--load-workers must be 0..{MAX_LOAD_WORKERS}, got {self.load_workers}")
        _one_of("profile", self.profile, PROFILES)
        self.up_options()  # the deployer's own checks of name, workers and image mode
        if self.cluster == "existing":
            if not self.kube_context:
                raise BadInputError("--cluster existing needs --kube-context (CHAOSGATE_KUBE_CONTEXT)")
            if self.kube_context not in self.allowed_contexts:
                raise BadInputError(
                    f"context {self.kube_context!r} is not in --allowed-contexts "
                    f"({', '.join(self.allowed_contexts) or 'empty'}); add it there to let chaosgate "
                    "inject faults into that cluster"
                )
        elif self.kube_context:
            raise BadInputError("--kube-context is only used with --cluster existing")
        if self.slo_file is not None and not self.slo_file.is_file():
            raise BadInputError(f"slo_file {self.slo_file} does not exist")

    def load_target(self) -> Target:
        """The target file, checked (BadInputError naming the field and the fix)."""
        target = target_mod.load(self.target)
        catalog.check_names(target.scenarios, f"target file {target.file}: scenarios")
        return target_mod.with_pulled(target, self._pulled())

    def _pulled(self) -> dict[str, str]:
        refs = {}
        for item in self.pull_images:
            name, sep, ref = item.partition("=")
            if not sep or not name.strip() or not ref.strip():
                raise BadInputError(f"--pull-image {item!r}: fix: write NAME=REF, e.g. minio=reg/minio:2026-02-12")
            refs[name.strip()] = ref.strip()
        return refs

    def slo_path(self, target: Target) -> Path | None:
        """--slo-file when given, else the target's own SLO file."""
        return self.slo_file if self.slo_file is not None else target.slo

    def pull_source(self) -> PullSource:
        """Where pulled images come from (checked: BadInputError names the flag)."""
        return PullSource(mirror=self.registry_mirror, node_image=self.node_image)

    def up_options(self) -> UpOptions:
        """The deployer's options for the kind cluster these settings ask for."""
        return UpOptions(
            cluster_name=self.cluster_name,
            workers=self.workers,
            images=self.images,
            pull=self.pull_source(),
            reuse=self.reuse_cluster,
            keep_on_failure=self.keep_cluster,
            target=self.load_target(),
        )

    def cluster_options(self) -> ClusterOptions:
        """The deployer's options for an existing cluster (--cluster existing)."""
        return ClusterOptions(
            kube_context=self.kube_context,
            images=self.images,
            pull=self.pull_source(),
            helper_image=self.helper_image,
            load_workers=self.load_workers,
            load_master_host=self.load_master_host,
        )

    def effective(self) -> dict[str, str]:
        """The settings as strings, for the report, with what the profile sets
        (users, durations, the load's size mix, overwrites, deletes, byte budget)."""
        shown = {f.name: _show(getattr(self, f.name)) for f in dataclasses.fields(self)}
        profile = slo.PROFILES[self.profile].to_dict()
        shown.update({f"profile.{key}": _show(value) for key, value in profile.items() if key != "name"})
        return shown


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise BadInputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


def _parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise BadInputError(f"{name} must be true or false, got {text!r}")


def _parse_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadInputError(f"{name} must be a whole number, got {text!r}") from None


_PARSERS: dict[str, Callable[[str, str], object]] = {
    "bool": _parse_bool,
    "int": _parse_int,
    "tuple[str, ...]": lambda _n, t: tuple(x.strip() for x in t.split(",") if x.strip()),
    "Path": lambda _n, t: Path(t).expanduser(),
    "Path | None": lambda _n, t: Path(t).expanduser() if t else None,
    "str": lambda _n, t: t,
}


def fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


def from_sources(flags: Mapping[str, object | None], env: Mapping[str, str] = os.environ) -> Settings:
    """Build settings from CLI values (None = not given) over env vars over defaults."""
    values: dict[str, object] = {}
    for f in fields():
        given = flags.get(f.name)
        if given is not None and given is not False:
            values[f.name] = _coerce(f, given)
        elif f.metadata["env"] in env:
            values[f.name] = _coerce(f, env[f.metadata["env"]])
    return Settings(**values)  # type: ignore[arg-type]


def _coerce(f: dataclasses.Field[Any], value: object) -> object:
    if not isinstance(value, str):
        return value
    parser = _PARSERS[str(f.type)]
    return parser(f"{f.metadata['flag']} / {f.metadata['env']}", value)
