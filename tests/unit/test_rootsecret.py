"""credentials: {create: true}: the Secret chaosgate makes before installing
the releases, built without a cluster; generated per install, never shown,
never overwriting a Secret that exists."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import yaml

from deployer import rootsecret, target
from deployer.kubectl import Kubectl
from kernel.errors import BadInputError

REFERENCE = yaml.safe_load(target.REFERENCE.read_text())


def _target(tmp_path: Path, credentials: dict[str, object]) -> target.Target:
    raw = copy.deepcopy(REFERENCE)
    raw.pop("deploy")  # paths of the reference's charts do not resolve from tmp_path
    raw.pop("slo", None)
    raw["minio"]["credentials"] = credentials
    file = tmp_path / "target.yaml"
    file.write_text(yaml.safe_dump(raw))
    return target.load(file)


def test_the_schema_accepts_create_and_the_loader_reads_it(tmp_path: Path) -> None:
    made = _target(tmp_path, {"secret": "root", "userKey": "user", "passwordKey": "pass", "create": True})
    assert made.minio.create_secret is True
    assert _target(tmp_path, {"secret": "root"}).minio.create_secret is False
    with pytest.raises(BadInputError, match=r"minio.credentials.create: 'yes' is not of type 'boolean'"):
        _target(tmp_path, {"secret": "root", "create": "yes"})


def test_the_secret_holds_generated_values_under_the_target_keys(tmp_path: Path) -> None:
    spec = _target(tmp_path, {"secret": "root", "userKey": "user", "passwordKey": "pass", "create": True})
    user, password = rootsecret.generate()
    secret = rootsecret.manifest(spec, user, password)
    assert secret["kind"] == "Secret" and secret["type"] == "Opaque"
    assert secret["metadata"]["name"] == "root" and secret["metadata"]["namespace"] == spec.namespace
    assert secret["metadata"]["labels"], "managed labels: chaosgate's own object"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {"user": user, "pass": password}
    # MinIO wants a user of 3+ and a password of 8+ characters; shell-safe in a chart's scripts.
    assert len(user) >= 3 and len(password) >= 8
    assert user.replace("-", "").isalnum() and set(password) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert rootsecret.generate() != (user, password), "generated per install"


@dataclass(frozen=True)
class Recorder(Kubectl):
    """kubectl that answers `get` with ``existing`` and records every call."""

    existing: str = ""
    calls: list[tuple[list[str], str | None]] = field(default_factory=list)

    def run(self, args: Sequence[str], *, timeout: float = 120, input_text: str | None = None) -> str:
        self.calls.append((list(args), input_text))
        return self.existing if args[0] == "get" else ""


def _recorder(existing: str = "") -> Recorder:
    return Recorder(Path("kubeconfig"), "ctx", Path("kubectl"), existing)


def test_a_missing_secret_is_created_on_stdin_and_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _target(tmp_path, {"secret": "root", "create": True})
    kubectl = _recorder()
    assert rootsecret.ensure(kubectl, spec) is True
    (get, _), (create, stdin) = kubectl.calls
    assert get[:3] == ["get", "secret", "root"] and "--ignore-not-found" in get
    assert create == ["create", "-f", "-"], "never apply: an existing Secret is not overwritten"
    assert stdin is not None
    sent = json.loads(stdin)
    password = base64.b64decode(sent["data"]["rootPassword"]).decode()
    user = base64.b64decode(sent["data"]["rootUser"]).decode()
    shown = capsys.readouterr()
    assert "created Secret root" in shown.out + shown.err
    for value in (user, password):
        assert value not in shown.out + shown.err
        assert all(value not in arg for args, _ in kubectl.calls for arg in args)


def test_an_existing_secret_is_kept(tmp_path: Path) -> None:
    kubectl = _recorder(existing="secret/root\n")
    assert rootsecret.ensure(kubectl, _target(tmp_path, {"secret": "root", "create": True})) is False
    assert [args[0] for args, _ in kubectl.calls] == ["get"]


def test_without_create_nothing_is_asked(tmp_path: Path) -> None:
    kubectl = _recorder()
    spec = _target(tmp_path, {"secret": "root"})
    assert rootsecret.ensure(kubectl, spec) is False
    assert rootsecret.ensure(kubectl, replace(spec, minio=replace(spec.minio, create_secret=False))) is False
    assert kubectl.calls == []
