"""Fixtures for the chart tests: the pinned helm, a throw-away copy of charts/
with the umbrella's dependencies built, and renders cached per session.

No cluster is needed: everything here is `helm lint` and `helm template`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.helpers import (
    CHARTS,
    KUBE_VERSION,
    NAMESPACE,
    RELEASE,
    HelmRun,
    Rendered,
    RenderFn,
)

# Seconds; helm template of these charts takes well under one.
HELM_TIMEOUT = 120


def _resolve_helm() -> Path:
    # deployer.tools resolves the pinned helm (PATH, cache, download, build);
    # CHAOSGATE_HELM is honoured there too, and is the fallback if the
    # deployer package cannot be imported.
    try:
        from deployer.tools import resolve  # noqa: PLC0415
    except ImportError:
        explicit = os.environ.get("CHAOSGATE_HELM")
        if not explicit:
            raise
        return Path(explicit)
    return resolve("helm").path


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> HelmRun:
    """helm(*args) -> CompletedProcess, never raising, so tests can assert on
    failures too. Helm's cache, config and data folders point into a
    temporary home: no user repository config leaks in, nothing is written
    to the user's helm folders."""
    binary = _resolve_helm()
    home = tmp_path_factory.mktemp("helm-home")
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }

    def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=HELM_TIMEOUT,
            check=False,
            env=env,
        )

    return _run


@pytest.fixture(scope="session")
def charts_dir() -> Path:
    """charts/ of the repository as it is: the umbrella's charts/ folder links
    to the sibling charts, so `helm template charts/stack` works with no
    dependency build, exactly as a reviewer runs it."""
    return CHARTS


def template(
    helm: HelmRun,
    charts_dir: Path,
    chart: str,
    *values: str | Path,
    set_values: tuple[str, ...] = (),
    release: str = RELEASE,
) -> subprocess.CompletedProcess[str]:
    """`helm template` of one chart of the copy; relative values files are
    relative to that chart."""
    args: list[str | Path] = ["template", release, charts_dir / chart]
    args += ["--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for v in values:
        path = Path(v)
        args += ["--values", path if path.is_absolute() else charts_dir / chart / path]
    for s in set_values:
        args += ["--set", s]
    return helm(*args)


def _parse(text: str) -> Rendered:
    return Rendered(text, tuple(d for d in yaml.safe_load_all(text) if d))


@pytest.fixture(scope="session")
def render(helm: HelmRun, charts_dir: Path) -> RenderFn:
    """render(chart, *values_files, set_values=(), release=RELEASE) -> Rendered.

    Cached for the session: many tests look at the same render."""
    cache: dict[tuple[Any, ...], Rendered] = {}

    def _render(
        chart: str, *values: str | Path, set_values: tuple[str, ...] = (), release: str = RELEASE
    ) -> Rendered:
        key = (chart, values, set_values, release)
        if key not in cache:
            result = template(helm, charts_dir, chart, *values, set_values=set_values, release=release)
            assert result.returncode == 0, (
                f"helm template {chart} {values} {set_values} failed:\n{result.stderr}"
            )
            cache[key] = _parse(result.stdout)
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def render_fresh(helm: HelmRun, charts_dir: Path) -> RenderFn:
    """Like render, but renders every time (for randomness per render)."""

    def _render(chart: str, *values: str | Path, set_values: tuple[str, ...] = ()) -> Rendered:
        result = template(helm, charts_dir, chart, *values, set_values=set_values)
        assert result.returncode == 0, result.stderr
        return _parse(result.stdout)

    return _render
