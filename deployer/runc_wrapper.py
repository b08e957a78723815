"""A runc wrapper that drops capabilities the host cannot grant, then execs runc.

Docker 20.10 asks for every capability up to ``cap_last_cap`` in a privileged
container (fixed upstream in Docker 23). When the host's bounding set lacks
one of them (CAP_SYS_RESOURCE in some VMs), runc fails with "unable to apply
caps: operation not permitted". dockerd runs this wrapper as its default
runtime: it removes the missing capabilities from the OCI bundle's
``config.json`` (``create``/``run``) or from the ``--process`` file (``exec``),
and hands over to the real runc with the arguments unchanged.

It runs for every container, so it is stdlib only, imports little, and never
blocks a container it cannot understand: anything unexpected is reported on
stderr and runc runs as it would have without the wrapper. host-setup copies
this file next to a small launcher that names the real runc and the
capabilities to drop.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection, Sequence
from typing import Any, NoReturn

CAP_KEYS = ("bounding", "effective", "inheritable", "permitted", "ambient")

# runc's global flags that take a value (urfave/cli also accepts one dash and
# ``--flag=value``); every other global flag is a boolean.
_GLOBAL_VALUE_FLAGS = frozenset({"root", "log", "log-format", "criu", "rootless"})


def subcommand(args: Sequence[str]) -> tuple[int, str] | None:
    """Index and name of runc's subcommand, skipping global flags and their values."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return (i + 1, args[i + 1]) if i + 1 < len(args) else None
        if arg.startswith("-"):
            name = arg.lstrip("-")
            i += 2 if "=" not in name and name in _GLOBAL_VALUE_FLAGS else 1
            continue
        return i, arg
    return None


def option(args: Sequence[str], names: Collection[str]) -> str | None:
    """Value of a subcommand option given as ``--name v``, ``-n v`` or ``--name=v``."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if not arg.startswith("-"):
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if name in names:
            if eq:
                return value
            if i + 1 < len(args):
                return args[i + 1]
    return None


def target_file(args: Sequence[str], cwd: str) -> tuple[str, bool] | None:
    """The JSON file to rewrite and whether its process sits under a ``process`` key
    (bundle config) rather than at the top (``exec --process`` file)."""
    found = subcommand(args)
    if found is None:
        return None
    index, command = found
    rest = args[index + 1 :]
    if command in ("create", "run"):
        bundle = option(rest, ("bundle", "b")) or cwd
        return os.path.join(cwd, bundle, "config.json"), True
    if command == "exec":
        process = option(rest, ("process", "p"))
        return (os.path.join(cwd, process), False) if process else None
    return None


def drop_caps(process: dict[str, Any], drop: Collection[str]) -> bool:
    """Remove ``drop`` from every capability list of an OCI process; True if any changed."""
    caps = process.get("capabilities")
    if not isinstance(caps, dict):
        return False
    changed = False
    for key in CAP_KEYS:
        current = caps.get(key)
        if isinstance(current, list):
            kept = [c for c in current if c not in drop]
            if len(kept) != len(current):
                caps[key] = kept
                changed = True
    return changed


def rewrite(path: str, nested: bool, drop: Collection[str]) -> bool:
    """Rewrite ``path`` in place (atomically, same mode) when it asks for a dropped cap."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    process = doc.get("process") if nested and isinstance(doc, dict) else doc
    if not isinstance(process, dict) or not drop_caps(process, drop):
        return False
    tmp = f"{path}.chaosgate-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)
    return True


def main(argv: Sequence[str], real_runc: str, drop: Collection[str]) -> NoReturn:
    """Adjust the capabilities, then become ``real_runc`` with ``argv`` unchanged."""
    if drop:
        try:
            target = target_file(argv, os.getcwd())
            if target is not None:
                rewrite(target[0], target[1], drop)
        except (OSError, ValueError) as exc:
            print(f"chaosgate runc wrapper: capabilities left unchanged: {exc}", file=sys.stderr)
    os.execv(real_runc, [real_runc, *argv])  # noqa: S606 - becoming runc is the point
