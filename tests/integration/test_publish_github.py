"""``python -m reports publish`` against a stand-in of GitHub's REST API on
loopback that records every call: the commit status, the release and its
assets, the step summary, and the error paths."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reports import publish
from reports.__main__ import main
from reports.build import build
from reports.summary import load

REPO = "team/service"
SHA = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class StandIn:
    """Answers the calls reports.publish makes, as GitHub documents them."""

    calls: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    releases: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    refuse_status: int = 0
    url: str = ""


@pytest.fixture
def github() -> Iterator[StandIn]:
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, code: int, body: object = None) -> None:
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(code)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stand_in.calls.append((self.command, self.path, self.headers.get("Authorization", ""), body))
            path, _, query = self.path.partition("?")
            prefix = f"/repos/{REPO}/"
            if stand_in.refuse_status:
                self._answer(stand_in.refuse_status, {"message": "Bad credentials"})
            elif self.command == "POST" and path == f"{prefix}statuses/{SHA}":
                self._answer(201, {"state": json.loads(body)["state"]})
            elif self.command == "GET" and path.startswith(f"{prefix}releases/tags/"):
                tag = path.rsplit("/", 1)[1]
                release = stand_in.releases.get(tag)
                self._answer(200, release) if release else self._answer(404, {"message": "Not Found"})
            elif self.command == "POST" and path == f"{prefix}releases":
                tag = json.loads(body)["tag_name"]
                upload = f"{stand_in.url}/uploads/repos/{REPO}/releases/7/assets{{?name,label}}"
                stand_in.releases[tag] = {"id": 7, "tag_name": tag, "upload_url": upload, "assets": []}
                self._answer(201, stand_in.releases[tag])
            elif self.command == "POST" and path == f"/uploads/repos/{REPO}/releases/7/assets":
                name = query.removeprefix("name=")
                stand_in.uploads[name] = body
                self._answer(201, {"name": name})
            elif self.command == "DELETE" and path.startswith(f"{prefix}releases/assets/"):
                self._answer(204)
            else:
                self._answer(422, {"message": f"unexpected {self.command} {self.path}"})

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield stand_in
    server.shutdown()


def _run(tmp_path: Path, verdict: str) -> Path:
    (tmp_path / "timeline.jsonl").write_text("")
    build(tmp_path, {"profile": "quick"}, [{"name": "full-outage", "verdict": verdict, "reasons": []}])
    return tmp_path


def _gh(github: StandIn) -> publish.GitHub:
    return publish.GitHub(github.url, REPO, "t0ken")


def test_a_passing_tag_run_sets_the_status_and_attaches_its_files(github: StandIn, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    run = load(_run(tmp_path / "run", "pass"))
    said = publish.publish(run, _gh(github), SHA, "https://ci/run/1", tag="v1.2.0")
    status = [c for c in github.calls if c[1] == f"/repos/{REPO}/statuses/{SHA}"]
    assert len(status) == 1 and status[0][2] == "Bearer t0ken"
    sent = json.loads(status[0][3])
    assert (sent["state"], sent["context"], sent["target_url"]) == ("success", "chaosgate/gate", "https://ci/run/1")
    assert github.releases["v1.2.0"]["tag_name"] == "v1.2.0"
    assert github.uploads == {name: (run.dir / name).read_bytes() for name in publish.ASSETS}
    assert "chaosgate run" in json.loads(github.calls[2][3])["body"] and "release v1.2.0" in said


@pytest.mark.parametrize(("verdict", "state"), [("fail", "failure"), ("inconclusive", "error")])
def test_a_run_that_did_not_pass_never_reads_success(github: StandIn, tmp_path: Path, verdict: str, state: str) -> None:
    publish.publish(load(_run(tmp_path, verdict)), _gh(github), SHA, "https://ci/run/2")
    (call,) = github.calls
    assert json.loads(call[3])["state"] == state


def test_assets_already_on_the_release_are_replaced(github: StandIn, tmp_path: Path) -> None:
    upload = f"{github.url}/uploads/repos/{REPO}/releases/7/assets{{?name,label}}"
    github.releases["v2"] = {"id": 7, "upload_url": upload, "assets": [{"name": "report.html", "id": 41}]}
    publish.publish(load(_run(tmp_path, "pass")), _gh(github), SHA, "u", "v2")
    assert ("DELETE", f"/repos/{REPO}/releases/assets/41") in [(c[0], c[1]) for c in github.calls]
    assert set(github.uploads) == set(publish.ASSETS)


def test_refused_calls_exit_1_and_a_missing_token_exits_2(
    github: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path, "pass")
    args = ["publish", str(run), "--repo", REPO, "--sha", SHA, "--target-url", "u"]
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main(args) == 2
    assert "set GH_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("GH_TOKEN", "wrong")
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    github.refuse_status = 401
    assert main(args) == 1
    assert "answered 401" in capsys.readouterr().err
