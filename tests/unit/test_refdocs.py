"""The reference cannot drift: docs/reference and docs/scenarios are what the
code generates, nothing in the code goes undocumented, and the commands and
the sample SLO file the docs show work."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest
import yaml

from chaos import settings, slo
from deployer.cli import build_parser
from reports.__main__ import _parser as reports_parser
from scenarios import refdocs
from scenarios.refdocs import clis, markdown, settingspages

ROOT = Path(__file__).resolve().parents[2]
# Written by hand: the generated pages are checked against the code as a whole.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "targets" / "README.md"]


def test_committed_reference_is_what_the_code_generates() -> None:
    assert refdocs.stale(refdocs.pages()) == [], "run: python -m scenarios.refdocs"


def test_an_option_without_help_cannot_be_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = dataclasses.field(metadata={"flag": "--new-thing", "env": "CHAOSGATE_NEW_THING", "help": ""})
    bare.name = "new_thing"
    monkeypatch.setattr(settings, "fields", lambda: [*dataclasses.fields(settings.Settings), bare])
    with pytest.raises(markdown.Undocumented, match="--new-thing has no documentation text"):
        settingspages.options()


def test_an_env_var_the_code_reads_must_be_described(monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios.refdocs import source  # noqa: PLC0415

    monkeypatch.setattr(settingspages, "env_vars_in_code", lambda: {*source.env_vars_in_code(), "CHAOSGATE_NEW"})
    with pytest.raises(markdown.Undocumented, match=r"\['CHAOSGATE_NEW'\] are read by the code but not described"):
        settingspages.options()


def test_a_documented_option_that_the_code_lacks_makes_the_page_stale() -> None:
    generated = refdocs.pages()
    options = refdocs.REFERENCE / "options.md"
    generated[options] = "\n".join(line for line in generated[options].splitlines() if "--helper-image" not in line)
    assert refdocs.stale(generated) == ["docs/reference/options.md differs from the code"]


def test_a_cli_flag_without_help_cannot_be_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    for action in parser._actions:
        if action.dest == "command":
            action.choices["down"].add_argument("--force")  # type: ignore[index]
    monkeypatch.setattr(clis, "build_parser", lambda: parser)
    with pytest.raises(markdown.Undocumented, match="python -m deployer down --force"):
        clis.deployer()


def test_every_slo_key_is_read_by_a_scenario() -> None:
    # slo.md's generator refuses a key no scenario reads; this names the rule.
    for f in dataclasses.fields(slo.Slo):
        assert settingspages.reads(f.name), f.name


def test_the_sample_slo_file_names_every_key_at_its_default() -> None:
    path = ROOT / "docs" / "reference" / "slo-sample.yaml"
    assert slo.load_slo(path) == slo.Slo()
    assert set(yaml.safe_load(path.read_text())) == {f.name for f in dataclasses.fields(slo.Slo)}


def _doc_commands(module: str) -> list[tuple[Path, list[str]]]:
    found = []
    pattern = re.compile(rf"python3? -m {module} ([^`#\n|]+)")
    for path in DOCS:
        for match in pattern.finditer(path.read_text()):
            words = shlex.split(match[1].replace("\\", " "))
            if words and not words[0].startswith(("...", "<")):
                found.append((path, words))
    return found


@pytest.mark.parametrize(("module", "parser"), [("deployer", build_parser), ("reports", reports_parser)])
def test_every_cli_command_in_the_docs_parses(module: str, parser: object) -> None:
    commands = _doc_commands(module)
    assert commands, f"the docs show no python -m {module} command"
    for path, words in commands:
        try:
            parser().parse_args(words)  # type: ignore[operator]
        except SystemExit:
            pytest.fail(f"{path.relative_to(ROOT)}: `python -m {module} {' '.join(words)}` does not parse")


def test_docs_run_the_deployer_with_tox_s_interpreter_never_the_system_one() -> None:
    for path in DOCS:
        text = path.read_text()
        assert "sudo python3 -m deployer" not in text, path
        assert "python3 -m deployer" not in text, path


def test_no_page_depends_on_where_the_checkout_lies() -> None:
    for path, text in refdocs.pages().items():
        assert str(ROOT) not in text, path
