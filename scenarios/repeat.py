"""Run the chaos tier N times on one cluster and report verdict flips.

    python -m scenarios.repeat N [pytest options ...]     (tox -e repeat -- N ...)

Each repeat is a whole `tox -e chaos` run (same options) into one folder of
run folders; the cluster is created once, kept between repeats and deleted
after the last. Then trend.html is written over the repeats, and a scenario
whose verdict differs between them is a finding of its own (reports.flips).
Exit code: 1 when any repeat failed or a verdict flipped, else the worst
repeat's (0 pass, 2 inconclusive or bad input).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from reports import summary, trend

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--capture=tee-sys", "-m", "smoke or chaos"]
MAX_REPEATS = 20


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_REPEATS:
        print(f"usage: python -m scenarios.repeat N [pytest options]; N is 1..{MAX_REPEATS}", file=sys.stderr)
        return 2
    repeats, extra = int(args[0]), args[1:]
    if any(a.startswith(("--report-dir", "--keep-cluster", "--reuse-cluster")) for a in extra):
        print("--report-dir, --keep-cluster and --reuse-cluster are set by the repeat runner", file=sys.stderr)
        return 2
    folder = Path("runs") / f"repeat-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True)
    walls: list[float] = []
    for n in range(repeats):
        cluster = ["--reuse-cluster"] if n else []
        cluster += ["--keep-cluster"] if n < repeats - 1 else []
        print(f"[chaosgate] repeat {n + 1} of {repeats} into {folder}", flush=True)
        started = time.monotonic()
        code = subprocess.run([*PYTEST, "--report-dir", str(folder), *cluster, *extra, "scenarios"], check=False)
        walls.append(time.monotonic() - started)
        if code.returncode == 2 and not summary.run_folders(folder)[n:]:
            print("[chaosgate] the repeat stopped before a run folder was written (bad input?)", file=sys.stderr)
            return 2
    path, found = trend.write(folder, last=repeats)
    runs = [summary.load(f) for f in summary.run_folders(folder)]
    for run, wall in zip(runs, walls, strict=False):
        print(f"[chaosgate] {run.name}: {run.verdict.value} in {wall:.0f} s")
    for flip in found:
        print(f"[chaosgate] verdict flip: {flip.text()}")
    print(f"[chaosgate] {len(runs)} repeats, {len(found)} verdict flip(s); {path}")
    codes = [run.exit_code for run in runs]
    return 1 if found or 1 in codes else max(codes, default=2)


if __name__ == "__main__":
    raise SystemExit(main())
