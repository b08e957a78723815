"""``python -m reports publish``: tell GitHub what a finished run found.

Through GitHub's REST API (``GITHUB_API_URL``, set on every runner; the token
from ``GH_TOKEN`` or ``GITHUB_TOKEN``):
- a commit status on the commit under test, context ``chaosgate/gate``:
  success for pass, failure for fail, error for inconclusive (never success
  for a run that proved nothing); the context a branch rule can require;
- with ``--tag``: the release of that tag (made when missing, its body the
  run's Markdown summary) gets report.html, summary.json and junit.xml as
  assets, replacing assets of the same name.
The job's page gets the same Markdown from ``python -m reports summary``.

Plain HTTP calls rather than the ``gh`` CLI: the job needs nothing beyond
Python, and a stand-in of the API on loopback tests every call.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reports.summary import Run, markdown

CONTEXT = "chaosgate/gate"
"""The commit status's name: the one to mark as required (docs/ci.md)."""

ASSETS = ("report.html", "summary.json", "junit.xml")
STATES = {"pass": "success", "fail": "failure", "inconclusive": "error", "not-applicable": "error"}
TIMEOUT_S = 60.0


class PublishError(Exception):
    """GitHub refused a call or could not be reached; names the call and the answer."""


class NoToken(Exception):
    """No token in GH_TOKEN or GITHUB_TOKEN: bad input."""


@dataclass(frozen=True)
class GitHub:
    api: str
    repo: str
    token: str

    @classmethod
    def from_env(cls, repo: str, env: Mapping[str, str] = os.environ) -> GitHub:
        token = env.get("GH_TOKEN") or env.get("GITHUB_TOKEN") or ""
        if not token:
            raise NoToken("set GH_TOKEN (in a workflow: GH_TOKEN: ${{ github.token }}) to publish")
        return cls(env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"), repo, token)

    def call(
        self, method: str, url: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        """(status, parsed JSON or None); 404 is returned, any other error raises."""
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 (the API's own URL)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        if body is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return 404, None
            detail = exc.read().decode(errors="replace")[:300]
            raise PublishError(f"{method} {url} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise PublishError(f"{method} {url} could not be sent: {exc}") from exc

    def repo_url(self, path: str) -> str:
        return f"{self.api}/repos/{self.repo}/{path}"


def status(gh: GitHub, run: Run, sha: str, target_url: str) -> dict[str, str]:
    state = STATES[run.verdict.value]
    counts: dict[str, int] = {}
    for s in run.scenarios:
        counts[s["verdict"]] = counts.get(s["verdict"], 0) + 1
    said = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    payload = {
        "state": state,
        "context": CONTEXT,
        "description": f"{run.verdict.value}: {said}"[:140],
        "target_url": target_url,
    }
    gh.call("POST", gh.repo_url(f"statuses/{sha}"), json.dumps(payload).encode())
    return payload


def release_assets(gh: GitHub, run: Run, tag: str, summary_md: str) -> list[str]:
    """Attach the run's files to the release of ``tag``; returns their names."""
    code, release = gh.call("GET", gh.repo_url(f"releases/tags/{urllib.parse.quote(tag)}"))
    if code == 404:
        body = json.dumps({"tag_name": tag, "name": tag, "body": summary_md[:100_000]}).encode()
        _, release = gh.call("POST", gh.repo_url("releases"), body)
    if not isinstance(release, dict) or "id" not in release or "upload_url" not in release:
        raise PublishError(f"GitHub's answer for release {tag} has no id or upload_url: {str(release)[:200]}")
    existing = {a.get("name"): a.get("id") for a in release.get("assets") or [] if isinstance(a, dict)}
    upload = str(release["upload_url"]).split("{", 1)[0]
    sent = []
    for name in ASSETS:
        path = run.dir / name
        if not path.is_file():
            continue
        if name in existing:
            gh.call("DELETE", gh.repo_url(f"releases/assets/{existing[name]}"))
        kind = {"html": "text/html", "json": "application/json", "xml": "application/xml"}[name.rsplit(".", 1)[1]]
        gh.call("POST", f"{upload}?name={urllib.parse.quote(name)}", path.read_bytes(), kind)
        sent.append(name)
    return sent


def publish(run: Run, gh: GitHub, sha: str, target_url: str, tag: str = "") -> str:
    """The status, and the release's files when ``tag`` is given; returns what was done, in words."""
    done = [f"status {CONTEXT} = {status(gh, run, sha, target_url)['state']} on {sha[:12]}"]
    if tag:
        sent = release_assets(gh, run, tag, markdown(run, target_url))
        done.append(f"release {tag}: {', '.join(sent) or 'no files'}")
    return "; ".join(done)
