"""Names a user writes are checked against the known ones: a target's
scenarios, the SLO keys, the profile. Each mistake is bad input (exit 2) that
names what is known, never a silent "not applicable" or a default."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from chaos import catalog, settings, slo
from kernel.errors import BadInputError
from scenarios.refdocs.source import scenario_files

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_names_exactly_the_scenario_markers() -> None:
    marked = [name for names in scenario_files().values() for name in names]
    assert sorted(catalog.SCENARIOS) == sorted(marked)


def test_a_misspelt_scenario_in_a_target_is_bad_input_naming_the_known(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "targets" / "reference.yaml").read_text())
    # Without its deploy section the target needs no charts next to it.
    kept = {k: v for k, v in data.items() if k in {"name", "namespace", "minio"}}
    target = tmp_path / "target.yaml"
    target.write_text(yaml.safe_dump({**kept, "scenarios": ["smoke", "pod-kil"]}))
    with pytest.raises(BadInputError, match=r"unknown scenario name\(s\) \['pod-kil'\]; fix: use the known names: "):
        settings.Settings(target=target).load_target()


def test_check_names_lists_every_known_name() -> None:
    with pytest.raises(BadInputError) as info:
        catalog.check_names(["node-los"], "target file t.yaml: scenarios")
    for name in (*catalog.ALWAYS_RUN, *catalog.SCENARIOS):
        assert name in str(info.value)
    catalog.check_names(["smoke", *catalog.SCENARIOS], "ok")


def test_an_slo_key_no_scenario_reads_is_bad_input_naming_the_known(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text("heal_max_s: 10\n")
    with pytest.raises(BadInputError) as info:
        slo.load_slo(path)
    assert "unknown key(s) ['heal_max_s']" in str(info.value)
    for f in dataclasses.fields(slo.Slo):
        assert f.name in str(info.value)


def test_a_misspelt_profile_is_bad_input_naming_the_known() -> None:
    with pytest.raises(BadInputError, match="profile must be one of quick, standard, full, got 'standrad'"):
        settings.from_sources({}, {"CHAOSGATE_PROFILE": "standrad"})
