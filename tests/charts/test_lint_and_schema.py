"""helm lint for every chart, and every shipped values variant rendered and
validated against the Kubernetes API schema of the pinned version."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest

from tests.charts.helpers import CHART_NAMES, KUBE_VERSION, VARIANTS, HelmRun, RenderFn

KUBE_MINOR = ".".join(KUBE_VERSION.split(".")[:2])


@pytest.mark.parametrize("chart", CHART_NAMES)
@pytest.mark.parametrize("values", [None, "values-kind.yaml"])
def test_helm_lint_strict(helm: HelmRun, charts_dir: Path, chart: str, values: str | None) -> None:
    # --strict turns lint warnings (e.g. an unset value used in a template)
    # into failures.
    args: list[str | Path] = ["lint", "--strict", charts_dir / chart, "--kube-version", KUBE_VERSION]
    if values:
        args += ["--values", charts_dir / chart / values]
    result = helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_kubernetes_validate_has_the_pinned_version() -> None:
    # validate() silently falls back to the newest older schema set; make sure
    # the pinned minor is really shipped, or the "strict 1.34" claim is false.
    assert KUBE_MINOR in {".".join(v.split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_manifest_matches_the_kubernetes_api(render: RenderFn, variant: str) -> None:
    chart, values = VARIANTS[variant]
    rendered = render(chart, *values)
    assert rendered.docs, f"{variant} rendered nothing"
    errors = []
    for doc in rendered.docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            # strict: unknown fields are errors, as kubectl --validate=strict.
            validated = kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError:
            # Every kind these charts render is a built-in API; a missing
            # schema means a typo in apiVersion or kind.
            errors.append(f"{name}: no schema for {doc.get('apiVersion')} {doc.get('kind')}")
        else:
            assert validated == KUBE_MINOR
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_names_fit_kubernetes_limits(render: RenderFn, variant: str) -> None:
    chart, values = VARIANTS[variant]
    for doc in render(chart, *values).docs:
        name = doc["metadata"]["name"]
        # StatefulSet pods get "-<ordinal>" and a controller-revision-hash
        # label "<name>-<10 chars>", which must stay within 63 characters.
        limit = 52 if doc["kind"] == "StatefulSet" else 63
        assert len(name) <= limit, f"{doc['kind']} {name} is longer than {limit}"


def test_strict_validation_rejects_an_unknown_field(render: RenderFn) -> None:
    # Guards the test above: strict mode must refuse a field the API lacks,
    # or every manifest would "pass".
    sts = copy.deepcopy(render("minio").one("StatefulSet"))
    sts["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(sts, KUBE_VERSION, strict=True)
