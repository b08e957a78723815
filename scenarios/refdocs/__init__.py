"""The reference under docs/reference/, generated from the code that is its source.

``python -m scenarios.refdocs`` writes the pages; ``--check`` exits 1 naming
each page that differs from what the code says (tests/unit/test_refdocs.py
runs the same check). A page is never edited by hand: change the code (a
flag's help, an SLO field's docstring, the target schema's descriptions, a
preflight rule's fix) and regenerate. Generating refuses an option, env var,
SLO key or rule without its text, so nothing reaches the code undocumented.

It lives in scenarios/ because it reads every layer below (the settings, the
SLOs and profiles, the preflight rules, both CLIs, the scenario runbooks).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scenarios.refdocs import clis, settingspages, targetpages

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
SCENARIO_PAGES = ROOT / "docs" / "scenarios"


def pages() -> dict[Path, str]:
    """Every generated file, by path, with its text."""
    makers: dict[str, Callable[[], str]] = {
        "options.md": settingspages.options,
        "slo.md": settingspages.slo_keys,
        "profiles.md": settingspages.profiles,
        "target-schema.md": targetpages.schema,
        "preflight-rules.md": targetpages.preflight_rules,
        "deployer-cli.md": clis.deployer,
        "reports-cli.md": clis.reports,
    }
    out = {REFERENCE / name: make() for name, make in makers.items()}
    out.update({SCENARIO_PAGES / name: text for name, text in targetpages.scenario_pages().items()})
    return out


def stale(generated: dict[Path, str]) -> list[str]:
    """Each committed page that differs from ``generated`` or is not generated
    any more (a scenario page whose scenario is gone), as a message."""
    problems = [
        f"{path.relative_to(ROOT)} differs from the code" if path.is_file() else f"{path.relative_to(ROOT)} is missing"
        for path, text in generated.items()
        if not path.is_file() or path.read_text() != text
    ]
    for folder in (REFERENCE, SCENARIO_PAGES):
        for path in sorted(folder.glob("*.md")):
            if path not in generated:
                problems.append(f"{path.relative_to(ROOT)} documents nothing in the code any more")
    return problems
