"""``python -m reports``: read finished run folders again, without a cluster.

  summary RUN [--format markdown|text] [--report-url URL]
      verdicts, measurements next to their SLO limits, ledger counts, fault proofs
  compare BASELINE RUN [--format text|markdown] [tolerance flags] [--on-regression fail|warn]
      each measurement's change; regressions and data loss fail the comparison
  trend RUNS_DIR [--last N] [--out FILE]
      trend.html: each measurement over the last N runs, the verdict of each run
  publish RUN --repo OWNER/NAME --sha SHA --target-url URL [--tag TAG]
      GitHub: a commit status (chaosgate/gate), the run's files on the tag's
      release (reports.publish)

RUN may be a run folder, its summary.json, or a folder of runs (the newest is
taken: ``runs/`` or a downloaded artifact). Exit codes follow the suite's:
0 done (compare: nothing regressed), 1 compare found a regression or data
loss, 2 bad input (a missing or unreadable summary.json, a bad flag, no
token to publish with); publish exits 1 when GitHub refuses a call.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from chaos.rulebook import BAD_INPUT_EXIT
from reports import compare, publish, summary, trend

BAD_INPUT = BAD_INPUT_EXIT
DEFAULTS = compare.Tolerance()


def _positive(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _factor(text: str) -> float:
    value = float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"a factor below 1 would call an unchanged value a regression, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("summary", help="a run's verdicts and numbers as Markdown (GitHub step summary) or text")
    p.add_argument("run", type=Path, help="run folder, its summary.json, or a folder of runs (the newest is used)")
    p.add_argument("--format", choices=("markdown", "text"), default="text", help="markdown: for a job's summary page")
    p.add_argument("--report-url", help="where readers find report.html (default: its path in the run folder)")

    p = sub.add_parser("compare", help="a run against a baseline run: changes, regressions, data loss")
    p.add_argument("baseline", type=Path, help="the baseline run (e.g. the last green nightly)")
    p.add_argument("run", type=Path, help="the run to judge")
    p.add_argument("--format", choices=("markdown", "text"), default="text", help="markdown: for a job's summary page")
    p.add_argument(
        "--factor",
        type=_factor,
        default=DEFAULTS.factor,
        help=f"durations/latencies regress when worse than this times the baseline (default {DEFAULTS.factor:g})",
    )
    p.add_argument(
        "--min-seconds",
        type=_positive,
        default=DEFAULTS.min_seconds,
        help=f"...and worse by more than this many seconds (default {DEFAULTS.min_seconds:g})",
    )
    p.add_argument(
        "--min-ms",
        type=_positive,
        default=DEFAULTS.min_ms,
        help=f"...or, for latencies in ms, by more than this (default {DEFAULTS.min_ms:g})",
    )
    p.add_argument(
        "--ratio-points",
        type=_positive,
        default=DEFAULTS.ratio_points,
        help=f"ratios regress when worse by more than this share (default {DEFAULTS.ratio_points:g} = 2 points)",
    )
    p.add_argument(
        "--on-regression",
        choices=("fail", "warn"),
        default=DEFAULTS.on_regression,
        help="fail: a regression exits 1 (default); warn: reported only. Data loss always exits 1.",
    )

    p = sub.add_parser("trend", help="trend.html: measurements and verdicts over the last runs")
    p.add_argument("runs_dir", type=Path, help="the folder holding run folders (e.g. runs/)")
    p.add_argument("--last", type=int, default=trend.DEFAULT_LAST, help="how many runs (default %(default)s)")
    p.add_argument("--out", type=Path, help="where to write (default RUNS_DIR/trend.html)")
    p.add_argument(
        "--fail-on-flip",
        action="store_true",
        help="exit 1 when a scenario's verdict differs between runs of the same target and profile",
    )

    p = sub.add_parser("publish", help="GitHub: commit status, release assets, step summary (needs GH_TOKEN)")
    p.add_argument("run", type=Path, help="run folder, its summary.json, or a folder of runs (the newest is used)")
    p.add_argument("--repo", required=True, help="OWNER/NAME (in a workflow: ${{ github.repository }})")
    p.add_argument("--sha", required=True, help="the commit under test (in a workflow: ${{ github.sha }})")
    p.add_argument("--target-url", required=True, help="where readers find the run (the workflow run's URL)")
    p.add_argument("--tag", default="", help="attach report.html, summary.json, junit.xml to this tag's release")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "summary":
            run = summary.load(args.run)
            url = args.report_url or str(run.dir / "report.html")
            print(summary.markdown(run, url) if args.format == "markdown" else summary.text(run, url), end="")
            return 0
        if args.command == "compare":
            tolerance = compare.Tolerance(
                args.factor, args.min_seconds, args.min_ms, args.ratio_points, args.on_regression
            )
            result = compare.compare(summary.load(args.baseline), summary.load(args.run), tolerance)
            print(compare.markdown(result) if args.format == "markdown" else compare.text(result), end="")
            return result.exit_code
        if args.command == "publish":
            return _publish(args)
        path, found = trend.write(args.runs_dir, args.out, args.last)
        print(f"wrote {path}")
        for flip in found:
            print(f"verdict flip: {flip.text()}")
        return 1 if found and args.fail_on_flip else 0
    except summary.BadRun as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT


def _publish(args: argparse.Namespace) -> int:
    run = summary.load(args.run)
    try:
        gh = publish.GitHub.from_env(args.repo)
    except publish.NoToken as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    try:
        print(publish.publish(run, gh, args.sha, args.target_url, args.tag))
    except publish.PublishError as exc:
        print(f"error: publishing to GitHub failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
