"""Logs go into reports and CI artifacts: every secret value is replaced
before a byte is written."""

from __future__ import annotations

import secrets

from chaos import podlogs
from reports.html import _scenario


def test_every_secret_value_is_redacted_wherever_it_appears() -> None:
    access, secret = secrets.token_hex(10), secrets.token_urlsafe(30)
    text = f"2026-12-01T00:00:00Z boot user={access}\nMINIO_ROOT_PASSWORD={secret} again:{secret}{secret}\n"
    clean = podlogs.scrub(text, [access, secret])
    assert access not in clean and secret not in clean
    assert clean.count(podlogs.REDACTED) == 4
    assert clean.startswith("2026-12-01T00:00:00Z boot user=[redacted]")


def test_a_secret_that_contains_another_is_redacted_whole() -> None:
    inner = secrets.token_hex(4)
    outer = inner + secrets.token_hex(8)
    assert podlogs.scrub(f"a {outer} b {inner}", [inner, outer]) == "a [redacted] b [redacted]"


def test_regex_characters_in_a_secret_are_literal() -> None:
    tricky = "a.b*c+" + secrets.token_hex(4)
    assert podlogs.scrub(f"x {tricky} y axbbbc+", [tricky]) == "x [redacted] y axbbbc+"


def test_short_or_empty_values_redact_nothing() -> None:
    assert podlogs.scrub("the cat sat", ["", "at"]) == "the cat sat"


def test_the_report_links_each_log_next_to_its_scenario() -> None:
    html = _scenario(
        {"name": "pod-kill", "verdict": "pass", "logs": ["pod-kill/logs/minio/minio-1.minio.previous.log"]}, []
    )
    assert '<a href="pod-kill/logs/minio/minio-1.minio.previous.log">minio-1.minio.previous.log</a>' in html
    assert "Logs of the scenario" in html
    assert "Logs of the scenario" not in _scenario({"name": "smoke", "verdict": "pass"}, [])
