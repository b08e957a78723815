"""Target files: the schema and the cross-checks name the field and the fix;
the reference and example targets load; scenarios/ and chaos/ hold no name
of one particular stack."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos.settings import Settings
from deployer import stack, target
from kernel.errors import BadInputError

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = yaml.safe_load(target.REFERENCE.read_text())


def write(tmp_path: Path, data: Any) -> Path:
    """The reference target with changes, written next to the repository's
    charts so its relative paths still resolve."""
    path = target.TARGETS / f".test-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


@pytest.fixture
def bad(tmp_path: Path):
    written: list[Path] = []

    def load(change) -> str:
        data = copy.deepcopy(REFERENCE)
        change(data)
        path = write(tmp_path, data)
        written.append(path)
        with pytest.raises(BadInputError) as caught:
            target.load(path)
        return str(caught.value)

    yield load
    for path in written:
        path.unlink(missing_ok=True)


def _set(path: str, value: Any):
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if value is DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


DELETE = object()

# (what is changed, the new value, text the message must hold: the field and the fix)
BAD_TARGETS = [
    ("name", "My Stack", ["name:", "lowercase letters"]),
    ("minio", DELETE, ["'minio' is a required property", "fix:"]),
    ("minio.port", 70000, ["minio.port", "1-65535"]),
    ("minio.selector", "app in (minio)", ["minio.selector", "key=value"]),
    ("minio.statefulsets", [], ["minio.statefulsets", "pool order"]),
    ("minio.credentials.password", "hunter2", ["minio.credentials", "unknown field(s)", "never the values themselves"]),
    ("minio.bucket", "Bad_Bucket", ["minio.bucket", "S3 bucket name"]),
    ("app.write.path", "/objects", ["app.write.path", "{key}"]),
    ("app.write.ackStatus", [500], ["app.write.ackStatus[0]", "2xx"]),
    ("app.write.method", "PATCH", ["app.write.method", "PUT or POST"]),
    ("deploy.images.minio", {"stack": "redis"}, ["deploy.images.minio.stack", "minio, gateway or prometheus"]),
    ("deploy.images.minio", {"stack": "minio", "present": "x:1"}, ["deploy.images.minio", "exactly one"]),
    ("deploy.images.minio", {"present": "minio"}, ["deploy.images.minio", "tag"]),
    ("deploy.images.minio", {"pull": "127.0.0.1:5000/team/minio"}, ["deploy.images.minio", "a tag or a digest"]),
    ("deploy.images.minio", {"pull": "team/minio:1", "present": "x:1"}, ["deploy.images.minio", "exactly one"]),
    ("deploy.releases.0.chart", "../charts/nope", ["deploy.releases[0].chart", "neither a chart folder"]),
    ("deploy.releases.0.values", ["nope.yaml"], ["deploy.releases[0].values[0]", "does not exist"]),
    ("deploy.releases.0.images.0.image", "redis", ["deploy.releases[0].images[0].image", "not under deploy.images"]),
    ("deploy.variants.ephemeral.release", "db", ["deploy.variants.ephemeral.release", "no release 'db'"]),
    ("deploy.variants.default", {"values": []}, ["deploy.variants.default", "rename it"]),
    ("slo", "missing-slo.yaml", ["slo:", "does not exist"]),
    ("scenarios", ["pod kill"], ["scenarios[0]", "by name"]),
    ("colour", "blue", ["(top level)", "unknown field(s)", "'colour'"]),
    ("urls.minio", "minio.example:9000", ["urls.minio", "http(s) URL"]),
    ("urls.minio", "http://minio.example:9000/bucket", ["urls.minio", "host and port only"]),
    ("urls.db", "http://db:5432", ["urls", "unknown field(s)"]),
    ("prometheus.alerts.quorum", "X", ["prometheus.alerts", "unknown field(s)", "'quorum'"]),
    ("prometheus.alerts.writeQuorumLost", "", ["prometheus.alerts.writeQuorumLost", "write quorum"]),
]


@pytest.mark.parametrize(("field", "value", "expected"), BAD_TARGETS, ids=[b[0] for b in BAD_TARGETS])
def test_a_bad_target_is_refused_naming_the_field_and_the_fix(bad, field, value, expected) -> None:
    message = bad(_set(field, value))
    for text in expected:
        assert text in message, message


@pytest.mark.parametrize(
    "ref",
    [
        "registry.example.com/team/minio:1.2.3",
        "127.0.0.1:5000/team/minio@sha256:" + "a" * 64,
        "team/minio:1.2.3@sha256:" + "b" * 64,
    ],
)
def test_an_image_the_team_ships_is_named_by_reference(tmp_path: Path, ref: str) -> None:
    data = copy.deepcopy(REFERENCE)
    data["deploy"]["images"]["minio"] = {"pull": ref}
    path = write(tmp_path, data)
    try:
        loaded = target.load(path)
    finally:
        path.unlink()
    assert loaded.deploy is not None
    (minio,) = [i for i in loaded.deploy.images if i.name == "minio"]
    assert (minio.pull, minio.ref, minio.stack, minio.dockerfile) == (True, ref, "", None)


def test_not_yaml_or_not_a_mapping_or_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        target.load(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(BadInputError, match="must be a YAML mapping"):
        target.load(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    with pytest.raises(BadInputError, match="not valid YAML"):
        target.load(tmp_path / "broken.yaml")


def test_paths_are_relative_to_the_target_file() -> None:
    reference = target.load(target.REFERENCE)
    assert reference.deploy is not None
    assert reference.deploy.releases[0].chart == ROOT / "charts" / "stack"
    assert reference.variants() == (
        "default",
        "two-pools",
        "ephemeral",
        "unsafe-app",
        "unversioned",
        "unrepaired",
        "unsettled",
    )


@pytest.mark.parametrize(
    "path", ["targets/reference.yaml", "examples/naive-stack/target.yaml", "examples/existing-cluster/target.yaml"]
)
def test_the_shipped_targets_load(path: str) -> None:
    loaded = target.load(ROOT / path)
    assert loaded.minio.statefulsets and loaded.minio.selector


def test_alert_roles_name_the_monitoring_charts_rules() -> None:
    rules = (ROOT / "charts/monitoring/templates/configmap-rules.yaml").read_text()
    alerts = target.load(target.REFERENCE).alerts
    assert set(alerts) == {"writeQuorumLost", "serverOffline", "driveOffline"}
    for name in alerts.values():
        assert f"- alert: {name}\n" in rules, name


def test_variants_add_their_overlay_to_their_release_only() -> None:
    reference = target.load(target.REFERENCE)
    assert reference.deploy is not None
    release = reference.deploy.releases[0]
    refs = {"minio": "example/minio:1", "gateway": "example/gw:2", "prometheus": "example/prom:3"}
    plain = stack.release_args(release, "ns", None, refs)
    ephemeral = stack.release_args(release, "ns", stack.overlay_for(reference, "ephemeral"), refs)
    assert [a for a in ephemeral if a not in plain] == [str(ROOT / "charts/stack/values-ephemeral.yaml")]
    assert "minio.image.repository=example/minio" in plain and "app.image.tag=2" in plain
    with pytest.raises(BadInputError, match="has no variant 'chaotic'"):
        stack.overlay_for(reference, "chaotic")


# Names one stack gives its objects; scenarios/ and chaos/ must take them from
# the target file. Words in prose (docstrings, comments) are not code.
STACK_NAMES = (
    "minio-pool0",
    "minio-credentials",
    "gateway",
    "X-Object-Sha256",
    "/objects/",
    # the monitoring chart's alert rule names: the target file names them (prometheus.alerts)
    "MinIOWriteQuorumLost",
    "MinIONodeOffline",
    "MinIODriveOffline",
)
BUCKET = "chaosgate"  # the reference bucket: a literal equal to it (the word is also the tool's name)


def _code_strings(path: Path):
    tree = ast.parse(path.read_text())
    # Docstrings, also those of fields: a bare string statement is prose.
    docstrings = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def stack_names_in(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for line, text in _code_strings(path):
            named = any(name in text for name in STACK_NAMES) or text == BUCKET
            if named and not _allowed(rel, text):
                found.append(f"{rel}:{line}: {text!r}")
    return found


def _allowed(rel: str, text: str) -> bool:
    # chaosgate's own names, not the stack's: the kind cluster's default name
    # and the pytest option group.
    return (rel, text) in {("chaos/settings.py", BUCKET), ("scenarios/plugin.py", BUCKET)}


@pytest.mark.parametrize("folder", ["scenarios", "chaos", "loadtests"])
def test_no_stack_specific_name_in_the_harness(folder: str) -> None:
    assert stack_names_in(ROOT / folder) == []


def test_the_name_check_finds_a_hard_coded_name(tmp_path: Path) -> None:
    planted = ROOT / "scenarios" / f"_planted_{tmp_path.name}.py"
    planted.write_text('VICTIM = "minio-pool0-1"\nBUCKET = "chaosgate"\n')
    try:
        hits = stack_names_in(ROOT / "scenarios")
        assert any("minio-pool0" in hit for hit in hits)
        assert any(hit.endswith("'chaosgate'") for hit in hits)
    finally:
        planted.unlink()


def test_a_reach_service_needs_a_selector_and_the_named_port() -> None:
    service = {"metadata": {"name": "s3"}, "spec": {"selector": {"app": "minio"}, "ports": [{"port": 9000}]}}
    twin = stack.reach_service("minio", service, 9000, 30900, "ns")
    assert twin["spec"]["ports"][0]["targetPort"] == 9000 and twin["spec"]["selector"] == {"app": "minio"}
    with pytest.raises(BadInputError, match="has no port 9443"):
        stack.reach_service("minio", service, 9443, 30900, "ns")
    with pytest.raises(BadInputError, match="has no pod selector"):
        stack.reach_service("minio", {"metadata": {"name": "ext"}, "spec": {"ports": [{"port": 9000}]}}, 9000, 1, "ns")


def test_urls_are_taken_as_given_and_cluster_urls_use_cluster_dns(bad, tmp_path: Path) -> None:
    data = copy.deepcopy(REFERENCE)
    data["urls"] = {"minio": "https://minio.staging.example:9000/"}
    path = write(tmp_path, data)
    try:
        loaded = target.load(path)
    finally:
        path.unlink()
    assert loaded.urls == {"minio": "https://minio.staging.example:9000"}
    assert loaded.cluster_urls()["minio"] == "http://minio.chaosgate.svc.cluster.local:9000"
    assert loaded.cluster_urls()["app"] == "http://gateway.chaosgate.svc.cluster.local:8080"


def test_a_url_for_a_service_the_target_lacks_is_refused(bad) -> None:
    def change(data: dict) -> None:
        del data["app"]
        del data["hpa"]
        data["urls"] = {"app": "http://app.example:80"}

    message = bad(change)
    assert "urls.app: the target has no app section" in message


def test_a_gate_pulls_the_image_about_to_ship_instead_of_the_targets_source() -> None:
    ref = "registry.example.com/team/minio:2026.2@sha256:" + "c" * 64
    loaded = Settings(pull_images=(f"minio={ref}",)).load_target()
    assert loaded.deploy is not None
    sources = {i.name: i for i in loaded.deploy.images}
    assert (sources["minio"].pull, sources["minio"].ref, sources["minio"].stack) == (True, ref, "")
    assert sources["gateway"].stack == "gateway"  # the others as the file names them


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("redis=reg/redis:7", "not images of target reference; fix: use one of"),
        ("minio=reg/minio", "with a tag or a digest"),
        ("minio", "write NAME=REF"),
    ],
)
def test_a_bad_pull_image_is_refused_naming_the_fix(given: str, expected: str) -> None:
    with pytest.raises(BadInputError, match="--pull-image") as caught:
        Settings(pull_images=(given,)).load_target()
    assert expected in str(caught.value)
