"""What one MinIO workload's servers are told: their environment (env, envFrom
and the MINIO_CONFIG_ENV_FILE they mount), their endpoint list, and the pool
layout and data paths that follow from it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.preflight.erasure import Layout, Pool, expand, layouts, parse_pools, split_endpoint
from chaos.preflight.manifests import (
    Doc,
    Workload,
    as_dict,
    as_list,
    command_words,
    decoded_data,
    dig,
    find,
    namespace_of,
)

FLAGS_WITHOUT_VALUE = frozenset({"--quiet", "--anonymous", "--json", "--no-compat"})
"""`minio server` flags that take no value; every other flag written without
`=` consumes the next word."""
SHELL_BREAKS = frozenset({";", "&&", "||", "|", "&"})
ENV_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
PARITY = re.compile(r"^\s*EC:(\d+)\s*$")


@dataclass(frozen=True)
class Server:
    """A MinIO workload read as MinIO reads it."""

    workload: Workload
    env: dict[str, str]
    """The environment values the manifests show (values hidden in unknown objects are absent)."""
    endpoints: tuple[str, ...]
    """Endpoint arguments from the command line or MINIO_VOLUMES; empty when unknown."""
    endpoints_field: str
    """Where the endpoint list is written (a field of the workload), or ""."""
    layouts: tuple[Layout, ...]
    own: Layout | None
    """The pool this workload's pods serve, when it can be told."""
    data_paths: tuple[str, ...]
    """Drive paths inside the pod; empty when the endpoint list is unknown."""


def read_server(workload: Workload, manifests: Sequence[Doc]) -> Server:
    env, origins = container_env(workload, manifests)
    endpoints, field = endpoint_args(workload.container, env)
    field = origins.get("MINIO_VOLUMES", field) if field == "env[MINIO_VOLUMES]" else field
    custom = env.get("MINIO_ERASURE_SET_DRIVE_COUNT", "")
    parity = PARITY.match(env.get("MINIO_STORAGE_CLASS_STANDARD", ""))
    pools = parse_pools(endpoints) or [_pool_from_replicas(workload)]
    found = layouts(
        pools,
        set_drive_count=int(custom) if custom.isdigit() else 0,
        parity=int(parity.group(1)) if parity else None,
    )
    own = _own_layout(workload, found)
    # The drives this workload mounts: its own pool's paths (every pool's when
    # it cannot be told which is its own); none when no endpoint list is known.
    serving = ([own.pool] if own else pools) if endpoints else []
    paths = [path for pool in serving for arg in pool.arg.split() for path in expand(split_endpoint(arg)[1])]
    where = f"{workload.container_field}.{field}" if field else ""
    return Server(workload, env, tuple(endpoints), where, tuple(found), own, tuple(dict.fromkeys(paths)))


def _pool_from_replicas(workload: Workload) -> Pool:
    # No endpoint list in sight: one pool of this workload's pods, each with
    # as many drives as it has volume claim templates (at least one).
    drives = max(1, len(as_list(dig(workload.doc, "spec", "volumeClaimTemplates"))))
    servers = workload.replicas
    return Pool("", servers, drives, f"{workload.name}-", servers > 1, servers if servers > 1 else 0)


def _own_layout(workload: Workload, found: Sequence[Layout]) -> Layout | None:
    for layout in found:
        if layout.pool.host_prefix == f"{workload.name}-":
            return layout
    return found[0] if len(found) == 1 else None


def container_env(workload: Workload, manifests: Sequence[Doc]) -> tuple[dict[str, str], dict[str, str]]:
    """The MinIO container's environment as far as the manifests tell it, and
    for each variable the container field it comes from."""
    container, namespace = workload.container, namespace_of(workload.doc)
    env: dict[str, str] = {}
    origins: dict[str, str] = {}
    for i, source in enumerate(as_list(container.get("envFrom"))):
        prefix = str(dig(source, "prefix") or "")
        for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            obj = find(manifests, kind, str(dig(source, ref, "name")), namespace) if dig(source, ref) else None
            for key, value in decoded_data(obj).items() if obj else ():
                env[prefix + key], origins[prefix + key] = value, f"envFrom[{i}]"
    for item in as_list(container.get("env")):
        name = str(dig(item, "name"))
        if isinstance(dig(item, "value"), str | int | float):
            env[name], origins[name] = expand_refs(str(item["value"]), env), f"env[{name}]"
        elif (found := _ref_value(dig(item, "valueFrom"), manifests, namespace)) is not None:
            env[name], origins[name] = found, f"env[{name}]"
    file = env.get("MINIO_CONFIG_ENV_FILE")
    text = mounted_file(workload, file, manifests) if file else None
    if text is not None:
        # MinIO sets every variable of that file over its environment at start.
        from_file = parse_env_file(text)
        env.update(from_file)
        origins.update(dict.fromkeys(from_file, origins["MINIO_CONFIG_ENV_FILE"]))
    return env, origins


def _ref_value(value_from: Any, manifests: Sequence[Doc], namespace: str) -> str | None:
    for kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
        key_ref = as_dict(dig(value_from, ref))
        obj = find(manifests, kind, str(key_ref.get("name")), namespace) if key_ref else None
        if obj is not None:
            return decoded_data(obj).get(str(key_ref.get("key")))
    return None


def expand_refs(text: str, env: Mapping[str, str]) -> str:
    """$(VAR) (Kubernetes) and $VAR / ${VAR} (shell) replaced by known values."""

    def value(found: re.Match[str]) -> str:
        name = next(g for g in found.groups() if g)
        return env.get(name, found.group(0))

    return ENV_REF.sub(value, text)


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=value lines (with or without `export`, quotes stripped); comments skipped."""
    out = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        out[key.strip()] = value.strip().strip("'\"")
    return out


def mounted_file(workload: Workload, path: str, manifests: Sequence[Doc]) -> str | None:
    """The text of a file a ConfigMap or Secret volume puts at `path`, if rendered."""
    volumes = {str(dig(v, "name")): v for v in as_list(workload.pod.get("volumes"))}
    for mount in as_list(workload.container.get("volumeMounts")):
        mount_path = str(dig(mount, "mountPath")).rstrip("/")
        sub_path = dig(mount, "subPath")
        if sub_path:
            relative = str(sub_path) if path == mount_path else None
        else:
            relative = path[len(mount_path) + 1 :] if path.startswith(mount_path + "/") else None
        volume = volumes.get(str(dig(mount, "name")))
        if relative is None or volume is None:
            continue
        sources = as_list(dig(volume, "projected", "sources")) or [volume]
        for source in sources:
            text = _file_in_source(source, relative, manifests, namespace_of(workload.doc))
            if text is not None:
                return text
    return None


def _file_in_source(source: Any, relative: str, manifests: Sequence[Doc], namespace: str) -> str | None:
    for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
        spec = as_dict(dig(source, key))
        if not spec:
            continue
        name = str(spec.get("name") or spec.get("secretName"))
        obj = find(manifests, kind, name, namespace)
        items = {str(dig(i, "path")): str(dig(i, "key")) for i in as_list(spec.get("items"))}
        data_key = items.get(relative) if items else relative
        if obj is not None and data_key is not None:
            return decoded_data(obj).get(data_key)
    return None


def endpoint_args(container: Mapping[str, Any], env: Mapping[str, str]) -> tuple[list[str], str]:
    """The endpoint arguments of `minio server`, else MINIO_VOLUMES' words, and
    the field they come from ("args", "env[MINIO_VOLUMES]"; "" when unknown)."""
    words = [w.strip("'\"") for w in command_words(container)]
    start = next((i for i, w in enumerate(words) if w == "server"), None)
    endpoints: list[str] = []
    if start is not None:
        takes_value = False
        for word in words[start + 1 :]:
            if word in SHELL_BREAKS or word.endswith(";"):
                break
            for part in expand_refs(word, env).split():
                if takes_value and not _is_endpoint_pattern(part):
                    takes_value = False
                elif part.startswith("-"):
                    takes_value = "=" not in part and part not in FLAGS_WITHOUT_VALUE
                elif part.startswith(("/", "http://", "https://")):
                    takes_value = False
                    endpoints.append(part)
    if endpoints:
        return endpoints, "args" if container.get("args") else "command"
    volumes = env.get("MINIO_VOLUMES", "").split()
    return volumes, "env[MINIO_VOLUMES]" if volumes else ""


def _is_endpoint_pattern(word: str) -> bool:
    return word.startswith(("http://", "https://")) or "..." in word


@dataclass(frozen=True)
class Context:
    """What the rules look at: every manifest, the MinIO servers among them,
    and the schedulable node count when it is known."""

    manifests: Sequence[Doc]
    servers: Sequence[Server]
    nodes: int | None = None
