"""Build a run's report.html and summary.json from its timeline and results.

Input is plain data (the timeline's JSON lines and each scenario's result as a
dict), so a finished run folder can be reported again without a cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chaos.rulebook import Verdict, exit_code, overall_of
from chaos.timeline import read
from reports import junit, subject
from reports.html import render
from reports.svg import Series, Window, chart

# (chart title, unit, [(series label, sample section, field, step)])
CHARTS: tuple[tuple[str, str, tuple[tuple[str, str, str, bool], ...]], ...] = (
    (
        "Load: requests and failures per second",
        "req/s",
        (("requests/s", "load", "rps", False), ("failures/s", "load", "failures_per_s", False)),
    ),
    (
        "Latency",
        "ms",
        (("p95", "load", "p95_ms", False), ("p50", "load", "p50_ms", False)),
    ),
    (
        "Gateway replicas (HPA)",
        "pods",
        (
            ("HPA current", "hpa", "current", True),
            ("HPA desired", "hpa", "desired", True),
            ("app pods ready", "pods", "app_ready", True),
        ),
    ),
    (
        "MinIO servers and drives",
        "count",
        (
            ("servers online", "minio", "servers_online", True),
            ("drives ok", "minio", "drives_ok", True),
            ("drives healing", "minio", "drives_healing", True),
            ("MinIO pods ready", "pods", "minio_ready", True),
        ),
    ),
    (
        "Gateway CPU (HPA metric)",
        "% of request",
        (("CPU utilisation", "hpa", "cpu_percent", False),),
    ),
    (
        "Prometheus alerts (the target's rules)",
        "alerts",
        (("pending", "alerts", "pending", True), ("firing", "alerts", "firing", True)),
    ),
)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The timeline's JSON lines (chaos.timeline.read: a torn last line is skipped)."""
    return read(path)


def overall_verdict(results: Sequence[Mapping[str, Any]]) -> str:
    return overall_of(str(r["verdict"]) for r in results).value


def fault_windows(records: Sequence[Mapping[str, Any]], scenario: str) -> list[Window]:
    """Pairs of ``fault.*.start`` / ``.end`` events of one scenario."""
    open_at: dict[str, float] = {}
    windows: list[Window] = []
    for rec in records:
        if rec.get("kind") != "event" or rec.get("scenario") != scenario:
            continue
        name = str(rec.get("name", ""))
        if not name.startswith("fault."):
            continue
        base = name.rsplit(".", 1)[0]
        if name.endswith(".start"):
            open_at[base] = float(rec["t"])
        elif name.endswith(".end") and base in open_at:
            windows.append(Window(open_at.pop(base), float(rec["t"]), base.removeprefix("fault.")))
    last_t = float(records[-1]["t"]) if records else 0.0
    windows.extend(Window(start, last_t, base.removeprefix("fault.") + " (no end)") for base, start in open_at.items())
    return windows


def _series(samples: Sequence[Mapping[str, Any]], section: str, key: str) -> list[tuple[float, float | None]]:
    points: list[tuple[float, float | None]] = []
    for s in samples:
        part = s.get(section) or {}
        value = part.get(key) if isinstance(part, Mapping) else None
        if isinstance(value, list):  # names (alerts pending, firing): plotted as how many
            value = len(value)
        points.append((float(s["t"]), float(value) if isinstance(value, int | float) else None))
    return points


def scenario_charts(records: Sequence[Mapping[str, Any]], result: Mapping[str, Any]) -> list[str]:
    name = result["name"]
    samples = [r for r in records if r.get("kind") == "sample" and r.get("scenario") == name]
    if not samples:
        return []
    t0, t1 = float(samples[0]["t"]), float(samples[-1]["t"])
    windows = fault_windows(records, name)
    svgs = []
    for title, unit, specs in CHARTS:
        series = [Series(label, _series(samples, section, key), step) for label, section, key, step in specs]
        if any(v is not None for s in series for _, v in s.points):
            svgs.append(chart(title, unit, series, windows, t0=t0, t1=t1))
    return svgs


def write_summary(
    run_dir: Path,
    settings: Mapping[str, str],
    results: Sequence[Mapping[str, Any]],
    subject: Mapping[str, Any] | None = None,
) -> Path:
    verdict = overall_verdict(results)
    summary = {
        "verdict": verdict,
        "exit_code": exit_code(Verdict(verdict)),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "subject": dict(subject or {}),
        "settings": dict(settings),
        "scenarios": list(results),
    }
    path = run_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return path


def build(run_dir: Path, settings: Mapping[str, str], results: Sequence[Mapping[str, Any]]) -> Path:
    """Write summary.json, junit.xml and report.html into ``run_dir``; returns the report's path."""
    records = read_records(run_dir / "timeline.jsonl")
    tested = subject.gather(run_dir, settings, records)
    write_summary(run_dir, settings, results, tested)
    junit.write(run_dir / "junit.xml", results)
    charts = {r["name"]: scenario_charts(records, r) for r in results}
    files = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    html = render(
        overall_verdict(results), settings, results, charts, [*files, "report.html"], tested=subject.rows(tested)
    )
    path = run_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
