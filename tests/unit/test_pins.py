"""Version parsing and the PATH compatibility rules of the tool pins."""

import pytest

from deployer.pins import HELM, KIND, KUBECTL, MINIO, PINS


@pytest.mark.parametrize(
    ("pin", "output", "expected"),
    [
        (KIND, "kind v0.30.0 go1.26.8 linux/amd64", "v0.30.0"),
        (KUBECTL, '{"clientVersion": {"gitVersion": "v1.34.4", "major": "1"}}', "v1.34.4"),
        (KUBECTL, "Client Version: v1.32.4-dispatcher\nKustomize Version: v5.5.0", "v1.32.4-dispatcher"),
        (HELM, "v3.19.0", "v3.19.0"),
        (MINIO, "minio version RELEASE.2025-09-07T16-13-09Z (commit-id=abc)", "RELEASE.2025-09-07T16-13-09Z"),
        (
            MINIO,
            "minio version DEVELOPMENT.2026-02-12T20-18-48Z (commit-id=7aac)",
            "DEVELOPMENT.2026-02-12T20-18-48Z",
        ),
        (MINIO, "minio version DEVELOPMENT.GOGET", None),
        (HELM, "garbage", None),
    ],
)
def test_versions_are_read_from_real_outputs(pin, output, expected):
    assert pin.parse_version(output) == expected


@pytest.mark.parametrize(
    ("pin", "version", "ok"),
    [
        (KIND, "v0.30.1", True),
        (KIND, "v0.29.0", False),
        (KIND, "v0.31.0", False),
        (KUBECTL, "v1.33.9", True),
        (KUBECTL, "v1.35.0", True),
        (KUBECTL, "v1.32.4-dispatcher", False),
        (KUBECTL, "v1.36.0", False),
        (HELM, "v3.14.0", True),
        (HELM, "v3.13.3", False),
        (HELM, "v4.0.0", False),
        (MINIO, "RELEASE.2025-09-07T16-13-09Z", True),
        (MINIO, "RELEASE.2024-12-18T13-15-44Z", False),
    ],
)
def test_path_compatibility(pin, version, ok):
    assert pin.compatible(version) is ok


def test_every_pin_can_be_obtained_somehow():
    for pin in PINS.values():
        assert pin.download or pin.build or pin.kubernetes_binary, pin.name
        # The pinned version must itself count as compatible, or a fresh build
        # would be rejected by its own check.
        assert pin.compatible(pin.version), pin.name
