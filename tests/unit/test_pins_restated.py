"""Pins restated outside their home module stay equal to it.

Each version is written once in Python (deployer/pins.py for tools and
Kubernetes, deployer/images/stackpins.py for the stack's images,
deployer/images/gobuilds.py for the node's Go components). The README tables,
chart values and app/Dockerfile must repeat some of them; these tests fail
when a copy drifts, and the last one fails when Python code writes a pinned
value a second time instead of importing it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from deployer import pins
from deployer.images import gobuilds, nodeimage, stackpins

ROOT = Path(__file__).resolve().parents[2]
# The pins restated for people: the tools and images page.
README = (ROOT / "docs" / "tools-and-images.md").read_text()


def _minor(version: str) -> tuple[int, int]:
    major, minor = re.findall(r"\d+", version)[:2]
    return int(major), int(minor)


def _bare(component: gobuilds.GoComponent) -> str:
    return component.version.removeprefix("v")


def table_rows(markdown: str) -> dict[str, list[str]]:
    """Rows of every Markdown table, keyed by the first cell (backticks removed)."""
    rows: dict[str, list[str]] = {}
    for line in markdown.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


ROWS = table_rows(README)


def test_table_rows_reads_a_markdown_table() -> None:
    # Guards the README tests: a parser that found nothing would make them vacuous.
    text = "| tool | pin |\n|---|---|\n| `kind` | v1 |\n"
    assert table_rows(text) == {"tool": ["pin"], "kind": ["v1"]}


# --- README: tool table ----------------------------------------------------------


@pytest.mark.parametrize("pin", [pins.KIND, pins.KUBECTL, pins.HELM], ids=lambda p: p.name)
def test_readme_tool_table_names_the_pinned_version(pin: pins.ToolPin) -> None:
    assert ROWS[pin.name][0] == pin.version


def test_readme_tool_table_names_both_minio_versions() -> None:
    pin_cell = ROWS["minio"][0]
    assert f"`{pins.MINIO.version}`" in pin_cell
    assert f"`{pins.MINIO_RELEASE}`" in pin_cell
    assert f"master of {pins.MINIO_SOURCE_TIME[:10]}" in pin_cell


def test_readme_tool_table_states_the_path_rules_of_the_pins() -> None:
    kind_major, kind_minor = _minor(pins.KIND_VERSION)
    assert ROWS["kind"][1] == f"same minor (v{kind_major}.{kind_minor}.x)"
    kube_major, kube_minor = _minor(pins.KUBERNETES_VERSION)
    assert ROWS["kubectl"][1] == f"v{kube_major}.{kube_minor - 1} - v{kube_major}.{kube_minor + 1}"
    # The rule the row states is the one the code applies at its edges.
    assert pins.KUBECTL.compatible(f"v{kube_major}.{kube_minor + 1}.0")
    assert not pins.KUBECTL.compatible(f"v{kube_major}.{kube_minor + 2}.0")


# --- README: built images table --------------------------------------------------


def test_readme_image_table_names_the_node_image_and_its_components() -> None:
    row = ROWS[f"{nodeimage.NODE_REPO}:{pins.KUBERNETES_VERSION}"][0]
    assert f"Kubernetes {pins.KUBERNETES_VERSION} " in row
    assert f"etcd {_bare(gobuilds.ETCD)}," in row
    assert f"CoreDNS {_bare(gobuilds.COREDNS)}," in row
    assert f"local-path-provisioner {_bare(gobuilds.LOCAL_PATH_PROVISIONER)}," in row


def test_readme_image_table_names_the_stack_images() -> None:
    assert stackpins.chart_image("minio") in ROWS
    assert ROWS[f"chaosgate/prometheus:{stackpins.PROMETHEUS_RELEASE}"][0].startswith(
        f"Prometheus {stackpins.PROMETHEUS_RELEASE} module"
    )
    assert ROWS[stackpins.METRICS_SERVER_REF][0] == f"metrics-server {stackpins.METRICS_SERVER.version} module"
    assert f"Python {stackpins.PYTHON_VERSION} base" in ROWS[stackpins.chart_image("app")][0]


# --- charts and the app's Dockerfile ---------------------------------------------


def test_monitoring_chart_app_version_is_the_prometheus_pin() -> None:
    # The charts' default image tags are tied in test_stack_images.py.
    chart = yaml.safe_load((ROOT / "charts/monitoring/Chart.yaml").read_text())
    assert chart["appVersion"] == stackpins.PROMETHEUS_RELEASE


def test_minio_values_name_the_upstream_release_chaosgate_pulls() -> None:
    text = (ROOT / "charts/minio/values.yaml").read_text()
    assert set(re.findall(r"RELEASE\.[0-9TZ-]+", text)) == {pins.MINIO_RELEASE}


def test_app_dockerfile_defaults_to_the_pulled_python_base() -> None:
    text = (ROOT / "app/Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={stackpins.UPSTREAM['python-base']}\n" in text
    assert set(re.findall(r"[Pp]ython ?(3\.\d+)", text)) == {stackpins.PYTHON_VERSION}


# --- pins that follow another pin --------------------------------------------------


def test_pins_that_follow_the_kubernetes_minor() -> None:
    kube = _minor(pins.KUBERNETES_VERSION)
    node_tag = pins.KIND_NODE_IMAGE.split("@", 1)[0].rsplit(":", 1)[1]
    assert _minor(node_tag) == kube, "kind's default node image runs another Kubernetes minor"
    assert _minor(gobuilds.CRICTL.version) == kube, "crictl follows the Kubernetes minor"


# --- no second copy in Python ------------------------------------------------------

HOMES = {
    "deployer/pins.py": [
        pins.KUBERNETES_VERSION,
        pins.KIND_VERSION,
        pins.KIND_NODE_IMAGE.split("@", 1)[1],
        pins.HELM_VERSION,
        pins.MINIO_MODULE_VERSION,
        pins.MINIO_RELEASE,
    ],
    "deployer/images/stackpins.py": [stackpins.PROMETHEUS_RELEASE, stackpins.PROMETHEUS.version],
    "deployer/images/gobuilds.py": [c.version for c in (*gobuilds.NODE_COMPONENTS, *gobuilds.IMAGE_COMPONENTS)],
}
SCANNED = ("kernel", "deployer", "chaos", "loadtests", "scenarios", "tests/charts")
SAME_TEXT_OTHER_FACT = {("deployer/pins.py", gobuilds.CRICTL.version)}
"""Equal text, different facts: kind's default node image tag (v1.34.0) is not the
crictl pin, and changing one must not change the other."""


def code_strings(source: str) -> list[str]:
    """String literals of a module, without docstrings (prose may quote a version)."""
    tree = ast.parse(source)
    prose = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
    ]


def test_code_strings_skip_docstrings() -> None:
    source = '"""v9.9.9"""\nX = "v1.2.3"\n"""v8.8.8"""\nY = f"a-{X}-v7.7.7"\n'
    assert code_strings(source) == ["v1.2.3", "a-", "-v7.7.7"]


def _holds(text: str, value: str) -> bool:
    """``value`` stands in ``text`` as a whole version, not as the start of a
    longer one (v1.7.1 is not in v1.7.12)."""
    return re.search(re.escape(value) + r"(?![0-9A-Za-z])", text) is not None


def test_a_version_is_found_whole_not_inside_a_longer_one() -> None:
    assert _holds("tag:v1.7.1", "v1.7.1") and _holds("v1.7.1-rc", "v1.7.1")
    assert not _holds("v1.7.12", "v1.7.1")


def test_no_pinned_value_is_written_twice_in_python() -> None:
    copies = []
    for home, values in HOMES.items():
        for path in sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == home:
                continue
            skip = {value for where, value in SAME_TEXT_OTHER_FACT if where == rel}
            for text in code_strings(path.read_text()):
                copies += [
                    f"{rel}: {value!r} (its home is {home})"
                    for value in values
                    if _holds(text, value) and value not in skip
                ]
    assert not copies, "import these instead of restating them:\n" + "\n".join(copies)
