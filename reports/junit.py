"""junit.xml with one test case per scenario, as CI systems read it.

pass -> a passing case; fail -> <failure> with the reasons; inconclusive ->
<error> (the harness could not decide), so CI never shows it as green.
Measurements and the check records go into <properties> so they appear next to the verdict.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reports.summary import check_records


def write(path: Path, results: Sequence[Mapping[str, Any]], suite: str = "chaosgate") -> Path:
    failures = sum(1 for r in results if r["verdict"] == "fail")
    errors = sum(1 for r in results if r["verdict"] == "inconclusive")
    skipped = sum(1 for r in results if r["verdict"] == "not-applicable")
    total_time = sum(max(0.0, float(r.get("t_end", 0)) - float(r.get("t_start", 0))) for r in results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(failures), errors=str(errors))
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{total_time:.1f}",
    )
    for result in results:
        seconds = max(0.0, float(result.get("t_end", 0)) - float(result.get("t_start", 0)))
        case = ET.SubElement(node, "testcase", classname=suite, name=result["name"], time=f"{seconds:.1f}")
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="verdict", value=result["verdict"])
        for key, value in (result.get("measurements") or {}).items():
            ET.SubElement(props, "property", name=key, value="" if value is None else str(value))
        for i, check in enumerate(check_records(result), 1):
            # Numbered: one check name may be recorded more than once (a fault proven twice).
            label = f"check.{i}.{check.name}" if check.name else f"check.{i}"
            ET.SubElement(props, "property", name=label, value=f"{check.verdict.value}: {check.reason}")
        reasons = "\n".join(result.get("reasons") or [])
        if result["verdict"] == "fail":
            ET.SubElement(case, "failure", message=reasons.splitlines()[0] if reasons else "failed").text = reasons
        elif result["verdict"] == "inconclusive":
            first = reasons.splitlines()[0] if reasons else "inconclusive"
            ET.SubElement(case, "error", message=f"inconclusive: {first}").text = reasons
        elif result["verdict"] == "not-applicable":
            ET.SubElement(case, "skipped", message=reasons.splitlines()[0] if reasons else "not applicable")
    ET.indent(root)
    path.write_text(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n", encoding="utf-8")
    return path
