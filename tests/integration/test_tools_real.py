"""The real tools the fast tier needs, resolved the way users get them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployer import paths, tools
from deployer.pins import HELM, MINIO

REPO = Path(__file__).resolve().parents[2]


def test_minio_resolves_to_a_runnable_server_binary():
    got = tools.resolve("minio")
    assert got.source in tools.SOURCES
    out = subprocess.run([got.path, "--version"], capture_output=True, text=True, timeout=30, check=True)
    assert MINIO.parse_version(out.stdout) == got.version
    assert MINIO.compatible(got.version)


def test_helm_resolves_and_knows_the_pinned_kubernetes_minor():
    got = tools.resolve("helm")
    assert HELM.compatible(got.version)
    # A helm built without the version ldflags would assume Kubernetes 1.20.
    out = subprocess.run(
        [got.path, "version", "--template", "{{.Version}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == got.version


def _tools_cli(cache: Path) -> subprocess.CompletedProcess[str]:
    """``python -m deployer tools minio`` in a fresh process (nothing resolved in
    memory) that can find minio only in ``cache``: no CHAOSGATE_MINIO, no minio
    on PATH, downloads and builds turned off."""
    env = {k: v for k, v in os.environ.items() if k not in {tools.env_var("minio"), "XDG_CACHE_HOME"}}
    env[paths.CACHE_ENV] = str(cache)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and not Path(p, "minio").exists()
    )
    return subprocess.run(
        [sys.executable, "-m", "deployer", "tools", "minio", "--json", "--no-download", "--no-build"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_fresh_process_resolves_minio_from_the_disk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    binary = tools.resolve("minio").path
    cache = tmp_path / "cache"
    monkeypatch.setenv(paths.CACHE_ENV, str(cache))
    # Where an earlier download or build leaves it (a link: the binary is 100 MB).
    cached = tools.cache_path(MINIO)
    cached.parent.mkdir(parents=True)
    cached.symlink_to(binary)

    out = _tools_cli(cache)
    assert out.returncode == 0, out.stderr
    [got] = json.loads(out.stdout)
    assert got["source"] == "cache", got
    assert Path(got["path"]) == cached
    assert got["version"] == MINIO.parse_version(
        subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    )


def test_with_an_empty_disk_cache_the_same_process_finds_nothing(tmp_path: Path):
    # The control for the test above: its answer can only have come from the cache.
    out = _tools_cli(tmp_path / "empty-cache")
    assert out.returncode == 2, out.stdout
    assert "could not provide minio" in out.stderr
    assert "downloads and builds were turned off" in out.stderr
