"""Target files: the stack under test as data.

A target file says how to deploy a stack (Helm releases, the images they
need, named values overlays) and what the scenarios act on (MinIO's Service,
pods, StatefulSets, credentials Secret and bucket; the app's contract; the
HPA). It is checked against target.schema.json and then for what a schema
cannot say (files exist, names refer to each other) before anything is built
or deployed; every error names the field and the fix. Paths in it are
relative to the file. The topology is never declared: it is read from MinIO.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from deployer import charts, objectnames
from deployer.charts import ChartRef
from deployer.paths import SOURCE_ROOT
from kernel.errors import BadInputError

SCHEMA_FILE = Path(__file__).with_name("target.schema.json")
TARGETS = SOURCE_ROOT / "targets"
REFERENCE = TARGETS / "reference.yaml"
STACK_IMAGES = ("minio", "gateway", "prometheus")
DEFAULT_VARIANT = "default"


@dataclass(frozen=True)
class ImageSource:
    name: str
    stack: str = ""  # one of chaosgate's own images
    dockerfile: Path | None = None
    context: Path | None = None
    ref: str = ""  # the built image's name, the present image's, or the reference to pull
    pull: bool = False  # ref is pulled from its registry (the image the team ships)


@dataclass(frozen=True)
class ImageValues:
    image: str
    repository: str
    tag: str


@dataclass(frozen=True)
class Release:
    name: str
    chart: Path | ChartRef  # a local folder or .tgz, or a reference pulled at install
    values: tuple[Path, ...] = ()
    set: Mapping[str, str] = field(default_factory=dict)
    images: tuple[ImageValues, ...] = ()


@dataclass(frozen=True)
class Overlay:
    release: str
    values: tuple[Path, ...] = ()
    set: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Deploy:
    images: tuple[ImageSource, ...]
    releases: tuple[Release, ...]
    variants: Mapping[str, Overlay]


@dataclass(frozen=True)
class MinioSpec:
    service: str
    port: int
    pod_port: int
    selector: str
    statefulsets: tuple[str, ...]
    secret: str
    user_key: str
    password_key: str
    bucket: str
    create_secret: bool = False  # chaosgate makes the Secret before installing (deployer.rootsecret)


@dataclass(frozen=True)
class AppSpec:
    service: str
    port: int
    write_method: str
    write_path: str
    ack_status: tuple[int, ...]
    digest_header: str
    read_path: str
    stored_as: str
    selector: str = ""
    deployment: str = ""
    delete_path: str = ""  # empty: the app does not delete; deletes go to S3

    def object_name(self, key: str) -> str:
        """The object name in MinIO's bucket under which the app stores ``key``."""
        return objectnames.object_name(self.stored_as, key)


@dataclass(frozen=True)
class Waiver:
    """A preflight finding accepted knowingly (the check lives in chaos.preflight)."""

    check: str  # a check id, e.g. CG008-missing-probe, or its short form CG008
    object: str  # as the finding names it: [namespace/]Kind/name
    reason: str


@dataclass(frozen=True)
class ServiceRef:
    service: str
    port: int


@dataclass(frozen=True)
class Target:
    name: str
    file: Path
    namespace: str
    minio: MinioSpec
    deploy: Deploy | None = None
    app: AppSpec | None = None
    hpa: str = ""
    prometheus: ServiceRef | None = None
    # role (writeQuorumLost, serverOffline, driveOffline) -> the target's alert
    # rule name; a role not named is not checked.
    alerts: dict[str, str] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()  # empty: every scenario applies
    slo: Path | None = None
    description: str = ""
    # role -> URL the harness uses on an existing cluster (ingress, LoadBalancer).
    urls: dict[str, str] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()  # preflight findings accepted, each with its reason

    def variants(self) -> tuple[str, ...]:
        """The variants this target can deploy: the plain stack and its overlays."""
        return (DEFAULT_VARIANT, *(self.deploy.variants if self.deploy else ()))

    def applies(self, scenario: str) -> bool:
        return not self.scenarios or scenario in self.scenarios

    def services(self) -> dict[str, ServiceRef]:
        """The Services the harness and the load talk to, by role."""
        found = {"minio": ServiceRef(self.minio.service, self.minio.port)}
        if self.app is not None:
            found["app"] = ServiceRef(self.app.service, self.app.port)
        if self.prometheus is not None:
            found["prometheus"] = self.prometheus
        return found

    def cluster_urls(self) -> dict[str, str]:
        """The same Services by cluster DNS: how pods in any namespace reach them."""
        return {
            role: f"http://{ref.service}.{self.namespace}.svc.cluster.local:{ref.port}"
            for role, ref in self.services().items()
        }

    def selectors(self) -> dict[str, str]:
        """Pod selectors by role, for the pod observer."""
        found = {"minio": self.minio.selector}
        if self.app is not None and self.app.selector:
            found["app"] = self.app.selector
        return found


def load(path: Path) -> Target:
    """Read and check a target file; BadInputError naming the field and the fix."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BadInputError(f"target file {path} does not exist (give --target a YAML file, see targets/README.md)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BadInputError(f"target file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise BadInputError(f"target file {path} must be a YAML mapping with name and minio (see targets/README.md)")
    problems = schema_problems(raw)
    if problems:
        raise BadInputError(f"target file {path}:\n  " + "\n  ".join(problems))
    target = _build(raw, path.resolve())
    problems = reference_problems(target)
    if problems:
        raise BadInputError(f"target file {path}:\n  " + "\n  ".join(problems))
    return target


def with_pulled(target: Target, refs: Mapping[str, str]) -> Target:
    """``target`` with the images named in ``refs`` pulled by reference instead
    of from the source its file names (``--pull-image NAME=REF``: a release
    gate tests the image about to ship); BadInputError naming the problem."""
    if not refs:
        return target
    if target.deploy is None:
        raise BadInputError(
            f"--pull-image: target {target.name} is used as deployed (no deploy:), so chaosgate installs no "
            "image; fix: drop --pull-image, or give the target a deploy: section"
        )
    known = sorted(i.name for i in target.deploy.images)
    unknown = sorted(set(refs) - set(known))
    if unknown:
        raise BadInputError(
            f"--pull-image names {unknown}, not images of target {target.name}; fix: use one of {', '.join(known)}"
        )
    pattern = re.compile(_image_source_schema()["properties"]["pull"]["pattern"])
    bad = sorted(ref for ref in refs.values() if not pattern.fullmatch(ref))
    if bad:
        raise BadInputError(f"--pull-image {bad}: fix: give each NAME=REF with a tag or a digest, e.g. app=reg/app:1.2")
    images = tuple(
        ImageSource(i.name, ref=refs[i.name], pull=True) if i.name in refs else i for i in target.deploy.images
    )
    return dataclasses.replace(target, deploy=dataclasses.replace(target.deploy, images=images))


def _image_source_schema() -> dict[str, Any]:
    schema = json.loads(SCHEMA_FILE.read_text())
    source: dict[str, Any] = schema["properties"]["deploy"]["properties"]["images"]["additionalProperties"]
    return source


def schema_problems(raw: Mapping[str, Any]) -> list[str]:
    """Each schema violation as 'field: what is wrong; fix: what to write'."""
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path))):
        where = _field_path(error.absolute_path) or "(top level)"
        fix = str(error.schema.get("description", "see targets/README.md")) if isinstance(error.schema, dict) else ""
        problems.append(f"{where}: {_short(error)}; fix: {fix}")
    return problems


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    if error.validator == "oneOf":
        return "not exactly one image source"
    return str(error.message)


def _field_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _build(raw: Mapping[str, Any], file: Path) -> Target:
    base = file.parent
    minio = raw["minio"]
    creds = minio["credentials"]
    app = raw.get("app")
    prom = raw.get("prometheus")
    return Target(
        name=raw["name"],
        file=file,
        namespace=raw.get("namespace", "chaosgate"),
        description=raw.get("description", ""),
        minio=MinioSpec(
            service=minio["service"],
            port=minio["port"],
            pod_port=minio.get("podPort", minio["port"]),
            selector=minio["selector"],
            statefulsets=tuple(minio["statefulsets"]),
            secret=creds["secret"],
            user_key=creds.get("userKey", "rootUser"),
            password_key=creds.get("passwordKey", "rootPassword"),
            bucket=minio["bucket"],
            create_secret=bool(creds.get("create", False)),
        ),
        deploy=_deploy(raw["deploy"], base) if "deploy" in raw else None,
        app=_app(app) if app else None,
        hpa=raw.get("hpa", ""),
        prometheus=ServiceRef(prom["service"], prom["port"]) if prom else None,
        alerts=dict(prom.get("alerts", {})) if prom else {},
        scenarios=tuple(raw.get("scenarios", ())),
        slo=_under(base, raw["slo"]) if "slo" in raw else None,
        urls={role: str(url).rstrip("/") for role, url in raw.get("urls", {}).items()},
        waivers=tuple(
            Waiver(w["check"], w["object"], w["reason"].strip()) for w in raw.get("preflight", {}).get("waive", ())
        ),
    )


def _app(app: Mapping[str, Any]) -> AppSpec:
    write, read = app["write"], app["read"]
    return AppSpec(
        service=app["service"],
        port=app["port"],
        selector=app.get("selector", ""),
        deployment=app.get("deployment", ""),
        write_method=write.get("method", "PUT"),
        write_path=write["path"],
        ack_status=tuple(write.get("ackStatus", (200, 201))),
        digest_header=write.get("digestHeader", ""),
        read_path=read["path"],
        stored_as=app.get("storedAs", "{key}"),
        delete_path=app.get("delete", {}).get("path", ""),
    )


def _strings(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}


def _under(base: Path, relative: str) -> Path:
    # Resolved, so messages and helm arguments show plain paths.
    return (base / relative).resolve()


def _deploy(raw: Mapping[str, Any], base: Path) -> Deploy:
    images = []
    for name, src in raw.get("images", {}).items():
        dockerfile = _under(base, src["dockerfile"]) if "dockerfile" in src else None
        context = _under(base, src["context"]) if "context" in src else (dockerfile.parent if dockerfile else None)
        images.append(
            ImageSource(
                name,
                src.get("stack", ""),
                dockerfile,
                context,
                src.get("ref", src.get("present", src.get("pull", ""))),
                pull="pull" in src,
            )
        )
    releases = tuple(
        Release(
            name=r["name"],
            chart=_chart(r["chart"], base),
            values=tuple(_under(base, v) for v in r.get("values", ())),
            set=_strings(r.get("set", {})),
            images=tuple(ImageValues(i["image"], i["repository"], i["tag"]) for i in r.get("images", ())),
        )
        for r in raw["releases"]
    )
    variants = {
        name: Overlay(
            release=v.get("release", releases[0].name),
            values=tuple(_under(base, f) for f in v.get("values", ())),
            set=_strings(v.get("set", {})),
        )
        for name, v in raw.get("variants", {}).items()
    }
    return Deploy(tuple(images), releases, variants)


def _chart(raw: str | Mapping[str, Any], base: Path) -> Path | ChartRef:
    ref = charts.from_target(raw)
    return ref if ref is not None else _under(base, str(raw))


def reference_problems(target: Target) -> list[str]:
    """What the schema cannot check: files exist, names refer to each other."""
    problems: list[str] = []
    if target.deploy is not None:
        problems += _image_problems(target.deploy)
        problems += _release_problems(target.deploy)
        problems += _variant_problems(target.deploy)
    if target.slo is not None and not target.slo.is_file():
        problems.append(f"slo: {target.slo} does not exist; fix: a path relative to the target file")
    for role in sorted(set(target.urls) - set(target.services())):
        problems.append(f"urls.{role}: the target has no {role} section; fix: remove urls.{role} or add {role}")
    return problems


def _image_problems(deploy: Deploy) -> list[str]:
    problems = []
    for image in deploy.images:
        where = f"deploy.images.{image.name}"
        if image.dockerfile is not None and not image.dockerfile.is_file():
            problems.append(f"{where}.dockerfile: {image.dockerfile} does not exist; fix: a path relative to the file")
        if image.context is not None and not image.context.is_dir():
            problems.append(f"{where}.context: {image.context} is not a folder; fix: a path relative to the file")
    return problems


def _release_problems(deploy: Deploy) -> list[str]:
    problems = []
    image_names = sorted(i.name for i in deploy.images)
    names = [r.name for r in deploy.releases]
    if len(set(names)) != len(names):
        problems.append(f"deploy.releases: release names repeat ({names}); fix: give each release its own name")
    for i, release in enumerate(deploy.releases):
        where = f"deploy.releases[{i}]"
        chart = release.chart
        if isinstance(chart, Path) and not (
            (chart / "Chart.yaml").is_file() or (chart.is_file() and chart.name.endswith(".tgz"))
        ):
            problems.append(
                f"{where}.chart: {chart} is neither a chart folder (with Chart.yaml) nor a .tgz; "
                "fix: a path relative to the target file"
            )
        problems += _missing(f"{where}.values", release.values)
        for j, wanted in enumerate(release.images):
            if wanted.image not in image_names:
                problems.append(
                    f"{where}.images[{j}].image: {wanted.image!r} is not under deploy.images; "
                    f"fix: one of {image_names or 'the images you list under deploy.images'}"
                )
    return problems


def _variant_problems(deploy: Deploy) -> list[str]:
    problems = []
    names = [r.name for r in deploy.releases]
    for name, overlay in deploy.variants.items():
        if name == DEFAULT_VARIANT:
            problems.append(f"deploy.variants.{name}: 'default' is the stack without overlays; fix: rename it")
        if overlay.release not in names:
            problems.append(f"deploy.variants.{name}.release: no release {overlay.release!r}; fix: one of {names}")
        problems += _missing(f"deploy.variants.{name}.values", overlay.values)
    return problems


def _missing(where: str, files: tuple[Path, ...]) -> list[str]:
    return [
        f"{where}[{i}]: {f} does not exist; fix: a path relative to the target file"
        for i, f in enumerate(files)
        if not f.is_file()
    ]
