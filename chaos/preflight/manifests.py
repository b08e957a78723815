"""Reading rendered manifests: object names, pod templates, label selectors,
and which workloads run MinIO servers."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kernel.errors import BadInputError

Doc = dict[str, Any]

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
MINIO_KINDS = ("StatefulSet", "Deployment")


def meta(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    found = doc.get("metadata")
    return found if isinstance(found, Mapping) else {}


def name_of(doc: Mapping[str, Any]) -> str:
    return str(meta(doc).get("name", ""))


def namespace_of(doc: Mapping[str, Any]) -> str:
    return str(meta(doc).get("namespace") or "")


def object_ref(doc: Mapping[str, Any]) -> str:
    """ "ns/Kind/name", or "Kind/name" when the manifest names no namespace."""
    ref = f"{doc.get('kind', '?')}/{name_of(doc)}"
    namespace = namespace_of(doc)
    return f"{namespace}/{ref}" if namespace else ref


def dig(value: Any, *keys: str) -> Any:
    """value[k1][k2]... or None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def find(manifests: Sequence[Doc], kind: str, name: str, namespace: str) -> Doc | None:
    """The object of that kind and name; an unset namespace matches any (helm
    template leaves it out unless the chart writes it)."""
    for doc in manifests:
        if doc.get("kind") == kind and name_of(doc) == name:
            other = namespace_of(doc)
            if not namespace or not other or other == namespace:
                return doc
    return None


def same_namespace(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    first, second = namespace_of(a), namespace_of(b)
    return not first or not second or first == second


def pod_spec_path(doc: Mapping[str, Any]) -> tuple[str, ...] | None:
    return POD_SPEC_PATHS.get(str(doc.get("kind")))


def pod_spec(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    path = pod_spec_path(doc)
    spec = dig(doc, *path) if path else None
    return spec if isinstance(spec, dict) else None


def pod_labels(doc: Mapping[str, Any]) -> dict[str, str]:
    """Labels of the pods a workload makes (of a bare Pod: its own)."""
    path = pod_spec_path(doc)
    if not path:
        return {}
    labels = dig(doc, *path[:-1], "metadata", "labels") if len(path) > 1 else meta(doc).get("labels")
    return {str(k): str(v) for k, v in as_dict(labels).items()}


def decoded_data(doc: Mapping[str, Any]) -> dict[str, str]:
    """The key -> text of a ConfigMap or Secret (Secret data base64-decoded)."""
    out = {str(k): str(v) for k, v in as_dict(doc.get("data")).items() if v is not None}
    if doc.get("kind") == "Secret":
        out = {k: b64_text(v) or v for k, v in out.items()}
        out.update({str(k): str(v) for k, v in as_dict(doc.get("stringData")).items() if v is not None})
    return out


def b64_text(value: str) -> str | None:
    """The UTF-8 text a base64 string encodes, or None when it is not one."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
        text = raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if text and text.isprintable() else None


# --- label selectors -------------------------------------------------------------------

SELECTOR_TERM = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)?\s*([A-Za-z0-9_.-]*)\s*$")


def parse_selector(text: str) -> list[tuple[str, str, str]]:
    """'k=v,k2!=v2,k3' -> [(key, op, value)]; BadInputError on anything else."""
    terms = []
    for part in text.split(","):
        found = SELECTOR_TERM.match(part)
        if not part.strip() or not found:
            raise BadInputError(
                f"minio selector {text!r}: {part.strip()!r} is not a label requirement; "
                "fix: write key=value pairs separated by commas, e.g. app.kubernetes.io/name=minio"
            )
        key, op, value = found.groups()
        if op and not value:
            raise BadInputError(f"minio selector {text!r}: {key}{op} has no value; fix: write {key}{op}<value>")
        terms.append((key, op or "exists", value))
    return terms


def selector_matches(terms: Sequence[tuple[str, str, str]], labels: Mapping[str, str]) -> bool:
    for key, op, value in terms:
        if op == "exists" and key not in labels:
            return False
        if op in {"=", "=="} and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
    return True


def label_selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector; an empty one matches everything, a missing one nothing."""
    if not isinstance(selector, Mapping):
        return False
    for key, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in as_list(selector.get("matchExpressions")):
        key, op = str(dig(expr, "key")), str(dig(expr, "operator"))
        values = {str(v) for v in as_list(dig(expr, "values"))}
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


# --- MinIO servers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A StatefulSet or Deployment that runs MinIO servers, and its server container."""

    doc: Doc
    pod: Doc
    labels: dict[str, str]
    container: Doc

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def name(self) -> str:
        return name_of(self.doc)

    @property
    def ref(self) -> str:
        return object_ref(self.doc)

    @property
    def replicas(self) -> int:
        value = dig(self.doc, "spec", "replicas")
        return value if isinstance(value, int) else 1

    @property
    def container_field(self) -> str:
        return f"spec.template.spec.containers[{self.container.get('name', '?')}]"


def image_name(image: str) -> str:
    """'quay.io/minio/minio:RELEASE...' -> 'minio' (the last path part, no tag or digest)."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def command_words(container: Mapping[str, Any]) -> list[str]:
    """command + args, with shell scripts (sh -c "...") split into words."""
    words: list[str] = []
    for item in as_list(container.get("command")) + as_list(container.get("args")):
        words += str(item).split()
    return words


def is_minio_server(container: Mapping[str, Any]) -> bool:
    """MinIO's server image or a `minio server` command; the client (mc) is not."""
    words = [w.rsplit("/", 1)[-1].strip("'\"") for w in command_words(container)]
    if "minio" in words and "server" in words:
        return True
    name = image_name(str(container.get("image", "")))
    runs_server = not words or "server" in words
    return "minio" in name and name not in {"mc", "minio-client"} and runs_server


def minio_workloads(manifests: Sequence[Doc], selector: str | None) -> list[Workload]:
    """MinIO server workloads: pod templates the selector matches, or (without
    one) workloads with a MinIO server container."""
    terms = parse_selector(selector) if selector is not None else None
    found = []
    for doc in manifests:
        pod = pod_spec(doc)
        if doc.get("kind") not in MINIO_KINDS or pod is None:
            continue
        labels = pod_labels(doc)
        containers = [c for c in as_list(pod.get("containers")) if isinstance(c, dict)]
        servers = [c for c in containers if is_minio_server(c)]
        if terms is not None and selector_matches(terms, labels) and containers:
            found.append(Workload(doc, pod, labels, (servers or containers)[0]))
        elif terms is None and servers:
            found.append(Workload(doc, pod, labels, servers[0]))
    if selector is not None and not found:
        raise BadInputError(
            f"minio selector {selector!r} matches no StatefulSet or Deployment pod template in the rendered "
            "manifests; fix: the target's minio.selector must match the labels of the MinIO server pods"
        )
    return found


def iter_containers(doc: Mapping[str, Any]) -> Iterator[tuple[str, Doc]]:
    """(field path, container) of every container and init container of a pod template."""
    path, pod = pod_spec_path(doc), pod_spec(doc)
    if path is None or pod is None:
        return
    for group in ("initContainers", "containers"):
        for container in as_list(pod.get(group)):
            if isinstance(container, dict):
                yield f"{'.'.join(path)}.{group}[{container.get('name', '?')}]", container
