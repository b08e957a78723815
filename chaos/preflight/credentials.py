"""CG001: credentials written as literal values, in the manifests or in the
Helm values files they were rendered from."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from chaos.preflight.findings import ERROR, Finding
from chaos.preflight.manifests import Doc, as_dict, as_list, b64_text, dig, iter_containers, object_ref
from chaos.preflight.servers import parse_env_file

CHECK = "CG001-literal-credentials"
WHY = (
    "a credential written into a manifest or values file is readable by everyone who can read the repository, "
    "the Helm release history or the object, and is the same in every install; with MinIO's root credentials "
    "that is enough to delete every object."
)
FIX = (
    "reference an existing Secret (valueFrom.secretKeyRef / auth.existingSecret) or let the chart or the deployer "
    "generate one per install; never put credentials in values files."
)
ENV_NAMES = frozenset({"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"})
ENV_PARTS = ("PASSWORD", "PASSWD", "SECRET_KEY", "SECRETKEY", "ACCESS_KEY", "ACCESSKEY", "ROOT_USER")
VALUE_KEY_ENDINGS = ("password", "passwd", "secretkey", "accesskey", "rootuser")
"""Endings of values-file keys (lower case, letters and digits only) that hold a
credential; `passwordKey` or `existingSecret` name where one is and do not."""
ONLY_REFERENCES = re.compile(r"^(\s|\$\((?:[^()]|\([^()]*\))*\)|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*?\}\})+$")
"""Values made only of substitutions: Kubernetes' $(VAR), the shell's ${VAR},
$VAR and $(command), Helm's {{ ... }}. The credential is read at run time
from somewhere else (a Secret, a mounted file), which is how it should arrive."""
A_PATH = re.compile(r"^(/|\.{1,2}/|~/)[\w.@%+=:,/-]*$")
"""A file path with no spaces, e.g. a temp file a script writes the keys to
(MinIO's community chart: MINIO_ACCESSKEY_SECRETKEY_TMP="/tmp/..."). Names
say where a credential is, not what it is."""
PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "replaceme",
        "replace-me",
        "password",
        "secret",
        "todo",
        "xxx",
        "minioadmin",
        "minio123",
        "admin",
        "example",
        "placeholder",
    }
)
"""Well-known stand-ins. They are still flagged: a pod runs with whatever the
manifest says, and these are the first values anyone tries."""
EMPTY, PATH, REFERENCE, PLACEHOLDER, LITERAL = "empty", "path", "reference", "placeholder", "literal"


def is_credential_env(name: str) -> bool:
    upper = name.upper().replace("-", "_").replace(".", "_")
    if upper.endswith("_FILE"):
        return False  # a path to a mounted file, which is how a credential should arrive
    return upper in ENV_NAMES or any(part in upper for part in ENV_PARTS)


def is_credential_key(key: str) -> bool:
    plain = re.sub(r"[^a-z0-9]", "", key.lower())
    return plain.endswith(VALUE_KEY_ENDINGS)


def value_kind(value: Any) -> str:
    """What a value given to a credential name is: EMPTY (unset: the chart or
    the server generates one), PATH or REFERENCE (the credential is elsewhere),
    PLACEHOLDER (a guessable stand-in, still a credential) or LITERAL."""
    if isinstance(value, bool) or value is None or not str(value).strip():
        return EMPTY
    text = str(value).strip()
    if ONLY_REFERENCES.match(text):
        return REFERENCE
    if A_PATH.match(text):
        return PATH
    plain = text.strip("<>*[]{}").lower()
    if plain in PLACEHOLDERS or re.fullmatch(r"x{3,}|\*{3,}", plain) or (text.startswith("<") and text.endswith(">")):
        return PLACEHOLDER
    return LITERAL


def is_literal(value: Any) -> bool:
    """A credential written into the file: a literal or a placeholder."""
    return value_kind(value) in (PLACEHOLDER, LITERAL)


def _why(name: str, value: Any) -> str:
    if value_kind(value) == PLACEHOLDER:
        return f"{name} is the placeholder {str(value).strip()!r}, and a placeholder is guessed first"
    return f"{name} is a literal value"


def check_credentials(manifests: Sequence[Doc], values_texts: Mapping[str, str]) -> list[Finding]:
    literals = dict(values_literals(values_texts))
    findings = [
        Finding(CHECK, ERROR, f"ValuesFile/{file}", field, f"{_why(field, value)}; {WHY}", FIX)
        for (file, field), value in literals.items()
    ]
    known = {v for value in literals.values() for v in (value, b64_text(value)) if v}
    for doc in manifests:
        findings += _env_literals(doc)
        if doc.get("kind") == "ConfigMap":
            findings += _configmap_literals(doc)
        elif doc.get("kind") == "Secret":
            findings += _secret_from_values(doc, known, sorted({f for f, _ in literals}))
    return findings


def values_literals(values_texts: Mapping[str, str]) -> Iterator[tuple[tuple[str, str], str]]:
    """((file, field), value) of every credential a values file writes literally."""
    for file, text in values_texts.items():
        try:
            tree = yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # helm refused it already; nothing rendered came from it
        for field, value in _walk_values(tree, ""):
            yield (file, field), value


def _walk_values(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        name = node.get("name")
        if isinstance(name, str) and is_credential_env(name) and is_literal(node.get("value")):
            yield f"{path}.value" if path else "value", str(node["value"])  # an env list in values
        for key, child in node.items():
            where = f"{path}.{key}" if path else str(key)
            if is_credential_key(str(key)) and not isinstance(child, Mapping | list) and is_literal(child):
                yield where, str(child)
            else:
                yield from _walk_values(child, where)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk_values(child, f"{path}[{i}]")


def _env_literals(doc: Doc) -> list[Finding]:
    findings = []
    for where, container in iter_containers(doc):
        for item in as_list(container.get("env")):
            name = str(dig(item, "name"))
            if is_credential_env(name) and is_literal(dig(item, "value")):
                field = f"{where}.env[{name}].value"
                why = f"{_why(name, dig(item, 'value'))} in the pod template; {WHY}"
                findings.append(Finding(CHECK, ERROR, object_ref(doc), field, why, FIX))
    return findings


def _configmap_literals(doc: Doc) -> list[Finding]:
    findings = []
    for key, value in as_dict(doc.get("data")).items():
        text = "" if value is None else str(value)
        if not is_literal(text):
            continue
        names = [str(key)] if is_credential_env(str(key)) or is_credential_key(str(key)) else []
        # A key may hold an env file (MINIO_CONFIG_ENV_FILE): its lines are variables too.
        names += [k for k, v in parse_env_file(text).items() if is_credential_env(k) and is_literal(v)]
        for name in dict.fromkeys(names):
            why = f"ConfigMap key {key} holds {name} in plain text (ConfigMaps are not secret); {WHY}"
            findings.append(Finding(CHECK, ERROR, object_ref(doc), f"data[{key}]", why, FIX))
    return findings


def _secret_from_values(doc: Doc, known: set[str], files: list[str]) -> list[Finding]:
    findings = []
    for group in ("data", "stringData"):
        for key, value in as_dict(doc.get(group)).items():
            text = str(value)
            plain = b64_text(text) if group == "data" else text
            if text in known or plain in known:
                why = f"the value of {key} is written in a values file ({', '.join(files)}); {WHY}"
            elif files and (is_credential_key(str(key)) or is_credential_env(str(key))):
                why = (
                    f"the values files ({', '.join(files)}) hold literal credentials and this Secret's {key} "
                    f"is most likely rendered from them; {WHY}"
                )
            else:
                continue
            findings.append(Finding(CHECK, ERROR, object_ref(doc), f"{group}[{key}]", why, FIX))
    return findings
