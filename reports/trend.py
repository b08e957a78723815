"""trend.html: each measurement over the last runs (``python -m reports trend RUNS_DIR``).

One self-contained page like report.html (inline SVG, no scripts, no
fetches): the verdict of every run, then per scenario one chart per
measurement with the SLO limit as a dashed line and each point coloured by
its run's verdict. Run folders are read from their summary.json; a folder
whose summary cannot be read is listed as skipped, never silently dropped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from pathlib import Path

from reports.flips import Flip, flips
from reports.html import STYLE, badge, table
from reports.summary import RATIO, BadRun, Measurement, Run, load, measurements, run_folders
from reports.svg import runs_chart

DEFAULT_LAST = 20


@dataclass(frozen=True)
class Trend:
    runs: list[Run]
    skipped: list[tuple[Path, str]]


def collect(runs_dir: Path, last: int = DEFAULT_LAST) -> Trend:
    """The last ``last`` run folders of ``runs_dir``, oldest first."""
    if last < 1:
        raise BadRun(f"--last must be at least 1, got {last}")
    if not runs_dir.is_dir():
        raise BadRun(f"{runs_dir}: no such folder of runs")
    folders = run_folders(runs_dir)[-last:]
    if not folders:
        raise BadRun(f"{runs_dir}: no run folder with a summary.json in it")
    runs, skipped = [], []
    for folder in folders:
        try:
            runs.append(load(folder))
        except BadRun as exc:
            skipped.append((folder, str(exc)))
    if not runs:
        raise BadRun(f"{runs_dir}: no run folder has a readable summary.json")
    return Trend(runs, skipped)


def _display(m: Measurement | None) -> float | None:
    """The value as the chart's axis shows it (ratios in percent)."""
    if m is None or m.value is None:
        return None
    return m.value * 100 if m.unit == RATIO else m.value


def _axis_unit(unit: str) -> str:
    return {RATIO: "%", "": "count"}.get(unit, unit)


def _series(trend: Trend) -> dict[str, dict[str, list[Measurement | None]]]:
    """scenario -> measurement name -> that measurement in each run (None: not measured)."""
    table_: dict[str, dict[str, list[Measurement | None]]] = {}
    for i, run in enumerate(trend.runs):
        for scenario in run.scenarios:
            per_name = table_.setdefault(scenario["name"], {})
            for m in measurements(scenario):
                per_name.setdefault(m.name, [None] * len(trend.runs))[i] = m
    return table_


def _titles(trend: Trend) -> dict[str, str]:
    titles: dict[str, str] = {}
    for run in trend.runs:
        for s in run.scenarios:
            titles[s["name"]] = str(s.get("title") or s["name"])
    return titles


def _verdict_of(run: Run, scenario: str) -> str:
    return next((str(s["verdict"]) for s in run.scenarios if s["name"] == scenario), "not run")


def render(trend: Trend, out: Path) -> str:
    """The page; links to each run's report.html are relative to ``out``."""
    rows = []
    for run in trend.runs:
        failing = [
            f"{s['name']}: {'; '.join(map(str, s.get('reasons') or [])) or s['verdict']}"
            for s in run.scenarios
            if s["verdict"] != "pass"
        ]
        link = os.path.relpath(run.dir / "report.html", out.parent)
        rows.append(
            [
                f'<a href="{escape(link)}">{escape(run.name)}</a>',
                badge(run.verdict.value),
                escape(run.settings.get("profile", "")),
                "<br>".join(escape(f) for f in failing) or '<span class="muted">all scenarios passed</span>',
            ]
        )
    body = [
        f"<h1>chaosgate trend: the last {len(trend.runs)} runs</h1>",
        '<p class="muted">Oldest run on the left. Points are coloured by the run\'s verdict for that scenario; '
        "the dashed line is the SLO limit of the newest run that checked it; &#215; marks a run that did not "
        "observe the value.</p>",
        "<h2>Verdict per run</h2>",
        table(rows, ("run", "verdict", "profile", "scenarios that did not pass")),
    ]
    found = flips(trend.runs)
    if found:
        body.append(
            "<h2>Verdict flips</h2><p>The same target and profile, judged differently between runs: the stack "
            "fails only sometimes, or a check is noisy. Either way the gate cannot be trusted on these rows "
            "until the cause is found.</p><ul>"
        )
        body += [f"<li>{escape(f.text())}</li>" for f in found]
        body.append("</ul>")
    if trend.skipped:
        body.append("<h2>Skipped run folders</h2><ul>")
        body += [f"<li>{escape(p.name)}: {escape(why)}</li>" for p, why in trend.skipped]
        body.append("</ul>")
    titles = _titles(trend)
    for scenario, per_name in _series(trend).items():
        body.append(f"<h2>{escape(titles.get(scenario, scenario))}</h2>")
        for name, series in per_name.items():
            newest = next(m for m in reversed(series) if m is not None)
            limited = next((m for m in reversed(series) if m is not None and m.limit is not None), None)
            limit = None
            if limited is not None and limited.limit is not None:
                limit = limited.limit * 100 if limited.unit == RATIO else limited.limit
            points = [
                (run.name, _verdict_of(run, scenario), _display(m)) for run, m in zip(trend.runs, series, strict=True)
            ]
            label = f"SLO: {limited.limit_shown}" if limited is not None else ""
            title = f"{scenario}: {newest.words} ({name})"
            body.append(runs_chart(title, _axis_unit(newest.unit), points, limit=limit, limit_label=label))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>chaosgate trend</title><style>{STYLE}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )


def write(runs_dir: Path, out: Path | None = None, last: int = DEFAULT_LAST) -> tuple[Path, list[Flip]]:
    """Write trend.html (by default into ``runs_dir``); returns its path and the verdict flips."""
    out = out or runs_dir / "trend.html"
    trend = collect(runs_dir, last)
    out.write_text(render(trend, out), encoding="utf-8")
    return out, flips(trend.runs)
