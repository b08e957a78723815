"""The report's header (reports.subject, scenarios.subject): what a run
tested, read from the stack, and told so that a part not read says so."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reports import subject
from reports.build import build
from reports.summary import load, markdown
from scenarios.subject import _digest, commit_of

STACK = {
    "namespace": "chaosgate",
    "releases": [
        {"release": "stack", "chart": "stack-0.3.0", "app_version": "2026.2", "revision": "1", "source": "charts/stack"}
    ],
    "images": [{"image": "localhost/chaosgate/minio:abc", "digest": "sha256:" + "1" * 64, "pods": ["m-0", "m-1"]}],
    "minio": ["2026-02-12T20:18:48Z (commit 7aac2a2c5b7c)"],
}
SUBJECT = {
    "target": {"name": "reference", "file": "/t/reference.yaml"},
    "commit": "c0ffee",
    "stacks": {"default": STACK},
}


def test_rows_name_target_commit_profile_wall_time_releases_images_and_minio() -> None:
    rows = dict(subject.rows({**SUBJECT, "profile": "quick", "wall_s": 612.4}))
    assert rows["target"] == "reference (/t/reference.yaml)"
    assert (rows["commit"], rows["profile"], rows["wall time"]) == ("c0ffee", "quick", "612 s")
    assert rows["stack: release"] == "stack: stack-0.3.0 (app 2026.2, revision 1), from charts/stack"
    assert rows["stack: image"] == f"localhost/chaosgate/minio:abc @ sha256:{'1' * 64} (2 pod(s))"
    assert rows["stack: MinIO"] == "2026-02-12T20:18:48Z (commit 7aac2a2c5b7c)"


def test_parts_not_read_and_a_stack_never_reached_say_so() -> None:
    broken = {"default": {**STACK, "images": "not read: ApiException: 403", "minio": []}}
    rows = subject.rows({**SUBJECT, "stacks": broken})
    assert ("stack: image", "not read: ApiException: 403") in rows
    assert ("stack: MinIO", "no server answered") in rows
    assert ("stack", "never reached: nothing was deployed or connected") in subject.rows({})
    assert ("commit", "unknown (not a git clone, no GITHUB_SHA)") in subject.rows({})


def test_build_puts_the_subject_at_the_top_of_summary_and_report(tmp_path: Path) -> None:
    (tmp_path / subject.FILE).write_text(json.dumps(SUBJECT))
    (tmp_path / "timeline.jsonl").write_text('{"t": 0.0, "kind": "event", "name": "a"}\n{"t": 95.5, "kind": "event"}\n')
    result = {"name": "smoke", "verdict": "pass", "reasons": []}
    report = build(tmp_path, {"profile": "quick"}, [result]).read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["subject"]["wall_s"] == 95.5 and summary["subject"]["profile"] == "quick"
    assert summary["subject"]["stacks"]["default"]["minio"] == STACK["minio"]
    assert report.index("What was tested") < report.index("Verdicts")
    assert "stack-0.3.0" in report and "7aac2a2c5b7c" in report
    told = markdown(load(tmp_path), "report.html")
    assert told.index("**What was tested**") < told.index("| scenario |") and "stack-0.3.0" in told


def test_a_run_without_subject_json_still_reports(tmp_path: Path) -> None:
    (tmp_path / "timeline.jsonl").write_text("")
    build(tmp_path, {}, [{"name": "smoke", "verdict": "inconclusive", "reasons": ["no cluster"]}])
    tested = json.loads((tmp_path / "summary.json").read_text())["subject"]
    assert tested["wall_s"] is None and "stacks" not in tested


def test_commit_is_the_clone_head_else_github_sha(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SHA", "feedbeef")
    assert commit_of(tmp_path) == "feedbeef"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert commit_of(tmp_path) == head.stdout.strip()
    monkeypatch.delenv("GITHUB_SHA")
    assert commit_of(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("image_id", "digest"),
    [("docker.io/minio/minio@sha256:ab", "sha256:ab"), ("sha256:cd", "sha256:cd"), ("", "")],
)
def test_digest_from_image_id(image_id: str, digest: str) -> None:
    assert _digest(image_id) == digest
