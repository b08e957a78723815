"""The SLO file: every limit must be one that can fail, typos are refused."""

from pathlib import Path

import pytest

from chaos.slo import Slo, load_slo
from kernel.errors import BadInputError


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
