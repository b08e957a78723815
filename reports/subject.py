"""The top of a report: what the run tested and approved (scenarios/subject.py
collects it into subject.json while the stack runs)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FILE = "subject.json"


def gather(run_dir: Path, settings: Mapping[str, str], records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """subject.json of the run (when a stack was reached), with the profile
    and the run's wall time so far (the timeline's last second)."""
    path = run_dir / FILE
    try:
        subject: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as exc:
        subject = {"problem": f"{FILE} not read: {exc}"}
    subject["profile"] = settings.get("profile", "")
    times = [float(r["t"]) for r in records if isinstance(r.get("t"), int | float)]
    subject["wall_s"] = round(max(times), 1) if times else None
    return subject


def rows(subject: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, value) lines, in reading order; parts not read say why."""
    out: list[tuple[str, str]] = []
    target = subject.get("target")
    if isinstance(target, Mapping):
        out.append(("target", f"{target.get('name', '?')} ({target.get('file', '?')})"))
    out.append(("commit", str(subject.get("commit") or "unknown (not a git clone, no GITHUB_SHA)")))
    out.append(("profile", str(subject.get("profile") or "?")))
    wall = subject.get("wall_s")
    out.append(("wall time", f"{wall:.0f} s" if isinstance(wall, int | float) else "unknown"))
    if subject.get("problem"):
        out.append(("problem", str(subject["problem"])))
    stacks = subject.get("stacks")
    if not isinstance(stacks, Mapping) or not stacks:
        out.append(("stack", "never reached: nothing was deployed or connected"))
        return out
    for variant, stack in stacks.items():
        if not isinstance(stack, Mapping):
            continue
        where = f"{variant} variant" if variant != "default" else "stack"
        out += [(f"{where}: release", line) for line in _releases(stack.get("releases"))]
        out += [(f"{where}: image", line) for line in _images(stack.get("images"))]
        minio = stack.get("minio")
        shown = ", ".join(str(v) for v in minio) if isinstance(minio, list) else str(minio)
        out.append((f"{where}: MinIO", shown or "no server answered"))
    return out


def _releases(releases: object) -> list[str]:
    if not isinstance(releases, list):
        return [str(releases)]
    return [
        f"{r.get('release')}: {r.get('chart')} (app {r.get('app_version') or '?'}, revision {r.get('revision')}), "
        f"from {r.get('source')}"
        for r in releases
        if isinstance(r, Mapping)
    ] or ["none installed"]


def _images(images: object) -> list[str]:
    if not isinstance(images, list):
        return [str(images)]
    return [
        f"{i.get('image')} @ {i.get('digest') or 'no digest'} ({len(i.get('pods') or [])} pod(s))"
        for i in images
        if isinstance(i, Mapping)
    ]
