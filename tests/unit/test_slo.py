"""The SLO file: every limit must be one that can fail, typos are refused."""

from pathlib import Path

import pytest

from chaos.sizemix import SizeMix
from chaos.slo import PROFILES, Profile, Slo, load_slo
from kernel.errors import BadInputError
from loadtests.config import LoadConfig


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("read_availability_min: 0\n", r"read_availability_min = 0 must be a share in \(0, 1\]"),
        ("read_availability_min: 1.5\n", "must be a share in"),
        ("error_ratio_max: 1\n", r"must be a share in \[0, 1\)"),
        ("healed_max_s: .inf\n", "healed_max_s must be a finite number"),
        ("healed_max_s: .nan\n", "must be a finite number"),
        ("rejoin_max_s: 0\n", "rejoin_max_s = 0 must be > 0"),
        ("detect_max_s: -5\n", "must be > 0"),
        ("rejoin_max_s: fast\n", "rejoin_max_s must be a finite number, got 'fast'"),
        ("rejoin_max_s: true\n", "must be a finite number"),
        ("heal_max_s: 10\n", r"unknown key\(s\) \['heal_max_s'\]; known: \["),
        ("- 1\n- 2\n", "must be a mapping"),
        ("rejoin_max_s: [1\n", "cannot read SLO file"),
    ],
)
def test_bad_slo_files_are_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(text)
    with pytest.raises(BadInputError, match=message):
        load_slo(path)


def test_real_limits_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text("read_availability_min: 1\nerror_ratio_max: 0\nhealed_max_s: 60\n")
    slo = load_slo(path)
    assert (slo.read_availability_min, slo.error_ratio_max, slo.healed_max_s) == (1.0, 0.0, 60.0)
    assert load_slo(None) == Slo()


# -- run profiles: the load's shape and what it writes


def test_profiles_carry_a_valid_load_shape_for_the_locustfiles():
    for profile in PROFILES.values():
        env = LoadConfig(**profile.load_shape()).to_env()
        assert LoadConfig.from_env(env) == LoadConfig(**profile.load_shape()), "the shape survives the boundary"
        names = {c.name for c in SizeMix.parse(env["CHAOSGATE_SIZE_MIX"]).classes}
        assert names == {"small", "medium", "large"}, "every profile puts each storage path through the faults"
        assert profile.overwrite_ratio > 0 and profile.delete_ratio > 0 and profile.bytes_per_s > 0
    large = {n: SizeMix.parse(p.size_mix).get("large") for n, p in PROFILES.items()}
    assert large["quick"].high == 16 * 2**20 and large["standard"].high == 64 * 2**20


def test_a_quick_run_stays_well_under_a_gibibyte():
    """The reference stack has 4 drives of 1 GiB at EC:2 (about 2 GiB usable).
    At a generous 50 write attempts a second (about 40 measured with quick on
    a 2-core machine), quick's four fault scenarios send at most:"""
    quick = PROFILES["quick"]
    mix = SizeMix.parse(quick.size_mix)
    fault = quick.steady_s + quick.outage_s + quick.recovery_s  # the longest: beyond-write-quorum
    seconds = [quick.hpa_load_s] + [fault] * 3  # hpa-under-load, pod-kill, beyond-write-quorum, full-outage
    total = sum(mix.bound_bytes(quick.bytes_per_s, s, 50 * s) for s in seconds)
    assert total < 512 * 2**20, f"{total / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"size_mix": "huge=1:1"}, "profile p size_mix: 'huge' is no size class"),
        ({"overwrite_ratio": 1.0}, "overwrite_ratio must be a share in"),
        ({"delete_ratio": -0.1}, "delete_ratio must be a share in"),
        ({"overwrite_ratio": 0.6, "delete_ratio": 0.5}, "must leave room for new keys"),
        ({"bytes_per_s": -1}, "bytes_per_s must be >= 0"),
    ],
)
def test_bad_profiles_are_refused(change, message):
    base = {"users": 1, "spawn_rate": 1, "steady_s": 1, "recovery_s": 1, "hpa_users": 1, "hpa_load_s": 1}
    with pytest.raises(BadInputError, match=message):
        Profile("p", outage_s=1, **base, **change)
