"""Charts named by reference: pulled with the pinned helm from a chart
repository served on loopback (a chart written here, packaged and indexed),
cached by reference, rendered; what cannot be pulled is bad input that says
how to vendor the chart; only exact versions are accepted."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from deployer import charts, stack, target, tools
from deployer.charts import ChartRef
from deployer.kubectl import Helm
from kernel.errors import BadInputError
from kernel.procs import run

CHART_YAML = "apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: '9.9'\n"
TEMPLATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\n"
    "data:\n  greeting: {{ .Values.greeting | quote }}\n"
)


@dataclass
class ChartRepo:
    url: str
    requests: list[str]


class _Handler(http.server.SimpleHTTPRequestHandler):
    seen: list[str]

    def log_message(self, format: str, *args: object) -> None:
        self.seen.append(self.path)


@pytest.fixture(scope="module")
def helm_bin() -> Path:
    return tools.resolve("helm").path


@pytest.fixture(scope="module")
def chart_repo(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Iterator[ChartRepo]:
    """A chart repository on 127.0.0.1: demo 1.2.3, packaged and indexed by helm."""
    root = tmp_path_factory.mktemp("chart-repo")
    source, served = root / "demo", root / "served"
    (source / "templates").mkdir(parents=True)
    served.mkdir()
    (source / "Chart.yaml").write_text(CHART_YAML)
    (source / "values.yaml").write_text("greeting: hello\n")
    (source / "templates" / "configmap.yaml").write_text(TEMPLATE)
    seen: list[str] = []
    handler = functools.partial(type("Handler", (_Handler,), {"seen": seen}), directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    env = {f"HELM_{p}_HOME": str(root / "home" / p.lower()) for p in ("CACHE", "CONFIG", "DATA")}
    run([helm_bin, "package", source, "--destination", served], timeout=60, env=env)
    run([helm_bin, "repo", "index", served, "--url", url], timeout=60, env=env)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ChartRepo(url, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _closed_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens there


def test_a_repository_chart_is_pulled_rendered_and_cached(
    chart_repo: ChartRepo, tmp_path: Path, helm_bin: Path
) -> None:
    ref = ChartRef(name="demo", version="1.2.3", repo=chart_repo.url)
    folder = charts.local_chart(ref, cache=tmp_path)
    assert folder == tmp_path / "charts" / ref.key() / "demo"
    assert yaml.safe_load((folder / "Chart.yaml").read_text())["version"] == "1.2.3"
    rendered = run([helm_bin, "template", "r1", folder], timeout=60).stdout
    assert "name: r1-demo" in rendered and 'greeting: "hello"' in rendered

    asked = len(chart_repo.requests)
    assert asked >= 1, "the first resolve must fetch from the repository"
    assert charts.local_chart(ref, cache=tmp_path) == folder
    assert len(chart_repo.requests) == asked, "the second resolve must read the cache, not the repository"


def test_a_target_file_names_the_chart_by_repository_and_renders_it(
    chart_repo: ChartRepo, tmp_path: Path, helm_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tools.env_var("helm"), str(helm_bin))
    monkeypatch.setenv("CHAOSGATE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "values.yaml").write_text("greeting: from-values\n")
    file = tmp_path / "target.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "name": "by-reference",
                "deploy": {
                    "releases": [
                        {
                            "name": "demo",
                            "chart": {"repo": chart_repo.url, "name": "demo", "version": "1.2.3"},
                            "values": ["values.yaml"],
                        }
                    ]
                },
                "minio": {
                    "service": "minio",
                    "port": 9000,
                    "selector": "app=minio",
                    "statefulsets": ["minio"],
                    "credentials": {"secret": "minio-root"},
                    "bucket": "ledger",
                },
            }
        )
    )
    loaded = target.load(file)
    assert loaded.deploy is not None
    assert loaded.deploy.releases[0].chart == ChartRef("demo", "1.2.3", repo=chart_repo.url)
    rendered = stack.render(Helm.offline(), loaded, target.DEFAULT_VARIANT)
    assert 'greeting: "from-values"' in rendered
    assert (tmp_path / "cache" / "charts").is_dir()


def test_a_version_the_repository_lacks_is_bad_input_with_the_vendoring_hint(
    chart_repo: ChartRepo, tmp_path: Path
) -> None:
    ref = ChartRef(name="demo", version="7.7.7", repo=chart_repo.url)
    with pytest.raises(BadInputError) as caught:
        charts.local_chart(ref, cache=tmp_path)
    message = str(caught.value)
    assert f"chart demo 7.7.7 from {chart_repo.url}" in message
    assert "helm pull demo --repo" in message and "--untar" in message and "chart: vendor/demo" in message
    assert not (tmp_path / "charts" / ref.key()).exists(), "a failed pull leaves nothing that looks cached"


def test_an_unreachable_repository_is_bad_input_with_the_vendoring_hint(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    with pytest.raises(BadInputError, match=r"could not be pulled(.|\n)*helm pull demo --repo .* --untar"):
        charts.local_chart(ChartRef(name="demo", version="1.2.3", repo=url), cache=tmp_path)


def test_an_unreachable_oci_registry_is_bad_input_naming_the_reference(tmp_path: Path) -> None:
    reference = f"oci://127.0.0.1:{_closed_port()}/charts/demo:1.2.3"
    ref = charts.from_target(reference)
    assert ref is not None
    with pytest.raises(BadInputError, match=r"demo:1\.2\.3 could not be pulled(.|\n)*--untar"):
        charts.local_chart(ref, cache=tmp_path)


def test_oci_references_keep_version_and_digest() -> None:
    digest = "sha256:" + "a" * 64
    ref = charts.from_target(f"oci://registry.example:5000/charts/minio:5.4.0@{digest}")
    assert ref == ChartRef("minio", "5.4.0", oci="oci://registry.example:5000/charts/minio", digest=digest)
    assert ref.pull_args() == [f"oci://registry.example:5000/charts/minio@{digest}", "--version", "5.4.0"]
    assert charts.from_target("../charts/stack") is None
    with pytest.raises(BadInputError, match="exact version as tag"):
        charts.from_target("oci://registry.example/charts/minio")


@pytest.mark.parametrize("version", ["^5.4", "~5.4.0", ">=5.0.0", "5.x", "5.4", "latest"])
def test_a_version_range_is_refused(version: str) -> None:
    with pytest.raises(BadInputError, match="not one exact version"):
        charts.from_target({"repo": "https://charts.example/", "name": "minio", "version": version})
    raw = yaml.safe_load(target.REFERENCE.read_text())
    raw["deploy"]["releases"][0]["chart"] = {"repo": "https://charts.example/", "name": "minio", "version": version}
    assert any(p.startswith("deploy.releases[0].chart.version") for p in target.schema_problems(raw))


@pytest.mark.parametrize(
    "chart",
    [
        "https://charts.min.io/",
        "oci://registry.example/charts/minio",
        "oci://registry.example/charts/minio:^5",
        {"repo": "https://charts.min.io/", "name": "minio"},
        {"repo": "charts.min.io", "name": "minio", "version": "5.4.0"},
    ],
)
def test_the_schema_refuses_half_references(chart: object) -> None:
    raw = yaml.safe_load(target.REFERENCE.read_text())
    raw["deploy"]["releases"][0]["chart"] = chart
    problems = target.schema_problems(raw)
    assert problems and all(p.startswith("deploy.releases[0].chart") for p in problems), problems
    assert any("oci://HOST/PATH/NAME" in p or "http(s) URL" in p or "exact" in p for p in problems), problems
