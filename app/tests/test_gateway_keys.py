"""Object keys: every rule answers 400 naming the rule (never a 500 with a
traceback, never a 502 from MinIO), for every object route; keys that look
odd but are fine are stored and read back exactly as written."""

from __future__ import annotations

import json
import secrets
from urllib.parse import quote

import pytest
from gateway.keys import key_problem, marker_problem, prefix_problem
from gateway_proc import RunningGateway
from gateway_tools import direct, exists, raw_request

from tests.fixtures.localminio import LocalMinioCluster

LONG = "abc/" * 256 + "x"  # 1025 bytes in short segments

# (the key as sent in the request path, percent-encoded where HTTP needs it; the rule)
REFUSED = [
    ("", "empty"),
    ("a/../b", "dot_segment"),
    ("..", "dot_segment"),
    ("a/./b", "dot_segment"),
    ("a/%2E%2E/b", "dot_segment"),  # encoded dots are dots once decoded
    ("a/%20..%20/b", "dot_segment"),  # MinIO trims blanks around a segment
    ("a//b", "empty_segment"),
    ("/a", "empty_segment"),
    ("a/", "empty_segment"),
    (LONG, "too_long"),
    ("x" * 256, "segment_too_long"),
    ("a%00b", "control_character"),
    ("a%01b", "control_character"),
    ("a%0Ab", "control_character"),
    ("a%7Fb", "control_character"),
    ("a%C2%85b", "control_character"),  # U+0085, a C1 control
    ("a%5Cb", "backslash"),
    ("a\\b", "backslash"),
    ("dir__XLDIR__", "reserved"),
    ("a%FFb", "invalid_utf8"),
]

# Odd but fine: stored and listed under exactly these names.
LONGEST = "<fill to 1024 bytes>"
ACCEPTED = [
    LONGEST,
    "a/" + "y" * 255,  # a 255-byte segment
    "..a/.b/c..",
    " lead/trail ",
    "sp ace/plus+/pct%/q?/hash#/amp&/eq=",
    "ünï/cödé/日本/🙂",
    "a:b*c|d<e>f\"g'",
]


@pytest.mark.parametrize(("path_key", "rule"), REFUSED)
def test_each_rule_answers_400_on_every_route(gateway: RunningGateway, path_key: str, rule: str) -> None:
    path = f"/objects/{path_key}"
    put = raw_request(gateway.url, "PUT", path, b"data")
    assert put.status == 400, put.body
    assert put.json()["error"] == "bad_key"
    assert put.json()["rule"] == rule
    for method in ("GET", "DELETE"):
        answer = raw_request(gateway.url, method, path)
        assert (answer.status, answer.json()["rule"]) == (400, rule)
    assert raw_request(gateway.url, "HEAD", path).status == 400


def test_refusals_leave_no_traceback_and_no_5xx(gateway: RunningGateway) -> None:
    for path_key, _ in REFUSED:
        raw_request(gateway.url, "PUT", f"/objects/{path_key}", b"data")
    entries = [json.loads(line) for line in gateway.log_lines()]
    assert not [e for e in entries if "exc" in e]
    assert not [e for e in entries if e.get("event") == "request" and e["status"] >= 500]


def test_a_refused_key_is_not_stored(gateway: RunningGateway, minio_cluster: LocalMinioCluster) -> None:
    # MinIO itself would store "a/" as a folder marker and "/a" as "a".
    tag = secrets.token_hex(4)
    assert raw_request(gateway.url, "PUT", f"/objects/{tag}/", b"x").status == 400
    assert raw_request(gateway.url, "PUT", f"/objects//{tag}", b"x").status == 400
    client = direct(minio_cluster)
    assert not exists(client, f"{tag}/")
    assert not exists(client, tag)


@pytest.mark.parametrize("key", ACCEPTED)
def test_odd_but_valid_keys_round_trip(gateway: RunningGateway, key: str) -> None:
    base = f"ok-{secrets.token_hex(3)}/"
    if key == LONGEST:
        segments = "abc/" * ((1024 - len(base) - 4) // 4)
        key = segments + "z" * (1024 - len(base) - len(segments))
    key = base + key
    assert len(key.encode()) <= 1024
    path = "/objects/" + quote(key, safe="/")
    put = raw_request(gateway.url, "PUT", path, b"odd")
    assert put.status == 200, put.body
    assert put.json()["key"] == key
    got = raw_request(gateway.url, "GET", path)
    assert (got.status, got.body) == (200, b"odd")
    prefix = key.split("/")[0] + "/"
    listed = raw_request(gateway.url, "GET", f"/objects?prefix={quote(prefix, safe='')}")
    assert listed.json()["keys"] == [key]
    assert raw_request(gateway.url, "DELETE", path).status == 204


def test_rules_in_isolation() -> None:
    assert key_problem("a/b/c.txt") is None
    assert (problem := key_problem("a/../b")) is not None and problem.rule == "dot_segment"
    # The length rules count bytes of UTF-8, not characters.
    assert key_problem("é" * 127 + "/x") is None
    assert (problem := key_problem("é" * 128)) is not None and problem.rule == "segment_too_long"
    # Prefixes may be empty and may end with '/', nothing else is relaxed.
    assert prefix_problem("") is None
    assert prefix_problem("dir/") is None
    assert prefix_problem("dir/par") is None
    for bad, rule in [("/", "empty_segment"), ("a//", "empty_segment"), ("a/..", "dot_segment"), ("a\\", "backslash")]:
        assert (problem := prefix_problem(bad)) is not None and problem.rule == rule, bad
    assert marker_problem("anything, even a/../b") is None
    assert (problem := marker_problem("a\nb")) is not None and problem.rule == "control_character"
