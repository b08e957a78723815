"""The real tools the fast tier needs, resolved the way users get them."""

import subprocess

from deployer import tools
from deployer.pins import HELM, MINIO


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


def test_second_resolution_is_served_without_building():
    first = tools.resolve("helm")
    second = tools.resolve("helm")
    assert second.path == first.path
    assert second.seconds == 0.0
    assert second.source in {"explicit", "path", "cache"}
