"""Reading kind's node image constants from its Go source."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.images import kindsource
from kernel.errors import InfraError

SAMPLE = """package nodeimage

const kindnetdImage = "docker.io/kindest/kindnetd:v20250512-df8de77b"

var defaultCNIImages = []string{kindnetdImage}

const storageProvisionerImage = "docker.io/kindest/local-path-provisioner:v1"
const storageHelperImage string = "docker.io/kindest/local-path-helper:v2"

const defaultStorageManifest = `
containers:
  - image: ` + storageProvisionerImage + `
    args: ["--helper-image", "` + storageHelperImage + `"]
`

const (
	// a comment
	kubernetesVersionLocation  = "/kind/version"
	quoted                     = "tab\\there \\"q\\""
	notAString                 = 3
)

func f() {
	x := kindnetdImage + "y"
	requiredImages = append(requiredImages, kindnetdImage)
}
"""


def test_reads_plain_raw_and_concatenated_constants() -> None:
    constants = kindsource.go_string_constants(SAMPLE)
    assert constants["kindnetdImage"] == "docker.io/kindest/kindnetd:v20250512-df8de77b"
    assert constants["storageHelperImage"] == "docker.io/kindest/local-path-helper:v2"
    assert constants["defaultStorageManifest"] == (
        "\ncontainers:\n  - image: docker.io/kindest/local-path-provisioner:v1\n"
        '    args: ["--helper-image", "docker.io/kindest/local-path-helper:v2"]\n'
    )
    assert constants["kubernetesVersionLocation"] == "/kind/version"
    assert constants["quoted"] == 'tab\there "q"'
    assert "notAString" not in constants
    assert "x" not in constants
    assert "requiredImages" not in constants


def test_names_from_other_files_resolve() -> None:
    source = "const manifest = `image: ` + kindnetdImage + `\n`\n"
    assert kindsource.go_string_constants(source, known={"kindnetdImage": "k:v"}) == {"manifest": "image: k:v\n"}
    # unknown names are skipped rather than guessed
    assert kindsource.go_string_constants(source) == {}


def test_sandbox_image_from_containerd_config() -> None:
    config = (
        '[plugins."io.containerd.grpc.v1.cri"]\n'
        "  # use fixed sandbox image\n"
        '  sandbox_image = "registry.k8s.io/pause:3.10"\n'
    )
    assert kindsource.sandbox_image(config) == "registry.k8s.io/pause:3.10"
    with pytest.raises(InfraError, match="sandbox_image"):
        kindsource.sandbox_image("version = 2\n")


def _fake_kind(tmp_path: Path) -> Path:
    nodeimage = tmp_path / "pkg" / "build" / "nodeimage"
    nodeimage.mkdir(parents=True)
    (nodeimage / "const.go").write_text('package nodeimage\nconst (\n\tdefaultCNIManifestLocation = "/kind/x"\n)\n')
    (nodeimage / "const_cni.go").write_text(
        'package nodeimage\nconst kindnetdImage = "docker.io/kindest/kindnetd:v1"\n'
        "const defaultCNIManifest = `image: ` + kindnetdImage + `\n`\n"
    )
    (nodeimage / "const_storage.go").write_text(SAMPLE)
    (nodeimage / "defaults.go").write_text('package nodeimage\nconst DefaultImage = "kindest/node:latest"\n')
    containerd = tmp_path / "images" / "base" / "files" / "etc" / "containerd"
    containerd.mkdir(parents=True)
    (containerd / "config.toml").write_text('sandbox_image = "registry.k8s.io/pause:3.10"\n')
    return tmp_path


def test_node_facts_from_a_kind_tree(tmp_path: Path) -> None:
    facts = kindsource.node_facts(_fake_kind(tmp_path))
    assert facts.cni_manifest == "image: docker.io/kindest/kindnetd:v1\n"
    assert facts.storage_provisioner_image == "docker.io/kindest/local-path-provisioner:v1"
    assert facts.sandbox_image == "registry.k8s.io/pause:3.10"
    assert facts.base_files == tmp_path / "images" / "base" / "files"


def test_node_facts_name_what_is_missing(tmp_path: Path) -> None:
    root = _fake_kind(tmp_path)
    (root / "pkg" / "build" / "nodeimage" / "const_cni.go").write_text("package nodeimage\n")
    with pytest.raises(InfraError, match="defaultCNIManifest"):
        kindsource.node_facts(root)
