"""Chart conventions: every value documented with `## @param`, a real
values.schema.json, one validateValues template in use, NOTES that say how to
reach the service and read the credentials, pinned versions, and a kind
profile that fits a 2-core machine."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.charts.conftest import template
from tests.charts.helpers import CHART_NAMES, CHARTS, HelmRun, RenderFn, pod_spec

PARAM = re.compile(r"^\s*##\s*@param\s+(\S+)", re.MULTILINE)


def leaf_paths(node: Any, prefix: str = "") -> set[str]:
    """Documented units of values.yaml: scalars, lists and empty maps."""
    if isinstance(node, dict) and node:
        return {p for key, value in node.items() for p in leaf_paths(value, f"{prefix}{key}.")}
    return {prefix.rstrip(".")}


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_every_value_has_a_param_comment(chart: str) -> None:
    text = (CHARTS / chart / "values.yaml").read_text()
    documented = set(PARAM.findall(text))
    leaves = leaf_paths(yaml.safe_load(text))
    assert leaves - documented == set(), "values without ## @param"
    assert documented - leaves == set(), "## @param for values that do not exist"


def test_param_check_notices_an_undocumented_value() -> None:
    # Guards the check above against a parser that finds nothing.
    text = "## @param a.b Documented.\na:\n  b: 1\n  c: 2\n"
    assert leaf_paths(yaml.safe_load(text)) - set(PARAM.findall(text)) == {"a.c"}


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_chart_metadata_is_pinned(chart: str) -> None:
    meta = yaml.safe_load((CHARTS / chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["version"] == "0.1.0"
    assert meta["appVersion"] and meta["appVersion"] != "latest"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_schema_is_valid_and_accepts_the_shipped_values(chart: str) -> None:
    schema = json.loads((CHARTS / chart / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    # Helm merges a subchart's defaults with the umbrella's section; checked
    # here on the chart's own files, the umbrella is covered by helm itself.
    if chart != "stack":
        values = yaml.safe_load((CHARTS / chart / "values.yaml").read_text())
        jsonschema.validate(values, schema)


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_required_files_and_validate_values_in_use(chart: str) -> None:
    root = CHARTS / chart
    for name in ("values-kind.yaml", "templates/NOTES.txt", "templates/_helpers.tpl", ".helmignore"):
        assert (root / name).is_file(), name
    assert list((root / "templates" / "tests").glob("*.yaml")), "no helm test"
    helpers = (root / "templates" / "_helpers.tpl").read_text()
    assert f'define "{chart}.validateValues"' in helpers
    callers = [
        p
        for p in (root / "templates").rglob("*.yaml")
        if f'include "{chart}.validateValues"' in p.read_text()
    ]
    assert callers, "validateValues is defined but never called"


def test_umbrella_build_output_is_ignored() -> None:
    ignored = (CHARTS / "stack" / ".gitignore").read_text().split()
    assert "charts/" in ignored


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory, charts_dir: Path, helm: HelmRun) -> dict[str, str]:
    """Each chart's NOTES.txt rendered offline: `helm template` skips NOTES,
    so a copy gets a ConfigMap that includes it."""
    root = tmp_path_factory.mktemp("notes")
    shutil.copytree(charts_dir, root, dirs_exist_ok=True)
    out = {}
    for chart in CHART_NAMES:
        (root / chart / "templates" / "notes-check.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n"
            '  notes: {{ include (print $.Template.BasePath "/NOTES.txt") . | quote }}\n'
        )
        result = template(helm, root, chart, "values-kind.yaml")
        assert result.returncode == 0, result.stderr
        docs = [d for d in yaml.safe_load_all(result.stdout) if d and d["metadata"]["name"] == "notes"]
        out[chart] = docs[0]["data"]["notes"]
    return out


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_notes_say_how_to_reach_the_service(notes: dict[str, str], chart: str) -> None:
    assert "kubectl -n chaos port-forward svc/" in notes[chart]
    assert "helm test cg -n chaos" in notes[chart]


@pytest.mark.parametrize("chart", ["minio", "stack"])
def test_notes_say_how_to_read_the_credentials(notes: dict[str, str], chart: str) -> None:
    secret = "cg-minio-credentials" if chart == "minio" else "minio-credentials"
    assert (
        f"kubectl -n chaos get secret {secret} -o jsonpath='{{.data.rootPassword}}' | base64 -d"
        in notes[chart]
    )


def _millicores(value: str | int | float) -> int:
    text = str(value)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


@pytest.mark.parametrize("extra", [(), ("values-two-pools.yaml",)])
def test_kind_profile_fits_a_two_core_machine(render: RenderFn, extra: tuple[str, ...]) -> None:
    # kind's control plane and metrics-server request about 1.05 of the 2
    # CPUs; what the stack requests at the HPA's maximum must fit in the
    # rest, with room for the helm test pods.
    rendered = render("stack", "values-kind.yaml", *extra)
    hpa = rendered.one("HorizontalPodAutoscaler")
    total = 0
    for doc in rendered.docs:
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        if doc["kind"] == "StatefulSet":
            replicas = doc["spec"]["replicas"]
        elif doc["metadata"]["name"] == hpa["spec"]["scaleTargetRef"]["name"]:
            replicas = hpa["spec"]["maxReplicas"]
        else:
            replicas = doc["spec"].get("replicas", 1)
        total += replicas * sum(
            _millicores(c["resources"]["requests"]["cpu"]) for c in pod_spec(doc)["containers"]
        )
    assert total <= 900, f"{total}m CPU requested"
