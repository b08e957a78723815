"""Waivers in the target file: a finding accepted with a reason stays in the
report marked waived and no longer fails the preflight row; an unknown check
or a waiver that matches nothing is bad input; --stop-on-preflight is a
setting like every other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos import settings as settings_mod
from chaos.__main__ import main as chaos_main
from chaos.preflight import CHECKS, Finding, waivers
from chaos.rulebook import BAD_INPUT_EXIT, Verdict
from chaos.verdict import ScenarioResult
from deployer import target
from deployer.target import Waiver
from kernel.errors import BadInputError
from scenarios import clusters
from tests.fixtures.naive_target import naive_target

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ROOT / "examples" / "naive-stack"
KNOWN = tuple(CHECKS)
PROBE = Finding("CG008-missing-probe", "error", "minio-ns/StatefulSet/minio", "spec.x", "no probe.", "add one")
PDB = Finding("CG012-no-disruption-budget", "warning", "minio-ns/StatefulSet/minio", "spec", "no PDB.", "add one")


def test_a_waived_finding_stays_marked_with_its_reason() -> None:
    judged = waivers.apply([PROBE, PDB], [Waiver("CG008", "StatefulSet/minio", "the chart has no value for it")], KNOWN)
    assert [j.waived for j in judged] == ["the chart has no value for it", ""]
    assert judged[0].to_dict() == {**PROBE.to_dict(), "waived": "the chart has no value for it"}
    assert "waived" not in judged[1].to_dict()
    full = waivers.apply([PROBE], [Waiver("CG008-missing-probe", "minio-ns/StatefulSet/minio", "known")], KNOWN)
    assert full[0].waived == "known"


def test_an_unknown_check_is_bad_input_naming_the_known_checks() -> None:
    with pytest.raises(BadInputError) as caught:
        waivers.apply([PROBE], [Waiver("CG099", "StatefulSet/minio", "why not")], KNOWN)
    assert "preflight.waive[0].check: 'CG099'" in str(caught.value)
    assert all(check in str(caught.value) for check in KNOWN)


@pytest.mark.parametrize(
    "waiver", [Waiver("CG008", "StatefulSet/other", "r"), Waiver("CG011", "StatefulSet/minio", "r")]
)
def test_a_waiver_that_matches_nothing_is_bad_input_naming_the_findings(waiver: Waiver) -> None:
    with pytest.raises(BadInputError, match=r"preflight.waive\[0\]: no CG0") as caught:
        waivers.apply([PROBE, PDB], [waiver], KNOWN)
    expected = "minio-ns/StatefulSet/minio" if waiver.check == "CG008" else "no CG011-missing-resources finding"
    assert expected in str(caught.value)


# --- the target file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waiver", "field"),
    [
        ({"check": "CG008", "object": "StatefulSet/minio"}, "preflight.waive[0]"),
        ({"check": "CG008", "object": "StatefulSet/minio", "reason": "  "}, "preflight.waive[0].reason"),
        ({"check": "probes", "object": "StatefulSet/minio", "reason": "r"}, "preflight.waive[0].check"),
    ],
)
def test_the_schema_wants_a_reason_and_a_check_id(tmp_path: Path, waiver: dict[str, Any], field: str) -> None:
    with pytest.raises(BadInputError) as caught:
        target.load(naive_target(tmp_path, [waiver]))
    assert f"{field}: " in str(caught.value)


def _preflight_row(file: Path, run_dir: Path) -> ScenarioResult:
    result = ScenarioResult("preflight", "Preflight")
    result.start()
    clusters.preflight(target.load(file), result, run_dir)
    result.finish()
    return result


def test_waiving_every_error_passes_the_row_and_keeps_the_findings(tmp_path: Path) -> None:
    plain = _preflight_row(naive_target(tmp_path, None), tmp_path)
    assert plain.verdict is Verdict.FAIL
    errors = {(f["check"], f["object"]) for f in plain.findings if f["severity"] == "error"}
    assert errors, "the naive stack has errors to waive"
    waive = [{"check": c, "object": o, "reason": f"accepted for the test: {c}"} for c, o in sorted(errors)]
    waived = _preflight_row(naive_target(tmp_path, waive), tmp_path)
    assert waived.verdict is Verdict.PASS, waived.reasons
    assert len(waived.findings) == len(plain.findings)
    written = json.loads((tmp_path / "preflight.json").read_text())
    assert {(f["check"], f["object"]) for f in written if f.get("waived")} == errors
    assert any(c.startswith("waived: [CG00") and "accepted for the test" in c for c in waived.checks)


def test_a_stale_waiver_is_bad_input_at_the_preflight(tmp_path: Path) -> None:
    file = naive_target(tmp_path, [{"check": "CG010", "object": "StatefulSet/minio", "reason": "fixed long ago"}])
    with pytest.raises(BadInputError, match="no CG010-ordered-ready finding"):
        _preflight_row(file, tmp_path)


def test_the_preflight_command_honours_waivers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert chaos_main(["preflight", "--target", str(naive_target(tmp_path, None))]) == 1
    report = capsys.readouterr().out
    assert "0 waived" in report
    stale = naive_target(tmp_path, [{"check": "CG010", "object": "StatefulSet/minio", "reason": "fixed long ago"}])
    assert chaos_main(["preflight", "--target", str(stale)]) == BAD_INPUT_EXIT


# --- --stop-on-preflight -------------------------------------------------------------------


def test_stop_on_preflight_is_a_flag_and_an_env_var() -> None:
    field = next(f for f in settings_mod.fields() if f.name == "stop_on_preflight")
    assert field.metadata["flag"] == "--stop-on-preflight"
    assert field.metadata["env"] == "CHAOSGATE_STOP_ON_PREFLIGHT"
    assert settings_mod.from_sources({}, env={}).stop_on_preflight is False
    assert settings_mod.from_sources({}, env={"CHAOSGATE_STOP_ON_PREFLIGHT": "true"}).stop_on_preflight is True
    assert settings_mod.from_sources({"stop_on_preflight": True}, env={}).stop_on_preflight is True
    with pytest.raises(BadInputError, match="STOP_ON_PREFLIGHT must be true or false"):
        settings_mod.from_sources({}, env={"CHAOSGATE_STOP_ON_PREFLIGHT": "maybe"})
