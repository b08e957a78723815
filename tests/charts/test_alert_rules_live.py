"""The monitoring chart's alert rules, evaluated by a real Prometheus against
a real 4-server MinIO on loopback: MinIONodeOffline goes active when a server
is killed and resolves when it is back, read through chaos.alerts exactly as
the scenarios read it. A copy of the rule with a wrong metric name is judged
"never fired" (the check can fail).

Prometheus is the binary the stack image is built from (deployer's Go build).
Skipped when it has not been built yet, unless CHAOSGATE_REQUIRE_PROMETHEUS=1,
which builds it (minutes, once; .ci/run sets it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from chaos import alerts
from deployer.images import gobuilds, stackpins
from kernel.wait import Seen, wait_until
from tests.charts.helpers import RenderFn
from tests.fixtures.localminio import LocalMinioCluster
from tests.fixtures.minio_local import ClusterFactory

SABOTAGED = "MinIONodeOfflineSabotaged"


@pytest.fixture(scope="module")
def prometheus_binary() -> Path:
    component = stackpins.PROMETHEUS
    binary = gobuilds.component_dir(component) / "bin" / "prometheus"
    if os.environ.get("CHAOSGATE_REQUIRE_PROMETHEUS") == "1":
        return gobuilds.build_component(component)["prometheus"]
    if not binary.is_file():
        pytest.skip(f"no Prometheus build at {binary}: `python -m deployer images build` makes it")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chart_rules(render: RenderFn) -> dict[str, object]:
    """The chart's rules with ``for: 0s`` (the window under test is the
    expression), plus a sabotaged copy of MinIONodeOffline."""
    rendered = render("monitoring", set_values=("alerts.for=0s", "alerts.minio.name=minio"))
    (cm,) = [c for c in rendered.of_kind("ConfigMap") if "alerts.yml" in c["data"]]
    doc = yaml.safe_load(cm["data"]["alerts.yml"])
    rules = [r for g in doc["groups"] for r in g["rules"]]
    (offline,) = [r for r in rules if r.get("alert") == "MinIONodeOffline"]
    wrong = dict(offline, alert=SABOTAGED, expr=offline["expr"].replace("nodes_offline_total", "node_offline_total"))
    doc["groups"].append({"name": "sabotaged", "rules": [wrong]})
    return dict(doc)


@pytest.fixture
def prometheus(
    prometheus_binary: Path, render: RenderFn, minio_cluster_factory: ClusterFactory, tmp_path: Path
) -> Iterator[tuple[str, LocalMinioCluster]]:
    cluster = minio_cluster_factory(4)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(chart_rules(render)))
    targets = [url.removeprefix("http://") for url in cluster.urls]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "scrape_configs": [
            {
                "job_name": "minio",
                "metrics_path": "/minio/v2/metrics/cluster",
                "static_configs": [{"targets": targets, "labels": {"app": "minio"}}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            str(prometheus_binary),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: alerts.fetch(url), what="Prometheus' alerts API", timeout=60, tolerate=(OSError,))
        yield url, cluster
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def record(url: str, samples: list[alerts.Sample], until: str, name: str, timeout: float) -> None:
    """Read the alerts once a second into ``samples`` until ``name`` is
    ``until`` ("active" or "inactive")."""

    def reached() -> Seen:
        states = alerts.parse(alerts.fetch(url))
        samples.append(alerts.Sample(time.time(), states))
        active = bool(samples[-1].active(name))
        return Seen(active == (until == "active"), f"{name} {'active' if active else 'inactive'}: {states}")

    wait_until(reached, what=f"{name} {until}", timeout=timeout, interval=1.0)


def test_a_killed_server_raises_node_offline_and_its_return_resolves_it(
    prometheus: tuple[str, LocalMinioCluster],
) -> None:
    url, cluster = prometheus
    samples: list[alerts.Sample] = []
    record(url, samples, "inactive", "MinIONodeOffline", 60)  # scraped and evaluated, quiet
    fault = time.time()
    cluster.kill(3)
    record(url, samples, "active", "MinIONodeOffline", 120)
    cluster.start_node(3)
    cluster.wait_ready(120)
    recovered = time.time()
    record(url, samples, "inactive", "MinIONodeOffline", 120)

    seen = alerts.window(samples, "MinIONodeOffline", fault, recovered)
    assert seen.active_after_s is not None
    assert seen.resolved_after_recovery_s is not None
    assert alerts.problem(seen, recovered=True) is None
    print(f"MinIONodeOffline active after {seen.active_after_s}s, resolved {seen.resolved_after_recovery_s}s after")

    # The same fault, read for the rule with a wrong metric name: it never fired.
    sabotaged = alerts.window(samples, SABOTAGED, fault, recovered)
    outcome, why = alerts.problem(sabotaged, recovered=True) or ("", "")
    assert outcome == "fail"
    assert why.startswith(f"alert {SABOTAGED} never fired")
