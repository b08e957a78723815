"""A run's summary.json read back and told in words (``python -m reports summary``).

The same reading serves report.html, ``compare`` and ``trend``: each
measurement with its unit, next to the SLO limit it was held to and the margin
left, in words. Summaries written before scenario results carried ``limits``
still read: units then come from the measurement's name, and no limit is shown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.rulebook import DAMAGE as DAMAGE_STATES
from chaos.rulebook import Check, KeyState, Verdict, exit_code, overall_of
from reports.subject import rows as subject_rows

RATIO = "ratio"  # a share 0-1, shown in percent
# Words for the parts of measurement names that read badly as they are.
WORDS = {"ack": "acknowledged write", "acks": "acknowledged writes", "healed": "heal"}
# Settings worth a place in a summary's header line (the report lists them all).
HEADLINE_SETTINGS = ("profile", "target", "cluster", "images", "slo_file")
BADGES = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "inconclusive": "⚠️ inconclusive",
    "not-applicable": "⏭️ not applicable",
}


class BadRun(Exception):
    """A run folder or summary.json that cannot be read: bad input (exit 2)."""


@dataclass(frozen=True)
class Run:
    dir: Path
    verdict: Verdict
    generated_at: str
    settings: dict[str, str]
    scenarios: list[dict[str, Any]]
    subject: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def exit_code(self) -> int:
        return exit_code(self.verdict)


def resolve(path: Path) -> Path:
    """The run folder ``path`` names: itself when it holds summary.json (or is
    one), else the newest run folder inside it (run folders are named by start
    time, so names sort in time order). A downloaded artifact or ``runs/`` works."""
    if path.is_file() and path.name == "summary.json":
        return path.parent
    if (path / "summary.json").is_file():
        return path
    if not path.is_dir():
        raise BadRun(f"{path}: no such run folder")
    found = run_folders(path)
    if not found:
        raise BadRun(f"{path}: no summary.json in it or in any run folder inside it")
    return found[-1]


def run_folders(path: Path) -> list[Path]:
    """Run folders directly inside ``path`` that hold a summary.json, oldest first."""
    return sorted(p.parent for p in path.glob("*/summary.json"))


def load(path: Path) -> Run:
    """Read and check a run's summary.json; ``BadRun`` names the file and what is wrong."""
    folder = resolve(path)
    file = folder / "summary.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRun(f"{file}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise BadRun(f"{file}: not a chaosgate summary (no 'scenarios' list)")
    scenarios: list[dict[str, Any]] = []
    for i, scenario in enumerate(data["scenarios"]):
        if not isinstance(scenario, dict) or not isinstance(scenario.get("name"), str):
            raise BadRun(f"{file}: scenario #{i + 1} is not an object with a name")
        said = scenario.get("verdict")
        if not isinstance(said, str) or said not in {v.value for v in Verdict}:
            raise BadRun(
                f"{file}: scenario {scenario['name']!r} has verdict {scenario.get('verdict')!r}; "
                f"expected one of {', '.join(Verdict)}"
            )
        scenarios.append(scenario)
    verdict = overall_of(s["verdict"] for s in scenarios)
    recorded = data.get("verdict")
    if recorded is not None and recorded != verdict.value:
        raise BadRun(f"{file}: verdict {recorded!r} does not follow from its scenarios' verdicts ({verdict.value})")
    settings = data.get("settings")
    settings = settings if isinstance(settings, dict) else {}
    tested = data.get("subject")
    return Run(
        folder,
        verdict,
        str(data.get("generated_at", "")),
        {str(k): str(v) for k, v in settings.items()},
        scenarios,
        tested if isinstance(tested, dict) else {},
    )


# -- measurements ------------------------------------------------------------


def unit_of(name: str, declared: object = None) -> str:
    """The unit: "s", "ms", RATIO, another declared unit, or "" (a count)."""
    if isinstance(declared, str) and declared not in ("", RATIO):
        return declared
    if name.endswith("_ms"):
        return "ms"
    if name.endswith("_s"):
        return "s"
    if "ratio" in name or "availability" in name:
        return RATIO
    return ""


def direction_of(name: str, kind: object = None) -> str | None:
    """Which way is worse: "max" when more is worse, "min" when less is, None when neither
    (counts such as requests made or replicas seen). The SLO's kind decides;
    without one, the name: times and latencies ("time_to_*", "*_latency_ms")
    and error ratios are "max", availabilities "min"."""
    if kind in ("max", "min"):
        return str(kind)
    if name.startswith("time_to_") or "latency" in name or "error" in name:
        return "max"
    if "availability" in name:
        return "min"
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def amount(value: float, unit: str, *, digits: int = 1) -> str:
    """A number with its unit, as a person reads it (``digits`` after the point for seconds)."""
    if unit == "s":
        return f"{value:.{digits}f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == RATIO:
        return f"{value * 100:.2f} %"
    if unit == "":
        return f"{value:,.0f}" if value == int(value) else f"{value:g}"
    return f"{value:g} {unit}"


def difference(delta: float, unit: str) -> str:
    """A difference of two values: ratios in percentage points, not percent."""
    if unit == RATIO:
        return f"{abs(delta) * 100:.2f} percentage points"
    return amount(abs(delta), unit)


def _limit_number(limit: float, unit: str) -> str:
    if unit == RATIO:
        return f"{limit * 100:g} %"
    return f"{limit:g} {unit}".rstrip()


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float | None
    unit: str
    limit: float | None = None
    kind: str | None = None  # "max" (at most) or "min" (at least), from the SLO

    @property
    def words(self) -> str:
        stem = self.name
        for suffix in ("_ms", "_s"):
            if self.unit == suffix[1:] and stem.endswith(suffix):
                stem = stem.removesuffix(suffix)
        return " ".join(WORDS.get(part, part) for part in stem.split("_") if part)

    @property
    def direction(self) -> str | None:
        return direction_of(self.name, self.kind)

    @property
    def shown(self) -> str:
        return "never observed" if self.value is None else amount(self.value, self.unit)

    @property
    def headroom(self) -> float | None:
        """How far inside the limit the value stayed (negative: past it)."""
        if self.limit is None or self.value is None:
            return None
        return self.limit - self.value if self.kind != "min" else self.value - self.limit

    @property
    def ok(self) -> bool | None:
        """None without a limit; a value never observed does not meet one."""
        if self.limit is None:
            return None
        headroom = self.headroom
        return headroom is not None and headroom >= 0

    @property
    def limit_shown(self) -> str:
        if self.limit is None:
            return "–"  # noqa: RUF001 (an en dash: no limit)
        side = "at least" if self.kind == "min" else "at most"
        return f"{side} {_limit_number(self.limit, self.unit)}"

    @property
    def margin(self) -> str:
        headroom = self.headroom
        if self.limit is None:
            return "–"  # noqa: RUF001
        if headroom is None:
            return "never observed: the check failed"
        if headroom >= 0:
            return f"{difference(headroom, self.unit)} to spare"
        past = "short of the limit" if self.kind == "min" else "over the limit"
        return f"{difference(headroom, self.unit)} {past}"


def measurements(scenario: Mapping[str, Any]) -> list[Measurement]:
    """A scenario's measurements with units and, where the run recorded them, limits."""
    raw = scenario.get("measurements")
    limits = scenario.get("limits")
    limits = limits if isinstance(limits, Mapping) else {}
    out = []
    for name, value in raw.items() if isinstance(raw, Mapping) else ():
        spec = limits.get(name)
        spec = spec if isinstance(spec, Mapping) else {}
        kind = spec.get("kind") if spec.get("kind") in ("max", "min") else None
        limit = _number(spec.get("limit"))
        out.append(Measurement(str(name), _number(value), unit_of(str(name), spec.get("unit")), limit, kind))
    return out


# -- check records -------------------------------------------------------------

CHECK_HEAD = ("check", "verdict", "value", "limit", "margin", "evidence", "reason")


def check_records(scenario: Mapping[str, Any]) -> list[Check]:
    """The scenario's structured check records (chaos.rulebook.Check); older
    summaries have none, and a record that does not read is left out."""
    raw = scenario.get("records")
    out = []
    for item in raw if isinstance(raw, list) else ():
        try:
            out.append(Check.from_dict(item))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def evidence_of_check(check: Check) -> str:
    """What a check rests on, in a line."""
    seen = check.evidence
    parts = [] if seen.observed else ["no evidence"]
    parts += [f"t {a:.1f}–{b:.1f} s" for a, b in seen.spans]  # noqa: RUF001 (an en dash: a range)
    parts += [f"{words(k)} {v:,}" for k, v in seen.counts.items()]
    if seen.last_seen:
        parts.append(f"last seen: {seen.last_seen}")
    return "; ".join(parts) or "–"  # noqa: RUF001


def check_row(check: Check) -> list[str]:
    """A check record as the reports show it (CHECK_HEAD)."""
    unit = unit_of(check.name, check.unit)
    shown = Measurement(check.name, check.value, unit, check.limit, check.kind)
    value = "–" if check.value is None and check.limit is None else shown.shown  # noqa: RUF001
    limit = shown.limit_shown if check.limit is not None else "–"  # noqa: RUF001
    margin = shown.margin if check.limit is not None else "–"  # noqa: RUF001
    return [check.name or "–", check.verdict.value, value, limit, margin, evidence_of_check(check), check.reason]  # noqa: RUF001


# -- ledger and proofs ---------------------------------------------------------

# The read-back classes, in report order (the rule book's).
LEDGER_STATES = tuple(s.value for s in KeyState)
# Read-back classes older ledgers did not have: shown only when a ledger counts them.
NEWER_STATES = ("resurrected", "missing_from_listing")
# Acknowledged and not as the operations left it: data loss (the rule book's rule).
DAMAGE = tuple(s.value for s in DAMAGE_STATES)
# The ledger's size classes (chaos.ledger.SIZE_CLASSES) and the columns shown per class.
SIZE_CLASSES = ("small", "medium", "large")
CLASS_COLUMNS = ("attempted", "acknowledged", *LEDGER_STATES)


def words(state: str) -> str:
    return state.replace("_", " ")


def ledger_counts(ledger: Mapping[str, Any]) -> dict[str, int]:
    counts = ledger.get("counts")
    counts = counts if isinstance(counts, Mapping) else {}
    out = {}
    for key in ("attempted", "acknowledged", "failed", "indeterminate"):
        out[key] = int(_number(ledger.get(key)) or 0)
    for state in LEDGER_STATES:
        out[state] = int(_number(counts.get(state)) or 0)
    return out


def ledger_states(ledger: Mapping[str, Any]) -> tuple[str, ...]:
    """The read-back classes this ledger knows (an older one lacks the newer)."""
    counts = ledger.get("counts")
    counts = counts if isinstance(counts, Mapping) else {}
    return tuple(s for s in LEDGER_STATES if s not in NEWER_STATES or s in counts)


def damaged(scenario: Mapping[str, Any]) -> int:
    """Acknowledged keys not as their operations left them: every state the
    rule book calls damage (chaos.rulebook.DAMAGE)."""
    ledger = scenario.get("ledger")
    if not isinstance(ledger, Mapping):
        return 0
    counts = ledger_counts(ledger)
    return sum(counts[s] for s in DAMAGE)


def ledger_line(ledger: Mapping[str, Any]) -> str:
    c = ledger_counts(ledger)
    return (
        f"{c['acknowledged']:,} of {c['attempted']:,} writes acknowledged "
        f"({c['failed']:,} failed, {c['indeterminate']:,} indeterminate); read back: "
        + ", ".join(f"{c[s]:,} {words(s)}" for s in ledger_states(ledger))
    )


def ledger_class_rows(ledger: Mapping[str, Any]) -> list[list[str]]:
    """Per size class that saw operations: the CLASS_COLUMNS counts. Operations
    (attempted, acknowledged) count writes and deletes; the read-back columns
    count keys, each in the class of its last acknowledged operation."""
    classes = ledger.get("classes")
    if not isinstance(classes, Mapping):
        return []
    rows = []
    for name in SIZE_CLASSES:
        row = classes.get(name)
        if isinstance(row, Mapping) and _number(row.get("attempted")):
            rows.append([name, *(f"{int(_number(row.get(c)) or 0):,}" for c in CLASS_COLUMNS)])
    return rows


def ledger_notes(ledger: Mapping[str, Any]) -> list[str]:
    """Deletes, overwrites, multipart uploads, the listing, the cleanup, the
    read-back's own cost and the load's shape: one line each, where known."""
    notes = []

    def tally(key: str) -> Mapping[str, Any]:
        value = ledger.get(key)
        return value if isinstance(value, Mapping) else {}

    for key in ("deletes", "overwrites"):
        ops = tally(key)
        if ops:
            concurrent = ops.get("concurrent_keys")
            notes.append(
                f"{key}: {ops.get('attempted', 0):,} attempted, {ops.get('acknowledged', 0):,} acknowledged"
                + (f"; {concurrent:,} keys had acknowledged writers in flight at once" if concurrent else "")
            )
    mp = tally("multipart")
    if mp:
        notes.append(
            f"multipart uploads: {mp.get('attempted', 0):,} attempted, {mp.get('acknowledged', 0):,} acknowledged; "
            f"unacknowledged ones after recovery: {mp.get('unacknowledged_complete', 0):,} complete, "
            f"{mp.get('unacknowledged_absent', 0):,} absent"
        )
    if ledger.get("aborted_uploads") is not None:
        notes.append(f"incomplete multipart uploads aborted at the end: {ledger['aborted_uploads']:,}")
    listing = tally("listing")
    if listing:
        notes.append(
            f"listing of {listing.get('prefix', '')!r}: "
            + (
                str(listing["error"])
                if listing.get("error")
                else f"{listing.get('listed', 0):,} keys listed, {listing.get('expected', 0):,} expected, "
                f"{listing.get('not_in_ledger', 0):,} not in the ledger"
            )
        )
    readback = tally("readback")
    if readback:
        notes.append(
            f"read-back: {readback.get('keys', 0):,} keys, {float(readback.get('bytes', 0)) / 2**20:,.1f} MiB "
            f"in {readback.get('seconds', 0)} s with {readback.get('readers', 0)} readers"
        )
    load = tally("load")
    if load:
        notes.append("load: " + ", ".join(f"{words(k)} {v}" for k, v in load.items()))
    return notes


def _short(value: object) -> str:
    text = str(value)
    # Pod UIDs and container IDs: the first characters tell them apart.
    return text[:8] + "…" if len(text) > 20 and " " not in text else text


def _pairs(data: Mapping[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        if key.endswith("_after") and f"{key.removesuffix('_after')}_before" in data:
            continue
        if key.endswith("_before"):
            stem = key.removesuffix("_before")
            if f"{stem}_after" in data:
                parts.append(f"{stem.replace('_', ' ')} {_short(value)} → {_short(data[stem + '_after'])}")
                continue
        parts.append(f"{key.replace('_', ' ')} {_short(value)}")
    return ", ".join(parts)


def evidence_words(evidence: object) -> str:
    """A fault's evidence in a line: per target when it is keyed by target."""
    if not isinstance(evidence, Mapping) or not evidence:
        return "–"  # noqa: RUF001
    if all(isinstance(v, Mapping) for v in evidence.values()):
        return "; ".join(f"{target}: {_pairs(v)}" for target, v in evidence.items())
    return _pairs(evidence)


def proof_rows(proofs: object) -> list[tuple[str, str, str, str]]:
    """(fault, targets, how long the proof took, evidence) per recorded proof."""
    rows = []
    for proof in proofs if isinstance(proofs, list) else []:
        if not isinstance(proof, Mapping):
            continue
        start, end = _number(proof.get("started_at")), _number(proof.get("finished_at"))
        took = amount(end - start, "s") if start is not None and end and end >= start else "–"  # noqa: RUF001
        targets = proof.get("targets")
        shown = ", ".join(map(str, targets)) if isinstance(targets, list) else str(targets or "–")  # noqa: RUF001
        rows.append((str(proof.get("fault", "?")), shown, took, evidence_words(proof.get("evidence"))))
    return rows


# -- rendering -----------------------------------------------------------------


def _title(scenario: Mapping[str, Any]) -> str:
    return str(scenario.get("title") or scenario["name"])


def _reasons(scenario: Mapping[str, Any]) -> list[str]:
    reasons = scenario.get("reasons")
    return [str(r) for r in reasons] if isinstance(reasons, list) else []


def _headline(run: Run) -> str:
    shown = [f"{k.replace('_', ' ')} {run.settings[k]}" for k in HEADLINE_SETTINGS if run.settings.get(k)]
    if run.generated_at:
        shown.append(f"generated {run.generated_at}")
    return ", ".join(shown)


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in rows)
    return [*out, ""]


def _measure_row(m: Measurement, *, badges: bool) -> list[str]:
    verdict = {True: "ok", False: "NOT MET", None: ""}[m.ok]
    if badges:
        verdict = {True: "✅", False: "❌", None: ""}[m.ok]
    return [m.words, m.shown, m.limit_shown, m.margin, verdict]


def markdown(run: Run, report_url: str) -> str:
    """For a GitHub step summary: verdicts first, then each scenario's numbers."""
    out = [
        f"## chaosgate run `{run.name}`: {BADGES[run.verdict.value]} (exit {run.exit_code})",
        "",
        f"{_md(_headline(run))}. Full report with plots: [report.html]({report_url})",
        "",
    ]
    if run.subject:
        out += ["**What was tested**", "", *md_table(("what", "as found"), subject_rows(run.subject))]
    rows = [[_title(s), BADGES[s["verdict"]], "; ".join(_reasons(s)) or "all checks held"] for s in run.scenarios]
    out += md_table(("scenario", "verdict", "reasons"), rows)
    for s in run.scenarios:
        out += [f"### {_md(_title(s))}: {BADGES[s['verdict']]}", ""]
        out += [f"- {_md(r)}" for r in _reasons(s)] + ([""] if _reasons(s) else [])
        found = measurements(s)
        if found:
            head = ("measurement", "value", "SLO limit", "margin", "")
            out += md_table(head, (_measure_row(m, badges=True) for m in found))
        records = check_records(s)
        if records:
            out += ["**Checks**", "", *md_table(CHECK_HEAD, (check_row(c) for c in records))]
        if isinstance(s.get("ledger"), Mapping):
            out += [f"**Write ledger:** {_md(ledger_line(s['ledger']))}", ""]
            classes = ledger_class_rows(s["ledger"])
            if classes:
                out += md_table(("size class", *(words(c) for c in CLASS_COLUMNS)), classes)
            out += [f"- {_md(n)}" for n in ledger_notes(s["ledger"])] + ([""] if ledger_notes(s["ledger"]) else [])
        proofs = proof_rows(s.get("proofs"))
        if proofs:
            out += ["**Fault proofs**", "", *md_table(("fault", "targets", "proven in", "evidence"), proofs)]
    return "\n".join(out).rstrip() + "\n"


def columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as aligned text columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))] if rows else []
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def text(run: Run, report_url: str) -> str:
    out = [
        f"chaosgate run {run.name}: {run.verdict.value.upper()} (exit {run.exit_code})",
        _headline(run),
        f"report: {report_url}",
        "",
    ]
    if run.subject:
        out += ["what was tested:", *columns([list(r) for r in subject_rows(run.subject)]), ""]
    for s in run.scenarios:
        out.append(f"{_title(s)} [{s['name']}]: {s['verdict'].upper()}")
        out += [f"  - {r}" for r in _reasons(s)]
        found = measurements(s)
        if found:
            head = ["measurement", "value", "SLO limit", "margin", ""]
            out += columns([head, *(_measure_row(m, badges=False) for m in found)])
        records = check_records(s)
        if records:
            out.append("  checks:")
            out += columns([list(CHECK_HEAD), *(check_row(c) for c in records)], indent="    ")
        if isinstance(s.get("ledger"), Mapping):
            out.append(f"  write ledger: {ledger_line(s['ledger'])}")
            classes = ledger_class_rows(s["ledger"])
            if classes:
                out += columns([["size class", *(words(c) for c in CLASS_COLUMNS)], *classes], indent="    ")
            out += [f"    {n}" for n in ledger_notes(s["ledger"])]
        proofs = proof_rows(s.get("proofs"))
        if proofs:
            out.append("  fault proofs:")
            out += columns([["fault", "targets", "proven in", "evidence"], *proofs], indent="    ")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
