"""What a run tested, for the top of its report: the target, each release's
chart (as the target names it and as Helm installed it), each image by
reference and digest (as the kubelet resolved it), MinIO's version as its
servers report it, and the commit of the repository under test where known.

Read once per stack variant, right after it is deployed and reachable, into
``subject.json`` in the run folder; reports.build puts it at the top. A
part that cannot be read says why instead: the run never fails for it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from chaos.clients import admin_client, http_pool
from kernel.errors import ChaosgateError
from scenarios.stack import Stack

FILE = "subject.json"


def record(run_dir: Path, stack: Stack) -> None:
    """Add ``stack``'s variant to the run's subject.json."""
    path = run_dir / FILE
    subject: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    target = stack.target
    subject.setdefault("target", {"name": target.name, "file": str(target.file)})
    subject.setdefault("commit", commit_of(target.file.parent))
    subject.setdefault("stacks", {})[stack.variant] = describe(stack)
    path.write_text(json.dumps(subject, indent=2, sort_keys=True) + "\n")


def describe(stack: Stack) -> dict[str, Any]:
    return {
        "namespace": stack.target.namespace,
        "releases": _releases(stack),
        "images": _images(stack),
        "minio": _minio_versions(stack),
    }


def commit_of(folder: Path) -> str | None:
    """The commit checked out where the target file lives; in CI, the
    commit the workflow runs for (GITHUB_SHA) when the folder is no clone."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    return os.environ.get("GITHUB_SHA") or None


def _releases(stack: Stack) -> list[dict[str, Any]] | str:
    named = {}
    if stack.target.deploy is not None:
        named = {r.name: str(r.chart) for r in stack.target.deploy.releases}
    try:
        raw = stack.env.helm().run(["list", "--namespace", stack.target.namespace, "--output", "json"], timeout=60)
        listed = json.loads(raw)
    except (ChaosgateError, ValueError) as exc:
        return f"not read: {exc}"
    releases = []
    for entry in listed if isinstance(listed, list) else []:
        name = str(entry.get("name", ""))
        releases.append(
            {
                "release": name,
                "chart": str(entry.get("chart", "")),  # name-version as Helm installed it
                "app_version": str(entry.get("app_version", "")),
                "revision": str(entry.get("revision", "")),
                "source": named.get(name, "installed before chaosgate"),
            }
        )
    return releases


def _images(stack: Stack) -> list[dict[str, Any]] | str:
    """Each distinct image of the namespace's running containers, with the
    digest the kubelet resolved (``imageID``) and the pods that run it."""
    try:
        pods = stack.kube.core.list_namespaced_pod(stack.target.namespace, _request_timeout=30).items
    except Exception as exc:  # noqa: BLE001 (evidence only: the API client raises many kinds)
        return f"not read: {type(exc).__name__}: {exc}"
    seen: dict[tuple[str, str], list[str]] = {}
    for pod in pods:
        for status in (pod.status.container_statuses or []) if pod.status else []:
            seen.setdefault((status.image, status.image_id or ""), []).append(pod.metadata.name)
    return [
        {"image": image, "digest": _digest(image_id), "pods": sorted(names)}
        for (image, image_id), names in sorted(seen.items())
    ]


def _digest(image_id: str) -> str:
    """``sha256:...`` from an imageID such as ``docker.io/x/y@sha256:...`` or a bare ``sha256:...``."""
    return image_id.rsplit("@", 1)[-1] if image_id else ""


def _minio_versions(stack: Stack) -> list[str] | str:
    try:
        info = json.loads(admin_client(stack.minio_url, stack.credentials, http=http_pool(read=15)).info())
    except Exception as exc:  # noqa: BLE001 (evidence only: urllib3, MinioAdminException and ValueError alike)
        return f"not read: {type(exc).__name__}: {exc}"
    servers = info.get("servers") if isinstance(info, dict) else None
    versions = {
        f"{s.get('version', '?')} (commit {s.get('commitID', '?')})" for s in servers or [] if isinstance(s, dict)
    }
    return sorted(versions)
