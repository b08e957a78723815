"""Bad input is refused with a message that says what is wrong.

Each file in bad-values/ names its chart (`# chart: <name>`) and the text the
error must contain (`# expect: <text>`, one or more). The schema refuses
shapes and ranges; validateValues refuses what a schema cannot express
(erasure-set arithmetic, cross-field rules, the autoscaler on MinIO)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.charts.conftest import template
from tests.charts.helpers import CHART_NAMES, HelmRun

BAD_VALUES = Path(__file__).parent / "bad-values"
CASES = sorted(BAD_VALUES.glob("*.yaml"))


def header(path: Path, field: str) -> list[str]:
    prefix = f"# {field}: "
    return [line[len(prefix) :].strip() for line in path.read_text().splitlines() if line.startswith(prefix)]


def test_there_are_enough_cases_for_every_chart() -> None:
    charts = [header(p, "chart")[0] for p in CASES]
    assert len(CASES) >= 8
    assert set(charts) == set(CHART_NAMES)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_values_are_refused_with_a_clear_message(helm: HelmRun, charts_dir: Path, path: Path) -> None:
    (chart,) = header(path, "chart")
    expected = header(path, "expect")
    assert expected, f"{path.name} has no '# expect:' line"
    result = template(helm, charts_dir, chart, path)
    assert result.returncode != 0, f"{path.name} rendered although it should fail"
    for text in expected:
        assert text in result.stderr, f"{path.name}: {text!r} not in:\n{result.stderr}"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_default_values_pass_the_same_checks(helm: HelmRun, charts_dir: Path, chart: str) -> None:
    # The other half of every case above: the shipped values are accepted, so
    # a failure there comes from the bad value and not from the chart.
    result = template(helm, charts_dir, chart, "values-kind.yaml")
    assert result.returncode == 0, result.stderr
