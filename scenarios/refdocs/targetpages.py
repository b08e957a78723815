"""Pages from the target schema, the preflight rules and the scenario runbooks."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from chaos import catalog
from chaos.preflight import CHECKS, FIXES
from deployer import target
from scenarios.refdocs.markdown import HEADER, Undocumented, need, table
from scenarios.refdocs.source import ROOT, runbook, scenario_files


def _fields(node: Mapping[str, Any], prefix: str, required: frozenset[str]) -> Iterator[tuple[str, ...]]:
    for name, spec in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        kind = spec.get("type", "one of" if "oneOf" in spec else "")
        if kind == "array" and isinstance(spec.get("items"), dict):
            kind = f"list of {spec['items'].get('type', 'objects')}"
        limits = [f"{k} {spec[k]}" for k in ("minimum", "maximum", "pattern", "enum") if k in spec]
        yield (
            f"`{path}`",
            kind,
            "yes" if name in required else "",
            need(spec.get("description"), f"target schema field {path}"),
            "; ".join(map(str, limits)),
        )
        if spec.get("type") == "object" and "properties" in spec:
            yield from _fields(spec, path, frozenset(spec.get("required", ())))
        items = spec.get("items")
        if isinstance(items, dict) and "properties" in items:
            yield from _fields(items, f"{path}[]", frozenset(items.get("required", ())))
        pattern = spec.get("additionalProperties")
        if isinstance(pattern, dict) and "properties" in pattern:
            yield from _fields(pattern, f"{path}.<name>", frozenset(pattern.get("required", ())))


def schema() -> str:
    data = json.loads(target.SCHEMA_FILE.read_text())
    rows = list(_fields(data, "", frozenset(data.get("required", ()))))
    return (
        HEADER.format(source="deployer/target.schema.json")
        + "# Target file fields\n\n"
        + f"{need(data.get('description'), 'the target schema')} Paths are relative to the target file. "
        + "Every error names the field and the fix (the description below) and exits 2 before anything is built. "
        + "`scenarios:` takes these names: "
        + ", ".join(f"`{n}`" for n in (*catalog.ALWAYS_RUN, *catalog.SCENARIOS))
        + "; any other exits 2.\n\n"
        + table(("field", "type", "required", "what (and the fix when it is wrong)", "limits"), rows)
    )


def preflight_rules() -> str:
    if set(FIXES) != set(CHECKS):
        raise Undocumented(f"chaos/preflight FIXES and CHECKS name different rules: {sorted(set(FIXES) ^ set(CHECKS))}")
    rows = [(f"`{rule[:5]}`", rule[6:], need(CHECKS[rule], rule), need(FIXES[rule], rule)) for rule in sorted(CHECKS)]
    return (
        HEADER.format(source="chaos/preflight (CHECKS, FIXES)")
        + "# Preflight rules\n\n"
        + "The preflight row checks the target's rendered manifests (`helm template` of its releases) before any "
        + "cluster exists. An error-level finding fails the row (data or availability at risk); a warning is listed. "
        + "Each finding in the report names the object, the field, why, and the fix for that object. There is no "
        + "waiver: fix the chart, or leave the scenario out of the target's `scenarios:`.\n\n"
        + table(("id", "name", "flags", "usual fix"), rows)
    )


def scenario_pages() -> dict[str, str]:
    pages: dict[str, str] = {}
    for path, names in scenario_files().items():
        text = runbook(path)
        need(text, f"{path.name}'s runbook (its module docstring)")
        for name in names:
            if name not in catalog.SCENARIOS:
                raise Undocumented(f"scenario {name} ({path.name}) is not in chaos/catalog.py SCENARIOS")
            pages[f"{name}.md"] = (
                HEADER.format(source=f"scenarios/{path.name}")
                + f"# {name}\n\n"
                + (f"Runs with: {', '.join(sorted(set(names)))} (one file).\n\n" if len(names) > 1 else "")
                + text
                + f"\n\nSource: [scenarios/{path.name}](../../scenarios/{path.name}).\n"
            )
    return pages


__all__ = ["ROOT", "preflight_rules", "scenario_pages", "schema"]
