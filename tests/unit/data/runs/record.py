"""Keep a real run's scenarios as History fixtures for the checker tests.

    python tests/unit/data/runs/record.py RUN_FOLDER [SCENARIO ...]

Copies from a finished run folder (runs/<stamp>/) into recorded/<stamp>/,
unchanged except for leaving things out: the timeline records of the chosen
scenarios (default: every scenario with a ledger), the run's summary.json
with only those scenarios' results, each scenario's ledger files, and of
Locust's CSVs the per-second history rows of reads and the failures
file's rows of reads of acknowledged keys that found nothing (the History's
missing reads). Nothing is written by hand: a test reads what the harness recorded.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from loadtests.traffic import NOT_FOUND_FAILURE  # noqa: E402 (after the path setup)

READS = {"GET /objects", "Aggregated"}


def record(run: Path, scenarios: list[str]) -> Path:
    summary = json.loads((run / "summary.json").read_text())
    chosen = scenarios or [s["name"] for s in summary["scenarios"] if (run / s["name"] / "ledger").is_dir()]
    out = HERE / "recorded" / run.name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    summary["scenarios"] = [s for s in summary["scenarios"] if s["name"] in chosen]
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    with (run / "timeline.jsonl").open() as src, (out / "timeline.jsonl").open("w") as dst:
        for line in src:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("scenario") in chosen:
                dst.write(line)
    for name in chosen:
        shutil.copytree(run / name / "ledger", out / name / "ledger")
        for history in (run / name).glob("locust-*_stats_history.csv"):
            with history.open(newline="") as src, (out / name / history.name).open("w", newline="") as dst:
                rows = csv.DictReader(src)
                writer = csv.DictWriter(dst, fieldnames=rows.fieldnames or [])
                writer.writeheader()
                writer.writerows(r for r in rows if r.get("Name") in READS)
        for failures in (run / name).glob("locust-*_failures.csv"):
            with failures.open(newline="") as src, (out / name / failures.name).open("w", newline="") as dst:
                rows = csv.DictReader(src)
                writer = csv.DictWriter(dst, fieldnames=rows.fieldnames or [])
                writer.writeheader()
                writer.writerows(r for r in rows if NOT_FOUND_FAILURE in r.get("Error", ""))
    return out


if __name__ == "__main__":
    print(record(Path(sys.argv[1]), sys.argv[2:]))
