"""The community-chart example: it loads against the schema and the loader
without pulling anything, names the chart by repository and exact version
(no chart vendored here), and its values write no credential."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.preflight import CHECKS, waivers
from chaos.preflight.credentials import check_credentials
from deployer import target
from deployer.charts import ChartRef

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "community-chart"


def test_the_example_loads_without_pulling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path))
    loaded = target.load(EXAMPLE / "target.yaml")
    assert loaded.deploy is not None
    (release,) = loaded.deploy.releases
    assert release.chart == ChartRef(name="minio", version="5.4.0", repo="https://charts.min.io/")
    assert release.values == ((EXAMPLE / "values-kind.yaml").resolve(),)
    assert loaded.minio.create_secret and loaded.minio.secret == "minio-root"
    waivers.check_known(loaded.waivers, tuple(CHECKS))
    assert all(w.reason for w in loaded.waivers)
    assert list(tmp_path.iterdir()) == [], "loading a target pulls nothing"


def test_no_third_party_chart_is_vendored() -> None:
    names = {p.name for p in EXAMPLE.rglob("*")}
    assert "Chart.yaml" not in names and not any(n.endswith(".tgz") for n in names)


def test_the_values_write_no_credential() -> None:
    values = (EXAMPLE / "values-kind.yaml").read_text()
    assert check_credentials([], {"values-kind.yaml": values}) == []
