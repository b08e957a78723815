"""``python -m chaos``: the chaos library's command line.

  preflight --target FILE [--variant NAME] [--format text|json] [--nodes N]
      render the target's charts offline (helm template, no cluster) and run
      the MinIO-aware static checks (chaos.preflight) on the manifests and
      the values files they came from

Exit codes: 0 no finding of severity error (warnings are printed too), 1 at
least one error finding, 2 bad input (a missing or wrong target file, an
unknown variant, a selector that matches no MinIO workload) or a render that
could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from chaos import preflight
from chaos.preflight import waivers
from chaos.rulebook import BAD_INPUT_EXIT, Verdict, exit_code
from deployer import stack, target
from kernel.errors import BadInputError, ChaosgateError


def _node_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of schedulable nodes (1 or more), got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "preflight",
        help="static checks of a target's rendered manifests: data loss and availability risks of MinIO",
        description="Render the target's charts with helm template and check the manifests; exit 1 on any error.",
    )
    p.add_argument("--target", type=Path, required=True, help="the target file (see targets/README.md)")
    p.add_argument("--variant", default=target.DEFAULT_VARIANT, help="a variant of the target (default: %(default)s)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json for machines")
    p.add_argument(
        "--nodes",
        type=_node_count,
        help="schedulable nodes the stack will run on; without it, placement risks are warnings, not errors",
    )
    p.set_defaults(func=_cmd_preflight)
    return parser


def _shown(path: str) -> str:
    """A values file's path as the user would type it: relative to here when inside."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _cmd_preflight(args: argparse.Namespace) -> int:
    loaded = target.load(args.target)
    text, values = stack.render_manifests(loaded, args.variant)
    findings = preflight.check(
        preflight.parse_manifests(text),
        minio_selector=loaded.minio.selector,
        nodes=args.nodes,
        values_texts={_shown(name): content for name, content in values.items()},
    )
    judged = waivers.apply(findings, loaded.waivers, tuple(preflight.CHECKS))
    errors = [j for j in judged if j.finding.severity == preflight.ERROR and not j.waived]
    warnings = [j for j in judged if j.finding.severity != preflight.ERROR and not j.waived]
    waived = [j for j in judged if j.waived]
    if args.format == "json":
        report = {
            "target": loaded.name,
            "variant": args.variant,
            "nodes": args.nodes,
            "errors": len(errors),
            "warnings": len(warnings),
            "waived": len(waived),
            "findings": [j.to_dict() for j in errors + warnings + waived],
        }
        print(json.dumps(report, indent=2))
    else:
        print(
            f"preflight of {loaded.name} ({args.variant}): {len(errors)} error(s), {len(warnings)} warning(s), "
            f"{len(waived)} waived"
        )
        for j in errors + warnings:
            print(f"{j.finding.severity}: {j.finding.text()}")
        for j in waived:
            print(f"waived {j.finding.severity}: {j.finding.text()} Waived: {j.waived}")
    return exit_code(Verdict.FAIL if errors else Verdict.PASS)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except BadInputError as exc:
        print(f"chaosgate preflight: bad input: {exc}", file=sys.stderr)
        return BAD_INPUT_EXIT
    except ChaosgateError as exc:
        print(f"chaosgate preflight: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exc.exit_code
    return code


if __name__ == "__main__":
    raise SystemExit(main())
