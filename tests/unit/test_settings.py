"""Settings: flags over env vars over defaults, and bad input named early."""

from pathlib import Path

import pytest

from chaos import settings as s
from kernel.errors import BadInputError


def test_defaults_are_valid():
    got = s.from_sources({}, env={})
    assert (got.cluster, got.images, got.profile, got.workers) == ("kind", "auto", "quick", 2)


def test_env_vars_apply_and_flags_win():
    env = {"CHAOSGATE_IMAGES": "build", "CHAOSGATE_WORKERS": "1", "CHAOSGATE_KEEP_CLUSTER": "yes"}
    got = s.from_sources({"images": "pull"}, env=env)
    assert got.images == "pull"
    assert got.workers == 1
    assert got.keep_cluster is True


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"cluster": "minikube"}, {}, "cluster must be one of kind, existing"),
        ({"images": "fetch"}, {}, "images must be one of"),
        ({}, {"CHAOSGATE_WORKERS": "two"}, "CHAOSGATE_WORKERS must be a whole number"),
        ({}, {"CHAOSGATE_REUSE_CLUSTER": "maybe"}, "must be true or false"),
        ({"workers": 9}, {}, "workers must be 0..5"),
        ({"cluster_name": "Bad_Name"}, {}, "cluster name .* is not valid"),
        ({"cluster_name": "a" * 41}, {}, "at most 40"),
        ({"cluster": "existing"}, {}, "needs --kube-context"),
        ({"cluster": "existing", "kube_context": "prod"}, {}, "not in --allowed-contexts"),
        ({"kube_context": "dev"}, {}, "only used with --cluster existing"),
        ({"slo_file": "/nonexistent/slo.yaml"}, {}, "does not exist"),
    ],
)
def test_bad_input_names_the_field(flags, env, message):
    with pytest.raises(BadInputError, match=message):
        s.from_sources(flags, env=env)


def test_existing_cluster_allowed_when_listed():
    got = s.from_sources(
        {"cluster": "existing", "kube_context": "lab"}, env={"CHAOSGATE_ALLOWED_CONTEXTS": "lab, staging"}
    )
    assert got.allowed_contexts == ("lab", "staging")


def test_every_field_has_flag_env_and_help():
    for f in s.fields():
        assert f.metadata["flag"].startswith("--")
        assert f.metadata["env"].startswith("CHAOSGATE_")
        assert len(f.metadata["help"]) > 20


def test_effective_settings_are_strings():
    got = s.from_sources({"report_dir": "out"}, env={}).effective()
    assert got["report_dir"] == str(Path("out"))
    assert got["slo_file"] == ""


def test_effective_settings_show_what_the_profile_sets():
    for name in s.PROFILES:  # every profile a user may pick has its numbers in the report
        got = s.from_sources({"profile": name}, env={}).effective()
        assert got["profile"] == name
        assert got["profile.size_mix"].startswith("small=") and "large=" in got["profile.size_mix"]
        assert {"profile.overwrite_ratio", "profile.delete_ratio", "profile.bytes_per_s", "profile.users"} <= set(got)
