"""The HTML page of report.html: one self-contained file, no scripts, no fetches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from reports.summary import (
    CHECK_HEAD,
    CLASS_COLUMNS,
    Measurement,
    amount,
    check_records,
    check_row,
    ledger_class_rows,
    ledger_notes,
    ledger_states,
    measurements,
    proof_rows,
    words,
)

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:920px;color:#222}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:16px 0 4px}
table{border-collapse:collapse;margin:6px 0 12px;width:100%} td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f5f5f5}
.verdict{font-weight:700;padding:2px 8px;border-radius:4px;color:#fff}
.verdict.pass{background:#2e7d32}.verdict.fail{background:#c62828}.verdict.inconclusive{background:#ef6c00}.verdict.not-applicable{background:#757575}
.chart{width:100%;height:auto;margin:4px 0 10px;background:#fcfcfc;border:1px solid #eee}
.chart .title{font-size:13px;font-weight:600;fill:#333}.chart .axis{font-size:10px;fill:#666}
.chart .grid{stroke:#e8e8e8}.chart .legend{font-size:11px}
.chart .fault{fill:#c62828;fill-opacity:.12}.chart .fault-label{font-size:10px;fill:#c62828}
.trend{width:100%;height:auto;margin:4px 0 10px;background:#fcfcfc;border:1px solid #eee}
.trend .title{font-size:13px;font-weight:600;fill:#333}.trend .axis{font-size:10px;fill:#666}
.trend .grid{stroke:#e8e8e8}.trend .legend{font-size:11px}.trend .fault-label{font-size:10px;fill:#c62828}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:260px}
ul.reasons{margin:4px 0;padding-left:20px} .muted{color:#777}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:700}
"""


def badge(verdict: str) -> str:
    return f'<span class="verdict {escape(verdict)}">{escape(verdict.upper())}</span>'


def _fmt(value: object) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape(str(value))


def table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


LIMIT_HEAD = ("SLO limit", "margin", "")


def _measure_row(m: Measurement) -> list[str]:
    """Words, the key as in summary.json, value with unit, limit, margin, and whether it held."""
    shown = "never observed" if m.value is None else amount(m.value, m.unit, digits=2)
    held = {True: '<span class="ok">ok</span>', False: '<span class="bad">not met</span>', None: ""}[m.ok]
    return [escape(m.words), escape(m.name), escape(shown), escape(m.limit_shown), escape(m.margin), held]


def _ledger_rows(ledger: Mapping[str, Any]) -> list[list[str]]:
    counts = ledger.get("counts", {})
    return [
        [
            _fmt(ledger.get("attempted")),
            _fmt(ledger.get("acknowledged")),
            _fmt(ledger.get("failed")),
            _fmt(ledger.get("indeterminate")),
            *(_fmt(counts.get(state)) for state in ledger_states(ledger)),
        ]
    ]


def _ledger_classes(ledger: Mapping[str, Any]) -> str:
    """Per size class, then the notes (deletes, multipart, listing, cleanup, load)."""
    out = []
    rows = ledger_class_rows(ledger)
    if rows:
        out.append(
            '<p class="muted">Per size class: attempted and acknowledged count operations (writes and deletes); '
            "the read-back columns count keys, each in the class of its last acknowledged operation.</p>"
            + table([[escape(c) for c in row] for row in rows], ("size class", *(words(c) for c in CLASS_COLUMNS)))
        )
    notes = ledger_notes(ledger)
    if notes:
        out.append('<ul class="reasons">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    return "".join(out)


def _scenario(result: Mapping[str, Any], charts: Sequence[str]) -> str:
    title = escape(result.get("title") or result["name"])
    parts = [f'<h2 id="{escape(result["name"])}">{title} {badge(result["verdict"])}</h2>']
    if result.get("reasons"):
        parts.append('<ul class="reasons">' + "".join(f"<li>{escape(r)}</li>" for r in result["reasons"]) + "</ul>")
    if result.get("checks"):
        parts.append(
            '<details><summary>checks that held</summary><ul class="reasons">'
            + "".join(f"<li>{escape(c)}</li>" for c in result["checks"])
            + "</ul></details>"
        )
    found = measurements(result)
    if found:
        parts.append(
            "<h3>Measured</h3>" + table([_measure_row(m) for m in found], ("measurement", "key", "value", *LIMIT_HEAD))
        )
    records = check_records(result)
    if records:
        rows = [[escape(cell) for cell in check_row(c)] for c in records]
        for row, check in zip(rows, records, strict=True):
            row[1] = badge(check.verdict.value)
        parts.append("<h3>Checks</h3>" + table(rows, CHECK_HEAD))
    if result.get("ledger"):
        parts.append(
            "<h3>Write ledger</h3>"
            + table(
                _ledger_rows(result["ledger"]),
                (
                    "attempted",
                    "acked",
                    "failed",
                    "indeterminate",
                    *(words(state) for state in ledger_states(result["ledger"])),
                ),
            )
            + _ledger_classes(result["ledger"])
        )
        problems = result["ledger"].get("problems") or []
        if problems:
            rows = [[escape(p["key"]), escape(p["verdict"]), escape(p.get("detail", ""))] for p in problems[:20]]
            parts.append(table(rows, ("key", "verdict", "detail")))
    parts.extend(charts)
    proofs = proof_rows(result.get("proofs"))
    if proofs:
        rows = [[escape(cell) for cell in row] for row in proofs]
        parts.append("<h3>Fault proofs</h3>" + table(rows, ("fault", "targets", "proven in", "evidence")))
    evidence = result.get("evidence") or []
    if evidence:
        links = ", ".join(f'<a href="{escape(path)}">{escape(path.rsplit("/", 1)[-1])}</a>' for path in evidence)
        parts.append(f'<h3>Evidence</h3><p class="logs">{links}</p>')
    logs = result.get("logs") or []
    if logs:
        links = ", ".join(f'<a href="{escape(path)}">{escape(path.rsplit("/", 1)[-1])}</a>' for path in logs)
        parts.append(f'<h3>Logs of the scenario\'s window</h3><p class="logs">{links}</p>')
    findings = result.get("findings") or []
    if findings:
        # A waived finding stays in the table with the target's reason for it.
        columns = ("check", "severity", "object", "field", "why", "fix", "waived")
        rows = [[escape(f.get(k, "")) for k in columns] for f in findings]
        parts.append("<h3>Findings</h3>" + table(rows, columns))
    return "\n".join(parts)


def render(
    verdict: str,
    settings: Mapping[str, str],
    results: Sequence[Mapping[str, Any]],
    charts: Mapping[str, Sequence[str]],
    files: Sequence[str],
    *,
    tested: Sequence[tuple[str, str]] = (),
) -> str:
    summary_rows = [
        [
            f'<a href="#{escape(r["name"])}">{escape(r.get("title") or r["name"])}</a>',
            badge(r["verdict"]),
            "<br>".join(escape(x) for x in r.get("reasons", [])) or '<span class="muted">all checks held</span>',
        ]
        for r in results
    ]
    body = [
        f"<h1>chaosgate run {badge(verdict)}</h1>",
        "<h2>What was tested</h2>",
        table([[escape(what), escape(value)] for what, value in tested], ("what", "as found"))
        if tested
        else '<p class="muted">Not recorded for this run.</p>',
        '<p class="muted">Shaded bands on the charts are fault windows. Times are seconds since the run started.</p>',
        "<h2>Verdicts</h2>",
        table(summary_rows, ("scenario", "verdict", "reasons")),
        *(_scenario(r, charts.get(r["name"], ())) for r in results),
        "<h2>Effective settings</h2>",
        table([[escape(k), escape(v)] for k, v in settings.items()], ("setting", "value")),
        "<h2>Files of this run</h2><ul>",
        *(f'<li><a href="{escape(f)}">{escape(f)}</a></li>' for f in files),
        "</ul>",
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>chaosgate: {escape(verdict)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
