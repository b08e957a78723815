"""Small inline SVG line charts with shaded fault windows.

Hand-written rather than a plotting library so the report is one small file
that opens offline anywhere, with nothing to download or execute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
WIDTH, HEIGHT = 860, 236
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 26, 44


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float | None]]  # (seconds, value); None is a gap
    step: bool = False  # draw as steps (counts such as replicas)


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    label: str


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def _ticks(top: float, count: int = 5) -> list[float]:
    return [top * i / count for i in range(count + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}"


def chart(title: str, unit: str, series: Sequence[Series], windows: Sequence[Window], *, t0: float, t1: float) -> str:
    """One chart as an <svg> element. Axes: seconds on x, ``unit`` on y."""
    values = [v for s in series for _, v in s.points if v is not None]
    y_top = _nice_max(max(values) if values else 1.0)
    span = max(t1 - t0, 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (min(max(t, t0), t1) - t0) / span * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - (v / y_top) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{LEFT}" y="16" class="title">{escape(title)}</text>',
    ]
    for w in windows:
        if w.end < t0 or w.start > t1:
            continue
        parts.append(
            f'<rect class="fault" x="{x(w.start):.1f}" y="{TOP}" width="{max(x(w.end) - x(w.start), 2):.1f}" '
            f'height="{plot_h}"><title>{escape(w.label)}</title></rect>'
        )
        parts.append(f'<text class="fault-label" x="{x(w.start) + 3:.1f}" y="{TOP + 11}">{escape(w.label)}</text>')
    for tick in _ticks(y_top):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    for tick in _ticks(span, 6):
        parts.append(
            f'<text class="axis" x="{x(t0 + tick):.1f}" y="{HEIGHT - 26}" text-anchor="middle">{tick:.0f}s</text>'
        )
    parts.append(f'<text class="axis" x="{LEFT - 6}" y="{TOP - 6}" text-anchor="end">{escape(unit)}</text>')
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        for run in _runs(s.points):
            coords: list[str] = []
            prev_y: float | None = None
            for t, v in run:
                if s.step and prev_y is not None:
                    coords.append(f"{x(t):.1f},{prev_y:.1f}")
                prev_y = y(v)
                coords.append(f"{x(t):.1f},{prev_y:.1f}")
            if len(coords) == 1:
                cx, cy = coords[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            else:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{" ".join(coords)}"/>')
        parts.append(
            f'<text class="legend" x="{LEFT + 10 + i * 170}" y="{HEIGHT - 6}" fill="{color}">'
            f"&#9632; {escape(s.label)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Split a series at gaps (None), so an outage is not drawn as a straight line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in points:
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((t, v))
    return [r for r in runs if r]


VERDICT_COLORS = {"pass": "#2e7d32", "fail": "#c62828", "inconclusive": "#ef6c00", "not-applicable": "#757575"}


def runs_chart(
    title: str,
    unit: str,
    runs: Sequence[tuple[str, str, float | None]],
    *,
    limit: float | None = None,
    limit_label: str = "SLO limit",
) -> str:
    """One measurement over runs as an <svg>: x is the run (oldest left), y the
    value in ``unit``. Each point is coloured by its run's verdict and names the
    run on hover; a dashed line marks the SLO limit. ``runs``: (run name,
    verdict, value or None when the run did not observe it)."""
    values = [v for _, _, v in runs if v is not None]
    y_top = _nice_max(max([*values, limit or 0.0]) if values or limit else 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    pad = 48  # room for the first and last run names under the axis
    step = (plot_w - 2 * pad) / max(len(runs) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (pad + i * step if len(runs) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - (v / y_top) * plot_h

    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{LEFT}" y="16" class="title">{escape(title)}</text>',
    ]
    for tick in _ticks(y_top):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    parts.append(f'<text class="axis" x="{LEFT - 6}" y="{TOP - 6}" text-anchor="end">{escape(unit)}</text>')
    # At most about ten run names under the axis, so they never overlap.
    every = max(1, math.ceil(len(runs) / 10))
    for i, (name, _, _) in enumerate(runs):
        if i % every == 0 or i == len(runs) - 1:
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 26}" text-anchor="middle">{escape(name)}</text>'
            )
    if limit is not None:
        parts.append(
            f'<line class="limit" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" '
            f'stroke="#c62828" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text class="fault-label" x="{WIDTH - RIGHT - 4}" y="{y(limit) - 4:.1f}" text-anchor="end">'
            f"{escape(limit_label)}</text>"
        )
    indexed = [(i, v) for i, (_, _, v) in enumerate(runs)]
    for run in _runs([(float(i), v) for i, v in indexed]):
        coords = " ".join(f"{x(int(i)):.1f},{y(v):.1f}" for i, v in run)
        if len(run) > 1:
            parts.append(f'<polyline fill="none" stroke="{COLORS[0]}" stroke-width="1.6" points="{coords}"/>')
    for i, (name, verdict, value) in enumerate(runs):
        if value is None:
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{TOP + plot_h - 4}" text-anchor="middle">'
                f"<title>{escape(name)}: not observed</title>&#215;</text>"
            )
            continue
        color = VERDICT_COLORS.get(verdict, "#666")
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" fill="{color}">'
            f"<title>{escape(name)} ({escape(verdict)}): {_fmt(round(value, 3))} {escape(unit)}</title></circle>"
        )
    legend = " ".join(f'<tspan fill="{c}">&#9679; {v}</tspan>' for v, c in VERDICT_COLORS.items())
    parts.append(f'<text class="legend" x="{LEFT + 10}" y="{HEIGHT - 6}">points by run verdict: {legend}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
