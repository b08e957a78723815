"""Settings from the environment: defaults, errors that name the fix, the unsafe switch."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from gateway.config import UNSAFE_ACK_VALUE, ConfigError, ack_before_write, bucket_versioning, load

# Generated per run, like every secret in this project.
SECRET = secrets.token_urlsafe(16)
BASE = {
    "MINIO_ENDPOINT": "http://minio:9000",
    "GATEWAY_ACCESS_KEY": "gateway",
    "GATEWAY_SECRET_KEY": SECRET,
}


def test_defaults() -> None:
    settings = load(BASE)
    assert settings.minio_url == "http://minio:9000"
    assert settings.bucket == "chaosgate"
    assert (settings.connect_timeout, settings.read_timeout) == (2.0, 10.0)
    assert settings.port == 8080
    assert settings.max_object_bytes == 128 * 1024 * 1024  # 64 MiB objects fit
    assert settings.part_bytes == 8 * 1024 * 1024
    assert settings.ack_before_write is False
    assert SECRET not in repr(settings)


@pytest.mark.parametrize("name", ["MINIO_ENDPOINT", "GATEWAY_ACCESS_KEY", "GATEWAY_SECRET_KEY"])
def test_missing_required_variable_is_named(name: str) -> None:
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        load(env)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"MINIO_ENDPOINT": "minio:9000"}, "MINIO_ENDPOINT"),
        ({"MINIO_ENDPOINT": "http://minio:9000/bucket"}, "MINIO_ENDPOINT"),
        ({"GATEWAY_BUCKET": "Bad_Bucket"}, "GATEWAY_BUCKET"),
        ({"GATEWAY_MINIO_READ_TIMEOUT": "soon"}, "GATEWAY_MINIO_READ_TIMEOUT"),
        ({"GATEWAY_MINIO_CONNECT_TIMEOUT": "0"}, "GATEWAY_MINIO_CONNECT_TIMEOUT"),
        ({"GATEWAY_PORT": "70000"}, "GATEWAY_PORT"),
        ({"GATEWAY_MAX_OBJECT_BYTES": "0"}, "GATEWAY_MAX_OBJECT_BYTES"),
        ({"GATEWAY_PART_BYTES": str(5 * 1024 * 1024 - 1)}, "GATEWAY_PART_BYTES"),  # below S3's smallest part
        ({"GATEWAY_PART_BYTES": str(5 * 1024**3 + 1)}, "GATEWAY_PART_BYTES"),  # above S3's largest
        # More than 10,000 parts of 5 MiB: S3 could not complete the upload.
        (
            {"GATEWAY_PART_BYTES": str(5 * 1024 * 1024), "GATEWAY_MAX_OBJECT_BYTES": str(60 * 1024**3)},
            "GATEWAY_PART_BYTES",
        ),
    ],
)
def test_bad_values_are_refused_by_name(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load({**BASE, **overrides})


def test_unsafe_switch_only_with_the_explicit_word() -> None:
    assert ack_before_write(None) is False
    assert ack_before_write("") is False
    assert ack_before_write(UNSAFE_ACK_VALUE) is True
    assert load({**BASE, "GATEWAY_ACK_BEFORE_WRITE": UNSAFE_ACK_VALUE}).ack_before_write is True
    for value in ("1", "true", "on", "unsafe"):
        with pytest.raises(ConfigError, match="GATEWAY_ACK_BEFORE_WRITE"):
            ack_before_write(value)


def test_bucket_versioning_is_on_unless_turned_off_by_name() -> None:
    assert load(BASE).bucket_versioning is True
    assert load(BASE).noncurrent_days == 1
    assert bucket_versioning("enabled") is True
    assert load({**BASE, "GATEWAY_BUCKET_VERSIONING": "off"}).bucket_versioning is False
    for value in ("false", "0", "disabled", "suspended"):
        with pytest.raises(ConfigError, match="GATEWAY_BUCKET_VERSIONING"):
            bucket_versioning(value)
    with pytest.raises(ConfigError, match="GATEWAY_NONCURRENT_DAYS"):
        load({**BASE, "GATEWAY_NONCURRENT_DAYS": "0"})


def test_repair_is_on_by_default_and_its_switch_takes_only_on_or_off() -> None:
    settings = load(BASE)
    assert (settings.repair_refused_writes, settings.repair_max_age, settings.repair_max_keys) == (True, 600.0, 10000)
    assert load({**BASE, "GATEWAY_REPAIR": "off"}).repair_refused_writes is False
    assert load({**BASE, "GATEWAY_REPAIR": "ON"}).repair_refused_writes is True
    for value in ("false", "0", "no"):
        with pytest.raises(ConfigError, match=r"GATEWAY_REPAIR='.*' must be 'on' or 'off'"):
            load({**BASE, "GATEWAY_REPAIR": value})
    with pytest.raises(ConfigError, match="GATEWAY_REPAIR_MAX_KEYS"):
        load({**BASE, "GATEWAY_REPAIR_MAX_KEYS": "0"})


def test_every_setting_read_from_the_environment_is_in_the_readme() -> None:
    source = (Path(__file__).resolve().parents[1] / "gateway" / "config.py").read_text()
    read = set(re.findall(r'env(?:\.get)?\(\s*"((?:GATEWAY|MINIO)_[A-Z_]+)"', source))
    read |= set(re.findall(r'_number\(env, "(GATEWAY_[A-Z_]+)"', source))
    read |= set(re.findall(r'_required\(env, "((?:GATEWAY|MINIO)_[A-Z_]+)"', source))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert len(read) >= 15, read
    assert sorted(name for name in read if f"`{name}`" not in readme) == []


def test_delete_settle_defaults_to_30_s_and_takes_0_to_turn_off() -> None:
    assert load(BASE).delete_settle_s == 30.0
    assert load({**BASE, "GATEWAY_DELETE_SETTLE": "0"}).delete_settle_s == 0.0
    with pytest.raises(ConfigError, match=r"GATEWAY_DELETE_SETTLE='-1' must be at least 0"):
        load({**BASE, "GATEWAY_DELETE_SETTLE": "-1"})


def test_read_attempts_default_to_3_and_take_1_to_10() -> None:
    assert load(BASE).read_attempts == 3
    assert load({**BASE, "GATEWAY_READ_ATTEMPTS": "1"}).read_attempts == 1
    for bad in ("0", "11", "2.5"):
        with pytest.raises(ConfigError, match="GATEWAY_READ_ATTEMPTS"):
            load({**BASE, "GATEWAY_READ_ATTEMPTS": bad})
